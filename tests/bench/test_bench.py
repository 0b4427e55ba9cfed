"""``noobwire bench`` and the benchmark's parts: arguments, tables, raw results, the decode check,
the codecs' adapters, the chart and the progress display. Nothing here asserts on a time."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers import table_row
from noobwire import bench, cli, codec
from noobwire.bench import codecs as bench_codecs
from noobwire.bench.array_ext import array_from_payload, array_payload
from noobwire.bench.check import first_difference
from noobwire.bench.codecs import CODEC_KEYS, BenchCodec, available_codecs, frame_size, load_codec
from noobwire.bench.progress import Progress
from noobwire.bench.report import baseline, format_ratio, format_report, results_from_json, results_to_json
from noobwire.bench.timing import DecodeMismatch, Result, check_round_trip, measure
from noobwire.bench.workloads import WORKLOADS, make_workload, workload_generation
from noobwire.cli import bench as cli_bench
from noobwire.messages import EventMsg, MessageType, NodeStatus, StatusMsg

AVAILABLE, MISSING = available_codecs()


def result(workload: str, codec: str, encode_us: float, decode_us: float, size: int = 100) -> Result:
    """A hand-made result: ``noobwire_backend`` for the keys of noobwire's backends."""
    return Result(
        workload=workload,
        codec=codec,
        name={"pure": "noobwire pure", "compiled": "noobwire compiled", "json": "reference JSON"}.get(
            codec, codec
        ),
        encode_us=encode_us,
        decode_us=decode_us,
        size=size,
        noobwire_backend=codec in ("pure", "compiled"),
    )


# --- arguments ---------------------------------------------------------------------------------


def test_codec_and_workload_lists_are_repeatable_and_comma_separated() -> None:
    args = cli._parser().parse_args(
        ["bench", "--codec", "msgspec,pure", "--codec", "json", "--workload", "E4, P", "--workload", "S"]
    )
    assert args.codec == ["msgspec", "pure", "json"]
    assert args.workload == ["E4", "P", "S"]


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--codec", "pure,nope"], "unknown codec 'nope'"),
        (["--workload", "E5"], "unknown workload 'E5'"),
        (["--workload", ","], "unknown workload"),
        (["--seconds", "0"], "must be above 0"),
        (["--seconds", "soon"], "not a number"),
        (["--repeats", "2.5"], "not a number"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", *argv])
    assert exit_info.value.code == 2
    assert complaint in capsys.readouterr().err


class FakeRun:
    """Stands in for ``bench.run``: records its arguments, returns hand-made results."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, workloads: Any, codec_keys: Any, **kwargs: Any) -> bench.BenchRun:
        self.calls.append({"workloads": workloads, "codec_keys": codec_keys, **kwargs})
        return bench.BenchRun(
            results=[result("E4", "pure", 4.0, 6.0), result("E4", "json", 20.0, 15.0)],
            missing_codecs={"compiled": "not built"},
        )


@pytest.mark.parametrize(
    ("argv", "seconds", "repeats"),
    [
        ([], cli_bench.DEFAULT_SECONDS, cli_bench.DEFAULT_REPEATS),
        (["--quick"], cli_bench.QUICK_SECONDS, cli_bench.QUICK_REPEATS),
        (["--quick", "--seconds", "0.5", "--repeats", "3"], 0.5, 3),
    ],
)
def test_quick_seconds_and_repeats_reach_the_run(
    argv: list[str], seconds: float, repeats: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeRun()
    monkeypatch.setattr(bench, "run", fake)
    assert cli.main(["bench", *argv]) == 0
    (call,) = fake.calls
    assert (call["seconds"], call["repeats"]) == (seconds, repeats)
    assert call["workloads"] == list(WORKLOADS)
    assert call["codec_keys"] is None


def test_bench_prints_the_tables_and_what_was_not_measured(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench, "run", FakeRun())
    assert cli.main(["bench", "--workload", "E4", "--codec", "pure,json"]) == 0
    out = capsys.readouterr().out
    assert table_row(out, "E4", "reference JSON") == [
        "20.00",
        "15.00",
        "35.00",
        "100",
        "5.00",
        "2.50",
        "3.50",
    ]
    assert "not measured: compiled: not built" in out


# --- tables ------------------------------------------------------------------------------------


def test_ratios_divide_by_the_fastest_noobwire_backend() -> None:
    results = [
        result("E4", "pure", 4.0, 6.0),
        result("E4", "compiled", 1.0, 1.5),
        result("E4", "msgspec", 0.5, 3.0),
        result("E4", "json", 20.0, 30.0),
    ]
    assert baseline(results).codec == "compiled"
    report = format_report(results)
    assert table_row(report, "E4", "noobwire compiled")[-3:] == ["1.00", "1.00", "1.00"]
    assert table_row(report, "E4", "noobwire pure")[-3:] == ["4.00", "4.00", "4.00"]
    assert table_row(report, "E4", "msgspec")[-3:] == ["0.50", "2.00", "1.40"]
    assert table_row(report, "E4", "reference JSON") == [
        "20.00",
        "30.00",
        "50.00",
        "100",
        "20.00",
        "20.00",
        "20.00",
    ]
    assert "of noobwire compiled" in report


def test_without_a_noobwire_codec_the_fastest_codec_is_the_baseline() -> None:
    results = [result("P", "json", 3.0, 4.0), result("P", "msgspec", 0.3, 0.4)]
    assert baseline(results).codec == "msgspec"
    assert table_row(format_report(results), "P", "reference JSON")[-1] == "10.00"


def test_the_summary_has_every_codec_on_every_workload() -> None:
    results = [
        result("E4", "pure", 4.0, 6.0),
        result("E4", "json", 10.0, 20.0),
        result("A16M", "pure", 1000.0, 1000.0, size=16_777_277),
        result("A16M", "json", 100_000.0, 100_000.0, size=22_370_040),
        result("A16M", "msgspec", 0.5, 0.5),
    ]
    report = format_report(results, {"compiled": "the compiled extension is not built"})
    summary = report[report.index("Total time") :].splitlines()
    assert summary[1].split() == ["codec", "E4", "A16M"]
    assert summary[2].split() == ["noobwire", "pure", "1.00", "1.00"]
    assert summary[3].split() == ["reference", "JSON", "3.00", "100"]
    assert summary[4].split() == ["msgspec", "-", "0.0005"]
    assert table_row(report, "A16M", "noobwire pure")[3] == "16,777,277"
    assert table_row(report, "A16M", "reference JSON")[:3] == ["100,000.00", "100,000.00", "200,000.00"]
    assert report.rstrip().endswith("not measured: compiled: the compiled extension is not built")


def test_a_codec_named_by_generation_gets_one_summary_row_whose_cells_stay_in_their_columns() -> None:
    noob_json = dataclasses.replace(result("E4n", "json", 40.0, 40.0), name="noob 1003.x JSON")
    results = [result("E4", "pure", 1.0, 1.0), result("E4", "json", 10.0, 10.0)]
    results += [result("E4n", "pure", 2.0, 2.0), noob_json]
    summary = format_report(results)
    lines = summary[summary.index("Total time") :].splitlines()
    (row,) = [line for line in lines if "JSON" in line]
    assert row.split()[-2:] == ["10.00", "20.00"]
    assert row.strip().startswith("reference JSON / noob 1003.x JSON ")
    assert row.index("20.00") + len("20.00") == lines[1].index("E4n") + len("E4n")


def test_each_table_is_titled_with_its_workload() -> None:
    report = format_report([result("E64", "pure", 1.0, 1.0)])
    assert "E64: EventMsg of 64 events, the four kinds of E4 in turn" in report.splitlines()


@pytest.mark.parametrize(
    ("ratio", "text"), [(1.0, "1.00"), (3.456, "3.46"), (0.05, "0.05"), (123.4, "123"), (0.00123, "0.0012")]
)
def test_format_ratio(ratio: float, text: str) -> None:
    assert format_ratio(ratio) == text


# --- raw results -------------------------------------------------------------------------------


def test_saved_results_read_back_as_they_were() -> None:
    results = [
        Result("E4", "compiled", "noobwire compiled", 1.5, 2.5, 160, True, (1.5, 1.6), (2.5, 2.4), 100, 90),
        Result("E4", "json", "reference JSON", 40.0, 30.0, 550, False, (40.0,), (30.0,), 5, 6),
    ]
    saved = json.loads(json.dumps(results_to_json(results, {"msgspec": "not installed"}, {"seconds": 1})))
    assert results_from_json(saved) == results
    assert saved["missing"] == {"msgspec": "not installed"}


def test_json_output_holds_every_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bench.json"
    argv = ["bench", "--workload", "S", "--codec", "pure,json", "--seconds", "0.02", "--repeats", "2"]
    assert cli.main([*argv, "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert set(data) == {
        "noobwire",
        "active_backend",
        *("recorded", "python", "platform", "processor", "cores", "noob"),
        *("settings", "missing", "results"),
    }
    assert data["settings"] == {"workloads": ["S"], "codecs": ["pure", "json"], "seconds": 0.02, "repeats": 2}
    assert [row["codec"] for row in data["results"]] == ["pure", "json"]
    msg = make_workload("S")
    sizes = {"pure": len(bench_codecs.load_codec("pure").encode(msg)), "json": len(msg.to_json_bytes())}
    for row in data["results"]:
        assert row["workload"] == "S"
        assert row["size"] == sizes[row["codec"]]
        assert len(row["encode_samples_us"]) == len(row["decode_samples_us"]) == 2
        assert row["encode_us"] > 0
        assert row["decode_us"] > 0
        assert math.isclose(row["total_us"], row["encode_us"] + row["decode_us"])
        assert row["encode_batch"] >= 1
        assert row["decode_batch"] >= 1
        assert row["baseline"] == "pure"
    assert data["results"][0]["ratio_total"] == 1.0
    assert str(path) in capsys.readouterr().err


def test_results_to_json_names_what_was_not_measured() -> None:
    data = results_to_json([result("E4", "pure", 1.0, 2.0)], {"msgspec": "not installed"}, {"seconds": 1})
    assert data["missing"] == {"msgspec": "not installed"}
    assert data["results"][0]["ratio_total"] == 1.0
    json.dumps(data)  # all of it is JSON


# --- the decode check --------------------------------------------------------------------------


def lossy(base: BenchCodec, spoil: Any) -> BenchCodec:
    """``base``, but its decoder hands its result to ``spoil`` first."""
    return BenchCodec("lossy", "lossy", base.encode, lambda frame: spoil(base.decode(frame)), base.prepare)


def drop_last_event(msg: EventMsg) -> EventMsg:
    return msg.model_copy(update={"value": msg.value[:-1]})


def change_a_value(msg: EventMsg) -> EventMsg:
    events = [dict(event) for event in msg.value]
    events[1]["value"] = 0.25
    return msg.model_copy(update={"value": events})


def tuple_for_list(msg: EventMsg) -> EventMsg:
    events = [dict(event) for event in msg.value]
    events[3]["value"] = tuple(events[3]["value"])
    return msg.model_copy(update={"value": events})


@pytest.mark.parametrize(
    ("spoil", "where"),
    [
        (drop_last_event, ".value: 3 items, expected 4"),
        (change_a_value, ".value[1]['value']: 0.25 != 0.5"),
        (tuple_for_list, ".value[3]['value']: a tuple, expected a list"),
        (lambda msg: msg.model_copy(update={"node_id": "other"}), ".node_id: 'other' != 'cam'"),
        (lambda msg: msg.model_dump(), "message: a dict, expected a EventMsg"),
    ],
)
def test_a_codec_that_decodes_something_else_is_caught(spoil: Any, where: str) -> None:
    codec = lossy(bench_codecs.load_codec("pure"), spoil)
    with pytest.raises(DecodeMismatch, match="lossy does not give back E4") as info:
        measure("E4", make_workload("E4"), [codec], seconds=0.01, repeats=1)
    assert where in str(info.value)


def test_a_wrong_array_is_caught() -> None:
    def shift(msg: EventMsg) -> EventMsg:
        event = dict(msg.value[0])
        event["value"] = event["value"] + 1
        return msg.model_copy(update={"value": [event]})

    codec = lossy(bench_codecs.load_codec("pure"), shift)
    msg = make_workload("A1M")
    with pytest.raises(DecodeMismatch, match=r"\.value\[0\]\['value'\]: array items differ"):
        check_round_trip(codec, "A1M", msg, codec.encode(msg))


def test_bench_stops_with_an_error_when_a_codec_loses_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(
        bench_codecs._LOADERS,
        "pickle",
        lambda generation: lossy(bench_codecs._pickle(generation), drop_last_event),
    )
    assert cli.main(["bench", "--workload", "E4", "--codec", "pickle", "--seconds", "0.01"]) == 1
    assert "lossy does not give back E4: .value: 3 items, expected 4" in capsys.readouterr().err


EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expected", "actual", "difference"),
    [
        ([1, 2], (1, 2), "message: a tuple, expected a list"),
        ({"a": 1}, {"a": 1.0}, "['a']: a float, expected a int"),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, "message: keys ['b', 'a'] != ['a', 'b']"),
        (True, 1, "message: a int, expected a bool"),
        (b"x", "x", "message: a str, expected a bytes"),
        (
            EPOCH,
            EPOCH.astimezone(timezone(timedelta(hours=1))),
            "message: datetime.datetime(2026, 1, 1, 1, 0",
        ),
        (np.zeros(3, "u1"), np.zeros(3, "i1"), "message: array int8(3,), expected uint8(3,)"),
        (np.zeros(3), np.zeros((3, 1)), "message: array float64(3, 1), expected float64(3,)"),
        (np.zeros(3), [0.0, 0.0, 0.0], "message: a list, expected a ndarray"),
        ("ready", NodeStatus.waiting, "message: 'waiting' != 'ready'"),
    ],
)
def test_first_difference_finds(expected: Any, actual: Any, difference: str) -> None:
    found = first_difference(expected, actual)
    assert found is not None
    assert found.startswith(difference)


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (float("nan"), float("nan")),
        (np.array([1.0, np.nan]), np.array([1.0, np.nan])),
        (EPOCH, EPOCH.replace(tzinfo=timezone(timedelta(0)))),
        (MessageType.status, "status"),
        (
            StatusMsg(node_id="cam", timestamp=EPOCH, value="ready"),
            StatusMsg(node_id="cam", timestamp=EPOCH, value="ready", type="status"),
        ),
    ],
)
def test_first_difference_accepts_the_same_data(expected: Any, actual: Any) -> None:
    assert first_difference(expected, actual) is None


# --- the codecs --------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("key", list(AVAILABLE))
def test_every_codec_gives_back_every_workload(key: str, workload: str) -> None:
    # Each workload is a message of its own generation, so the codec is loaded for that generation.
    codec = load_codec(key, workload_generation(workload))
    native = codec.prepare(make_workload(workload))
    encoded = codec.encode(native)
    check_round_trip(codec, workload, native, encoded)
    assert frame_size(encoded) > 0


def test_the_codecs_that_stand_in_for_others_are_installed_here() -> None:
    # msgspec comes with the test set-up (the bench extra); without it the comparison is not made.
    assert {"pure", "json", "msgspec", "msgpack", "pickle"} <= set(AVAILABLE), MISSING


@pytest.mark.parametrize("workload", ["E4n", "E4sub"])
def test_msgspec_on_noob_1003_gives_back_noobs_own_epochs(workload: str) -> None:
    from noobwire.bench import msgspec_noob

    msg = make_workload(workload)
    struct = msgspec_noob.decode(msgspec_noob.encode(msgspec_noob.from_message(msg)))
    epochs = [event["epoch"] for event in struct.value]
    assert [type(epoch) for epoch in epochs] == [type(msg.value[0]["epoch"])] * len(msg.value)
    assert epochs == [event["epoch"] for event in msg.value]


def test_msgspec_and_msgpack_decode_to_their_own_shapes() -> None:
    from noobwire.bench import msgspec_codec

    msg = make_workload("E4")
    struct = msgspec_codec.decode(msgspec_codec.encode(msgspec_codec.from_message(msg)))
    assert type(struct) is msgspec_codec.EventMsg
    assert struct.value[3]["value"] == [1.0, 2.0, 3.0]
    assert struct.timestamp == msg.timestamp
    plain = AVAILABLE["msgpack"].decode(AVAILABLE["msgpack"].encode(msg.model_dump()))
    assert plain["type"] == "event"
    assert plain["value"][0] == dict(msg.value[0])


def test_the_msgspec_schema_rejects_a_frame_of_the_wrong_shape() -> None:
    import msgspec

    from noobwire.bench import msgspec_codec

    frame = msgspec.msgpack.encode(
        {"type": "event", "node_id": "cam", "timestamp": EPOCH, "value": [{"id": "x"}]}
    )
    with pytest.raises(msgspec.ValidationError):
        msgspec_codec.decode(frame)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=">i4").reshape(3, 4),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.arange(10)[::3],
        np.array(7, dtype="u2"),
        np.zeros((0, 5), dtype="c16"),
    ],
    ids=["big-endian", "fortran", "strided", "0-d", "empty"],
)
def test_array_payload_round_trip(array: np.ndarray) -> None:
    back = array_from_payload(array_payload(array))
    assert first_difference(array, back) is None


def test_a_missing_codec_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec now fails
    monkeypatch.delitem(sys.modules, "noobwire.bench.msgspec_codec", raising=False)
    monkeypatch.delattr(bench, "msgspec_codec", raising=False)
    found, missing = available_codecs()
    assert "msgspec" not in found
    assert "pip install 'noobwire[bench]'" in missing["msgspec"]
    assert cli.main(["bench", "--workload", "S", "--seconds", "0.02", "--repeats", "1"]) == 0
    out = capsys.readouterr()
    assert "not measured: msgspec: msgspec is not installed" in out.out
    assert "not measured: msgspec" in out.err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--codec", "msgspec"])
    assert exit_info.value.code == 2
    assert "codec msgspec is not available" in capsys.readouterr().err


def test_the_codec_list_is_complete() -> None:
    assert CODEC_KEYS == ("compiled", "pure", "frames", "json", "msgspec", "msgpack", "pickle")
    assert set(AVAILABLE) | set(MISSING) == set(CODEC_KEYS)
    with pytest.raises(ValueError, match="unknown codec 'yaml'"):
        bench_codecs.load_codec("yaml")


# --- the chart ---------------------------------------------------------------------------------


def test_plot_without_matplotlib_is_refused_before_running(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    fake = FakeRun()
    monkeypatch.setattr(bench, "run", fake)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--plot", str(tmp_path / "chart.png")])
    assert exit_info.value.code == 2
    assert "pip install 'noobwire[plot]'" in capsys.readouterr().err
    assert not fake.calls
    assert not (tmp_path / "chart.png").exists()


@pytest.mark.parametrize(
    ("name", "magic", "said"),
    [
        ("chart.png", b"\x89PNG\r\n\x1a\n", "(PNG)"),
        ("chart.svg", b"<?xml", "(SVG)"),
        ("chart.PDF", b"%PDF", "(PDF)"),
    ],
)
def test_plot_writes_the_format_its_name_ends_in_and_says_so(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    magic: bytes,
    said: str,
) -> None:
    monkeypatch.setattr(bench, "run", FakeRun())
    path = tmp_path / name
    assert cli.main(["bench", "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(magic)
    assert f"chart written to {path} {said}" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["chart.jpg", "chart", "chart.png.txt"])
def test_plot_refuses_a_name_that_does_not_say_png_svg_or_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    fake = FakeRun()
    monkeypatch.setattr(bench, "run", fake)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--plot", str(tmp_path / name)])
    assert exit_info.value.code == 2
    assert "the file name must end in .png, .svg, .pdf" in capsys.readouterr().err
    assert not fake.calls
    assert not (tmp_path / name).exists()


def chart_results(workloads: list[str], codecs: list[str]) -> list[Result]:
    """Hand-made results spanning about three decades, as a real run's do."""
    return [
        result(workload, key, 0.5 * (index + 1) * 10**position, 0.5 * (index + 1) * 10**position)
        for position, workload in enumerate(workloads)
        for index, key in enumerate(codecs)
    ]


@pytest.mark.parametrize(
    ("workloads", "codecs"),
    [
        (["E4"], ["compiled", "msgspec"]),
        (["E4", "P"], ["compiled", "pure", "json", "msgspec", "msgpack", "pickle"]),
        (list(WORKLOADS), ["compiled", "pure", "frames", "json", "msgspec", "msgpack", "pickle"]),
    ],
    ids=["1 workload", "2 workloads", "6 workloads"],
)
def test_the_chart_reads_at_every_size(workloads: list[str], codecs: list[str], tmp_path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from noobwire.bench import plot

    saved: list[Figure] = []
    original_savefig = Figure.savefig

    def keep(figure: Figure, *args: Any, **kwargs: Any) -> None:
        saved.append(figure)
        original_savefig(figure, *args, **kwargs)

    results = chart_results(workloads, codecs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Figure, "savefig", keep)
        plot.plot_results(results, tmp_path / "chart.png")
    (figure,) = saved
    axes = figure.axes[0]
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays the figure out again, as savefig did
    renderer = canvas.get_renderer()
    frame = figure.bbox
    # One time unit on the axis: every tick label is a plain number, the unit is in the axis' label.
    labels = [tick.get_text() for tick in axes.get_yticklabels() if tick.get_text()]
    assert len(labels) >= 2
    assert all(label.replace(",", "").replace(".", "").isdigit() for label in labels), labels
    assert "µs" in axes.get_ylabel()
    # Every ratio label is large enough to read and inside the figure.
    ratio_labels = [text for text in axes.texts if text.get_text()]
    assert len(ratio_labels) == len(results)
    for text in ratio_labels:
        assert text.get_fontsize() >= 9
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0, text.get_text()
        assert box.x1 <= frame.x1, text.get_text()
        assert box.y1 <= frame.y1, text.get_text()
    # The legend names every codec, inside the figure.
    (legend,) = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == [row.name for row in results[: len(codecs)]]
    box = legend.get_window_extent(renderer)
    assert frame.x0 <= box.x0
    assert box.x1 <= frame.x1
    assert frame.y0 <= box.y0
    # No half-empty plot: the bars span most of the axis' height (on the log scale).
    low, high = (math.log10(limit) for limit in axes.get_ylim())
    shortest, tallest = (
        math.log10(row.total_us)
        for row in (min(results, key=lambda r: r.total_us), max(results, key=lambda r: r.total_us))
    )
    assert (tallest - shortest) / (high - low) > 0.6


def test_the_time_axis_takes_the_unit_of_the_shortest_time() -> None:
    from noobwire.bench.plot import time_unit

    assert time_unit(0.2) == ("ns", 1e-3)
    assert time_unit(1.64) == ("µs", 1.0)
    assert time_unit(11_500.0) == ("ms", 1e3)


# --- progress ----------------------------------------------------------------------------------


def test_progress_in_a_log_is_one_line_per_workload() -> None:
    stream = io.StringIO()
    progress = Progress(2, stream, live=False)
    progress.start("E4", codecs=5, repeats=3)
    for done in range(4):
        progress.repeat(done)
    progress.finish()
    progress.note("A1M skipped: needs numpy")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[1/2] E4    5 codecs x 3 repeats ... done in ")
    assert lines[1] == "A1M skipped: needs numpy"


def test_progress_on_a_terminal_redraws_a_bar() -> None:
    stream = io.StringIO()
    progress = Progress(1, stream, live=True)
    progress.start("P", codecs=2, repeats=4)
    progress.repeat(2)
    progress.finish()
    text = stream.getvalue()
    assert "|############............| 2/4" in text
    assert text.count("\r") == 3
    assert text.endswith("\n")


def test_a_run_reports_progress_for_each_workload() -> None:
    stream = io.StringIO()
    outcome = bench.run(
        ["S", "P"], ["pure"], seconds=0.01, repeats=2, progress=Progress(2, stream, live=False)
    )
    assert [row.workload for row in outcome.results] == ["S", "P"]
    assert [line.split()[1] for line in stream.getvalue().splitlines()] == ["S", "P"]


# --- which backend ran ---------------------------------------------------------------------------


def test_the_frames_row_names_the_backend_it_runs_on() -> None:
    assert AVAILABLE["frames"].name == f"noobwire frames ({codec.backend})"


def test_with_noobwire_pure_every_noobwire_row_runs_pure_and_says_so() -> None:
    argv = ["bench", "--workload", "E4", "--seconds", "0.05", "--repeats", "1"]
    environment = {**os.environ, "NOOBWIRE_PURE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "noobwire", *argv],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "pure backend active" in run.stderr
    assert "of noobwire pure (noobwire's fastest backend here" in run.stdout
    assert table_row(run.stdout, "E4", "noobwire pure")[-3:] == ["1.00", "1.00", "1.00"]
    assert table_row(run.stdout, "E4", "noobwire frames (pure)")
    assert "not measured: compiled: " in run.stdout
    rows = run.stdout[: run.stdout.index("not measured")]
    assert "compiled" not in rows
