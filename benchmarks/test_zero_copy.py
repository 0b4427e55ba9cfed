"""pytest-benchmark: zero-copy frames.

    python -m pytest benchmarks/test_zero_copy.py --benchmark-group-by=group

* ``encode_frames`` + ``decode_frames`` of ``A1M`` and ``A16M`` on each backend: flat in the array's size,
  since neither copies it.
* Messages per second of ``A16M`` over ZeroMQ PUSH/PULL (``ipc://`` and ``tcp://127.0.0.1``), sent from a
  thread and received and decoded in the benchmark's: noobwire's ``send_message`` / ``recv_message``,
  raw pyzmq sending the bare array with ``copy=False`` and viewing it with ``numpy.frombuffer`` (the
  ceiling), and the reference JSON path (the array pickled and base64-encoded into the JSON).

``python benchmarks/test_zero_copy.py`` prints the throughput table of one run instead.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import zmq

from noobwire.codec import get_backend
from noobwire.legacy_json import decode_json, encode_json
from noobwire.messages import Message
from noobwire.multipart import FrameCodec
from noobwire.workloads import make_workload
from noobwire.zmq import recv_message, send_message


def _available(name: str) -> bool:
    try:
        get_backend(name)
    except ImportError:
        return False
    return True


BACKENDS = [name for name in ("compiled", "pure") if _available(name)]
TRANSPORTS = ["ipc", "tcp"] if zmq.has("ipc") else ["tcp"]
PATHS = ["raw pyzmq", "noobwire", "reference JSON"]
MESSAGES_PER_ROUND = {"raw pyzmq": 10, "noobwire": 10, "reference JSON": 1}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("workload", ["A1M", "A16M"])
def test_encode_frames_and_decode_frames(benchmark: Any, workload: str, backend: str) -> None:
    benchmark.group = "encode_frames + decode_frames"
    frame_codec = FrameCodec(get_backend(backend))
    msg = make_workload(workload)

    def roundtrip() -> Message:
        return frame_codec.decode_frames(frame_codec.encode_frames(msg))

    decoded = benchmark(roundtrip)
    array = decoded.value[0]["value"]
    assert np.shares_memory(array, msg.value[0]["value"]), "the array was copied"


# --- throughput over sockets ---------------------------------------------------------------------


@contextmanager
def push_pull(transport: str) -> Iterator[tuple[Any, Any]]:
    """A connected PUSH and PULL socket pair on loopback."""
    context: zmq.Context[Any] = zmq.Context()
    directory = tempfile.mkdtemp(prefix="nw")
    pull, push = context.socket(zmq.PULL), context.socket(zmq.PUSH)
    try:
        for socket in (pull, push):
            socket.setsockopt(zmq.LINGER, 0)
            socket.setsockopt(zmq.RCVTIMEO, 60_000)
        pull.bind(f"ipc://{directory}/bench" if transport == "ipc" else "tcp://127.0.0.1:*")
        push.connect(pull.getsockopt_string(zmq.LAST_ENDPOINT))
        yield push, pull
    finally:
        push.close(linger=0)
        pull.close(linger=0)
        context.term()
        shutil.rmtree(directory, ignore_errors=True)


def _send_and_receive(path: str, msg: Message) -> tuple[Callable[[Any], None], Callable[[Any], Any]]:
    """How ``path`` sends ``msg`` and receives (decodes) one message."""
    if path == "raw pyzmq":
        array = msg.value[0]["value"]
        dtype, shape = array.dtype, array.shape

        def send(socket: Any) -> None:
            socket.send(array, copy=False)

        def receive(socket: Any) -> Any:
            return np.frombuffer(socket.recv(copy=False).buffer, dtype=dtype).reshape(shape)

        return send, receive
    if path == "noobwire":
        return (lambda socket: send_message(socket, msg, b"event")), (
            lambda socket: recv_message(socket).message
        )

    def send_json(socket: Any) -> None:
        socket.send_multipart([b"event", encode_json(msg)])

    return send_json, (lambda socket: decode_json(socket.recv_multipart()[-1]))


def run_messages(path: str, push: Any, pull: Any, msg: Message, count: int) -> float:
    """Send ``count`` messages from a thread and receive them here; the seconds it took."""
    send, receive = _send_and_receive(path, msg)

    def sender() -> None:
        for _ in range(count):
            send(push)

    start = time.perf_counter()
    thread = threading.Thread(target=sender)
    thread.start()
    for _ in range(count):
        received = receive(pull)
    thread.join()
    elapsed = time.perf_counter() - start
    assert received is not None
    return elapsed


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a16m_throughput(benchmark: Any, transport: str, path: str) -> None:
    count = MESSAGES_PER_ROUND[path]
    benchmark.group = f"A16M PUSH/PULL over {transport}: {count} messages per round"
    msg = make_workload("A16M")
    with push_pull(transport) as (push, pull):
        run_messages(path, push, pull, msg, 1)  # connect
        benchmark.pedantic(
            run_messages, args=(path, push, pull, msg, count), rounds=5 if count > 2 else 2, iterations=1
        )
    benchmark.extra_info["messages per round"] = count
    if benchmark.stats is not None:  # None with --benchmark-disable
        benchmark.extra_info["messages per second"] = count / benchmark.stats.stats.median


# --- one run as a table --------------------------------------------------------------------------


def throughput_table(rounds: int = 15) -> str:
    """Messages per second of each path over each transport: the median of ``rounds`` rounds, the paths
    taking turns round by round so that a change in the machine's load falls on all alike. ``x raw`` is
    the median of each round's ratio to the raw pyzmq round next to it."""
    msg = make_workload("A16M")
    lines = [f"{'transport':10} {'path':16} {'msgs/s':>10} {'MB/s':>10} {'x raw':>8}"]
    for transport in TRANSPORTS:
        rates: dict[str, list[float]] = {path: [] for path in PATHS}
        with push_pull(transport) as (push, pull):
            for path in PATHS:
                run_messages(path, push, pull, msg, 1)
            for _ in range(rounds):
                for path in PATHS:
                    count = MESSAGES_PER_ROUND[path]
                    rates[path].append(count / run_messages(path, push, pull, msg, count))
        for path in PATHS:
            rate = statistics.median(rates[path])
            ratio = statistics.median(r / raw for r, raw in zip(rates[path], rates["raw pyzmq"], strict=True))
            megabytes = rate * msg.value[0]["value"].nbytes / 1e6
            lines.append(f"{transport:10} {path:16} {rate:10.1f} {megabytes:10.0f} {ratio:8.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(throughput_table(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
