"""``noobwire bench --pipeline``: its arguments, its table, its checks, and what it says without noob.
(It is run for real, briefly, in test_noob_runner_pipeline.py, which needs noob, and once here as a
command, for what it prints around its progress lines.) Nothing here asserts on a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

from helpers import table_row
from noobwire import cli
from noobwire.bench import pipeline
from noobwire.bench.pipeline import PipelineResult, format_pipeline_report
from noobwire.bench.pipeline_nodes import (
    ARRAY_PIPELINES,
    PIPELINES,
    Counter,
    double,
    frame_stamp,
    pipeline_spec,
    stamp_of,
)
from noobwire.cli import bench as cli_bench


def test_the_table_gives_medians_and_per_round_ratios() -> None:
    result = PipelineResult(
        "A1M",
        rates={
            "noob": [10.0, 20.0, 40.0],
            "noobwire": [100.0, 100.0, 100.0],
            "sync": [1000.0, 1000.0, 1000.0],
            "raw": [400.0, 500.0, 200.0],
        },
    )
    report = format_pipeline_report([result])
    assert report.startswith("A1M: uint8 (1024, 1024), 1 MiB, source to sink, 3 rounds\n")
    # noobwire / noob per round: 10, 5, 2.5 -> median 5, spread 2.5 to 10; noobwire / raw: 0.25, 0.2, 0.5
    assert table_row(report, "A1M", pipeline.NAMES["noobwire"]) == ["100.0", "5.000", "2.500-10.0", "0.250"]
    noob = ["20.0", "1.000", "1.000-1.000", "0.040"]  # against raw: 0.025, 0.04, 0.2
    assert table_row(report, "A1M", pipeline.NAMES["noob"]) == noob
    assert table_row(report, "A1M", pipeline.NAMES["sync"]) == ["1,000.0", "50.0", "25.0-100.0", "2.500"]


def test_a_pipeline_without_raw_says_why_and_leaves_its_ratio_out() -> None:
    result = PipelineResult(
        "small",
        rates={"noob": [400.0], "noobwire": [440.0]},
        not_measured={"raw": "raw pyzmq sends an array: array pipelines only"},
    )
    report = format_pipeline_report([result])
    assert table_row(report, "small", pipeline.NAMES["noobwire"]) == ["440.0", "1.100", "1.100-1.100", "-"]
    assert "not measured: raw pyzmq sends an array" in report


def _reverse(order: list[str]) -> None:
    order.reverse()


class _FakeVariant:
    """A variant whose every run of n epochs takes the next of ``seconds`` (times n), noting each call."""

    def __init__(self, name: str, seconds: list[float], calls: list[tuple[str, int]]) -> None:
        self.name, self.seconds, self.calls = name, iter(seconds), calls

    def run(self, count: int) -> float:
        self.calls.append((self.name, count))
        return next(self.seconds) * count

    def close(self) -> None:
        pass


def test_a_round_is_made_of_turns_and_its_rate_is_the_median_of_its_turns() -> None:
    calls: list[tuple[str, int]] = []
    # seconds per epoch: two warm-up runs (the second sizes the turns: 0.01 s and 0.02 s an epoch), then
    # two rounds of three turns
    variants = {
        "noob": _FakeVariant("noob", [0.01, 0.01, 0.01, 0.04, 0.02, 0.02, 0.02, 0.02], calls),
        "noobwire": _FakeVariant("noobwire", [0.02, 0.02, 0.01, 0.01, 0.1, 0.01, 0.02, 0.04], calls),
    }
    shuffle = _reverse
    rates = pipeline.measure(variants, seconds=6.0, rounds=2, turns=3, shuffle=shuffle)  # type: ignore[arg-type]
    # a turn is 2 s: 200 epochs of noob, 100 of noobwire; a moment of load in one turn does not decide
    assert rates["noob"] == [pytest.approx(50.0), pytest.approx(50.0)]  # of 100, 25, 50; of 50, 50, 50
    assert rates["noobwire"] == [pytest.approx(100.0), pytest.approx(50.0)]  # of 100, 100, 10; 100, 50, 25
    turns = calls[4:]
    assert turns == [("noobwire", 100), ("noob", 200), ("noob", 200), ("noobwire", 100)] * 3
    with pytest.raises(ValueError, match="turns"):
        pipeline.measure(variants, seconds=1.0, rounds=1, turns=0, shuffle=list.reverse)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "results", "error"),
    [
        ("A1M", [stamp_of(249), stamp_of(250), stamp_of(251), stamp_of(252)], None),
        ("A1M", [5, 6, 8], "returned 8 after 6"),
        ("small", [4, 8, 12], None),
        ("small", [4, 8, 8], "returned 8 after 8"),
    ],
)
def test_each_run_s_results_must_count_up(name: str, results: list[int], error: str | None) -> None:
    if error is None:
        pipeline._check_stamps(name, results)
    else:
        with pytest.raises(RuntimeError, match=error):
            pipeline._check_stamps(name, results)


def test_the_nodes_do_what_the_tubes_expect() -> None:
    counter = Counter()
    assert [counter.process() for _ in range(3)] == [1, 2, 3]
    assert double(21) == 42
    np = pytest.importorskip("numpy")
    from noobwire.bench.pipeline_nodes import FrameSource

    source = FrameSource([4, 3], "uint8")
    frames = [source.process() for _ in range(252)]
    assert frames[0] is frames[-1]  # one buffer, stamped anew each epoch
    assert frame_stamp(frames[-1]) == stamp_of(252) == 1
    assert frames[-1].shape == (4, 3)
    assert frames[-1].dtype == np.uint8
    with pytest.raises(ValueError, match="empty"):
        frame_stamp(np.zeros(0))


def test_every_pipeline_has_a_tube_ending_in_a_return_node() -> None:
    for name in PIPELINES:
        spec = pipeline_spec(name)
        assert spec["nodes"]["result"]["type"] == "return"
    with pytest.raises(ValueError, match="unknown pipeline"):
        pipeline_spec("E4")


def test_an_array_pipeline_without_numpy_names_it_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without numpy the array pipelines' nodes fail as their processes start, and noob's runner says
    only, ten seconds later, that its nodes were not ready: their specification names numpy first."""
    monkeypatch.setitem(sys.modules, "numpy", None)  # as where it is not installed
    for name in ARRAY_PIPELINES:
        with pytest.raises(ModuleNotFoundError, match=r"needs numpy.*pip install '\.\[noob\]'") as missing:
            pipeline_spec(name)
        assert missing.value.name == "numpy"
    assert pipeline_spec("small")["nodes"]["result"]["type"] == "return"  # its nodes need no numpy


def test_without_noob_the_command_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pipeline, "noob_missing", lambda: "the pipeline benchmark needs noob (test)")
    assert cli.main(["bench", "--pipeline", "--quick"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "noobwire bench --pipeline: the pipeline benchmark needs noob (test)" in captured.err


def test_noob_missing_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_noob(name: str, *args: object, **kwargs: object) -> object:
        if name == "noob" or name.startswith("noob."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_noob)
    monkeypatch.setattr(pipeline.importlib, "import_module", lambda name: no_noob(name))
    reason = pipeline.noob_missing()
    assert reason is not None
    assert "pip install 'noob[zmq]'" in reason


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--pipeline", "--codec", "json"],
        ["bench", "--pipeline", "--workload", "E4"],
        ["bench", "--pipeline", "--plot", "out.png"],
        ["bench", "--pipeline", "E4"],
    ],
)
def test_options_of_the_codec_benchmark_are_refused_with_pipeline(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "pipeline" in capsys.readouterr().err


def test_the_pipelines_can_be_chosen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen: list[list[str]] = []
    turns: list[object] = []

    def fake_run(names: list[str], **settings: object) -> list[PipelineResult]:
        chosen.append(names)
        turns.append(settings["turns"])
        return [PipelineResult(name, rates={"noob": [1.0], "noobwire": [2.0]}) for name in names]

    monkeypatch.setattr(pipeline, "noob_missing", lambda: None)
    monkeypatch.setattr(pipeline, "run_pipelines", fake_run)
    assert cli.main(["bench", "--pipeline", "small,A1M", "--quick"]) == 0
    assert cli.main(["bench", "--pipeline"]) == 0
    assert chosen == [["small", "A1M"], list(PIPELINES)]
    assert turns == [cli_bench.PIPELINE_QUICK_TURNS, cli_bench.PIPELINE_TURNS] == [2, 8]
    assert "small: small values through 3 nodes" in capsys.readouterr().out


def test_saved_pipeline_results_read_back_as_they_were() -> None:
    results = [
        PipelineResult("A1M", {"noob": [60.0, 70.0], "noobwire": [300.0, 350.0]}, {"raw": "not here"}),
        PipelineResult("small", {"noob": [500.0]}),
    ]
    saved = json.loads(json.dumps(pipeline.results_to_json(results, {"rounds": 2})))
    assert pipeline.results_from_json(saved) == results
    assert saved["settings"] == {"rounds": 2}


NOOB_NOTICE = "XDG_RUNTIME_DIR is not set"


def test_noobs_import_notice_is_shown_once_before_the_header_not_in_the_progress_lines() -> None:
    """noob warns as it is imported where XDG_RUNTIME_DIR is unset; every process of a pipeline run (the
    spawned driver of the noobwire runner, the node processes) printed it again, in the middle of the
    progress line. It is shown once, above the header."""
    pytest.importorskip("noob.runner.zmq", reason="the pipeline benchmark needs noob's ZeroMQ runner")
    environment = {name: value for name, value in os.environ.items() if name != "XDG_RUNTIME_DIR"}
    environment.pop("PYTHONWARNINGS", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "noobwire",
            "bench",
            "--pipeline",
            "small",
            "--seconds",
            "0.05",
            "--repeats",
            "1",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    header = done.stderr.index("noobwire bench --pipeline: ")
    assert done.stderr.count(NOOB_NOTICE) == 1, done.stderr
    assert done.stderr.index(NOOB_NOTICE) < header


def test_the_processes_a_run_starts_do_not_repeat_noobs_import_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    warn = f"import warnings; warnings.warn({NOOB_NOTICE + ', falling back'!r}, RuntimeWarning)"

    def child_stderr() -> str:
        return subprocess.run(
            [sys.executable, "-c", warn], capture_output=True, text=True, timeout=60, check=True
        ).stderr

    assert NOOB_NOTICE in child_stderr()  # as a process started without the guard says it
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with cli_bench.noob_notices_first():
            assert child_stderr() == ""
            warnings.warn(f"{NOOB_NOTICE}, falling back", RuntimeWarning, stacklevel=1)  # here too
    assert shown == []
    assert "PYTHONWARNINGS" not in os.environ  # the environment is as it was
