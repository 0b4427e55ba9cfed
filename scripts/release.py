"""Build and check the release artefacts: the source distribution and one wheel per Python on the machine.

    python3 scripts/release.py [--out dist] [--python 3.11 --python 3.12 ...]

What it does, each step with the standard tool, and a line of verdict for each check:

1. builds the sdist (``python -m build --sdist``);
2. unpacks it into a clean directory and builds a wheel from it alone, with each Python found (3.11,
   3.12 and 3.13 by default; one missing is reported and skipped), as many at a time as there are
   cores, which also proves that the sdist builds on its own; a wheel without the compiled extension
   is a failure, not a fallback;
3. repairs each wheel to a ``manylinux`` tag with ``auditwheel`` where it can (the ``linux`` wheel is
   kept where it cannot), and checks that the start-up hook ``noobwire_install.pth`` is still in it;
4. checks the metadata of every artefact with ``twine check --strict``;
5. installs each wheel into a fresh virtual environment with ``CC`` set to a command that fails, and
   imports it there: ``noobwire.backend`` must be ``"compiled"``, and ``noobwire_install.pth`` must be in
   site-packages.

The tools run from a virtual environment of their own (the ``release`` extra of pyproject.toml), made
on first use under ``build/release-tools``. The artefacts land in ``--out`` (default ``dist/``), which is
emptied first. Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "build" / "release-tools"
PTH_FILE = "noobwire_install.pth"
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13")


@dataclass
class Report:
    """What was built and each check's verdict."""

    artefacts: list[Path] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    """(what was checked, whether it passed, the detail)."""

    def check(self, what: str, passed: bool, detail: str = "") -> bool:
        self.checks.append((what, passed, detail))
        print(f"  [{'ok' if passed else 'FAILED'}] {what}{f': {detail}' if detail else ''}", flush=True)
        return passed

    @property
    def passed(self) -> bool:
        return all(passed for _, passed, _ in self.checks)


def run(
    command: Sequence[str | Path], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command``, its output captured; the caller judges the exit status."""
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, env=env, cwd=cwd
    )


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def release_requirements() -> list[str]:
    """The ``release`` extra of pyproject.toml: the tools this script runs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["optional-dependencies"]["release"])


def make_venv(python: str | Path, path: Path, requirements: Sequence[str] = ()) -> Path:
    """A fresh virtual environment at ``path`` with ``requirements`` installed; its interpreter."""
    shutil.rmtree(path, ignore_errors=True)
    done = run([python, "-m", "venv", path])
    if done.returncode:
        raise RuntimeError(f"cannot make a virtual environment with {python}: {done.stderr.strip()}")
    interpreter = path / "bin" / "python"
    if requirements:
        done = run([interpreter, "-m", "pip", "install", "--quiet", *requirements])
        if done.returncode:
            raise RuntimeError(f"pip install {' '.join(requirements)} failed:\n{done.stdout}{done.stderr}")
    return interpreter


def tools_venv() -> Path:
    """The interpreter of the release tools' environment, made (or refreshed) on first use."""
    interpreter = TOOLS / "bin" / "python"
    stamp = TOOLS / "requirements.txt"
    wanted = "\n".join(release_requirements())
    if not interpreter.exists() or not stamp.exists() or stamp.read_text() != wanted:
        make_venv(sys.executable, TOOLS, release_requirements())
        stamp.write_text(wanted)
    return interpreter


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` (``3.12``): on the PATH, or one that pyenv has."""
    for name in (f"python{version}", "python3"):
        path = shutil.which(name)
        if (
            path
            and run(
                [
                    path,
                    "-c",
                    f"import sys; sys.exit(sys.version_info[:2] != {tuple(map(int, version.split('.')))})",
                ]
            ).returncode
            == 0
        ):
            return path
    pyenv = shutil.which("pyenv")
    if pyenv:
        versions = run([pyenv, "versions", "--bare"]).stdout.split()
        matching = [name for name in versions if re.fullmatch(rf"{re.escape(version)}(\.\d+)?", name)]
        if matching:
            prefix = run([pyenv, "prefix", matching[-1]]).stdout.strip()
            candidate = Path(prefix, "bin", f"python{version}")
            if candidate.exists():
                return str(candidate)
    return None


def build_sdist(tools: Path, out: Path, report: Report) -> Path | None:
    step("source distribution")
    done = run([tools, "-m", "build", "--sdist", "--outdir", out, ROOT])
    sdists = sorted(out.glob("noobwire-*.tar.gz"))
    built = done.returncode == 0 and len(sdists) == 1
    if not report.check("python -m build --sdist", built, sdists[0].name if built else _tail(done)):
        return None
    with tarfile.open(sdists[0]) as archive:
        names = archive.getnames()
    needed = [
        "pyproject.toml",
        "setup.py",
        "src/noobwire/_core/compiled.pyx",
        f"src/{PTH_FILE}",
        "LICENSE",
        "README.md",
    ]
    missing = [name for name in needed if not any(entry.endswith("/" + name) for entry in names)]
    report.check(
        "the sdist holds the extension's source, the start-up hook and the license",
        not missing,
        ", ".join(missing),
    )
    report.artefacts.append(sdists[0])
    return sdists[0]


@dataclass
class WheelBuild:
    """One Python's wheel build from the unpacked sdist: what ``build`` said, and what it wrote."""

    version: str
    python: str
    done: subprocess.CompletedProcess[str]
    wheels: list[Path]
    seconds: float


def build_wheel(python: str, version: str, source: Path, raw: Path, work: Path) -> WheelBuild:
    """A wheel built by ``python`` from the unpacked sdist at ``source``, in an environment whose
    ``CC`` and ``NOOBWIRE_PURE`` are unset (so the extension is built, or the wheel fails its check)."""
    builder = make_venv(
        python, work / f"build-{version}", [r for r in release_requirements() if r.startswith("build")]
    )
    environment = {key: value for key, value in os.environ.items() if key not in ("CC", "NOOBWIRE_PURE")}
    started = time.monotonic()
    done = run([builder, "-m", "build", "--wheel", "--outdir", raw / version, source], env=environment)
    wheels = sorted((raw / version).glob("noobwire-*.whl"))
    return WheelBuild(version, python, done, wheels, time.monotonic() - started)


def judge_wheel(build: WheelBuild, report: Report) -> Path | None:
    """The wheel of ``build`` if it was built and carries the compiled extension, else None."""
    version = build.version
    built = build.done.returncode == 0 and len(build.wheels) == 1
    detail = f"{build.wheels[0].name} in {build.seconds:.0f} s" if built else _tail(build.done)
    if not report.check(f"Python {version}: a wheel from the sdist alone", built, detail):
        return None
    wheel = build.wheels[0]
    tag = f"cp{version.replace('.', '')}"
    names = zipfile.ZipFile(wheel).namelist()
    compiled = tag in wheel.name and any(
        name.startswith("noobwire/_core/compiled.") and name.endswith((".so", ".pyd")) for name in names
    )
    report.check(f"Python {version}: the wheel carries the compiled extension ({tag})", compiled, wheel.name)
    return wheel if compiled else None


def repair(tools: Path, wheel: Path, out: Path, report: Report) -> Path:
    """The wheel with a manylinux tag (auditwheel), or the wheel itself where auditwheel cannot."""
    auditwheel = tools.parent / "auditwheel"
    before = set(out.glob("*.whl"))
    done = run(
        [auditwheel, "repair", "--wheel-dir", out, wheel],
        env={**os.environ, "PATH": f"{tools.parent}{os.pathsep}{os.environ['PATH']}"},
    )
    repaired = sorted(set(out.glob("*.whl")) - before)
    if done.returncode == 0 and len(repaired) == 1:
        report.check("auditwheel repair", True, repaired[0].name)
        result = repaired[0]
    else:
        report.check("auditwheel repair: not possible here, the linux wheel is kept", True, _tail(done, 2))
        result = out / wheel.name
        shutil.copy(wheel, result)
    names = zipfile.ZipFile(result).namelist()
    report.check(f"{result.name} holds {PTH_FILE} at its root", PTH_FILE in names)
    report.artefacts.append(result)
    return result


def twine_check(tools: Path, artefacts: Sequence[Path], report: Report) -> None:
    step("metadata")
    done = run([tools, "-m", "twine", "check", "--strict", *artefacts])
    passed = _ANSI.sub("", done.stdout).count("PASSED")
    detail = f"{passed} of {len(artefacts)} PASSED" if done.returncode == 0 else _tail(done, 12)
    report.check(f"twine check --strict of {len(artefacts)} artefacts", done.returncode == 0, detail)


def install_without_compiler(python: str, version: str, wheel: Path, work: Path, report: Report) -> None:
    """Install ``wheel`` where no C compiler works, and import its compiled backend."""
    venv = work / f"install-{version}"
    interpreter = make_venv(python, venv)
    failing = work / "failing-cc"
    failing.write_text("#!/bin/sh\necho 'this machine has no C compiler' >&2\nexit 1\n")
    failing.chmod(0o755)
    environment = {**os.environ, "CC": str(failing), "CXX": str(failing)}
    environment.pop("NOOBWIRE_PURE", None)
    if not report.check(
        f"{failing.name} fails as a compiler would be missing", run([failing]).returncode != 0
    ):
        return
    done = run([interpreter, "-m", "pip", "install", "--quiet", wheel], env=environment)
    installed = done.returncode == 0
    what = f"Python {version}: pip install of the wheel with CC={failing.name} (a command that exits 1)"
    if not report.check(what, installed, "" if installed else _tail(done)):
        return
    probe = (
        "import pathlib, sysconfig, noobwire\n"
        f"pth = pathlib.Path(sysconfig.get_paths()['purelib'], {PTH_FILE!r})\n"
        "print(noobwire.backend, noobwire.__version__, pth.exists())\n"
    )
    done = run([interpreter, "-c", probe], env=environment, cwd=work)
    answer = done.stdout.split()
    report.check(
        f"Python {version}: the installed wheel runs the compiled backend",
        done.returncode == 0 and answer[:1] == ["compiled"],
        f"noobwire.backend == {answer[0]!r}, version {answer[1]}" if len(answer) == 3 else _tail(done),
    )
    report.check(f"Python {version}: {PTH_FILE} is in site-packages", answer[2:3] == ["True"])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _tail(done: subprocess.CompletedProcess[str], lines: int = 6) -> str:
    """The last lines a failed command printed, on one line, for the verdict."""
    text = [line for line in _ANSI.sub("", done.stdout + done.stderr).splitlines() if line.strip()]
    return " | ".join(text[-lines:])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "dist", help="where the artefacts go (emptied first)"
    )
    parser.add_argument(
        "--python",
        action="append",
        metavar="X.Y",
        help="a Python version to build a wheel for (repeatable; default: 3.11, 3.12, 3.13)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    report = Report()
    started = time.monotonic()

    step("release tools")
    tools = tools_venv()
    print(f"  {', '.join(release_requirements())} in {TOOLS.relative_to(ROOT)}")
    with tempfile.TemporaryDirectory(prefix="noobwire-release-") as scratch:
        work = Path(scratch)
        sdist = build_sdist(tools, work / "sdist", report)
        if sdist is None:
            return 1
        shutil.copy(sdist, out / sdist.name)
        report.artefacts[-1] = out / sdist.name
        with tarfile.open(sdist) as archive:
            if hasattr(tarfile, "data_filter"):  # (from Python 3.11.4: refuses links and paths out of it)
                archive.extractall(work / "unpacked", filter="data")
            else:
                archive.extractall(work / "unpacked")  # our own sdist, just built
        (source,) = (work / "unpacked").iterdir()  # the sdist alone, away from the checkout
        found = {version: find_python(version) for version in args.python or DEFAULT_PYTHONS}
        step(f"wheels, {min(len(found), os.cpu_count() or 1)} built at a time")
        for version in [version for version, python in found.items() if python is None]:
            print(f"  Python {version} is not on this machine: no wheel for it")
        pythons = {version: python for version, python in found.items() if python is not None}
        with ThreadPoolExecutor(max_workers=max(1, min(len(pythons), os.cpu_count() or 1))) as pool:
            builds = list(
                pool.map(
                    lambda item: build_wheel(item[1], item[0], source, work / "raw", work), pythons.items()
                )
            )
        built: list[tuple[str, str, Path]] = []
        for build in builds:
            step(f"Python {build.version}")
            wheel = judge_wheel(build, report)
            if wheel is not None:
                built.append((build.version, build.python, repair(tools, wheel, out, report)))
        report.check("at least one wheel was built", bool(built))
        twine_check(tools, report.artefacts, report)
        step("installing each wheel where no C compiler works")
        for version, python, wheel in built:
            install_without_compiler(python, version, wheel, work, report)

    step("artefacts")
    for artefact in report.artefacts:
        shown = artefact.relative_to(ROOT) if artefact.is_relative_to(ROOT) else artefact
        print(f"  {shown}  ({artefact.stat().st_size / 1024:,.0f} KiB)")
    failed = sum(1 for _, passed, _ in report.checks if not passed)
    seconds = time.monotonic() - started
    print(f"\nrelease checks: {len(report.checks) - failed} passed, {failed} failed, in {seconds:.0f} s")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
