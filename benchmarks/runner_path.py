"""The path noob's runner takes, against the plain codec and msgspec: ``python benchmarks/runner_path.py``.

With ``install()``, every message of noob's runner goes through ``encode_frames`` / ``decode_frames`` (the
runner hook's functions: a codec's ``frames``), its frames received as ``zmq.Frame`` objects. This times,
in one process, in interleaved batches (every scenario in turn, in an order that rotates, so that a
change in the machine's load falls on all of them alike), the rows the runner path is held to:

- ``E4n``, ``E4sub``, ``P``: encode + decode through the frames path, divided by the plain codec's
  (``Codec.encode`` / ``Codec.decode``);
- a 16-byte ``uint8`` array as an event's value, decoded (``noobwire.decode``), minus the same event
  holding an int;
- ``A1M`` and ``A16M`` through the frames path (encode + decode; neither side copies the array);
- ``P`` decoded (``noobwire.decode``, on the active backend), divided by msgspec's decoding of the same
  message into its Struct.

``--json FILE`` saves every sample (what ``scripts/bench_docs.py`` records). Needs numpy, pyzmq, msgspec
and noob 1003 (for ``E4n`` / ``E4sub``); a row whose codec is missing is left out, and says so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import zmq
from noobwire import Codec, EventMsg, decode
from noobwire.bench.report import machine
from noobwire.bench.workloads import TIMESTAMP, make_workload, workload_generation

Scenario = Callable[[], Any]


def _received(frames: list[Any]) -> Any:
    """What the runner hook hands ``decode_frames``: the zmq.Frames received, the topic first."""
    return [zmq.Frame(b"event")] + [zmq.Frame(bytes(frame)) for frame in frames]


def _paths(msg: Any, codec: Codec) -> tuple[Scenario, Scenario]:
    """The plain codec's encode + decode of ``msg``, and the runner path's."""
    encode, decode = codec.encode, codec.decode
    encode_frames, decode_frames = codec.frames.encode_frames_at, codec.frames.decode_frames
    received = _received(encode_frames(msg, 65536))
    data = encode(msg)

    def plain() -> Any:
        encode(msg)
        return decode(data)

    def frames() -> Any:
        encode_frames(msg, 65536)
        return decode_frames(received)

    return plain, frames


def _event_of(value: Any) -> EventMsg:
    event = {"id": 0, "timestamp": TIMESTAMP, "node_id": "cam", "signal": "s", "epoch": 1, "value": value}
    return EventMsg(node_id="cam", timestamp=TIMESTAMP, value=[event])


def scenarios() -> tuple[dict[str, Scenario], dict[str, str]]:
    """Each scenario by name, and the rows left out with the reason."""
    found: dict[str, Scenario] = {}
    missing: dict[str, str] = {}
    for workload in ("E4n", "E4sub", "P"):
        try:
            msg = make_workload(workload)
        except ImportError as exc:
            missing[workload] = f"needs noob 1003 ({exc})"
            continue
        found[f"{workload} plain"], found[f"{workload} frames"] = _paths(
            msg, Codec(generation=workload_generation(workload))
        )
    codec = Codec()
    for name, value in (("int event", 7), ("16-byte array event", np.arange(16, dtype=np.uint8))):
        data = codec.encode(_event_of(value))
        found[f"{name} decode"] = lambda data=data: decode(data)
    for workload in ("A1M", "A16M"):
        _, found[f"{workload} frames"] = _paths(make_workload(workload), codec)
    p_frame = codec.encode(make_workload("P"))
    found["P decode"] = lambda: decode(p_frame)
    try:
        from noobwire.bench import msgspec_codec
    except ImportError as exc:
        missing["msgspec"] = str(exc)
    else:
        struct_frame = msgspec_codec.encode(msgspec_codec.from_message(make_workload("P")))
        found["P decode, msgspec"] = lambda: msgspec_codec.decode(struct_frame)
    return found, missing


def _batch(scenario: Scenario, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        scenario()
    return (time.perf_counter() - start) / count * 1e6


def measure(found: dict[str, Scenario], rounds: int, batch_seconds: float = 0.02) -> dict[str, list[float]]:
    """Microseconds per call of each scenario in each of ``rounds`` rounds, the scenarios taking turns."""
    sizes = {}
    for name, scenario in found.items():
        count = 1
        while _batch(scenario, count) * count < batch_seconds * 1e6:
            count *= 2
        sizes[name] = count
    names = list(found)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            samples[name].append(_batch(found[name], sizes[name]))
    return samples


@dataclass(frozen=True)
class Row:
    """One row of the table: what is measured, its value in this run, and the goal it is held to."""

    what: str
    value: float
    unit: str
    goal: float
    at_most: bool = True

    @property
    def met(self) -> bool:
        return self.value <= self.goal if self.at_most else self.value >= self.goal


def rows(samples: dict[str, list[float]]) -> list[Row]:
    """The rows of the runner path, from the samples of one run (medians)."""
    median = {name: statistics.median(values) for name, values in samples.items()}
    found: list[Row] = []
    for workload in ("E4n", "E4sub", "P"):
        if f"{workload} frames" in median:
            ratio = median[f"{workload} frames"] / median[f"{workload} plain"]
            found.append(Row(f"{workload}: frames path / plain codec (enc+dec)", ratio, "x", 1.2))
    extra = median["16-byte array event decode"] - median["int event decode"]
    found.append(Row("a 16-byte uint8 array as an event value, decode, minus an int", extra, "us", 2.0))
    for workload in ("A1M", "A16M"):
        found.append(
            Row(
                f"{workload} as frames, encode_frames + decode_frames",
                median[f"{workload} frames"],
                "us",
                12.0,
            )
        )
    if "P decode, msgspec" in median:
        found.append(Row("P decode / msgspec's", median["P decode"] / median["P decode, msgspec"], "x", 1.0))
    return found


def format_rows(found: list[Row]) -> str:
    """The table: each row's value in this run, its goal, and whether it meets it."""
    lines = [f"  {'what':<62}{'this run':>12}{'goal':>10}  met"]
    for row in found:
        value = f"{row.value:.2f} {row.unit}"
        goal = f"{'<=' if row.at_most else '>='} {row.goal:g} {row.unit}"
        lines.append(f"  {row.what:<62}{value:>12}{goal:>10}  {'yes' if row.met else 'NO'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15, help="rounds of interleaved batches (default 15)")
    parser.add_argument("--json", metavar="FILE", help="also write every sample, the rows and the machine")
    args = parser.parse_args(argv)
    found, missing = scenarios()
    samples = measure(found, args.rounds)
    table = rows(samples)
    print(format_rows(table))
    for name, why in missing.items():
        print(f"  not measured: {name}: {why}")
    if args.json:
        record = {
            "command": "python benchmarks/runner_path.py",
            **machine(),
            "rounds": args.rounds,
            "samples_us": samples,
            "missing": missing,
        }
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(record, file, indent=1)
            file.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
