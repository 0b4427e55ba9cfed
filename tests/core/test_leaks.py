"""Leaks: encoding and decoding many times keeps memory flat, and the codec keeps nothing alive.

Two measures of memory: the blocks Python's allocator holds (``sys.getallocatedblocks``, exact for
Python objects, after a garbage collection) and the resident set size (``/proc/self/statm``, for what
is allocated outside Python's allocator, such as buffers). Each run warms up first, so that what is
cached on first use (imports, interned names, the thread's packers) is not counted.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pytest

import noobwire
from helpers import PICKLE_VECTORS, VECTORS
from noobwire import Codec, DecodeError, EncodeError, Message
from noobwire.bench import workloads
from noobwire.codec import Backend

ROUNDS = {"E4": 20_000, "E64": 2_000, "P": 20_000, "S": 10_000, "A1M": 200, "A16M": 6}
"""Rounds of encode + decode per workload: a few tenths of a second each on the pure backend."""
VECTOR_ROUNDS = 300


def _rss() -> int:
    """Resident memory in bytes (its peak where ``/proc`` is missing, which can only overstate growth)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _growth(cycle: Callable[[], Any], rounds: int) -> tuple[int, int]:
    """(allocated blocks, resident bytes) gained over ``rounds`` calls of ``cycle``, after warming up."""
    for _ in range(max(rounds // 10, 3)):
        cycle()
    gc.collect()
    blocks, rss = sys.getallocatedblocks(), _rss()
    for _ in range(rounds):
        cycle()
    gc.collect()
    return sys.getallocatedblocks() - blocks, _rss() - rss


BLOCKS_NOISE = 1_000
"""Blocks the interpreter itself may gain however long the run (its type attribute cache keeps up to
4096 attribute names alive, reprlib's among them): a few hundred are seen, whatever the rounds."""


def _assert_flat(cycle: Callable[[], Any], rounds: int, frame_size: int) -> None:
    blocks, rss = _growth(cycle, rounds)
    # A leak of one object a round holds `rounds` blocks (the small workloads run more rounds than
    # the noise); a leak of one frame a round, `rounds` frames of resident memory.
    assert blocks < BLOCKS_NOISE, f"{blocks} blocks more after {rounds} rounds"
    assert rss < max(2 * 2**20, 2 * frame_size), f"{rss / 2**20:.1f} MiB more after {rounds} rounds"


@pytest.mark.parametrize("name", sorted(ROUNDS))
def test_workloads_keep_memory_flat(backend: Backend, name: str) -> None:
    msg = workloads.make_workload(name)
    frame = backend.encode(msg)

    def cycle() -> None:
        backend.decode(backend.encode(msg))

    _assert_flat(cycle, ROUNDS[name], len(frame))


@pytest.mark.parametrize("allow_pickle", [True, False], ids=["pickle-on", "pickle-off"])
def test_every_vector_keeps_memory_flat(backend: Backend, allow_pickle: bool) -> None:
    codec = Codec(backend=backend.name, allow_pickle=allow_pickle)
    frames = [
        bytes.fromhex(vector["hex"])
        for name, vector in sorted(VECTORS.items())
        if allow_pickle or name not in PICKLE_VECTORS
    ]

    def cycle() -> None:
        for frame in frames:
            codec.encode(codec.decode(frame))

    _assert_flat(cycle, VECTOR_ROUNDS, max(map(len, frames)))


def test_errors_keep_memory_flat(backend: Backend) -> None:
    frame = workloads.e4().to_bytes()
    unwritable = workloads.e4()
    unwritable.value[1]["value"] = {"a": [1, lambda: None]}
    locked = Codec(backend=backend.name, allow_pickle=False)
    pickled = bytes.fromhex(VECTORS["value_pickle"]["hex"])
    bad = [frame[:-5], frame + b"\x00", b"\x96\x01\xc1", b"{", b"\x96\x01\x09\x00" + b"\x91" * 2000]

    def cycle() -> None:
        for data in bad:
            with pytest.raises(DecodeError):
                backend.decode(data)
        with pytest.raises(DecodeError):
            locked.decode(pickled)
        with pytest.raises(EncodeError):
            backend.encode(unwritable)

    _assert_flat(cycle, 500, len(frame))


# --- what a decoded message holds -----------------------------------------------------------------

_OWNED = (list, dict, tuple, set, frozenset, bytes, float, datetime, np.ndarray, np.generic)
"""Kinds of objects a decode creates afresh; ints, strs, classes and singletons may be shared."""


def _maybe_shared(obj: Any) -> bool:
    """Empty and one-byte values and numpy's booleans are singletons that anything may hold."""
    return (isinstance(obj, tuple | bytes | frozenset) and len(obj) < 2) or isinstance(obj, np.bool_)


def _owned_objects(msg: Message) -> Iterator[Any]:
    """Every object reachable from ``msg`` (its ``__dict__`` included) that the decoder created, once
    per reference to it (an object held in two places comes twice)."""
    stack: list[Any] = [msg.__dict__]
    while stack:
        obj = stack.pop()
        if isinstance(obj, _OWNED) and not _maybe_shared(obj):
            yield obj
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_decoded_objects_are_held_by_the_message_alone(backend: Backend, name: str) -> None:
    frame = bytes.fromhex(VECTORS[name]["hex"])
    frame_refs = sys.getrefcount(frame)
    gc.disable()  # what is dropped must be freed by reference counting alone: no cycles
    try:
        msg = backend.decode(frame)
        assert sys.getrefcount(frame) == frame_refs, "the decoder kept the frame"
        assert sys.getrefcount(msg) == 2  # `msg` and the argument
        references: dict[int, int] = {}
        held: dict[int, Any] = {}
        for obj in _owned_objects(msg):
            references[id(obj)] = references.get(id(obj), 0) + 1
            held[id(obj)] = obj
        assert held or name in (
            "msg_init",
            "msg_deinit",
            "msg_ping",
            "msg_stop",
            "msg_start",
            "msg_start_none",
        )
        for key in list(held):
            obj = held[key]
            # the message's references, `held`, `obj` and the argument
            assert sys.getrefcount(obj) == references[key] + 3, f"{type(obj).__name__} {obj!r:.60}"
        watched = [weakref.ref(obj) for obj in held.values() if _weakrefable(obj)] + [weakref.ref(msg)]
        del held, obj, msg
        assert [ref() for ref in watched] == [None] * len(watched)
    finally:
        gc.enable()


def _weakrefable(obj: Any) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


def test_an_error_drops_the_frame(backend: Backend) -> None:
    frame = workloads.e4().to_bytes()[:-3]
    frame_refs = sys.getrefcount(frame)
    with pytest.raises(DecodeError):
        backend.decode(frame)
    gc.collect()
    assert sys.getrefcount(frame) == frame_refs


def test_the_encoder_keeps_no_message(backend: Backend) -> None:
    for make in (workloads.e4, workloads.p, workloads.s, workloads.a1m):
        msg = make()
        parts = [weakref.ref(msg)]
        if isinstance(msg.value, list) and msg.value and isinstance(msg.value[0]["value"], np.ndarray):
            parts.append(weakref.ref(msg.value[0]["value"]))
        gc.disable()
        try:
            noobwire.Codec(backend=backend.name).encode(msg)
            del msg
            assert [ref() for ref in parts] == [None] * len(parts)
        finally:
            gc.enable()
