"""The speed figures of the README and the docs are the recorded run's, written by scripts/bench_docs.py."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES_WITH_FIGURES = [
    "README.md",
    "docs/benchmarks.md",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs/guide").glob("*.md")),
]
TIMES = "\N{MULTIPLICATION SIGN}"
FIGURE = re.compile(rf"\d[\d,.]*\s?(µs|ms\b|{TIMES})|\d[\d.]* times (faster|slower|as|less)")
"""A speed figure in prose: a time per message, a ratio, "n times faster"."""


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_docs", ROOT / "scripts" / "bench_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclass looks its module up)
    spec.loader.exec_module(module)
    return module


bench_docs = _script()


def _copy(tmp_path: Path) -> Path:
    for page in {page for page, _ in bench_docs.REGIONS}:
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / page, tmp_path / page)
    shutil.copytree(ROOT / bench_docs.RECORD, tmp_path / bench_docs.RECORD)
    return tmp_path


def test_every_figure_in_the_pages_is_what_the_recorded_run_writes() -> None:
    assert bench_docs.differing(ROOT) == [], "run: python scripts/bench_docs.py render"


def test_a_figure_changed_by_hand_is_found(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    readme = root / "README.md"
    text = readme.read_text("utf-8")
    start = text.index("<!-- bench:speed -->")
    cell = re.compile(rf"\d+\.\d{TIMES}").search(text, start)
    assert cell is not None
    readme.write_text(text[: cell.start()] + f"0.1{TIMES}" + text[cell.end() :], "utf-8")
    assert bench_docs.differing(root) == ["README.md"]
    assert bench_docs.render(root) == ["README.md"]
    assert readme.read_text("utf-8") == text


def test_a_page_that_lost_a_region_stops_the_script(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    page = root / "docs/benchmarks.md"
    page.write_text(page.read_text("utf-8").replace("<!-- /bench:targets -->", ""), "utf-8")
    with pytest.raises(SystemExit, match="bench:targets"):
        bench_docs.rendered(root)


@pytest.mark.parametrize("page", PAGES_WITH_FIGURES)
def test_no_speed_figure_stands_outside_a_region(page: str) -> None:
    text = (ROOT / page).read_text("utf-8")
    outside = re.sub(r"<!-- bench:(\w+) -->.*?<!-- /bench:\1 -->", "", text, flags=re.S)
    outside = re.sub(r"```.*?```", "", outside, flags=re.S)  # commands and their options, not figures
    assert FIGURE.findall(outside) == [], [m.group(0) for m in FIGURE.finditer(outside)]


def test_the_recorded_run_says_what_ran_where_and_when() -> None:
    run = bench_docs.load(ROOT)
    for record in (run.bench, run.pipelines, run.zmq):
        assert record["command"].startswith(("noobwire bench", "python benchmarks/"))
        assert {"recorded", "python", "processor", "cores", "noob"} <= set(record)
    assert {result.workload for result in run.results} >= {"E4", "E64", "P", "S", "A1M", "A16M"}
