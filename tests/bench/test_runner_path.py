"""benchmarks/runner_path.py, the table of the runner's path, runs and computes its rows (no time is
asserted: a benchmark is a benchmark)."""

from __future__ import annotations

from types import ModuleType

import pytest

from benchmark_scripts import load_benchmark

pytest.importorskip("zmq")
pytest.importorskip("numpy")


def _runner_path() -> ModuleType:
    return load_benchmark("runner_path")


def test_every_scenario_runs_and_every_row_is_computed() -> None:
    runner_path = _runner_path()
    found, missing = runner_path.scenarios()
    for scenario in found.values():
        assert scenario() is not None  # each decodes (or encodes and decodes) a message
    samples = runner_path.measure(found, rounds=2, batch_seconds=0.001)
    assert all(len(values) == 2 for values in samples.values())
    rows = runner_path.rows(samples)
    expected = {"A1M as frames", "A16M as frames", "a 16-byte uint8 array"}
    assert all(any(row.what.startswith(start) for row in rows) for start in expected)
    assert ("P decode / msgspec's" in {row.what for row in rows}) == ("msgspec" not in missing)
    table = runner_path.format_rows(rows)
    assert len(table.splitlines()) == len(rows) + 1


def test_a_row_says_whether_it_meets_its_goal() -> None:
    row = _runner_path().Row
    assert row("ratio", 1.1, "x", 1.2).met
    assert not row("ratio", 1.3, "x", 1.2).met
    assert row("rate", 1.1, "x", 1.0, at_most=False).met
    assert not row("rate", 0.9, "x", 1.0, at_most=False).met
