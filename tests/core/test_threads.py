"""Threads: one codec used from 8 threads at once gives the results one thread gives."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import VECTORS
from noobwire import Codec, DecodeError, EncodeError, Message
from noobwire.bench import workloads
from noobwire.codec import Backend
from tagged import message_from_tagged

THREADS = 8
SMALL_REPEATS = 12
"""Each thread runs every job on a small message this many times (the array workloads once)."""


def _jobs() -> list[tuple[str, Any]]:
    """Encodes and decodes of every workload and vector, and some that fail."""
    messages: list[Message] = [make() for make in workloads.WORKLOADS.values()]
    messages += [message_from_tagged(vector["message"]) for _, vector in sorted(VECTORS.items())]
    unwritable = workloads.e4()
    unwritable.value[3]["value"] = [1, {"lock": threading.Lock()}]
    messages.append(unwritable)
    frames = [bytes.fromhex(vector["hex"]) for _, vector in sorted(VECTORS.items())]
    frames += [frame[: len(frame) // 2] for frame in frames[::5]]  # truncated: refused
    frames += [workloads.e4().to_json_bytes(), b"\x96\x01\xc1"]
    jobs = [("encode", msg) for msg in messages] + [("decode", frame) for frame in frames]
    return [job for job in jobs if _is_small(job)] * SMALL_REPEATS + [
        job for job in jobs if not _is_small(job)
    ]


def _is_small(job: tuple[str, Any]) -> bool:
    kind, subject = job
    return (
        len(subject) < 65536
        if kind == "decode"
        else str(subject.type_) != "event"
        or not any(getattr(event["value"], "nbytes", 0) >= 65536 for event in subject.value)
    )


def _outcome(codec: Codec, job: tuple[str, Any]) -> Any:
    """What a job gives: a frame (a decoded message is encoded again, to compare it whole), or the
    kind and text of the error it raised."""
    kind, subject = job
    try:
        if kind == "encode":
            return codec.encode(subject)
        return codec.encode(codec.decode(subject))
    except (DecodeError, EncodeError) as exc:
        return type(exc).__name__, str(exc)


def _in_random_order(jobs: list[Any], seed: int) -> Iterator[int]:
    order = list(range(len(jobs)))
    random.Random(seed).shuffle(order)
    return iter(order)


@pytest.mark.parametrize("allow_pickle", [True, False], ids=["pickle-on", "pickle-off"])
def test_one_codec_from_eight_threads(backend: Backend, allow_pickle: bool) -> None:
    codec = Codec(backend=backend.name, allow_pickle=allow_pickle)
    jobs = _jobs()
    by_subject: dict[tuple[str, int], Any] = {}  # what one thread gets, once per distinct job
    for kind, subject in jobs:
        if (kind, id(subject)) not in by_subject:
            by_subject[kind, id(subject)] = _outcome(codec, (kind, subject))
    expected = [by_subject[kind, id(subject)] for kind, subject in jobs]
    errors = sum(isinstance(outcome, tuple) for outcome in by_subject.values())
    assert 0 < errors < len(by_subject)  # both kinds of result are compared
    mismatches: list[str] = []
    barrier = threading.Barrier(THREADS)

    def run(seed: int) -> None:
        barrier.wait()
        for index in _in_random_order(jobs, seed):
            outcome = _outcome(codec, jobs[index])
            if outcome != expected[index]:
                mismatches.append(f"thread {seed}, {jobs[index][0]} job {index}: {outcome!r:.200}")

    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, inside the codec's work
    try:
        threads = [threading.Thread(target=run, args=(seed,)) for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    assert not mismatches, "\n".join(mismatches[:10])
