"""What decode accepts: bytes, buffers, zmq frames, lists of frames; and numpy stays optional."""

from __future__ import annotations

import array
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import noobwire
import noobwire.bench.workloads
import zmq
from helpers import VECTORS, assert_same
from noobwire import DecodeError
from noobwire.codec import Backend

E4 = noobwire.bench.workloads.e4()
FRAME = E4.to_bytes()


@pytest.mark.parametrize(
    "data",
    [
        FRAME,
        bytearray(FRAME),
        memoryview(FRAME),
        memoryview(bytearray(b"xx" + FRAME))[2:],
        np.frombuffer(FRAME, dtype=np.uint8),
        zmq.Frame(FRAME),
        [FRAME],
        [b"event", FRAME],
        [b"\x00k\x8bEg", b"", FRAME],
        (b"event", zmq.Frame(FRAME)),
        [b"event", memoryview(FRAME)],
        array.array("B", FRAME),
    ],
    ids=[
        "bytes", "bytearray", "memoryview", "memoryview-slice", "uint8-array", "zmq.Frame",
        "list", "topic+frame", "identities+frame", "tuple-of-zmq-frames", "topic+memoryview",
        "array.array",
    ],
)  # fmt: skip
def test_decode_accepts_what_sockets_hand_over(backend: Backend, data: object) -> None:
    assert_same(E4, backend.decode(data))


def test_decode_refuses_what_is_not_a_buffer(backend: Backend) -> None:
    for data in ("a str", 5, None, [b"topic", 3]):
        with pytest.raises(DecodeError):
            backend.decode(data)


def test_decode_refuses_a_released_buffer(backend: Backend) -> None:
    view = memoryview(FRAME)
    view.release()
    with pytest.raises(DecodeError, match="released"):
        backend.decode(view)


def test_a_table_of_classes_applies_to_json_frames_too(backend: Backend) -> None:
    class MyStatus(noobwire.StatusMsg):
        pass

    classes = {**noobwire.messages.MESSAGE_CLASSES, "status": MyStatus}
    msg = noobwire.StatusMsg(node_id="n", value="ready")
    for frame in (msg.to_bytes(), msg.to_json_bytes()):
        decoded = backend.decode(frame, classes)
        assert type(decoded) is MyStatus
        assert_same(msg.value, decoded.value)


def test_decode_refuses_a_non_contiguous_buffer(backend: Backend) -> None:
    with pytest.raises(DecodeError, match="non-contiguous"):
        backend.decode(memoryview(FRAME)[::2])


def test_drop_in_methods_read_the_last_frame() -> None:
    assert_same(E4, noobwire.Message.from_bytes([b"event", E4.to_bytes()]))
    assert_same(E4, noobwire.EventMsg.from_bytes([E4.to_json_bytes()]))


def test_messages_without_arrays_never_import_numpy() -> None:
    script = textwrap.dedent(
        """
        import sys
        import noobwire, noobwire.bench.workloads
        for name in ("E4", "E64", "P", "S"):
            msg = noobwire.bench.workloads.make_workload(name)
            assert noobwire.decode(noobwire.encode(msg)) == msg
        assert "numpy" not in sys.modules, "numpy was imported"
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_an_array_frame_without_numpy_is_a_clear_decode_error() -> None:
    frame = bytes.fromhex(VECTORS["value_ndarray_c"]["hex"])
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["numpy"] = None  # numpy is not installed
        import noobwire
        try:
            noobwire.decode(bytes.fromhex({frame.hex()!r}))
        except noobwire.DecodeError as exc:
            assert "install numpy" in str(exc), exc
        else:
            raise AssertionError("decoded an array without numpy")
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
