"""The README and the pages under docs/: their Python code blocks all run as tests (the root conftest.py
hands them to Sybil), a block that raises fails, and the README keeps its promises to a new user."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)$", re.MULTILINE)
PYTHON_ALIASES = {"py", "python3", "pycon", "ipython", "python3-console", "pytb"}


def fences(page: Path) -> list[str]:
    """The info string of every opening fence of ``page``, in order."""
    infos, open_fence = [], None
    for match in FENCE.finditer(page.read_text(encoding="utf-8")):
        if open_fence is None:
            open_fence = match["fence"]
            infos.append(match["info"].strip())
        elif match["fence"].startswith(open_fence[0]) and len(match["fence"]) >= len(open_fence):
            open_fence = None
    return infos


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_python_block_is_one_that_runs(page: Path) -> None:
    # Only a block fenced exactly `python` runs as a test: a `py` or `python3` block would be shown
    # but never run, and could rot.
    for info in fences(page):
        language = info.split()[0].lstrip("{.").rstrip("}") if info else ""
        assert language not in PYTHON_ALIASES, f"{page.name}: fence {info!r}: fence Python as `python`"
        if language == "python":
            assert info == "python", f"{page.name}: fence {info!r}: options would not be read"


def test_the_pages_with_python_blocks_are_collected() -> None:
    collected = _pytest(ROOT, "--collect-only", "-q", "README.md", "docs")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    items = [line for line in collected.stdout.splitlines() if "::line:" in line]
    for page in PAGES:
        visible = sum(1 for info in fences(page) if info == "python")
        invisible = page.read_text(encoding="utf-8").count("<!-- invisible-code-block: python")
        name = str(page.relative_to(ROOT))
        assert sum(1 for item in items if item.startswith(f"{name}::")) == visible + invisible, name


def test_a_block_that_raises_fails_its_test(tmp_path: Path) -> None:
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "README.md").write_text(
        "# A page\n\n```python\nvalue = 1\n```\n\nText.\n\n"
        "```python\nassert value == 2, 'the docs rotted'\n```\n",
        encoding="utf-8",
    )
    run = _pytest(tmp_path, "-q", "-p", "no:cacheprovider", "README.md")
    assert run.returncode == 1, run.stdout
    assert "1 failed, 1 passed" in run.stdout
    assert "the docs rotted" in run.stdout


def test_the_readme_is_short_and_keeps_its_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 250
    setup = "python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/noobwire bench --quick"
    assert f"```sh\n{setup}\n```" in readme
    assert "```sh\n.venv/bin/python -m pytest\n```" in readme
    # Which noob works is on the first screen.
    assert readme.index("## Does it work with my noob?") < readme.index("## Set-up")
    assert len(readme[: readme.index("| noob | its message schema")].splitlines()) < 20


def test_the_api_reference_documents_every_public_name() -> None:
    import noobwire

    reference = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: noobwire\.(\w+)$", reference, flags=re.MULTILINE))
    assert set(noobwire.__all__) - documented == set()
    assert {"zmq", "noob"} <= documented


def _pytest(folder: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """pytest run with ``arguments`` in ``folder``, in a process of its own, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _extras() -> dict[str, list[str]]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    return extras


def test_the_install_line_for_noob_users_works_as_written() -> None:
    """noobwire is not on PyPI, so 'pip install noobwire' fails; the README says so and installs it from
    a clone, with the extra that brings noob's ZeroMQ runner and numpy (the quickstart's pipeline and
    camera pipelines pass arrays between nodes, and noob[zmq] does not bring numpy)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_screen = readme[: readme.index("| noob | its message schema")]
    assert "not on PyPI" in first_screen
    assert "`pip install '.[noob]'` in the clone" in first_screen
    for command in re.findall(r"pip install ([^`\n]+)", readme):
        assert not re.search(r"(^|\s)['\"]?noobwire\b", command), f"noobwire is not on PyPI: {command}"
        for extras in re.findall(r"'\.\[([\w,]+)\]'", command):
            assert set(extras.split(",")) <= set(_extras()), command
    noob_extra = {re.split(r"[<>=;\[ ]", requirement)[0]: requirement for requirement in _extras()["noob"]}
    assert noob_extra["noob"].startswith("noob[zmq]")
    assert "numpy" in noob_extra


def test_the_readme_says_where_the_documentation_is_built() -> None:
    """The docs need their own extra, which the Set-up's environment lacks: the README's command names
    the environment it runs in (the Set-up's .venv), not a bare pip and mkdocs of whatever one is
    active."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```sh\npython3 -m venv .venv && " in readme  # the Set-up makes .venv
    assert "```sh\n.venv/bin/pip install '.[docs]' && .venv/bin/mkdocs build --strict\n```" in readme
    assert "`pip install '.[docs]' && mkdocs build --strict`" not in readme
    assert any(requirement.startswith("mkdocs") for requirement in _extras()["docs"])
    assert not any(requirement.startswith("mkdocs") for requirement in _extras()["test"])
