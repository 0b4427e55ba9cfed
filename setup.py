"""Builds the optional Cython extension; without it (no compiler, no Cython, or NOOBWIRE_PURE=1) the
package installs pure-Python and runs the same wire format on msgpack-python. Also puts the start-up hook
``noobwire_install.pth`` at the top of site-packages (see ``src/_noobwire_install.py``).

A build that leaves the extension out makes a pure wheel (``py3-none-any``) that holds no compiled
extension (not even one an earlier build left in ``build/``), with ``noobwire/_core/_build.json`` saying
why: ``import noobwire`` reads it and warns once that the slower backend runs where the compiled one could
have been built (not when NOOBWIRE_PURE asked for it). The build says so too: on stderr, which pip shows
only with ``-v``, and as a ``UserWarning``, which pip shows when it builds from a local directory.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
from _noobwire_environment import BUILD_RECORD, ENV_PURE, env_flag  # the words noobwire's switches read

SOURCES = {"noobwire._core.compiled": Path("src/noobwire/_core/compiled.pyx")}
PTH_FILE = Path("src/noobwire_install.pth")
RECORD_PATH = Path("noobwire", "_core", BUILD_RECORD)
"""Where, in the wheel, a pure build says why it is pure."""

_pure: dict[str, object] | None = None
"""Why this build is pure (known before building, or once the extension failed), or None."""


def _go_pure(reason: str, requested: bool = False) -> None:
    """Record that this build installs the pure-Python backend, and say so where pip shows it."""
    global _pure
    _pure = {"compiled": False, "reason": reason, "requested": requested}
    text = f"noobwire: {reason}; installing the pure-Python backend, which reads and writes the same bytes"
    print(text, file=sys.stderr)
    if not requested:
        warnings.warn(
            f"{text}, 6 to 10 times slower. For the compiled backend, install a C compiler and the Python "
            "headers, then reinstall noobwire (pip install --force-reinstall --no-deps . in its clone).",
            UserWarning,
            stacklevel=2,
        )


def _write_record(build_lib: str) -> None:
    """Write this pure build's record into ``build_lib``; remove one an earlier pure build left there."""
    target = Path(build_lib, RECORD_PATH)
    if _pure is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(_pure) + "\n", encoding="utf-8")


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
            _write_record(self.build_lib)
        self.copy_file(str(PTH_FILE), str(Path(root, PTH_FILE.name)), preserve_mode=False)


class OptionalBuildExt(build_ext):
    """A ``build_ext`` whose failure leaves the pure-Python package installable: the extension (and any
    copy of it an earlier build left in ``build/``) is then left out, and the wheel is a pure one."""

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

    def _fall_back(self, exc: Exception) -> None:
        for ext in self.extensions if not self.inplace else ():
            stale = Path(self.get_ext_fullpath(ext.name))
            if stale.exists():  # an earlier build's, in build/: install_lib copies build_lib whole
                stale.unlink()
        self.distribution.ext_modules = []  # a pure wheel (see PureAwareBdistWheel), built no further
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= 240 else f"{detail[:237]}..."
        _go_pure(f"the compiled extension could not be built ({type(exc).__name__}: {detail})")
        _write_record(self.build_lib)


class PureAwareBdistWheel(bdist_wheel):
    """A ``bdist_wheel`` that builds first, so that a build whose extension was left out makes a pure
    wheel (``py3-none-any``, ``Root-Is-Purelib: true``): setuptools decides the tag from the extensions
    declared before anything is built."""

    def run(self) -> None:
        if not self.skip_build:
            self.run_command("build")
        if not self.distribution.has_ext_modules():
            self.root_is_pure = True
        super().run()


def extensions() -> list:
    if env_flag(ENV_PURE):
        _go_pure(f"{ENV_PURE} was set, so the compiled extension was not built", requested=True)
        return []
    present = {name: str(path) for name, path in SOURCES.items() if path.exists()}
    if not present:
        _go_pure("the compiled extension's source is missing")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _go_pure("Cython is not installed, so the compiled extension was not built")
        return []
    from setuptools import Extension

    modules = [
        Extension(name, [source], extra_compile_args=["-O2"] if os.name != "nt" else [])
        for name, source in present.items()
    ]
    try:
        return cythonize(modules, compiler_directives={"language_level": "3"}, quiet=True)
    except Exception as exc:  # a Cython error: still install, pure-Python
        _go_pure(f"Cython failed ({exc})")
        return []


setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt, "build_py": BuildPyWithPth, "bdist_wheel": PureAwareBdistWheel},
)
