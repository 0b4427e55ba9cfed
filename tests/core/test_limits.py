"""Resource limits: nesting depth, container length and frame size, by default and per codec."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import msgpack
import pytest

import noobwire
from noobwire import Codec, DecodeError, EncodeError, Options, wire
from noobwire._core import pure
from noobwire._core.extensions import MAX_KEY_DEPTH
from noobwire.bench import workloads
from noobwire.codec import Backend

TS = msgpack.Timestamp(0, 0)  # written as a 4-byte extension
TS_BYTES = bytes.fromhex("d6ff00000000")
HEAD = bytes.fromhex("96010900a16e") + TS_BYTES  # [1, event, 0, "n", epoch, ...


def _event_frame(value: Any) -> bytes:
    """A frame of one event whose value is ``value``, written by the format's rules (tuples, sets)."""
    return pure.pack_value([1, 9, 0, "n", TS, [[1, TS, "n", "s", 3, value]]], allow_pickle=True)


def _peak_bytes(action: Callable[[], Any]) -> int:
    """The peak of memory traced by tracemalloc while ``action`` runs (it must raise DecodeError).

    It runs once before, untraced, so that what is imported or cached on first use is not counted.
    """
    with pytest.raises(DecodeError):
        action()
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError):
            action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- the settings themselves -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"max_depth": wire.MAX_DEPTH + 1}, ValueError),
        ({"max_depth": 2000}, ValueError),
        ({"max_depth": 0}, ValueError),
        ({"max_length": 5}, ValueError),
        ({"max_frame_size": 0}, ValueError),
        ({"max_depth": 3.0}, TypeError),
        ({"max_length": True}, TypeError),
        ({"allow_pickle": 0}, TypeError),
    ],
)
def test_impossible_settings_are_refused_at_once(settings: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Options(**settings)
    with pytest.raises(error):
        Codec(**settings)


def test_the_defaults() -> None:
    options = Codec().options
    assert options.max_depth == wire.MAX_DEPTH
    assert options.max_length == options.max_frame_size == 2**32 - 1
    assert noobwire.options.DEFAULT_OPTIONS.max_depth == wire.MAX_DEPTH


def test_a_codec_picks_its_backend(backend: Backend) -> None:
    assert Codec(backend=backend.name).backend is backend
    assert Codec().backend.name == noobwire.backend
    with pytest.raises(ValueError, match="unknown backend"):
        Codec(backend="fastest")


# --- declared lengths beyond the bytes present -------------------------------------------------


HUGE = {
    "str": b"\xdb\xff\xff\xff\xff",
    "bin": b"\xc6\xff\xff\xff\xff",
    "array": b"\xdd\xff\xff\xff\xff",
    "map": b"\xdf\xff\xff\xff\xff",
    "ext": b"\xc9\xff\xff\xff\xff\x07",
    "pickle ext": b"\xc9\xff\xff\xff\xff\x08",
}


@pytest.mark.parametrize("kind", sorted(HUGE))
@pytest.mark.parametrize("allow_pickle", [True, False], ids=["pickle-on", "pickle-off"])
def test_a_tiny_frame_declaring_4_gib_is_refused_without_allocating(
    backend: Backend, kind: str, allow_pickle: bool
) -> None:
    codec = Codec(backend=backend.name, allow_pickle=allow_pickle)
    for frame in (HEAD + HUGE[kind], HEAD + b"\x91" + HUGE[kind], HEAD + b"\x81\x00" + HUGE[kind]):
        assert len(frame) <= 20
        peak = _peak_bytes(lambda frame=frame: codec.decode(frame))
        assert peak < 64 * 1024, f"{peak} bytes traced for a frame of {len(frame)}"


def test_an_array_declaring_more_data_than_it_holds_is_refused_without_allocating(backend: Backend) -> None:
    for dtype, shape in (("<f8", [2**32]), ("|u1", [2**31, 2**31]), ("|V4000000000", [1])):
        header = msgpack.packb([dtype, shape, 0])
        frame = _event_frame(msgpack.ExtType(7, header + b"\x00" * 8))
        peak = _peak_bytes(lambda frame=frame: backend.decode(frame))
        assert peak < 64 * 1024, f"{peak} bytes traced for {dtype} {shape}"


# --- max_length ----------------------------------------------------------------------------------


def _bigint(size: int) -> msgpack.ExtType:
    return msgpack.ExtType(4, b"\x01" + b"\x00" * (size - 1))


LENGTHS: dict[str, Callable[[int], Any]] = {
    "array": lambda n: list(range(n)),
    "map": lambda n: dict.fromkeys(range(n)),
    "str": lambda n: "x" * n,
    "bin": lambda n: b"x" * n,
    "ext": _bigint,
}


@pytest.mark.parametrize("kind", sorted(LENGTHS))
def test_max_length(backend: Backend, kind: str) -> None:
    codec = Codec(backend=backend.name, max_length=8)
    fits = codec.decode(_event_frame(LENGTHS[kind](8)))
    assert fits.value[0]["value"] == noobwire.decode(_event_frame(LENGTHS[kind](8))).value[0]["value"]
    frame = _event_frame(LENGTHS[kind](9))
    with pytest.raises(DecodeError, match=r"of 9 \w+ exceeds this codec's max_length \(8\)") as info:
        codec.decode(frame)
    assert info.value.offset == frame.index(msgpack.packb(LENGTHS[kind](9)))
    assert Codec(backend=backend.name).decode(frame)  # the default allows it


def test_max_length_applies_inside_values_and_keys(backend: Backend) -> None:
    codec = Codec(backend=backend.name, max_length=8)
    for value in ({(0,) * 9: 1}, [[[list(range(9))]]], {"k": {"x" * 9}}, (1,) * 9):
        with pytest.raises(DecodeError, match="max_length"):
            codec.decode(_event_frame(value))


# --- max_depth -----------------------------------------------------------------------------------


def _nested(levels: int, make: Callable[[Any], Any] = lambda inner: [inner]) -> Any:
    """0 inside ``levels`` containers made by ``make``."""
    value: Any = 0
    for _ in range(levels):
        value = make(value)
    return value


NESTINGS: dict[str, Callable[[int], Any]] = {
    "list": lambda levels: _nested(levels, lambda inner: [inner]),
    "dict value": lambda levels: _nested(levels, lambda inner: {"k": inner}),
    "tuple": lambda levels: _nested(levels, lambda inner: (inner,)),
    "frozenset": lambda levels: _nested(levels, lambda inner: frozenset({inner})),
    "dict key": lambda levels: {_nested(levels - 1, lambda inner: (inner,)): 1},
}


KEYS = ("dict key", "frozenset")
"""The nestings whose containers are keys or set elements: at most ``MAX_KEY_DEPTH`` of them."""
DEPTH_CASES = [
    (kind, max_depth)
    for kind in sorted(NESTINGS)
    for max_depth in (4, 10, MAX_KEY_DEPTH + 3 if kind in KEYS else 100)
]


@pytest.mark.parametrize(("kind", "max_depth"), DEPTH_CASES)
def test_max_depth(backend: Backend, kind: str, max_depth: int) -> None:
    codec = Codec(backend=backend.name, max_depth=max_depth)
    # The frame, the event list and the event are levels 1 to 3: a value's containers start at 4.
    fits = _event_frame(NESTINGS[kind](max_depth - 3))
    assert codec.decode(fits).value[0]["value"] == noobwire.decode(fits).value[0]["value"]
    too_deep = _event_frame(NESTINGS[kind](max_depth - 2))
    with pytest.raises(DecodeError, match=f"nested deeper than {max_depth} levels") as info:
        codec.decode(too_deep)
    assert info.value.offset is not None
    assert noobwire.decode(too_deep)  # the format's own limit allows it


def test_max_depth_counts_control_messages_too(backend: Backend) -> None:
    codec = Codec(backend=backend.name, max_depth=3)
    error = msgpack.packb([1, 10, 0, "n", TS, [msgpack.ExtType(9, b"builtins:ValueError"), [[1]], ""]])
    with pytest.raises(DecodeError, match="nested deeper than 3"):
        codec.decode(error)
    assert codec.decode(
        msgpack.packb([1, 10, 0, "n", TS, [msgpack.ExtType(9, b"builtins:ValueError"), [1], ""]])
    )


def test_the_format_limit_is_the_default(backend: Backend) -> None:
    codec = Codec(backend=backend.name, max_depth=wire.MAX_DEPTH)
    event = bytes.fromhex("9196") + b"\x01" + TS_BYTES + b"\xa1n\xa1s\x03"
    fits = HEAD + event + b"\x91" * (wire.MAX_DEPTH - 4) + b"\x90"
    assert codec.decode(fits)
    with pytest.raises(DecodeError, match=f"nested deeper than {wire.MAX_DEPTH}"):
        codec.decode(HEAD + event + b"\x91" * (wire.MAX_DEPTH - 3) + b"\x90")


# --- max_frame_size --------------------------------------------------------------------------------


def test_max_frame_size_is_checked_before_anything_is_read(backend: Backend) -> None:
    frame = workloads.e4().to_bytes()
    codec = Codec(backend=backend.name, max_frame_size=len(frame))
    assert codec.decode(frame).node_id == "cam"
    smaller = Codec(backend=backend.name, max_frame_size=len(frame) - 1)
    for data in (frame, b"\xc1" * len(frame), b"{" + b" " * (len(frame) - 1), [b"topic", frame]):
        with pytest.raises(
            DecodeError, match=f"{len(frame)} bytes is larger than this codec's max_frame_size"
        ):
            smaller.decode(data)


def test_max_frame_size_applies_to_encoding(backend: Backend) -> None:
    msg = workloads.e64()
    size = len(noobwire.encode(msg))
    assert Codec(backend=backend.name, max_frame_size=size).encode(msg) == noobwire.encode(msg)
    with pytest.raises(EncodeError, match=f"would be {size} bytes, more than this codec's max_frame_size"):
        Codec(backend=backend.name, max_frame_size=size - 1).encode(msg)


@pytest.mark.parametrize("max_frame_size", [2**63 - 1, 2**63, 2**64, 10**30])
def test_a_frame_size_limit_beyond_any_frame_is_no_limit(backend: Backend, max_frame_size: int) -> None:
    codec = Codec(backend=backend.name, max_frame_size=max_frame_size)
    for msg in (workloads.e4(), workloads.p(), workloads.s()):
        frame = codec.encode(msg)
        assert frame == noobwire.encode(msg)
        for held in (frame, bytearray(frame), memoryview(frame), [b"topic", frame]):
            assert codec.encode(codec.decode(held)) == frame
    frames = codec.encode_frames(workloads.a1m())
    assert codec.encode(codec.decode_frames(frames)) == noobwire.encode(workloads.a1m())


def test_limits_leave_valid_frames_alone(backend: Backend) -> None:
    codec = Codec(backend=backend.name, max_depth=8, max_length=64, max_frame_size=4096)
    for make in (workloads.e4, workloads.p, workloads.s):
        msg = make()
        assert codec.encode(msg) == noobwire.encode(msg)
        assert codec.encode(codec.decode(codec.encode(msg))) == noobwire.encode(msg)
