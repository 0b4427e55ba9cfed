"""The compiled backend's one-pass frames path, against the pure backend's (the reference).

The compiled backend writes a hot message's frames in one pass and reads the common forms of received
frames in one pass, handing everything else to the general path of ``noobwire.multipart``. These tests
hold it to the pure backend's frames: the same frames, byte for byte and of the same kinds, for every
kind of buffer, depth, threshold and setting; the same message, or the same error, for every form of
received frames and every damage done to them; and, for the forms noob's runner sends, no hand-over.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from helpers import ARRAY_KINDS, assert_same, event_msg
from noobwire import Codec, ProcessMsg
from noobwire._core.backends import get_backend
from noobwire._core.out_of_band import MAX_BUFFER_DEPTH
from noobwire.bench.workloads import TIMESTAMP, make_workload, workload_generation
from noobwire.generations import REFERENCE
from noobwire.multipart import FrameCodec
from noobwire.options import Options

compiled = pytest.importorskip("noobwire._core.compiled", reason="the compiled extension is not built")
zmq = pytest.importorskip("zmq")

PURE = FrameCodec(get_backend("pure"))
COMPILED = FrameCodec(get_backend("compiled"))
BIG = bytes(range(256)) * 300

ARRAYS = {
    **ARRAY_KINDS,
    "transposed": np.arange(24, dtype="<i4").reshape(2, 3, 4).transpose(1, 0, 2),
    "read-only": np.frombuffer(bytes(range(40)), dtype="<u4").reshape(2, 5),
    "object": np.array([1, "x"], dtype=object),
    "sixteen dimensions": np.zeros((1,) * 16, dtype="<u1"),
    "numpy scalar": np.float32(1.5),
    "large": np.arange(70_000, dtype=np.uint8),
}


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


VALUES: dict[str, Any] = {
    **{f"array, {name}": array for name, array in ARRAYS.items()},
    "bytes": BIG,
    "bytearray": bytearray(BIG),
    "memoryview": memoryview(BIG),
    "memoryview of floats": memoryview(np.arange(20_000, dtype="<f8")).cast("B"),
    "two-dimensional memoryview": memoryview(np.arange(40, dtype="<u2").reshape(4, 10)),
    "strided memoryview": memoryview(BIG)[::2],
    "in dicts and lists": {
        "a": ARRAYS["uint8"],
        "b": [BIG, (ARRAYS["fortran"], 1)],
        "c": {"d": bytearray(BIG)},
    },
    "in keys": {BIG[:10]: 1, "k": {ARRAYS["uint8"].tobytes(): BIG}},
    "in sets": [{b"x" * 70_000}, BIG],
    "at the depth limit": _nested(BIG, MAX_BUFFER_DEPTH),
    "beyond the depth limit": _nested(BIG, MAX_BUFFER_DEPTH + 1),
    "a dict at the depth limit": _nested({"x": ARRAYS["float32"]}, MAX_BUFFER_DEPTH),
    "in a tuple, twice": (BIG, BIG, [BIG]),
    "130 buffers": [ARRAYS["large"]] * 130,
    "40 buffers": [b"y" * 70_000] * 40,
    "none": None,
}
THRESHOLDS = [0, 16, 65536]
OPTIONS = [Options(), Options(max_length=1000, max_frame_size=10_000_000), Options(allow_pickle=False)]


def _messages() -> Iterator[tuple[str, Any, Any]]:
    for name, value in VALUES.items():
        yield f"event value: {name}", event_msg(value, {"twice": [value]}), REFERENCE
        process = ProcessMsg(node_id="n", timestamp=TIMESTAMP, value={"epoch": 1, "input": {"x": value}})
        yield f"process input: {name}", process, REFERENCE
    for workload in ("E4", "P", "S", "A1M", "E4n", "E4sub"):
        try:
            yield workload, make_workload(workload), workload_generation(workload)
        except ImportError:  # E4n and E4sub need noob 1003
            continue


MESSAGES = {name: (msg, generation) for name, msg, generation in _messages()}


def _outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", function()
    except Exception as exc:
        return type(exc).__name__, re.sub(r"0x[0-9a-f]{6,}", "0x?", str(exc))


def _same_frames(compiled_frames: list[Any], pure_frames: list[Any]) -> None:
    assert len(compiled_frames) == len(pure_frames)
    for mine, theirs in zip(compiled_frames, pure_frames, strict=True):
        assert type(mine) is type(theirs)
        assert bytes(mine) == bytes(theirs)
        if isinstance(mine, memoryview):
            assert (mine.format, mine.ndim, mine.readonly) == (theirs.format, theirs.ndim, theirs.readonly)


def _same_outcome(mine: tuple[str, Any], theirs: tuple[str, Any]) -> None:
    assert mine[0] == theirs[0], (mine, theirs)
    if mine[0] != "ok":
        assert mine[1] == theirs[1]
        return
    expected, actual = theirs[1], mine[1]
    assert type(actual) is type(expected)
    if isinstance(expected.value, list):
        assert len(actual.value) == len(expected.value)
        for want, got in zip(expected.value, actual.value, strict=True):
            _same_value(want, got)
    else:
        _same_value(expected.value, actual.value)
    assert (actual.node_id, actual.timestamp) == (expected.node_id, expected.timestamp)


def _same_value(expected: Any, actual: Any) -> None:
    if isinstance(expected, memoryview):
        assert type(actual) is memoryview
        assert bytes(actual) == bytes(expected)
        assert (actual.readonly, actual.format, actual.ndim) == (
            expected.readonly,
            expected.format,
            expected.ndim,
        )
        return
    if isinstance(expected, np.ndarray):
        assert actual.flags.writeable == expected.flags.writeable
    if isinstance(expected, dict) and not isinstance(expected, np.ndarray):
        assert list(actual) == list(expected)
        for key in expected:
            _same_value(expected[key], actual[key])
        return
    assert_same(expected, actual)


def _same_verdict(frames: Any, generation: Any, options: Options, buffers_as: Any) -> None:
    """The compiled backend's decode_frames gives the pure one's message, or its error."""
    _same_outcome(
        _outcome(lambda: COMPILED.decode_frames(frames, generation, options, buffers_as=buffers_as)),
        _outcome(lambda: PURE.decode_frames(frames, generation, options, buffers_as=buffers_as)),
    )


def _encoded(name: str, threshold: int, options: Options) -> tuple[tuple[str, Any], tuple[str, Any]]:
    msg, generation = MESSAGES[name]
    mine = _outcome(lambda: COMPILED.encode_frames(msg, generation, options, threshold=threshold))
    theirs = _outcome(lambda: PURE.encode_frames(msg, generation, options, threshold=threshold))
    return mine, theirs


def _forms(frames: list[Any]) -> dict[str, Any]:
    as_bytes = [bytes(frame) for frame in frames]
    released = [memoryview(frame) for frame in as_bytes[:-1]]
    for view in released:
        view.release()
    return {
        "as encoded": list(frames),
        "bytes": as_bytes,
        "tuple": tuple(as_bytes),
        "the runner hook's zmq frames": [zmq.Frame(b"event")] + [zmq.Frame(f) for f in as_bytes],
        "bytearray buffers": [bytearray(frame) for frame in as_bytes[:-1]] + as_bytes[-1:],
        "a memoryview header": [*as_bytes[:-1], memoryview(as_bytes[-1])],
        "an envelope": [b"topic", b"id", *as_bytes],
        "released buffers": [*released, *as_bytes[-1:]],
    }


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "limits", "pickle off"])
@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("name", list(MESSAGES))
def test_one_pass_frames_are_the_pure_backends_and_read_back_alike(
    name: str, threshold: int, options: Options
) -> None:
    mine, theirs = _encoded(name, threshold, options)
    assert mine[0] == theirs[0], (mine, theirs)
    if mine[0] != "ok":
        assert mine[1] == theirs[1]
        return
    _same_frames(mine[1], theirs[1])
    _, generation = MESSAGES[name]
    for form in _forms(mine[1]).values():
        for buffers_as in ("bytes", "memoryview"):
            _same_verdict(form, generation, options, buffers_as)


def _damaged(frames: list[bytes], rng: random.Random) -> Iterator[list[bytes]]:
    header = frames[-1]
    cuts = range(len(header))
    if len(header) > 256:  # (a header of 130 buffer references: both ends whole, the middle sampled)
        cuts = sorted({*cuts[:96], *cuts[-96:], *rng.sample(cuts[96:-96], min(64, len(cuts) - 192))})
    for cut in cuts:
        yield [*frames[:-1], header[:cut]]
    positions = rng.sample(range(len(header)), min(6, len(header)))
    for pos in positions:
        for value in {header[pos] ^ 0xFF, header[pos] ^ 0x01, 0x00, 0x7F, 0xC0, 0xC1, 0xCC, 0xD4, 0x90, 0xDC}:
            yield [*frames[:-1], header[:pos] + bytes([value & 0xFF]) + header[pos + 1 :]]
    if len(frames) > 1:
        yield frames[1:]  # a buffer missing
        yield [frames[0][:-1], *frames[1:]]  # a byte short
        yield [frames[0] + b"\0", *frames[1:]]  # a byte long
        yield [*frames[-2::-1], header]  # buffers swapped
        yield [b"x", *frames]  # an extra frame
        yield [header]


@pytest.mark.parametrize(
    "name",
    [
        name
        for name in MESSAGES
        if any(word in name for word in ("large", "in dicts", "130", "bytes", "E4", "P"))
    ],
)
def test_damaged_frames_get_the_pure_backends_verdict(name: str) -> None:
    mine, theirs = _encoded(name, 16, Options())
    assert mine[0] == theirs[0] == "ok"
    _, generation = MESSAGES[name]
    frames = [bytes(frame) for frame in mine[1]]
    for damaged in _damaged(frames, random.Random(name)):
        for form in (damaged, [zmq.Frame(frame) for frame in damaged]):
            _same_verdict(form, generation, Options(), "bytes")


@contextmanager
def _general_paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record what the compiled backend hands to the general path (in a FrameCodec made inside)."""
    taken: list[str] = []
    decode_general = FrameCodec.decode_frames_general

    def decode_recorded(self: FrameCodec, *args: Any, **kwargs: Any) -> Any:
        taken.append("decode")
        return decode_general(self, *args, **kwargs)

    class RecordedOutOfBand(compiled.OutOfBand):  # type: ignore[name-defined,misc]
        def __init__(self, threshold: int) -> None:
            taken.append("encode")
            super().__init__(threshold)

    monkeypatch.setattr(FrameCodec, "decode_frames_general", decode_recorded)
    monkeypatch.setattr(compiled, "OutOfBand", RecordedOutOfBand)
    yield taken


@pytest.mark.parametrize(
    "name", ["E4", "P", "A1M", "E4n", "E4sub", "event value: array, uint8", "event value: bytes"]
)
def test_what_noobs_runner_sends_is_written_and_read_in_one_pass(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    if name not in MESSAGES:
        pytest.skip(f"{name} needs noob 1003")
    msg, generation = MESSAGES[name]
    with _general_paths(monkeypatch) as taken:
        codec = FrameCodec(get_backend("compiled"))
        frames = codec.encode_frames(msg, generation)
        received = [zmq.Frame(b"event")] + [zmq.Frame(bytes(frame)) for frame in frames]
        back = codec.decode_frames(received, generation)
        hook = Codec(generation=generation, backend="compiled").frames
        hook.decode_frames(hook.encode_frames_at(msg, 65536))
    assert taken == []
    _same_outcome(("ok", back), ("ok", PURE.decode_frames(frames, generation)))


def test_a_frame_the_one_pass_does_not_read_still_goes_to_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    msg, generation = MESSAGES["event value: array, structured"]
    with _general_paths(monkeypatch) as taken:
        FrameCodec(get_backend("compiled")).decode_frames(
            PURE.encode_frames(msg, generation, threshold=16), generation
        )
    assert taken == ["decode"]
