"""Hardening, round three: the classes of hole an outside attack found, closed on both backends.

Refusals that cost the square of the frame are pinned in ``test_cost.py``; what noob's own classes do
with a decoded message (pickle off through their validators, a spec that names files) in
``test_noob_hostile.py``. Here: a refusal's message bounded and validated once, values checked
against their declared shape, what the decoder accepts the encoder writes (an array's dtype), and one
verdict per frame whatever the caller's stack (keys that compare deeply).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import noobwire
from helpers import VECTORS, assert_same
from hostile import event_frame
from noobwire import Codec, DecodeError, EncodeError, SchemaError, wire
from noobwire._core import pure
from noobwire._core.extensions import MAX_KEY_DEPTH
from noobwire.codec import Backend, get_backend
from noobwire.generations import NOOB_1003, REFERENCE
from noobwire.messages import MESSAGE_CLASSES
from noobwire.multipart import FrameCodec
from noobwire.options import Options

T = datetime(2026, 1, 1, tzinfo=UTC)
LOCKED = Options(allow_pickle=False)


def _frame(type_name: str, value: Any, node_id: Any = "n") -> bytes:
    return msgpack.packb(
        [REFERENCE.version, REFERENCE.type_codes[type_name], 0, node_id, msgpack.Timestamp(0), value]
    )


def _event(value: Any) -> dict[str, Any]:
    return {"id": 1, "timestamp": T, "node_id": "cam", "signal": "s", "epoch": 2, "value": value}


# --- 1. a refusal names its first problems, in a message of bounded size, validated once ----------------


BAD_CONTROL_VALUES = {
    "a status that is no status": ("status", "sleeping", "value must be one of NodeStatus's values"),
    "an identify value's signals of ints": (
        "identify",
        ["n", "o", "ready", [1, 2, 3], None],
        "value['signals'][0] must be a str, not int",
    ),
    "an announce value's map of int keys": (
        "announce",
        ["i", {1: ["n", "o", "ready", None, None]}],  # (the identify value itself is right)
        "must be a map with str keys",
    ),
    "an error value's class that is a str": (
        "error",
        ["builtins:ValueError", [], "tb"],
        "value['err_type'] must be an exception class, not str",
    ),
    "a start value that is a bool": ("start", True, "value must be an int, not bool"),
    "a ping value that is not nil": ("ping", 0, "value must be nil, not int"),
}


@pytest.mark.parametrize("name", list(BAD_CONTROL_VALUES))
def test_a_control_value_is_checked_against_its_shape_before_its_class_sees_it(
    backend: Backend, name: str
) -> None:
    type_name, value, said = BAD_CONTROL_VALUES[name]
    with pytest.raises(SchemaError) as info:
        backend.decode(_frame(type_name, value))
    assert said in str(info.value)


def test_a_refusal_of_many_problems_names_the_first_few(backend: Backend) -> None:
    # What only the class itself knows (here: a status) is still the class's to say, in a short message.
    nodes = {f"node{i}": ["n", "o", f"bad{i}", None, None] for i in range(5000)}
    frame = _frame("announce", ["i", nodes])
    with pytest.raises(SchemaError) as info:
        backend.decode(frame)
    text = str(info.value)
    assert len(text) < 1024, len(text)
    assert "node0" in text


def test_pydantic_s_report_stays_the_cause_unrendered(backend: Backend) -> None:
    json_frame = (
        b'{"type": "identify", "node_id": "n", "timestamp": "2026-01-01T00:00:00Z", "value": '
        b'{"node_id": "n", "outbox": "o", "status": "ready", "signals": ['
        + b"1," * 3000
        + b'1], "slots": null}}'
    )
    for options in (Options(), LOCKED):
        with pytest.raises(SchemaError) as info:
            backend.decode(json_frame, REFERENCE, options)
        assert isinstance(info.value.__cause__, ValidationError)
        assert len(str(info.value)) < 1024
        assert "signals.0" in str(info.value)


def test_the_compiled_backend_validates_a_refused_control_message_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A tube specification whose shape is right and which noob's own validator refuses (its node
    # depends on a node that it does not have).
    compiled = pytest.importorskip("noobwire._core.compiled", reason="the compiled extension is not built")
    pytest.importorskip("noob.tube", reason="the test extra installs noob 1003")
    calls = []
    validate = compiled.validate_control_message

    def counted(*args: Any) -> Any:
        calls.append(args[1])
        return validate(*args)

    monkeypatch.setattr(compiled, "validate_control_message", counted)
    monkeypatch.setattr(pure, "validate_control_message", counted)
    spec = {
        "noob_id": "t",
        "nodes": {"a": {"id": "a", "type": "math.floor", "depends": [{"x": "missing.y"}]}},
    }
    frame = msgpack.packb(
        [NOOB_1003.version, NOOB_1003.type_codes["spec"], 0, "n", msgpack.Timestamp(0), json.dumps(spec)]
    )
    with pytest.raises(SchemaError, match="depends on node missing"):
        compiled.decode(frame, NOOB_1003)
    assert calls == ["spec"]  # before: once by the compiled backend, again by the pure one to explain


# --- 4. what the decoder accepts, the encoder writes ----------------------------------------------------


def _array_frame(descr: Any, shape: list[int], data: bytes) -> bytes:
    payload = msgpack.packb([descr, shape, wire.LAYOUT_C]) + data
    return event_frame(msgpack.packb(msgpack.ExtType(wire.EXT_NDARRAY, payload)))


@pytest.mark.parametrize("title", [[1], 5, None, b"t", [["t"]], {"t": 1}])
def test_a_dtype_field_s_title_that_is_not_a_str_is_refused(backend: Backend, title: Any) -> None:
    # numpy takes any object for a title; an array whose title is a list decoded, and could not be
    # written again (encode: EncodeError, encode_frames: a bare TypeError).
    frame = _array_frame([[[title, "f"], "<i4"]], [1], b"\x01\x00\x00\x00")
    with pytest.raises(DecodeError, match="a name is a str or"):
        backend.decode(frame)


def test_a_dtype_field_with_a_str_title_round_trips(backend: Backend, frame_codec: FrameCodec) -> None:
    array = np.zeros(3, dtype=[(("a title", "f"), "<i4"), ("g", "<f8", (2,))])
    msg = noobwire.EventMsg.model_construct(node_id="n", timestamp=T, value=[_event(array)])
    back = backend.decode(backend.encode(msg))
    assert_same(msg, back)
    assert_same(msg, frame_codec.decode_frames(frame_codec.encode_frames(back, threshold=0)))


@pytest.mark.parametrize("shape", [[-1], [1.5], "x", [1] * (wire.MAX_NDIM + 1)])
def test_a_dtype_field_s_subarray_shape_must_be_counts(backend: Backend, shape: Any) -> None:
    frame = _array_frame([["f", "<i4", shape]], [0], b"")
    with pytest.raises(DecodeError, match="invalid dtype field"):
        backend.decode(frame)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_encode_frames_fails_only_with_an_encode_error(frame_codec: FrameCodec) -> None:
    # An array whose dtype cannot be described (a list title: unhashable) in a message's value. Its
    # failing hash is not swallowed on the way (Python 3.13 reports a swallowed error as unraisable).
    weird = np.zeros(1, dtype=[((["t"], "f"), "<i4")])
    msg = noobwire.EventMsg.model_construct(node_id="n", timestamp=T, value=[_event(weird)])
    with pytest.raises(EncodeError) as info:
        frame_codec.encode_frames(msg, threshold=0)
    assert info.value.path == "value[0]['value']"


def _descr() -> st.SearchStrategy[Any]:
    simple = st.sampled_from(["<i4", "|u1", ">f8", "<U3", "|S2", "<M8[s]", "|b1", "<c16"])
    name = st.one_of(
        st.text(max_size=3),
        st.lists(st.text(max_size=2), min_size=2, max_size=2),
        st.integers(-9, 9),
        st.none(),
        st.binary(max_size=2),
        st.lists(st.integers(-9, 9), max_size=2),
        st.tuples(st.lists(st.integers(-9, 9), max_size=2), st.text(max_size=2)).map(list),  # [title, name]
        st.tuples(st.integers(-9, 9), st.text(max_size=2)).map(list),
    )
    return st.recursive(
        simple,
        lambda inner: st.lists(
            st.one_of(
                st.tuples(name, inner).map(list),
                st.tuples(name, inner, st.lists(st.integers(0, 3), max_size=2)).map(list),
            ),
            min_size=1,
            max_size=3,
        ),
        max_leaves=5,
    )


@given(descr=_descr(), count=st.integers(0, 3), data=st.binary(max_size=64))
def test_every_array_the_decoders_accept_is_written_again(descr: Any, count: int, data: bytes) -> None:
    for name in ("pure", "compiled") if "noobwire._core.compiled" in sys.modules else ("pure",):
        backend = get_backend(name)
        try:
            dtype = np.dtype([tuple(field) for field in descr]) if type(descr) is list else np.dtype(descr)
            size = count * dtype.itemsize
        except Exception:
            size = len(data)
        frame = _array_frame(descr, [count], (data * (size // max(len(data), 1) + 1))[:size])
        _accepted_frames_are_written_again(backend, frame)


def _accepted_frames_are_written_again(backend: Backend, frame: bytes) -> None:
    try:
        msg = backend.decode(frame, MESSAGE_CLASSES, LOCKED)
    except DecodeError:
        return
    again = backend.decode(backend.encode(msg, options=LOCKED), MESSAGE_CLASSES, LOCKED)
    assert_same(msg, again)
    frames = FrameCodec(backend).encode_frames(msg, options=LOCKED, threshold=0)
    assert_same(msg, FrameCodec(backend).decode_frames(frames, options=LOCKED))


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_frame_a_changed_byte_leaves_decodable_is_written_again(backend: Backend, name: str) -> None:
    """Each golden vector with each byte changed to a few values: what still decodes encodes again,
    to a frame that decodes to the same message."""
    frame = bytes.fromhex(VECTORS[name]["hex"])
    for position in range(len(frame)):
        for byte in (0x00, 0x01, 0x7F, 0x90, 0xA1, 0xC0, 0xC3, 0xD4, 0xFF):
            changed = frame[:position] + bytes([byte]) + frame[position + 1 :]
            _accepted_frames_are_written_again(backend, changed)


# --- 5. one verdict per frame, whatever the caller's stack ----------------------------------------------


def _nested_tuple(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = (value,)
    return value


def _at_depth(depth: int, function: Callable[[], Any]) -> tuple[str, str]:
    """What ``function`` gives when called with ``depth`` frames of the stack already taken."""
    if depth > 0:
        return _at_depth(depth - 1, function)
    try:
        function()
    except Exception as exc:  # the verdict is compared
        return type(exc).__name__, str(exc)
    return "ok", ""


def _deep_equal_keys(levels: int) -> dict[str, bytes]:
    """Two equal tuples nested ``levels`` deep, as a set's elements and as a map's keys: putting the
    second in the set or dict compares it with the first, as deep as they go."""
    element = b"\x92\xc7\x00\x01" * levels + b"\x00"  # written byte by byte: deeper than a packer goes
    set_frame = event_frame(b"\x93\xc7\x00" + bytes([wire.EXT_SET]) + element + element)
    map_frame = event_frame(b"\x82" + element + b"\x00" + element + b"\x01")
    return {"set": set_frame, "map": map_frame}


@pytest.mark.parametrize("levels", [MAX_KEY_DEPTH + 1, 500, 990])
@pytest.mark.parametrize("kind", ["set", "map"])
def test_keys_that_compare_deeply_get_one_verdict_at_any_stack_depth(levels: int, kind: str) -> None:
    # Before: the compiled backend decoded a set of two equal tuples 990 deep, the pure one refused it
    # (RecursionError), and either's verdict changed with the caller's own depth.
    frame = _deep_equal_keys(levels)[kind]
    room = sys.getrecursionlimit()
    verdicts = {
        (name, depth): _at_depth(depth, lambda name=name: get_backend(name).decode(frame))
        for name in ("pure", "compiled")
        if name == "pure" or "noobwire._core.compiled" in sys.modules
        for depth in (0, room // 2, room - 150)
    }
    assert set(verdicts.values()) == {
        (
            "DecodeError",
            f"a map key or set element of tuples and frozensets nested deeper than {MAX_KEY_DEPTH} levels",
        )
    }, verdicts


@pytest.mark.parametrize("kind", ["set", "map"])
def test_keys_as_deep_as_allowed_decode_at_any_stack_depth(backend: Backend, kind: str) -> None:
    frame = _deep_equal_keys(MAX_KEY_DEPTH)[kind]
    room = sys.getrecursionlimit()
    for depth in (0, room - 150):
        assert _at_depth(depth, lambda: backend.decode(frame)) == ("ok", "")


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({_nested_tuple(MAX_KEY_DEPTH + 1): 1}, "value[0]['value'] (key (((...),),))"),
        ({"k": frozenset({_nested_tuple(MAX_KEY_DEPTH + 1)})}, "value[0]['value']['k'] (an element)"),
    ],
)
def test_a_key_deeper_than_a_decoder_accepts_is_not_written(backend: Backend, value: Any, path: str) -> None:
    msg = noobwire.EventMsg.model_construct(node_id="n", timestamp=T, value=[_event(value)])
    with pytest.raises(EncodeError, match="nested deeper than") as info:
        backend.encode(msg)
    assert info.value.path == path


def test_a_key_as_deep_as_allowed_is_written(backend: Backend) -> None:
    value = {_nested_tuple(MAX_KEY_DEPTH): frozenset({_nested_tuple(MAX_KEY_DEPTH)})}
    msg = noobwire.EventMsg.model_construct(node_id="n", timestamp=T, value=[_event(value)])
    assert_same(msg, Codec(backend=backend.name).decode(backend.encode(msg)))


# --- found by the attack on this round's own change -------------------------------------------------------


@pytest.mark.parametrize("out_of_band", [False, True])
def test_numpy_strs_beyond_unicode_are_refused(backend: Backend, out_of_band: bool) -> None:
    # numpy holds a str item as UCS-4 code units and takes any: one beyond U+10FFFF decoded, and then
    # repr() and tolist() of the array raised SystemError.
    array = np.array(["ab", "cd"], dtype="<U2")
    payload = array.tobytes()
    bad = payload[:4] + (0x110000).to_bytes(4, "little") + payload[8:]
    frame_codec = FrameCodec(backend)
    msg = noobwire.EventMsg.model_construct(node_id="n", timestamp=T, value=[_event(array)])
    frames = [bytes(frame) for frame in frame_codec.encode_frames(msg, threshold=0 if out_of_band else 2**20)]
    if out_of_band:
        frames[0] = bad
    else:
        frames[-1] = frames[-1].replace(payload, bad)
    with pytest.raises(DecodeError, match="beyond U\\+10FFFF"):
        frame_codec.decode_frames(frames)


def test_a_frame_holding_pck_bytes_costs_what_it_pays_for(backend: Backend) -> None:
    # With pickle off, a frame whose bytes hold pck__ anywhere is walked for a str that begins so:
    # the walk once held an entry and a path for every item at once (209 x N).
    from hostile import peak_growth

    pytest.importorskip("noob_core", reason="noob 1003 comes with the test extra")
    value = [[i, "x", {"a": b"-pck__"}] for i in range(20_000)]  # (pck__ in the bytes, at no start)
    codec = Codec(generation=NOOB_1003, backend=backend.name, allow_pickle=False)
    msg = NOOB_1003.classes["event"].model_construct(
        node_id="n", timestamp=T, value=[{**_event(value), "epoch": NOOB_1003.epoch_class(2)}]
    )
    frame = Codec(generation=NOOB_1003, backend=backend.name).encode(msg)
    codec.decode(frame)  # what is built on first use
    peak, error = peak_growth(codec.decode, frame)
    assert error is None, error
    assert peak <= 120 * len(frame) + 2**20, f"{peak / len(frame):.0f} x N"
