"""encode_frames / decode_frames: large buffers in frames of their own, read back as views, not copies."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import noobwire
from helpers import ARRAY_KINDS, assert_same, event_msg
from noobwire import DecodeError, EncodeError, EventMsg, ProcessMsg
from noobwire._core.out_of_band import MAX_BUFFER_DEPTH
from noobwire.bench.workloads import TIMESTAMP, make_workload
from noobwire.codec import get_backend
from noobwire.multipart import FrameCodec
from strategies import messages

PURE = FrameCodec(get_backend("pure"))


def values_of(msg: noobwire.Message) -> list[Any]:
    return [event["value"] for event in msg.value]


def as_bytes(frame: Any) -> np.ndarray:
    return np.frombuffer(frame, dtype=np.uint8)


# --- what goes out of band ---------------------------------------------------------------------------


@pytest.mark.parametrize("workload", ["E4", "E64", "P", "S"])
def test_a_message_without_large_buffers_is_its_single_frame(frame_codec: FrameCodec, workload: str) -> None:
    msg = make_workload(workload)
    frames = frame_codec.encode_frames(msg)
    assert frames == [frame_codec.backend.encode(msg)]
    assert_same(frame_codec.backend.decode(frames[0]), frame_codec.decode_frames(frames))


def test_a_large_array_is_a_frame_of_its_own_memory(frame_codec: FrameCodec) -> None:
    msg = make_workload("A1M")
    array = msg.value[0]["value"]
    frames = frame_codec.encode_frames(msg)
    assert len(frames) == 2
    assert frames[-1][3] == 1, "n_buffers"
    assert len(frames[-1]) < 100, "the header holds no items"
    assert np.shares_memory(as_bytes(frames[0]), array)
    assert as_bytes(frames[0]).tobytes() == array.tobytes()


ARRAYS = {
    **ARRAY_KINDS,
    "fortran_3d": np.asfortranarray(np.arange(24, dtype="<u4").reshape(2, 3, 4)),
    "transposed_3d": np.arange(24, dtype="<i4").reshape(2, 3, 4).transpose(1, 0, 2),
    "reversed": np.arange(10, dtype="<i8")[::-1],
}


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_arrays_come_back_equal_as_views_of_their_frames(frame_codec: FrameCodec, name: str) -> None:
    array = ARRAYS[name]
    msg = event_msg(array, {"twice": [array, (array, 1)]})
    frames = frame_codec.encode_frames(msg, threshold=0)
    assert len(frames) == 4
    # bytes frames, as a socket receiving with copy=True returns them
    received = [bytes(frame) for frame in frames]
    decoded = frame_codec.decode_frames(received)
    assert_same(msg, decoded)
    first, nested = values_of(decoded)
    for arr, frame in zip([first, nested["twice"][0], nested["twice"][1][0]], received[:-1], strict=True):
        assert not arr.flags.writeable, "a view of a bytes frame is read-only"
        if arr.size:
            assert np.shares_memory(arr, as_bytes(frame))


def test_a_non_contiguous_array_is_made_contiguous_once(frame_codec: FrameCodec) -> None:
    array = ARRAYS["strided"]
    frames = frame_codec.encode_frames(event_msg(array), threshold=0)
    assert not np.shares_memory(as_bytes(frames[0]), array)
    assert as_bytes(frames[0]).tobytes() == np.ascontiguousarray(array).tobytes()


def test_arrays_are_writable_views_of_writable_frames(frame_codec: FrameCodec) -> None:
    array = np.arange(6, dtype="<u2").reshape(2, 3)
    frames = frame_codec.encode_frames(event_msg(array), threshold=0)
    buffer = bytearray(frames[0])
    (decoded,) = values_of(frame_codec.decode_frames([buffer, frames[1]]))
    assert decoded.flags.writeable
    buffer[0] = 99  # the array is a view: a change to the frame shows
    assert decoded[0, 0] == 99
    decoded[1, 2] = 7
    assert buffer[10:12] == b"\x07\x00"


def test_a_decoded_array_keeps_its_frame_alive(frame_codec: FrameCodec) -> None:
    array = np.arange(100_000, dtype="<f8")
    frames = [bytearray(frame) for frame in frame_codec.encode_frames(event_msg(array))]
    (decoded,) = values_of(frame_codec.decode_frames(frames))
    del frames
    gc.collect()
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize(
    "value",
    [
        b"\x00\xff" * 40,
        bytearray(b"ab" * 40),
        memoryview(b"cd" * 40),
        memoryview(np.arange(20, dtype="<f4")),  # a format other than bytes: its bytes
        memoryview(np.arange(20, dtype="<i4").reshape(4, 5)),
    ],
    ids=["bytes", "bytearray", "memoryview", "memoryview_float", "memoryview_2d"],
)
def test_bytes_values_come_back_as_bytes_or_as_memoryviews(frame_codec: FrameCodec, value: Any) -> None:
    msg = event_msg(value)
    frames = frame_codec.encode_frames(msg, threshold=64)
    assert len(frames) == 2
    expected = bytes(value)
    (as_bytes_value,) = values_of(frame_codec.decode_frames(frames))
    assert type(as_bytes_value) is bytes
    assert as_bytes_value == expected
    # the same as in-band
    assert values_of(frame_codec.backend.decode(frame_codec.backend.encode(msg))) == [expected]
    (view,) = values_of(frame_codec.decode_frames(frames, buffers_as="memoryview"))
    assert type(view) is memoryview
    assert view == expected
    assert np.shares_memory(as_bytes(view), as_bytes(frames[0]))


def test_a_bytes_frame_comes_back_as_itself(frame_codec: FrameCodec) -> None:
    frames = frame_codec.encode_frames(event_msg(b"x" * 100), threshold=10)
    received = [bytes(frame) for frame in frames]
    (value,) = values_of(frame_codec.decode_frames(received))
    assert value is received[0], "bytes are immutable: no copy is needed"


def test_the_threshold_is_a_size_in_bytes(frame_codec: FrameCodec) -> None:
    at = np.zeros(256, dtype="<f4")  # 1 KiB
    below = np.zeros(255, dtype="<f4")
    assert len(frame_codec.encode_frames(event_msg(at, below), threshold=1024)) == 2
    assert len(frame_codec.encode_frames(event_msg(b"b" * 1023), threshold=1024)) == 1
    assert len(frame_codec.encode_frames(event_msg(b"b" * 1024), threshold=1024)) == 2
    # the default: 64 KiB
    assert len(frame_codec.encode_frames(event_msg(b"b" * 65535))) == 1
    assert len(frame_codec.encode_frames(event_msg(b"b" * 65536))) == 2
    for bad in (-1, 1.5, "1", None):
        with pytest.raises(ValueError, match="threshold"):
            frame_codec.encode_frames(event_msg(b"b"), threshold=bad)  # type: ignore[arg-type]


def test_buffers_anywhere_in_values_and_process_inputs(frame_codec: FrameCodec) -> None:
    big = np.arange(30, dtype="<i8")
    raw = b"r" * 50
    values = [
        [big, raw, 1],
        {"a": {"b": [raw]}, 1: big},
        (big, (raw,), ()),
        raw,
        "no buffer here",
    ]
    msg = event_msg(*values)
    frames = frame_codec.encode_frames(msg, threshold=50)
    assert len(frames) == 8
    assert_same(msg, frame_codec.decode_frames(frames))
    process = ProcessMsg(
        node_id="command", timestamp=TIMESTAMP, value={"epoch": 1, "input": {"x": big, "y": raw}}
    )
    frames = frame_codec.encode_frames(process, threshold=50)
    assert len(frames) == 3
    assert_same(process, frame_codec.decode_frames(frames))


def test_keys_set_elements_and_pickled_values_stay_in_band(frame_codec: FrameCodec) -> None:
    raw = b"k" * 100
    values = [
        {raw: 1},
        {raw, 2},
        frozenset({raw}),
        np.array([raw, 1], dtype=object),  # object arrays are pickled
        np.float64(3.0),  # a numpy scalar is not a buffer
    ]
    msg = event_msg(*values)
    frames = frame_codec.encode_frames(msg, threshold=0)
    assert len(frames) == 1
    assert frames[0] == frame_codec.backend.encode(msg)


def test_buffers_nested_deeper_than_the_limit_stay_in_band(frame_codec: FrameCodec) -> None:
    raw = b"d" * 10
    value: Any = raw
    for _ in range(MAX_BUFFER_DEPTH):
        value = [value]
    shallow = frame_codec.encode_frames(event_msg(value), threshold=0)
    assert len(shallow) == 2
    deep = frame_codec.encode_frames(event_msg([value]), threshold=0)
    assert len(deep) == 1
    assert_same(event_msg([value]), frame_codec.decode_frames(deep))


def test_control_messages_stay_in_band(frame_codec: FrameCodec) -> None:
    error = noobwire.ErrorMsg(
        node_id="cam",
        timestamp=TIMESTAMP,
        value={"err_type": ValueError, "err_args": (b"e" * 100_000,), "traceback": ""},
    )
    assert frame_codec.encode_frames(error, threshold=0) == [frame_codec.backend.encode(error)]


def test_encoding_frames_leaves_the_message_as_it_was(frame_codec: FrameCodec) -> None:
    array = np.arange(10, dtype="<u1")
    inner = [array]
    msg = event_msg(inner, b"x" * 20)
    events = msg.value
    event_dicts = list(events)
    frame_codec.encode_frames(msg, threshold=0)
    assert msg.value is events
    assert all(a is b for a, b in zip(msg.value, event_dicts, strict=True))
    assert msg.value[0]["value"] is inner
    assert inner[0] is array


def test_what_cannot_be_written_is_refused_as_in_band(frame_codec: FrameCodec) -> None:
    non_contiguous = memoryview(b"abcdef" * 20)[::2]
    cyclic: list[Any] = [b"c" * 100]
    cyclic.append(cyclic)
    for value, match in ((non_contiguous, "memoryview"), (cyclic, "nested deeper")):
        with pytest.raises(EncodeError, match=match) as in_band:
            frame_codec.backend.encode(event_msg(value))
        with pytest.raises(EncodeError, match=match) as out_of_band:
            frame_codec.encode_frames(event_msg(value), threshold=0)
        assert out_of_band.value.path == in_band.value.path


def test_every_backend_writes_the_same_frames(frame_codec: FrameCodec) -> None:
    values = [ARRAYS[name] for name in sorted(ARRAYS)] + [b"b" * 70, bytearray(80), {"k": (b"t" * 90,)}]
    msg = event_msg(*values)
    expected = [bytes(frame) for frame in PURE.encode_frames(msg, threshold=64)]
    assert [bytes(frame) for frame in frame_codec.encode_frames(msg, threshold=64)] == expected


def test_every_backend_reads_the_frames_it_writes(frame_codec: FrameCodec) -> None:
    frames = frame_codec.encode_frames(make_workload("A1M"))
    assert len(frames) == 2
    assert_same(make_workload("A1M"), frame_codec.decode_frames(frames))


def test_the_package_functions_use_the_active_backend() -> None:
    msg = make_workload("A1M")
    frames = noobwire.encode_frames(msg)
    assert len(frames) == 2
    assert_same(msg, noobwire.decode_frames(frames))


# --- memory --------------------------------------------------------------------------------------------


def _peak_allocation(function: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_decoding_a16m_from_frames_allocates_nothing_like_the_array(frame_codec: FrameCodec) -> None:
    msg = make_workload("A16M")
    frames = [bytes(frame) for frame in frame_codec.encode_frames(msg)]
    size = msg.value[0]["value"].nbytes
    frame_codec.decode_frames(frames)  # warm caches
    peak = _peak_allocation(lambda: frame_codec.decode_frames(frames))
    assert peak < 64 * 1024, f"decoding allocated {peak} bytes"
    # the measure can fail: the single-frame decoder copies the array, and tracemalloc sees it
    frame = frame_codec.backend.encode(msg)
    assert _peak_allocation(lambda: frame_codec.backend.decode(frame)) > size


def test_encoding_a16m_to_frames_allocates_nothing_like_the_array(frame_codec: FrameCodec) -> None:
    msg = make_workload("A16M")
    frame_codec.encode_frames(msg)
    peak = _peak_allocation(lambda: frame_codec.encode_frames(msg))
    assert peak < 64 * 1024, f"encoding allocated {peak} bytes"


# --- strict frame accounting -------------------------------------------------------------------------

_REF_MSG = event_msg(np.arange(6, dtype="<u2").reshape(2, 3), b"0123456789")


def _frames(threshold: int = 0) -> list[bytes]:
    return [bytes(frame) for frame in PURE.encode_frames(_REF_MSG, threshold=threshold)]


def _header_with(n_buffers: int, *refs: Any) -> bytes:
    """A header whose events hold ``refs`` (msgpack ExtTypes), counting ``n_buffers`` buffer frames."""
    import msgpack

    stamp = msgpack.Timestamp(0, 0)
    events = [[i, stamp, "n", "s", 1, ref] for i, ref in enumerate(refs)]
    return msgpack.packb([1, 9, n_buffers, "n", stamp, events])


def _array_ref(payload: list[Any]) -> Any:
    import msgpack

    return msgpack.ExtType(16, msgpack.packb(payload))


def _bytes_ref(index: Any) -> Any:
    import msgpack

    return msgpack.ExtType(17, msgpack.packb(index))


def test_the_frames_of_the_reference_message_decode(frame_codec: FrameCodec) -> None:
    frames = _frames()
    assert len(frames) == 3
    assert_same(_REF_MSG, frame_codec.decode_frames(frames))
    assert_same(_REF_MSG, frame_codec.decode_frames(tuple(frames)))


def test_too_few_frames_are_refused(frame_codec: FrameCodec) -> None:
    frames = _frames()
    for too_few in (frames[1:], frames[2:]):
        with pytest.raises(DecodeError, match="counts 2 buffer frames"):
            frame_codec.decode_frames(too_few)
    with pytest.raises(DecodeError, match="no frames"):
        frame_codec.decode_frames([])
    with pytest.raises(DecodeError, match="empty frame"):
        frame_codec.decode_frames([b"x", b""])


def test_frames_in_the_wrong_order_are_refused(frame_codec: FrameCodec) -> None:
    buffer_a, buffer_b, header = _frames()
    with pytest.raises(DecodeError, match="needs 12 bytes, buffer frame 0 has 10"):
        frame_codec.decode_frames([buffer_b, buffer_a, header])
    with pytest.raises(DecodeError):
        frame_codec.decode_frames([header, buffer_a, buffer_b])


def test_a_buffer_of_the_wrong_length_is_refused(frame_codec: FrameCodec) -> None:
    buffer_a, buffer_b, header = _frames()
    for wrong in (buffer_a[:-1], buffer_a + b"\x00", b""):
        with pytest.raises(DecodeError, match="needs 12 bytes"):
            frame_codec.decode_frames([wrong, buffer_b, header])


def test_a_single_frame_decoder_refuses_a_header(frame_codec: FrameCodec) -> None:
    with pytest.raises(DecodeError, match="decode_frames"):
        frame_codec.backend.decode(_frames())


BAD_HEADERS = {
    "index out of range": (_header_with(1, _bytes_ref(1)), "reference to buffer frame 1"),
    "negative index": (_header_with(1, _bytes_ref(-1)), "reference to buffer frame -1"),
    "index not an int": (_header_with(1, _bytes_ref("0")), "reference to buffer frame '0'"),
    "index a bool": (_header_with(1, _bytes_ref(False)), "reference to buffer frame False"),
    "index a float": (_header_with(1, _bytes_ref(0.0)), "reference to buffer frame 0.0"),
    "referred to twice": (_header_with(2, _bytes_ref(0), _bytes_ref(0)), "referred to twice"),
    "not referred to": (_header_with(2, _bytes_ref(1)), "buffer frame 0 is not referred to"),
    "none referred to": (_header_with(1), "buffer frame 0 is not referred to"),
    "n_buffers below the references": (_header_with(1, _bytes_ref(0), _bytes_ref(1)), "buffer frame 1"),
    "unknown reference code": (
        _header_with(1, __import__("msgpack").ExtType(18, b"\x00")),
        "unknown out-of-band reference",
    ),
    "bytes reference payload with extra bytes": (
        _header_with(1, __import__("msgpack").ExtType(17, b"\x00\x00")),
        "malformed bytes reference",
    ),
    "empty bytes reference": (_header_with(1, __import__("msgpack").ExtType(17, b"")), "malformed"),
    "array reference of 3 items": (_header_with(1, _array_ref([0, "|u1", [4]])), "must be"),
    "array reference not an array": (_header_with(1, _array_ref({"index": 0})), "must be"),
    "array reference as a scalar": (_header_with(1, _array_ref([0, "|u1", [], 2])), "scalar"),
    "array reference of unknown layout": (_header_with(1, _array_ref([0, "|u1", [4], 3])), "layout"),
    "array reference of a bool layout": (_header_with(1, _array_ref([0, "|u1", [4], False])), "layout"),
    "array reference of object dtype": (_header_with(1, _array_ref([0, "|O", [4], 0])), "dtype"),
    "array reference of a bad dtype": (_header_with(1, _array_ref([0, "nope", [4], 0])), "dtype"),
    "array reference of a negative dim": (_header_with(1, _array_ref([0, "|u1", [-4], 0])), "shape"),
    "array reference of a huge shape": (
        _header_with(1, _array_ref([0, "<f8", [2**62, 2**62], 0])),
        "needs",
    ),
    "array reference of 65 dims": (_header_with(1, _array_ref([0, "|u1", [1] * 65, 0])), "dimensions"),
    "array reference of the wrong length": (_header_with(1, _array_ref([0, "<u2", [3], 0])), "needs 6 bytes"),
    "a reference where node_id goes": (
        __import__("msgpack").packb([1, 9, 1, _bytes_ref(0), __import__("msgpack").Timestamp(0, 0), []]),
        "node_id",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_HEADERS))
def test_bad_references_are_refused(frame_codec: FrameCodec, name: str) -> None:
    header, match = BAD_HEADERS[name]
    count = header[3]
    buffers = [b"\x01\x02\x03\x04"] * count
    with pytest.raises(DecodeError, match=match):
        frame_codec.decode_frames([*buffers, header])


def test_n_buffers_in_any_int_encoding_is_read(frame_codec: FrameCodec) -> None:
    *buffers, header = _frames()
    assert header[3] == 2
    for encoded in (b"\xcc\x02", b"\xcd\x00\x02", b"\xce\x00\x00\x00\x02", b"\xd3" + (2).to_bytes(8, "big")):
        assert_same(_REF_MSG, frame_codec.decode_frames([*buffers, header[:3] + encoded + header[4:]]))
    long_array = b"\xdc\x00\x06" + header[1:]
    assert_same(_REF_MSG, frame_codec.decode_frames([*buffers, long_array]))


@pytest.mark.parametrize(
    "n_buffers",
    [b"\xff", b"\xd0\x80", b"\xcf" + (2**64 - 1).to_bytes(8, "big"), b"\xc0", b"\xa1\x32", b"\xc3"],
)
def test_an_impossible_n_buffers_is_refused(frame_codec: FrameCodec, n_buffers: bytes) -> None:
    *buffers, header = _frames()
    with pytest.raises(DecodeError):
        frame_codec.decode_frames([*buffers, header[:3] + n_buffers + header[4:]])


def test_frames_that_are_not_buffers_are_refused(frame_codec: FrameCodec) -> None:
    _, buffer_b, header = _frames()
    for bad in (None, ["list"], 3, memoryview(bytes(24))[::2]):
        with pytest.raises(DecodeError, match="frame 0"):
            frame_codec.decode_frames([bad, buffer_b, header])


def test_buffers_as_is_checked(frame_codec: FrameCodec) -> None:
    with pytest.raises(ValueError, match="buffers_as"):
        frame_codec.decode_frames(_frames(), buffers_as="bytearray")  # type: ignore[arg-type]


def test_buffers_of_any_buffer_type_are_read(frame_codec: FrameCodec) -> None:
    buffer_a, buffer_b, header = _frames()
    for convert in (bytes, bytearray, memoryview, lambda b: np.frombuffer(b, dtype="<u2")):
        decoded = frame_codec.decode_frames([convert(buffer_a), convert(buffer_b), memoryview(header)])
        assert_same(_REF_MSG, decoded)


# --- the envelope: whatever precedes the message's frames -----------------------------------------------


def _single_frame_header() -> bytes:
    return noobwire.encode(noobwire.StatusMsg(node_id="cam", timestamp=TIMESTAMP, value="ready"))


ENVELOPES = {
    "none": [],
    "a topic": [b"event"],
    "identities": [b"\x00k\x8bEg", b"router-2"],
    "an empty frame": [b""],
    "a topic that is a single-frame header": [_single_frame_header()],
    "a topic that is this message's header": [_frames()[-1]],
    "identities that are headers counting buffers": _frames()[-1:] * 3,
    "frames that look like this message's buffers and header": _frames(),
    "a topic that is a legacy JSON frame": [noobwire.StatusMsg(node_id="x", value="ready").to_json_bytes()],
    "a header counting more frames than there are": [_header_with(200, _bytes_ref(0))],
}


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_the_envelope_is_whatever_precedes_the_message(frame_codec: FrameCodec, name: str) -> None:
    envelope = ENVELOPES[name]
    for msg, threshold in ((_REF_MSG, 0), (_REF_MSG, 1 << 20), (make_workload("S"), 0)):
        frames = [bytes(f) for f in frame_codec.encode_frames(msg, threshold=threshold)]
        got_envelope, decoded = frame_codec.decode_multipart([*envelope, *frames])
        assert got_envelope == envelope
        assert_same(msg, decoded)


def test_a_buffer_that_looks_like_a_header_is_a_buffer(frame_codec: FrameCodec) -> None:
    header_like = [_single_frame_header(), _frames()[-1], b"{}"]
    msg = event_msg(*header_like)
    frames = frame_codec.encode_frames(msg, threshold=0)
    assert len(frames) == 4
    envelope, decoded = frame_codec.decode_multipart([b"event", *frames])
    assert envelope == [b"event"]
    assert values_of(decoded) == header_like


def test_a_legacy_json_frame_is_read_after_any_envelope(frame_codec: FrameCodec) -> None:
    msg = make_workload("E4")
    for envelope in ([], [b"event"], [b"id", _single_frame_header()]):
        got_envelope, decoded = frame_codec.decode_multipart([*envelope, msg.to_json_bytes()])
        assert got_envelope == envelope
        assert decoded.value[0]["value"] == msg.value[0]["value"]


def test_a_single_frame_may_be_given_alone(frame_codec: FrameCodec) -> None:
    frame = frame_codec.backend.encode(make_workload("E4"))
    assert_same(make_workload("E4"), frame_codec.decode_frames(frame))
    assert frame_codec.decode_multipart(memoryview(frame))[0] == []


def test_timestamps_and_ids_survive_alongside_buffers(frame_codec: FrameCodec) -> None:
    stamp = datetime(2026, 5, 1, 8, 0, 0, 17, tzinfo=UTC)
    msg = EventMsg(node_id="cam", timestamp=stamp, value=[])
    msg.value.append(
        {"id": 2**100, "timestamp": stamp, "node_id": "c", "signal": "frame", "epoch": 7, "value": b"v" * 10}
    )
    assert_same(msg, frame_codec.decode_frames(frame_codec.encode_frames(msg, threshold=1)))


@given(
    msg=messages(),
    threshold=st.sampled_from([0, 1, 16, 65536]),
    envelope=st.lists(
        st.binary(max_size=30)
        | st.sampled_from(ENVELOPES["frames that look like this message's buffers and header"]),
        max_size=3,
    ),
)
def test_every_message_roundtrips_in_frames_after_any_envelope(
    frame_codec: FrameCodec, msg: noobwire.Message, threshold: int, envelope: list[bytes]
) -> None:
    frames = [bytes(frame) for frame in frame_codec.encode_frames(msg, threshold=threshold)]
    got_envelope, decoded = frame_codec.decode_multipart([*envelope, *frames])
    assert got_envelope == envelope
    assert_same(msg, decoded)
    again = frame_codec.encode_frames(decoded, threshold=threshold)
    assert [bytes(frame) for frame in again] == frames, "re-encoding a decoded message changed its frames"


def test_a_marker_in_a_longer_form_beside_references(frame_codec: FrameCodec) -> None:
    # A foreign encoder may write a tuple's marker as ext 16 (c8 00 00 01): the pure decoder then reads
    # the header a second time, which must not count its references twice.
    msg = event_msg([b"t" * 20, (1,)])  # the reference is read before the marker
    *buffers, header = [bytes(frame) for frame in frame_codec.encode_frames(msg, threshold=10)]
    assert header.count(b"\xc7\x00") == 1
    longer = header.replace(b"\xc7\x00\x01", b"\xc8\x00\x00\x01")
    assert_same(msg, frame_codec.decode_frames([*buffers, longer]))


def test_the_options_hold_for_the_header(frame_codec: FrameCodec) -> None:
    from datetime import timedelta

    from noobwire.options import Options

    msg = event_msg(b"b" * 100, timedelta(days=1))  # a buffer, and a value that is pickled
    frames = frame_codec.encode_frames(msg, threshold=10)
    assert len(frames) == 2
    no_pickle = Options(allow_pickle=False)
    with pytest.raises(EncodeError, match="pickle"):
        frame_codec.encode_frames(msg, threshold=10, options=no_pickle)
    with pytest.raises(DecodeError, match="pickle"):
        frame_codec.decode_frames(frames, options=no_pickle)
    with pytest.raises(DecodeError, match="max_frame_size"):
        frame_codec.decode_frames(frames, options=Options(max_frame_size=len(frames[-1]) - 1))
    assert_same(msg, frame_codec.decode_frames(frames, options=Options(max_frame_size=len(frames[-1]))))


def test_a_codec_encodes_and_decodes_frames_under_its_settings(frame_codec: FrameCodec) -> None:
    from datetime import timedelta

    name = frame_codec.backend.name
    msg = event_msg(np.arange(1 << 15, dtype="<f8"), timedelta(days=1))  # a buffer; a pickled value
    trusting = noobwire.Codec(backend=name, allow_pickle=True)
    locked = noobwire.Codec(backend=name, allow_pickle=False)
    frames = trusting.encode_frames(msg)
    assert len(frames) == 2
    assert frames == frame_codec.encode_frames(msg)
    decoded = trusting.decode_frames(frames)
    assert np.shares_memory(decoded.value[0]["value"], msg.value[0]["value"])
    assert_same(msg, decoded)
    with pytest.raises(EncodeError, match="pickle"):
        locked.encode_frames(msg)
    with pytest.raises(DecodeError, match="pickle"):
        locked.decode_frames(frames)
    assert locked.encode_frames(make_workload("E4"), threshold=1) == [locked.encode(make_workload("E4"))]
    small = noobwire.Codec(backend=name, max_frame_size=len(frames[-1]) - 1)
    with pytest.raises(DecodeError, match="max_frame_size"):
        small.decode_frames(frames)
    bytes_frames = trusting.encode_frames(event_msg(b"v" * 100), threshold=10)
    as_views = trusting.decode_frames(bytes_frames, buffers_as="memoryview")
    assert type(as_views.value[0]["value"]) is memoryview
