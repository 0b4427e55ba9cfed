"""Timing codecs side by side: interleaved batches in one process, medians over repeats.

Each repeat times one batch of encodes and one batch of decodes of every codec in turn (the order
rotates from repeat to repeat), so that a change in the machine's load falls on all codecs alike; a
codec's time is the median over the repeats of its batches' time per message.
"""

from __future__ import annotations

import functools
import statistics
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from noobwire.bench.check import first_difference
from noobwire.bench.codecs import BenchCodec, frame_size
from noobwire.messages import Message

__all__ = ["DecodeMismatch", "Result", "check_round_trip", "measure"]

MAX_BATCH = 1_000_000


class DecodeMismatch(Exception):
    """A codec decoded a workload into something other than what it encoded."""


@dataclass(frozen=True)
class Result:
    """The median encode and decode time of one codec on one workload, and its frame size."""

    workload: str
    codec: str
    """The codec's key (``pure``, ``msgspec``, ...)."""
    name: str
    """The codec's name in tables (``noobwire pure``, ...)."""
    encode_us: float
    decode_us: float
    size: int
    """Bytes on the wire (all frames together, for a codec that writes several)."""
    noobwire_backend: bool = False
    encode_samples_us: tuple[float, ...] = ()
    decode_samples_us: tuple[float, ...] = ()
    encode_batch: int = 0
    decode_batch: int = 0

    @property
    def total_us(self) -> float:
        """Encode plus decode: the time one message costs its sender and its receiver."""
        return self.encode_us + self.decode_us


def check_round_trip(bench_codec: BenchCodec, workload: str, native: Any, encoded: Any) -> None:
    """Raise :class:`DecodeMismatch` unless ``encoded`` decodes to ``native`` (see ``first_difference``)."""
    difference = first_difference(native, bench_codec.decode(encoded))
    if difference is not None:
        raise DecodeMismatch(f"{bench_codec.name} does not give back {workload}: {difference}")


def _time_batch(func: Callable[[Any], Any], arg: Any, count: int) -> float:
    """Seconds per call of ``func(arg)``, over ``count`` calls."""
    start = time.perf_counter()
    for _ in range(count):
        func(arg)
    return (time.perf_counter() - start) / count


class _Calibrated(Exception):
    """Raised by the ``autorange`` callback once a batch takes long enough to time: (number, seconds)."""


def _batch_size(func: Callable[[Any], Any], arg: Any, target_s: float) -> int:
    """How many calls make a batch of about ``target_s`` seconds: ``timeit``'s ``autorange`` grows the
    count until the calls take long enough to time (a few milliseconds here, not its 0.2 s)."""
    enough = min(target_s, 0.005)

    def stop_when_enough(number: int, seconds: float) -> None:
        if seconds >= enough or number >= MAX_BATCH:
            raise _Calibrated(number, seconds)

    timer = timeit.Timer(functools.partial(func, arg), setup="gc.enable()")  # timed as the runs are
    try:
        number, seconds = timer.autorange(stop_when_enough)
    except _Calibrated as calibrated:
        number, seconds = calibrated.args
    per_call = seconds / number
    return max(1, min(MAX_BATCH, round(target_s / max(per_call, 1e-9))))


def measure(
    workload: str,
    msg: Message,
    codecs: Sequence[BenchCodec],
    seconds: float,
    repeats: int,
    on_repeat: Callable[[int], None] | None = None,
) -> list[Result]:
    """Time every codec on one message for about ``seconds`` in all, after checking once (outside
    the timed loops) that each decodes its own frame back into what it encoded.

    ``on_repeat(done)`` is called after the calibration (``done`` = 0) and after each repeat.
    """
    natives = [bench_codec.prepare(msg) for bench_codec in codecs]
    encoded = [bench_codec.encode(native) for bench_codec, native in zip(codecs, natives, strict=True)]
    for bench_codec, native, frame in zip(codecs, natives, encoded, strict=True):
        check_round_trip(bench_codec, workload, native, frame)

    per_batch = seconds / (repeats * 2 * len(codecs))
    batches = [
        (_batch_size(c.encode, native, per_batch), _batch_size(c.decode, frame, per_batch))
        for c, native, frame in zip(codecs, natives, encoded, strict=True)
    ]
    if on_repeat:
        on_repeat(0)
    samples: list[tuple[list[float], list[float]]] = [([], []) for _ in codecs]
    for repeat in range(repeats):
        for turn in range(len(codecs)):
            index = (turn + repeat) % len(codecs)
            encode_count, decode_count = batches[index]
            samples[index][0].append(_time_batch(codecs[index].encode, natives[index], encode_count))
            samples[index][1].append(_time_batch(codecs[index].decode, encoded[index], decode_count))
        if on_repeat:
            on_repeat(repeat + 1)
    return [
        Result(
            workload=workload,
            codec=bench_codec.key,
            name=bench_codec.name,
            encode_us=statistics.median(encode_s) * 1e6,
            decode_us=statistics.median(decode_s) * 1e6,
            size=frame_size(frame),
            noobwire_backend=bench_codec.noobwire_backend,
            encode_samples_us=tuple(sample * 1e6 for sample in encode_s),
            decode_samples_us=tuple(sample * 1e6 for sample in decode_s),
            encode_batch=batch[0],
            decode_batch=batch[1],
        )
        for bench_codec, frame, (encode_s, decode_s), batch in zip(
            codecs, encoded, samples, batches, strict=True
        )
    ]
