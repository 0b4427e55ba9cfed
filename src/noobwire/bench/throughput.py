"""ZeroMQ throughput: how many messages per second one sender process gets to one receiver.

A :class:`ThroughputLink` starts a sender in a second process (``multiprocessing``, spawned) that
connects a PUSH socket to this process's PULL socket, over ``ipc://`` (a socket file in a temporary
folder) or ``tcp://127.0.0.1`` (a free port). Each :meth:`ThroughputLink.transfer` asks the sender
for ``count`` messages of one codec; the sender encodes each one anew and sends it, this process
receives and decodes each one, and the time from the request to the last decoded message is the
transfer's. One link carries every codec it was opened with, so :func:`interleaved_rates` can let them
take turns, round by round, and a change in the machine's load falls on all of them alike.

The codecs: a noobwire backend's single frame (``pure``, ``compiled``), the zero-copy frames of
``encode_frames`` / ``decode_frames`` (``frames``), noobwire's ZeroMQ helpers ``send_message`` /
``recv_message`` (``zmq``: the same frames), the reference JSON (``json``), and, for the array
workloads, ``raw``: pyzmq sending the bare array buffer with ``copy=False`` and the receiver wrapping
the frame with ``numpy.frombuffer``, the ceiling for any codec, and ``raw2``: the same array frame
followed by a header frame encoded once, up front, so the ceiling for a message of two frames, which
noobwire's zero-copy messages are; the difference between ``raw2`` and ``frames`` is noobwire's
encoding and decoding. Needs pyzmq.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from noobwire.bench.workloads import make_workload
from noobwire.messages import Message

__all__ = [
    "ARRAY_WORKLOADS",
    "RAW_KEYS",
    "SENDER_KEYS",
    "SENDER_NAMES",
    "TRANSPORTS",
    "ThroughputLink",
    "expected_value",
    "format_throughput",
    "interleaved_rates",
    "sender_missing",
]

SENDER_KEYS = ("compiled", "pure", "frames", "zmq", "json", "raw", "raw2")
SENDER_NAMES = {
    "compiled": "noobwire compiled, one frame",
    "pure": "noobwire pure, one frame",
    "frames": "noobwire encode/decode_frames",
    "zmq": "noobwire send/recv_message",
    "json": "reference JSON",
    "raw": "raw pyzmq, one frame",
    "raw2": "raw pyzmq, array + header",
}
"""What a throughput table calls each sender."""
TRANSPORTS = ("ipc", "tcp")
RAW_KEYS = ("raw", "raw2")
"""The codecs that send a bare array, not a message: for the array workloads only."""
ARRAY_WORKLOADS = frozenset({"A1M", "A16M"})
"""Workloads of one large array: sent and received zero-copy where the codec allows, few in flight."""

_BIG_HWM = 2  # two 16 MiB messages queued on each side are enough to keep both processes busy


def _array_of(msg: Message) -> Any:
    return msg.value[0]["value"]


def sender_missing(key: str, workload: str) -> str | None:
    """Why codec ``key`` cannot be measured on ``workload`` here, or None if it can."""
    if key not in SENDER_KEYS:
        return f"unknown codec {key!r}; choose from {', '.join(SENDER_KEYS)}"
    if key in RAW_KEYS and workload not in ARRAY_WORKLOADS:
        return "raw pyzmq sends a bare array buffer: array workloads only"
    if key == "compiled":
        from noobwire import codec

        try:
            codec.get_backend("compiled")
        except ImportError as exc:
            return f"the compiled extension is not built ({exc})"
    return None


def expected_value(workload: str, key: str) -> Any:
    """What the receiver of codec ``key`` must decode: the message, or for ``raw`` its array."""
    msg = make_workload(workload)
    return _array_of(msg) if key in RAW_KEYS else msg


def _sender(key: str, msg: Message) -> Callable[[Any], None]:
    """The function that encodes and sends ``msg`` on a socket with codec ``key``."""
    if key == "raw":
        array = _array_of(msg)
        return lambda socket: socket.send(array, copy=False)
    if key == "raw2":
        from noobwire import encode_frames

        pair = [_array_of(msg), encode_frames(msg)[-1]]  # the array, and the header encoded once
        return lambda socket: socket.send_multipart(pair, copy=False)
    if key == "frames":
        from noobwire import encode_frames

        return lambda socket: socket.send_multipart(encode_frames(msg), copy=False)
    if key == "zmq":
        from noobwire.zmq import send_message

        def send_with_helper(socket: Any) -> None:
            send_message(socket, msg)

        return send_with_helper
    if key == "json":
        from noobwire._core.legacy_json import encode_json

        return lambda socket: socket.send(encode_json(msg), copy=False)
    from noobwire import codec

    encode = codec.get_backend(key).encode
    return lambda socket: socket.send(encode(msg), copy=False)


def _receiver(key: str, workload: str) -> Callable[[Any], Any]:
    """The function that receives and decodes one message of ``workload`` from a socket."""
    copy = workload not in ARRAY_WORKLOADS
    if key in RAW_KEYS:
        import numpy as np

        template = _array_of(make_workload(workload))
        dtype, shape = template.dtype, template.shape
        if key == "raw2":  # the array is the first of the two frames
            return lambda socket: np.frombuffer(
                socket.recv_multipart(copy=False)[0].buffer, dtype=dtype
            ).reshape(shape)
        return lambda socket: np.frombuffer(socket.recv(copy=False).buffer, dtype=dtype).reshape(shape)
    if key == "frames":
        from noobwire import decode_frames

        return lambda socket: decode_frames(socket.recv_multipart(copy=False))
    if key == "zmq":
        from noobwire.zmq import recv_message

        return lambda socket: recv_message(socket).message
    if key == "json":
        from noobwire._core.legacy_json import decode_json

        return lambda socket: decode_json(socket.recv(copy=copy))
    from noobwire import codec

    decode = codec.get_backend(key).decode
    return lambda socket: decode(socket.recv(copy=copy))


def _sender_main(endpoint: str, workload: str, keys: Sequence[str], control: Connection) -> None:
    """The sender process: connect, then send as many messages of a codec as each request on
    ``control`` (``(key, count)``, or None to stop) asks."""
    import zmq

    context = zmq.Context()
    socket = context.socket(zmq.PUSH)
    try:
        msg = make_workload(workload)
        senders = {key: _sender(key, msg) for key in keys}
        if workload in ARRAY_WORKLOADS:
            socket.sndhwm = _BIG_HWM
        socket.sndtimeo = 60_000  # never block for ever on a receiver that went away
        socket.connect(endpoint)
        control.send(("ready", None))
        while True:
            try:
                request = control.recv()
            except EOFError:  # the receiver's process is gone
                break
            if request is None:
                break
            key, count = request
            send = senders[key]
            for _ in range(count):
                send(socket)
    except Exception as exc:
        with contextlib.suppress(OSError):  # the receiver may be gone
            control.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        socket.close(linger=0)
        context.term()


class ThroughputLink:
    """A PULL socket here, a sender process pushing one workload to it with any of ``keys``' codecs;
    use it as a context manager.

    Raises ``ValueError`` for a codec that cannot send the workload (see :func:`sender_missing`).
    """

    def __init__(self, workload: str, transport: str, keys: Sequence[str], timeout_s: float = 30.0) -> None:
        if not keys:
            raise ValueError("a link needs at least one codec")
        for key in keys:
            why = sender_missing(key, workload)
            if why:
                raise ValueError(f"{key} on {workload}: {why}")
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport!r}; choose from {', '.join(TRANSPORTS)}")
        self.workload, self.transport, self.keys = workload, transport, tuple(keys)
        self.timeout_s = timeout_s
        self._receivers = {key: _receiver(key, workload) for key in self.keys}
        self._control: Connection | None = None
        self._socket: Any = None
        self._process: Any = None
        self._resources = contextlib.ExitStack()
        """What the link holds, released in the reverse order by :meth:`close`."""

    def __enter__(self) -> ThroughputLink:
        import zmq

        with contextlib.ExitStack() as resources:
            context = zmq.Context()
            resources.callback(context.term)
            self._socket = context.socket(zmq.PULL)
            resources.callback(self._socket.close, linger=0)
            if self.workload in ARRAY_WORKLOADS:
                self._socket.rcvhwm = _BIG_HWM
            if self.transport == "ipc":
                folder = resources.enter_context(tempfile.TemporaryDirectory(prefix="noobwire-bench-"))
                endpoint = f"ipc://{folder}/link"
                self._socket.bind(endpoint)
            else:
                port = self._socket.bind_to_random_port("tcp://127.0.0.1")
                endpoint = f"tcp://127.0.0.1:{port}"
            spawn = multiprocessing.get_context("spawn")
            self._control, child_end = spawn.Pipe()
            resources.callback(self._control.close)
            process = spawn.Process(
                target=_sender_main,
                args=(endpoint, self.workload, self.keys, child_end),
                daemon=True,
                name="noobwire-bench-sender",
            )
            process.start()
            self._process = process
            resources.callback(_stop, process, self._control)
            child_end.close()
            self._expect_ready()
            self._resources = resources.pop_all()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _expect_ready(self) -> None:
        assert self._control is not None
        if not self._control.poll(self.timeout_s):
            raise TimeoutError(f"the sender process did not start in {self.timeout_s:g} s")
        try:
            status, detail = self._control.recv()
        except EOFError:
            raise RuntimeError("the sender process exited before it was ready") from None
        if status != "ready":
            raise RuntimeError(f"the sender process failed: {detail}")

    def _sender_failure(self) -> str | None:
        """What went wrong in the sender, if it reported a failure or died."""
        assert self._control is not None
        if self._control.poll(0):
            try:
                _, detail = self._control.recv()
            except EOFError:
                return "it exited"
            return str(detail)
        if not self._process.is_alive():
            return f"it exited with status {self._process.exitcode}"
        return None

    def _next(self, receive: Callable[[Any], Any]) -> Any:
        """Receive and decode one message; wait for one while checking that the sender still works."""
        import zmq

        socket = self._socket
        if not socket.poll(0):
            deadline = time.monotonic() + self.timeout_s
            while not socket.poll(100):
                failure = self._sender_failure()
                if failure:
                    raise RuntimeError(f"the sender process failed: {failure}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no message from the sender in {self.timeout_s:g} s")
        try:
            return receive(socket)
        except zmq.Again:  # poll said a message was there; it cannot go away, but never block
            raise RuntimeError("a message announced by poll was not there") from None

    def transfer(self, key: str, count: int) -> tuple[float, Any]:
        """Have ``count`` messages sent with codec ``key``, received and decoded; returns the seconds it
        took and the last decoded message (or array)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        assert self._control is not None, "use the link as a context manager"
        if key not in self._receivers:
            raise ValueError(f"this link carries {', '.join(self.keys)}, not {key!r}")
        receive = self._receivers[key]
        start = time.perf_counter()
        self._control.send((key, count))
        last = None
        for _ in range(count):
            last = self._next(receive)
        return time.perf_counter() - start, last

    def close(self) -> None:
        """Stop the sender and release the sockets (also done on leaving the ``with`` block)."""
        self._resources.close()
        self._control = self._socket = self._process = None


def _stop(process: Any, control: Connection) -> None:
    """Ask the sender process to stop, and make sure it has."""
    with contextlib.suppress(OSError):  # the sender may be gone already
        control.send(None)
    process.join(timeout=10)
    if process.is_alive():
        process.terminate()
        process.join(timeout=5)


def interleaved_rates(
    link: ThroughputLink, counts: Mapping[str, int], rounds: int, seed: int = 0
) -> dict[str, list[float]]:
    """Messages per second of each of the link's codecs in each of ``rounds`` rounds.

    In a round every codec transfers its ``counts[key]`` messages, one codec after the other, in an
    order shuffled anew each round (from ``seed``), so that neither a change in the machine's load nor
    the codec before it (one that leaves the heap in a different state) favours one codec. A first
    transfer of each codec, not counted, warms the link up.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    order = list(link.keys)
    for key in order:
        link.transfer(key, min(counts[key], 2))
    shuffle = random.Random(seed).shuffle
    rates: dict[str, list[float]] = {key: [] for key in order}
    for _ in range(rounds):
        shuffle(order)
        for key in order:
            seconds, _ = link.transfer(key, counts[key])
            rates[key].append(counts[key] / seconds)
    return rates


def format_throughput(
    title: str, rates: Mapping[str, Sequence[float]], names: Mapping[str, str], nbytes: int
) -> str:
    """A table of one link's :func:`interleaved_rates`: per codec, the median messages per second, the
    megabytes per second of ``nbytes``-byte messages, and, when ``raw`` was measured, ``x raw``: the
    median over rounds of the codec's rate divided by raw's rate in the same round."""
    raw = rates.get("raw")
    lines = [title, f"  {'codec':<30}{'msgs/s':>12}{'MB/s':>10}" + (f"{'x raw':>9}" if raw else "")]
    for key, samples in rates.items():
        rate = statistics.median(samples)
        line = f"  {names.get(key, key):<30}{rate:>12,.1f}{rate * nbytes / 1e6:>10,.0f}"
        if raw:
            ratio = statistics.median(mine / theirs for mine, theirs in zip(samples, raw, strict=True))
            line += f"{ratio:>9.3f}"
        lines.append(line)
    return "\n".join(lines)
