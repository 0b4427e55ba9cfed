"""Bad bytes: every decoder either returns a message or raises DecodeError, on every backend.

The sweeps run with the default pickle policy over every byte but those of pickles (a changed byte in a
pickle can make ``pickle.loads`` allocate gigabytes or run code: with pickle on, pickles are trusted
input), and with pickle off over every byte of the vectors that hold pickles or exception names,
checking that nothing is unpickled or imported.
"""

from __future__ import annotations

import importlib
import json
import pickle
import random
import re
import struct
import sys
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import noobwire
import noobwire._core.diagnosis
import noobwire.bench.workloads
from helpers import VECTORS, decodes_or_refuses
from noobwire import Codec, DecodeError, Message, SchemaError
from noobwire.codec import Backend

FRAMES = {name: bytes.fromhex(vector["hex"]) for name, vector in VECTORS.items()}


def _pickle_spans(name: str) -> list[range]:
    """Where a vector's frame holds pickle bytes (left alone by the sweeps with pickle on)."""
    frame, text = FRAMES[name], json.dumps(VECTORS[name]["message"])
    spans = []
    for hex_pickle in re.findall(r'"\$pickle": "([0-9a-f]+)"', text):
        start = frame.find(bytes.fromhex(hex_pickle))
        assert start >= 0
        spans.append(range(start, start + len(hex_pickle) // 2))
    return spans


def _mutable_positions(name: str) -> list[int]:
    spans = _pickle_spans(name)
    return [pos for pos in range(len(FRAMES[name])) if not any(pos in span for span in spans)]


LOCKED_SWEEP = sorted(
    name for name, vector in VECTORS.items() if re.search(r'"\$(pickle|exception_type)"', json.dumps(vector))
)
"""The vectors swept with pickle off at every byte: those that hold pickles or exception names."""


class _Guarded:
    """A codec with pickle off whose decoding must neither unpickle nor import anything."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.decoding = False
        self.violations: list[str] = []

    def decode(self, data: bytes) -> Message:
        modules = len(sys.modules)
        self.decoding = True
        try:
            return self.codec.decode(data)
        finally:
            self.decoding = False
            if len(sys.modules) != modules:
                self.violations.append(f"a module was imported decoding {data.hex()}")

    def forbid(self, name: str, original: Any) -> Any:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.decoding:
                self.violations.append(f"{name} was called decoding")
                raise RuntimeError(f"{name} called with pickle off")
            return original(*args, **kwargs)

        return guarded


@pytest.fixture
def locked(backend: Backend) -> Iterator[_Guarded]:
    """A codec with pickle off; the test fails if its decoding unpickles or imports anything."""
    guarded = _Guarded(Codec(backend=backend.name, allow_pickle=False))
    for frame in FRAMES.values():  # what is imported on first use is imported now
        decodes_or_refuses(guarded.codec.decode, frame)
    with pytest.MonkeyPatch.context() as patch:
        for module, name in ((pickle, "loads"), (pickle, "load"), (pickle, "Unpickler"),
                             (importlib, "import_module"), (importlib, "__import__")):  # fmt: skip
            patch.setattr(module, name, guarded.forbid(f"{module.__name__}.{name}", getattr(module, name)))
        yield guarded
    assert not guarded.violations, guarded.violations[:5]


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_every_truncation_is_refused(backend: Backend, name: str) -> None:
    frame = FRAMES[name]
    for end in range(len(frame)):
        with pytest.raises(DecodeError):
            backend.decode(frame[:end])


def _single_byte_changes(frame: bytes, positions: list[int]) -> Iterator[bytes]:
    mutated = bytearray(frame)
    for pos in positions:
        for byte in range(256):
            if byte != frame[pos]:
                mutated[pos] = byte
                yield bytes(mutated)
        mutated[pos] = frame[pos]


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_every_single_byte_change_decodes_or_is_refused(backend: Backend, name: str) -> None:
    for mutated in _single_byte_changes(FRAMES[name], _mutable_positions(name)):
        decodes_or_refuses(backend.decode, mutated)


@pytest.mark.parametrize("name", LOCKED_SWEEP)
def test_every_single_byte_change_with_pickle_off(locked: _Guarded, name: str) -> None:
    for mutated in _single_byte_changes(FRAMES[name], list(range(len(FRAMES[name])))):
        decodes_or_refuses(locked.decode, mutated)


def _random_mutations(name: str) -> Iterator[bytes]:
    """A fixed set of mutations of a vector: bytes changed, inserted, deleted, huge lengths."""
    rng = random.Random(name)
    frame = FRAMES[name]
    for _ in range(300):
        mutated = bytearray(frame)
        for _ in range(rng.randint(1, 4)):
            action = rng.random()
            pos = rng.randrange(len(mutated) + 1)
            if action < 0.4 and mutated:
                mutated[min(pos, len(mutated) - 1)] = rng.randrange(256)
            elif action < 0.6:
                mutated[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            elif action < 0.8:
                del mutated[pos : pos + rng.randint(1, 8)]
            else:
                mutated[pos:pos] = rng.choice([b"\xdd\xff\xff\xff\xff", b"\xdb\xff\xff\xff\xff",
                                               b"\xc9\x7f\xff\xff\xff\x07", b"\x91" * 50])  # fmt: skip
        yield bytes(mutated)


@pytest.mark.parametrize("name", sorted(name for name in FRAMES if not _pickle_spans(name)))
def test_random_mutations_decode_or_are_refused(backend: Backend, name: str) -> None:
    for mutated in _random_mutations(name):
        decodes_or_refuses(backend.decode, mutated)


@pytest.mark.parametrize("name", LOCKED_SWEEP)
def test_random_mutations_with_pickle_off(locked: _Guarded, name: str) -> None:
    for mutated in _random_mutations(name):
        decodes_or_refuses(locked.decode, mutated)


@given(data=st.binary(max_size=200))
def test_garbage_decodes_or_is_refused(backend: Backend, data: bytes) -> None:
    decodes_or_refuses(backend.decode, data)


@given(data=st.binary(max_size=120))
def test_garbage_after_a_valid_prefix_is_refused_or_decoded(backend: Backend, data: bytes) -> None:
    decodes_or_refuses(backend.decode, b"\x96\x01" + data)
    decodes_or_refuses(backend.decode, b"\x96\x01\x09\x00" + data)


def _msgpack_objects(ext_codes: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text()
        | st.binary() | st.builds(msgpack.ExtType, ext_codes, st.binary(max_size=12)),
        lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
        max_leaves=20,
    )  # fmt: skip


def _message_frame(code: int, fields: list[Any]) -> bytes:
    """A reference frame of the message type ``code`` whose node_id, timestamp and value are ``fields``."""
    node_id, timestamp, value = fields
    return msgpack.packb([1, code, 0, node_id, timestamp, value], use_bin_type=True)


# With pickle on, not EXT_PICKLE or EXT_EXCEPTION_TYPE: random pickles and module names are trusted.
msgpack_objects = _msgpack_objects(st.integers(0, 127).filter(lambda code: code not in (8, 9)))
any_msgpack_objects = _msgpack_objects(st.integers(0, 127) | st.sampled_from([8, 9]))


@given(fields=st.lists(msgpack_objects, min_size=3, max_size=3), code=st.integers(0, 12))
def test_well_formed_frames_with_wrong_fields_are_refused_or_decoded(
    backend: Backend, fields: list, code: int
) -> None:
    frame = _message_frame(code, fields)
    result = decodes_or_refuses(backend.decode, frame)
    if isinstance(result, Message):
        assert isinstance(result.node_id, str)


@settings(  # the fixture checks, once all examples have run, that none unpickled or imported
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture]
)
@given(fields=st.lists(any_msgpack_objects, min_size=3, max_size=3), code=st.integers(0, 12))
def test_well_formed_frames_with_any_extension_with_pickle_off(
    locked: _Guarded, fields: list, code: int
) -> None:
    frame = _message_frame(code, fields)
    decodes_or_refuses(locked.decode, frame)


# --- what the errors say ----------------------------------------------------------------------------


def test_empty_input(backend: Backend) -> None:
    with pytest.raises(DecodeError, match="empty frame"):
        backend.decode(b"")
    with pytest.raises(DecodeError, match="no frames"):
        backend.decode([])


def test_a_frame_that_is_neither_msgpack_nor_json(backend: Backend) -> None:
    with pytest.raises(DecodeError, match=r"starts with byte 0xc1.*at offset 0"):
        backend.decode(b"\xc1\x00")


def test_unknown_version_is_a_clear_error(backend: Backend) -> None:
    frame = bytearray(noobwire.bench.workloads.e4().to_bytes())
    frame[1] = 2
    with pytest.raises(DecodeError, match="unsupported wire format version 2"):
        backend.decode(bytes(frame))
    # even when the rest of the frame would not parse as version 1
    with pytest.raises(DecodeError, match="unsupported wire format version 7"):
        backend.decode(b"\x93\x07\xc1\xc1")


def test_truncation_says_where(backend: Backend) -> None:
    frame = noobwire.bench.workloads.e4().to_bytes()
    with pytest.raises(DecodeError) as info:
        backend.decode(frame[:-5])
    assert info.value.offset is not None
    assert len(frame) - 30 < info.value.offset <= len(frame) - 5
    assert "truncated" in str(info.value)


def test_trailing_bytes_are_refused(backend: Backend) -> None:
    frame = noobwire.bench.workloads.e4().to_bytes()
    with pytest.raises(DecodeError, match=f"after the end of the frame.*offset {len(frame)}"):
        backend.decode(frame + b"\x00")


def test_a_huge_declared_length_is_refused_at_once(backend: Backend) -> None:
    prefix = noobwire.PingMsg(node_id="n").to_bytes()[:4]
    for body in (b"\xdb\xff\xff\xff\xff", b"\xdd\xff\xff\xff\xff", b"\xc6\xff\xff\xff\xff",
                 b"\xc9\xff\xff\xff\xff\x07", b"\xdf\xff\xff\xff\xff"):  # fmt: skip
        with pytest.raises(DecodeError):
            backend.decode(prefix + body)


def test_deep_nesting_is_refused(backend: Backend) -> None:
    head = b"\x96\x01\x09\x00\xa1n\xd6\xff\x00\x00\x00\x00\x91\x96\x00\xd6\xff\x00\x00\x00\x00\xa1n\xa1s\x00"
    deep = head + b"\x91" * 2000 + b"\xc0"
    with pytest.raises(DecodeError, match="nested deeper"):
        backend.decode(deep)
    # the limit counts the frame's own array: 1024 in all
    just_fits = head + b"\x91" * (noobwire.wire.MAX_DEPTH - 3) + b"\xc0"
    assert isinstance(backend.decode(just_fits), noobwire.EventMsg)
    with pytest.raises(DecodeError, match="nested deeper"):
        backend.decode(head + b"\x91" * (noobwire.wire.MAX_DEPTH - 2) + b"\xc0")


def test_schema_violations_are_schema_errors(backend: Backend) -> None:
    ts = msgpack.Timestamp(0, 0)

    def frame(*fields: object) -> bytes:
        return msgpack.packb([1, *fields], use_bin_type=True)

    event = [1, ts, "n", "s", 3, None]
    bad = {
        "unknown type code": frame(11, 0, "n", ts, None),
        "node_id not a str": frame(9, 0, 5, ts, [event]),
        "timestamp not a timestamp": frame(9, 0, "n", 0, [event]),
        "epoch sent as a string": frame(9, 0, "n", ts, [[1, ts, "n", "s", "3", None]]),
        "epoch sent as a float": frame(9, 0, "n", ts, [[1, ts, "n", "s", 3.0, None]]),
        "id sent as a bool": frame(9, 0, "n", ts, [[True, ts, "n", "s", 3, None]]),
        "an event with a missing field": frame(9, 0, "n", ts, [[1, ts, "n", "s", 3]]),
        "an event with an extra field": frame(9, 0, "n", ts, [[*event, 1]]),
        "an event as a map": frame(9, 0, "n", ts, [{"id": 1}]),
        "events not an array": frame(9, 0, "n", ts, {}),
        "process input not a map": frame(2, 0, "n", ts, [3, [1]]),
        "process epoch not an int": frame(2, 0, "n", ts, [None, None]),
        "status not a status": frame(7, 0, "n", ts, "sleepy"),
        "start value not an int": frame(6, 0, "n", ts, [1]),
        "ping with a value": frame(5, 0, "n", ts, 3),
        "identify with 4 fields": frame(1, 0, "n", ts, ["n", "o", "ready", None]),
        "error with a str value": frame(10, 0, "n", ts, "pck__gASVAAA="),
    }
    for what, data in bad.items():
        try:
            backend.decode(data)
        except SchemaError:
            continue
        pytest.fail(f"accepted {what}")


def test_out_of_band_references_are_refused_in_a_single_frame(backend: Backend) -> None:
    ts = msgpack.Timestamp(0, 0)
    with pytest.raises(DecodeError, match="out-of-band"):
        backend.decode(msgpack.packb([1, 9, 2, "n", ts, []]))
    ref = msgpack.ExtType(16, struct.pack(">I", 0))
    with pytest.raises(DecodeError, match="out-of-band"):
        backend.decode(msgpack.packb([1, 9, 0, "n", ts, [[1, ts, "n", "s", 3, ref]]]))


def test_misplaced_container_markers_are_refused(backend: Backend) -> None:
    ts = msgpack.Timestamp(0, 0)
    marker = msgpack.ExtType(1, b"")
    for value in (marker, [1, marker], {"k": marker}, {1: [marker]}):
        frame = msgpack.packb([1, 9, 0, "n", ts, [[1, ts, "n", "s", 3, value]]])
        result = decodes_or_refuses(backend.decode, frame)
        if value == {1: [marker]}:
            assert isinstance(result, Message)
            assert result.value[0]["value"] == {1: ()}
        else:
            assert isinstance(result, DecodeError)


def test_unknown_extension_types_are_refused(backend: Backend) -> None:
    ts = msgpack.Timestamp(0, 0)
    for code in (0, 11, 15, 100, 127):
        frame = msgpack.packb([1, 9, 0, "n", ts, [[1, ts, "n", "s", 3, msgpack.ExtType(code, b"x")]]])
        with pytest.raises(DecodeError, match="extension"):
            backend.decode(frame)


def test_json_garbage_is_a_decode_error(backend: Backend) -> None:
    for data in (b"{", b"{}", b' {"type": 3}', b'{"type":"event","node_id":"n","value":"pck__!!"}',
                 b'{"type":"event","node_id":"n","value":["pck__gASVAA=="]}'):  # fmt: skip
        with pytest.raises(DecodeError):
            backend.decode(data)


def test_huge_numbers_in_the_header_are_decode_errors(backend: Backend) -> None:
    big = msgpack.ExtType(4, b"\x01" + b"\x00" * 2000)
    ts = msgpack.Timestamp(0, 0)
    for frame in (msgpack.packb([1, big, 0, "n", ts, None]), msgpack.packb([1, 5, big, "n", ts, None])):
        with pytest.raises(DecodeError, match="bits"):
            backend.decode(frame)


def test_an_array_of_too_many_dimensions_is_refused_before_its_size_is_computed(backend: Backend) -> None:
    header = msgpack.packb(["<f8", [2**64 - 1] * 100_000, 0])
    ts = msgpack.Timestamp(0, 0)
    frame = msgpack.packb([1, 9, 0, "n", ts, [[1, ts, "n", "s", 3, msgpack.ExtType(7, header)]]])
    with pytest.raises(DecodeError, match="more than 64 dimensions"):
        backend.decode(frame)


def test_a_huge_malformed_frame_is_refused_without_walking_all_of_it(backend: Backend) -> None:
    frame = msgpack.packb([1, 9, 0, "n", msgpack.Timestamp(0, 0), [[1] * 3_000_000]]) + b"\x00"
    assert noobwire._core.diagnosis.locate_malformation(frame) is None  # the walker gave up
    with pytest.raises(DecodeError, match="malformed"):
        backend.decode(frame)


def test_a_deeply_nested_control_value_is_a_schema_error(backend: Backend) -> None:
    """pydantic's enum validator takes the repr of what it refuses; a deep list breaks repr()."""
    ts = msgpack.Timestamp(0, 0)
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    for code, value in ((7, deep), (1, ["n", "o", deep, None, None])):
        with pytest.raises(SchemaError):
            backend.decode(msgpack.packb([1, code, 0, "n", ts, value]))


def test_longer_valid_encodings_are_accepted(backend: Backend) -> None:
    """Decoders accept any valid MessagePack encoding, not only the shortest one."""
    ts = b"\xd6\xff\x00\x00\x00\x00"  # timestamp 32: the epoch
    frame = (
        b"\xdc\x00\x06"  # array 16 of 6
        b"\xcc\x01\xd0\x09\xcd\x00\x00"  # version 1 as uint8, type 9 as int8, n_buffers 0 as uint16
        b"\xd9\x01n" + ts  # node_id "n" as str 8
        + b"\xdd\x00\x00\x00\x01"  # events: array 32 of 1
        + b"\x96\x01" + ts + b"\xa1n\xa1s\x03"
        + b"\x93\xc8\x00\x00\x01\x01\x02"  # (1, 2) with its marker as ext 16 of length 0
    )  # fmt: skip
    msg = backend.decode(frame)
    assert msg.value[0]["value"] == (1, 2)
    assert backend.encode(msg) != frame  # re-encoded in the shortest form
