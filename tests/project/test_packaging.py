"""What a build of noobwire makes: the source distribution, and the wheel a build where no C compiler
works makes from a clone that an earlier build left a compiled extension in (``build/``); and what that
pure installation says when it is imported.

Both are built once, here, by setuptools' own build backend in a build environment of its own (the
``build-system`` requirements of pyproject.toml, installed from the package index as pip's build
isolation would), with ``CC=false``: some ten to thirty seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from _noobwire_environment import BUILD_RECORD

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "CHANGELOG.md")
BUILD_SOURCES = (".c", ".pyx", ".pxd")
"""The compiled extension's sources: an sdist holds them, a wheel does not."""


@dataclass
class Built:
    sdist: Path
    wheel: Path
    output: str
    """What the builds printed (setuptools' warnings among it)."""

    def wheel_names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.namelist()


def _copy_sources(target: Path) -> None:
    """The sources as a clone has them, without what a build or an editable install left in src/."""
    for name in SOURCES:
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "src",
        target / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "*.c", "*.html", "*.egg-info"),
    )


def _build_environment(folder: Path) -> Path:
    """The build-system requirements, installed into ``folder`` (what pip's build isolation does)."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"][
        "requires"
    ]
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(folder), *requires]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        pytest.skip(f"the build requirements could not be installed: {done.stderr[-2000:]}")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sdist, and the wheel built where no C compiler works, from sources whose ``build/`` holds a
    compiled extension an earlier build left."""
    if shutil.which("false") is None:
        pytest.skip("needs a 'false' command to stand for a compiler that fails")
    work = tmp_path_factory.mktemp("packaging")
    source, dist = work / "source", work / "dist"
    source.mkdir()
    _copy_sources(source)
    build_lib = source / "build" / f"lib.{sysconfig.get_platform()}-{sys.implementation.cache_tag}"
    stale = build_lib / "noobwire" / "_core" / f"compiled{sysconfig.get_config_var('EXT_SUFFIX')}"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an extension an earlier build left")
    environment = {
        **os.environ,
        "PYTHONPATH": str(_build_environment(work / "build-env")),
        "CC": shutil.which("false") or "false",
        "CXX": "false",
    }
    environment.pop("NOOBWIRE_PURE", None)
    outputs = [_backend(hook, source, dist, environment) for hook in ("build_sdist", "build_wheel")]
    (sdist,) = dist.glob("noobwire-*.tar.gz")
    (wheel,) = dist.glob("noobwire-*.whl")
    return Built(sdist, wheel, "".join(outputs))


def _backend(hook: str, source: Path, dist: Path, environment: dict[str, str]) -> str:
    """Call the build backend's ``hook`` (``build_sdist``, ``build_wheel``) on ``source``, into
    ``dist``, in a process of its own, as a build frontend does; what it printed."""
    script = f"import sys; from setuptools import build_meta; build_meta.{hook}(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", script, str(dist)],
        cwd=source,
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def test_a_wheel_holds_no_build_sources_but_its_data(built: Built) -> None:
    """The extension's .c (some 2 MB), .pyx and .pxd went into site-packages as package data."""
    names = built.wheel_names()
    assert not [name for name in names if name.endswith(BUILD_SOURCES)], sorted(names)
    assert {
        "noobwire_install.pth",
        "_noobwire_install.py",
        "_noobwire_environment.py",
        "noobwire/py.typed",
        "noobwire/noob/snapshots/noob-1003.json",
    } <= set(names)


def test_an_sdist_holds_the_build_sources(built: Built) -> None:
    with tarfile.open(built.sdist) as archive:
        names = {name.partition("/")[2] for name in archive.getnames()}
    assert {
        "src/noobwire/_core/compiled.pyx",
        "src/noobwire/_core/compiled.c",
        "src/noobwire/_core/_cpython.pxd",
        "src/noobwire/_core/_calendar.pxd",
        "src/noobwire_install.pth",
        "src/noobwire/noob/snapshots/noob-1003.json",
    } <= names


def test_the_build_gives_no_packaging_warning(built: Built) -> None:
    """Every package is declared (``noobwire.noob.snapshots`` holds data only): setuptools warns of a
    folder of data that is no declared package, and pip shows that warning to whoever installs."""
    assert "absent from the `packages` configuration" not in built.output
    assert "Package would be ignored" not in built.output


# --- a build where no C compiler works --------------------------------------------------------------


def test_a_wheel_built_without_a_compiler_is_pure_and_tagged_so(built: Built) -> None:
    """It was tagged for this interpreter and platform (cp311-cp311-linux_x86_64), as if it held an
    extension: setuptools decides the tag from the extensions declared before it builds them."""
    assert built.wheel.name.endswith("-py3-none-any.whl"), built.wheel.name
    with zipfile.ZipFile(built.wheel) as archive:
        (wheel_file,) = (name for name in archive.namelist() if name.endswith(".dist-info/WHEEL"))
        metadata = archive.read(wheel_file).decode()
    assert "Root-Is-Purelib: true" in metadata
    assert "Tag: py3-none-any" in metadata


def test_a_failed_build_ships_no_extension_an_earlier_build_left(built: Built) -> None:
    names = built.wheel_names()
    assert not [
        name for name in names if name.endswith((sysconfig.get_config_var("EXT_SUFFIX"), ".so", ".pyd"))
    ]
    with zipfile.ZipFile(built.wheel) as archive:
        record = json.loads(archive.read(f"noobwire/_core/{BUILD_RECORD}"))
    assert record["compiled"] is False
    assert record["requested"] is False
    assert "could not be built" in record["reason"]


def test_the_build_says_it_fell_back(built: Built) -> None:
    """On stderr (pip shows it with -v) and as a UserWarning (pip shows those of a build from a local
    directory): it was printed only, so pip said nothing."""
    assert "noobwire: the compiled extension could not be built (CompileError" in built.output
    assert "UserWarning: noobwire: the compiled extension could not be built" in built.output


def _import_from(folder: Path, code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter in which ``noobwire`` is imported from ``folder``."""
    variables = {name: value for name, value in os.environ.items() if name != "NOOBWIRE_PURE"}
    variables.update(PYTHONPATH=str(folder), **environment)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=variables, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def pure_installation(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pure wheel, installed into a folder of its own (put first on PYTHONPATH to import it)."""
    target = tmp_path_factory.mktemp("pure-installation")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    subprocess.run([*command, str(built.wheel)], capture_output=True, timeout=300, check=True)
    where = _import_from(target, "import noobwire; print(noobwire.__file__)")
    if not where.stdout.startswith(str(target)):
        pytest.skip(f"this environment's own noobwire comes before PYTHONPATH: {where.stdout}{where.stderr}")
    return target


def test_a_pure_installation_warns_once_at_import_and_not_when_pure_is_asked_for(
    pure_installation: Path,
) -> None:
    done = _import_from(pure_installation, "import noobwire, noobwire.codec; print(noobwire.backend)")
    assert done.stdout == "pure\n"
    assert done.stderr.count("PureBackendWarning: noobwire runs its pure-Python backend") == 1, done.stderr
    assert "could not be built (CompileError" in done.stderr
    assert "NOOBWIRE_PURE=1" in done.stderr
    quiet = _import_from(pure_installation, "import noobwire; print(noobwire.backend)", NOOBWIRE_PURE="1")
    assert (quiet.stdout, quiet.stderr) == ("pure\n", "")


def test_asking_a_pure_installation_for_the_compiled_backend_says_why_and_what_to_do(
    pure_installation: Path,
) -> None:
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import noobwire\n"
        "try:\n    noobwire.get_backend('compiled')\nexcept ImportError as exc:\n    print(exc)"
    )
    said = _import_from(pure_installation, code).stdout
    assert "noobwire's compiled backend is not available: this installation was built without it" in said
    assert "could not be built (CompileError" in said
    assert "get_backend('pure')" in said
    assert "install a C compiler and the Python headers, and reinstall noobwire" in said
