"""Hardening round four: what an attack on the one-pass frames path found (each test failed before).

Arrays that outlive the memory under them, an array whose dtype changes while it is written, pickle off
for control messages with buffer frames, a codec whose settings changed after it was made, frames the
one pass read differently from the general path, buffer frames the same codec could not read back, and
datetimes of no unit.
"""

from __future__ import annotations

import mmap
import warnings
from datetime import UTC, datetime
from typing import Any

import msgpack
import numpy as np
import pytest

from helpers import event_msg
from noobwire import Codec, DecodeError, EncodeError
from noobwire._core.backends import Backend, get_backend
from noobwire.multipart import FrameCodec

T = datetime(2026, 1, 1, tzinfo=UTC)


def _compiled_codec() -> Codec:
    """A codec on the compiled backend: the tests of its one pass skip where it is not built."""
    pytest.importorskip("noobwire._core.compiled", reason="the compiled extension is not built")
    return Codec(backend="compiled")


def _array_and_frames(codec: Codec) -> list[bytes]:
    return [
        bytes(frame)
        for frame in codec.encode_frames(event_msg(np.arange(1 << 14, dtype="<u8")), threshold=16)
    ]


def test_an_array_read_in_band_owns_its_memory(backend: Backend) -> None:
    # Before: the compiled backend made the array a view of a bytearray that held no export of it:
    # resizing that bytearray freed the array's memory (heap corruption on the next writes).
    codec = Codec(backend=backend.name)
    array = codec.decode(codec.encode(event_msg(np.arange(1 << 14, dtype="<u8")))).value[0]["value"]
    base = array
    while getattr(base, "base", None) is not None:
        base = base.base
        if isinstance(base, memoryview):
            base = base.obj
    if isinstance(base, bytearray):
        with pytest.raises(BufferError):
            base.extend(b"x")
    assert array.flags.writeable
    assert array[:3].tolist() == [0, 1, 2]


@pytest.mark.parametrize("kind", ["bytearray", "memoryview of a bytearray", "mmap"])
def test_an_array_read_from_a_buffer_frame_pins_that_frame(backend: Backend, kind: str) -> None:
    # Before, on both backends: numpy's ndarray kept the frame's object but no export of its buffer, so
    # the bytearray could be resized, or the mmap closed, under the decoded array (a crash on reading it).
    codec = Codec(backend=backend.name)
    frames = _array_and_frames(codec)
    if kind == "mmap":
        frame: Any = mmap.mmap(-1, len(frames[0]))
        frame[:] = frames[0]
        closing = frame.close
    else:
        buffer = bytearray(frames[0])
        frame = buffer if kind == "bytearray" else memoryview(buffer)

        def closing() -> None:
            buffer.extend(b"x")

    array = codec.decode_frames([frame, frames[1]]).value[0]["value"]
    with pytest.raises(BufferError):
        closing()
    assert array[:3].tolist() == [0, 1, 2]


def test_an_array_whose_dtype_changes_while_it_is_written_is_written_as_it_is_then() -> None:
    # Before: the compiled encoder found the dtype's description (which may run Python code: here numpy
    # warns about the dtype's metadata, and the warning hook re-views the array as bytes), then read the
    # shape: it copied eight times the array's bytes from the heap into the frame.
    array = np.arange(10, dtype=np.dtype("<u8", metadata={"unit": "m"}))

    def re_view(*args: Any, **kwargs: Any) -> None:
        array.dtype = np.dtype("u1")

    codec = _compiled_codec()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = re_view
        frame = codec.encode(event_msg(array))
    back = codec.decode(frame).value[0]["value"]
    assert back.nbytes == 80
    assert len(frame) < 200


def test_a_control_message_s_buffer_frames_are_looked_at_with_pickle_off(backend: Backend) -> None:
    # Before: the compiled backend looked for strs noob would unpickle only in a control message's
    # header frame, not in its buffer frames: a pck__ bytes value in one passed pickle off.
    pytest.importorskip("noob.network.message")
    from noobwire.generations import NOOB_1003

    try:
        codec = Codec(generation=NOOB_1003, allow_pickle=False, backend=backend.name)
    except ValueError:
        pytest.skip("the installed noob is not 1003")
    from noob.network.message import ErrorMsg

    msg = ErrorMsg(
        node_id="n", timestamp=T, value={"err_type": ValueError, "err_args": ("MARK",), "traceback": ""}
    )
    header = codec.encode(msg)
    changed = bytearray(header.replace(msgpack.packb("MARK"), msgpack.packb(msgpack.ExtType(17, b"\x00"))))
    changed[3] = 1
    with pytest.raises(DecodeError, match="pck__"):
        codec.decode_frames([b"pck__gASVBQAAAAAAAACMAXiULg==", bytes(changed)])


def test_a_codec_s_settings_cannot_change_under_its_frames_functions() -> None:
    # Before: assigning codec.options changed encode and decode but not encode_frames, decode_frames
    # or the runner hook's functions, which kept the settings the codec was made with.
    codec = Codec()
    for name in ("options", "generation", "backend", "frames"):
        with pytest.raises(AttributeError):
            setattr(codec, name, getattr(codec, name))


def test_an_empty_buffer_frame_of_any_step_gets_the_general_path_s_verdict() -> None:
    codec = _compiled_codec()
    frames = codec.encode_frames(event_msg(b"x" * 100), threshold=16)
    strided = memoryview(b"")[::2]
    pure = FrameCodec(get_backend("pure"))
    with pytest.raises(DecodeError) as theirs:
        pure.decode_frames([strided, bytes(frames[-1])])
    with pytest.raises(DecodeError) as mine:
        codec.decode_frames([strided, bytes(frames[-1])])
    assert str(mine.value) == str(theirs.value)


def test_a_list_that_reads_otherwise_than_it_stores_is_read_through_its_own_methods() -> None:
    # Before: the one pass read a list subclass's storage where the general path calls its methods.
    codec = _compiled_codec()
    frames = [
        bytes(frame) for frame in codec.encode_frames(event_msg(np.arange(70_000, dtype="u1")), threshold=16)
    ]
    other = codec.encode(event_msg("another message"))

    class Lying(list):  # type: ignore[type-arg]
        def __getitem__(self, index: Any) -> Any:
            return other if index in (-1, len(self) - 1) else list.__getitem__(self, index)

    pure = FrameCodec(get_backend("pure"))
    mine, theirs = codec.decode_frames(Lying(frames)), pure.decode_frames(Lying(frames))
    assert mine.value[0]["value"] == theirs.value[0]["value"] == "another message"


def test_encode_frames_refuses_a_buffer_frame_its_own_decoder_would(backend: Backend) -> None:
    codec = Codec(backend=backend.name, max_frame_size=1000)
    with pytest.raises(EncodeError, match="max_frame_size"):
        codec.encode_frames(event_msg(b"x" * 5000), threshold=16)
    assert len(codec.encode_frames(event_msg(b"x" * 500), threshold=16)) == 2


@pytest.mark.parametrize("dtype", ["<M8", "<m8", [("t", "<M8")], [("t", "<m8", (2,))]], ids=str)
def test_datetimes_of_no_unit_are_refused(backend: Backend, dtype: Any) -> None:
    # numpy makes them, but its repr() of them raises: a decoded message could not be shown or logged.
    from noobwire.wire import EXT_NDARRAY

    descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
    payload = msgpack.packb([descr, [1], 0], use_bin_type=True) + bytes(np.dtype(dtype).itemsize)
    event = [0, msgpack.Timestamp(0), "cam", "s", 1, msgpack.ExtType(EXT_NDARRAY, payload)]
    frame = msgpack.packb([1, 9, 0, "cam", msgpack.Timestamp(0), [event]], use_bin_type=True)
    with pytest.raises(DecodeError, match="without a unit"):
        backend.decode(frame)
