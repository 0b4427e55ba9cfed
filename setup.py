"""Builds the optional Cython extension; without it (no compiler, no Cython, or NOOBWIRE_PURE=1) the
package installs pure-Python and runs the same wire format on msgpack-python. Also puts the start-up hook
``noobwire_install.pth`` at the top of site-packages (see ``src/_noobwire_install.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
from _noobwire_environment import ENV_PURE, env_flag  # the words every switch of noobwire reads

SOURCES = {"noobwire._core.compiled": Path("src/noobwire/_core/compiled.pyx")}
PTH_FILE = Path("src/noobwire_install.pth")


class BuildPyWithPth(build_py):
    """A ``build_py`` that also puts the start-up hook's ``.pth`` file at the root of the wheel, where the
    installer puts it in site-packages, the only place the interpreter reads ``.pth`` files from.

    A wheel is made from ``build_lib``; an editable wheel is made from the directory that the ``install``
    command was pointed at (``build_lib`` is thrown away), so in editable mode the file goes there.
    """

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            root = self.get_finalized_command("install").install_lib
        else:
            root = self.build_lib
        self.copy_file(str(PTH_FILE), str(Path(root, PTH_FILE.name)), preserve_mode=False)


class OptionalBuildExt(build_ext):
    """A ``build_ext`` whose failure leaves the pure-Python package installable."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers, ...
            self._fall_back(exc)

    def build_extension(self, ext):  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._fall_back(exc)

    @staticmethod
    def _fall_back(exc: Exception) -> None:
        print(
            f"noobwire: the compiled extension could not be built ({exc}); "
            "installing the pure-Python backend, which is slower but reads and writes the same bytes.",
            file=sys.stderr,
        )


def extensions() -> list:
    if env_flag(ENV_PURE):
        print("noobwire: NOOBWIRE_PURE is set, not building the compiled extension.", file=sys.stderr)
        return []
    present = {name: str(path) for name, path in SOURCES.items() if path.exists()}
    if not present:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("noobwire: Cython is not installed; installing the pure-Python backend.", file=sys.stderr)
        return []
    from setuptools import Extension

    modules = [
        Extension(name, [source], extra_compile_args=["-O2"] if os.name != "nt" else [])
        for name, source in present.items()
    ]
    try:
        return cythonize(modules, compiler_directives={"language_level": "3"}, quiet=True)
    except Exception as exc:  # a Cython error: still install, pure-Python
        print(f"noobwire: Cython failed ({exc}); installing the pure-Python backend.", file=sys.stderr)
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt, "build_py": BuildPyWithPth})
