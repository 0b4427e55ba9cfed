"""``noobwire bench``: encode and decode each workload with each codec, side by side, in one process.

Each codec's encode and decode are timed in batches that alternate between the codecs, so that a
change in the machine's load falls on all of them alike; the result is the median time per message.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from noobwire import codec
from noobwire.legacy_json import decode_json, encode_json
from noobwire.messages import Message
from noobwire.workloads import WORKLOADS, make_workload

__all__ = ["Result", "codecs", "format_table", "run"]


@dataclass
class Result:
    """The median encode and decode time of one codec on one workload, and its frame size."""

    workload: str
    codec: str
    encode_us: float
    decode_us: float
    size: int

    @property
    def total_us(self) -> float:
        return self.encode_us + self.decode_us


Codec = tuple[Callable[[Message], bytes], Callable[[bytes], Message]]


def codecs() -> dict[str, Codec]:
    """The codecs this installation can measure: noobwire's backends and the reference JSON."""
    found: dict[str, Codec] = {}
    for name in ("compiled", "pure"):
        try:
            backend = codec.get_backend(name)
        except ImportError:
            continue
        found[f"noobwire {name}"] = (backend.encode, backend.decode)
    found["reference JSON"] = (encode_json, decode_json)
    return found


def _time_batch(func: Callable[[Any], Any], arg: Any, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        func(arg)
    return (time.perf_counter() - start) / count


def _batch_size(func: Callable[[Any], Any], arg: Any, target_s: float) -> int:
    """How many calls make a batch of about ``target_s`` seconds."""
    once = _time_batch(func, arg, 1)
    return max(1, min(100_000, int(target_s / max(once, 1e-7))))


def measure(workload: str, selected: dict[str, Codec], seconds: float) -> list[Result]:
    """Time every selected codec on one workload for about ``seconds`` in all."""
    msg = make_workload(workload)
    frames = {name: encode(msg) for name, (encode, _) in selected.items()}
    repeats = 7
    per_batch = seconds / (repeats * 2 * len(selected))
    plans = {
        name: (
            _batch_size(encode, msg, per_batch),
            _batch_size(decode, frames[name], per_batch),
        )
        for name, (encode, decode) in selected.items()
    }
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in selected}
    for _ in range(repeats):
        for name, (encode, decode) in selected.items():
            encode_count, decode_count = plans[name]
            samples[name][0].append(_time_batch(encode, msg, encode_count))
            samples[name][1].append(_time_batch(decode, frames[name], decode_count))
    return [
        Result(
            workload,
            name,
            statistics.median(samples[name][0]) * 1e6,
            statistics.median(samples[name][1]) * 1e6,
            len(frames[name]),
        )
        for name in selected
    ]


def run(
    workloads: Iterable[str] | None = None,
    codec_names: Iterable[str] | None = None,
    seconds: float = 2.0,
    progress: Callable[[str], None] | None = None,
) -> list[Result]:
    """Measure the workloads (all by default) with the codecs (all by default)."""
    available = codecs()
    selected = {name: available[name] for name in (codec_names or available)}
    results = []
    for workload in workloads or WORKLOADS:
        if progress:
            progress(workload)
        try:
            results.extend(measure(workload, selected, seconds))
        except ImportError as exc:  # the array workloads need numpy
            if progress:
                progress(f"{workload} skipped: {exc}")
    return results


def format_table(results: list[Result]) -> str:
    """One table per workload: time per message, frame size, and each codec's ratio to noobwire's
    fastest backend (how many times slower it is; below 1 means faster)."""
    lines = []
    for workload in dict.fromkeys(result.workload for result in results):
        rows = [result for result in results if result.workload == workload]
        ours = [row for row in rows if row.codec.startswith("noobwire")]
        best = min(ours, key=lambda row: row.total_us) if ours else rows[0]
        lines.append(f"{workload}")
        lines.append(
            f"  {'codec':<18}{'encode µs':>12}{'decode µs':>12}{'total µs':>12}"
            f"{'bytes':>11}{'x ' + best.codec.split()[-1]:>14}"
        )
        for row in rows:
            lines.append(
                f"  {row.codec:<18}{row.encode_us:>12.2f}{row.decode_us:>12.2f}{row.total_us:>12.2f}"
                f"{row.size:>11,}{row.total_us / best.total_us:>14.2f}"
            )
        lines.append("")
    return "\n".join(lines)
