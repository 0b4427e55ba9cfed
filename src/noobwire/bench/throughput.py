"""ZeroMQ throughput: how many messages per second one sender process gets to one receiver.

A :class:`ThroughputLink` starts a sender in a second process (``multiprocessing``, spawned) that
connects a PUSH socket to this process's PULL socket, over ``ipc://`` (a socket file in a temporary
folder) or ``tcp://127.0.0.1`` (a free port). Each :meth:`ThroughputLink.transfer` asks the sender
for ``count`` messages; the sender encodes each one anew and sends it, this process receives and
decodes each one, and the time from the request to the last decoded message is the transfer's.

The codecs: a noobwire backend's single frame (``pure``, ``compiled``), the zero-copy frames of
``encode_frames`` (``frames``, when this noobwire has it), the reference JSON (``json``), and, for the
array workloads, ``raw``: pyzmq sending the bare array buffer with ``copy=False`` and the receiver
wrapping the frame with ``numpy.frombuffer``, the ceiling for any codec. Needs pyzmq.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from noobwire.messages import Message
from noobwire.workloads import make_workload

__all__ = [
    "ARRAY_WORKLOADS",
    "SENDER_KEYS",
    "TRANSPORTS",
    "ThroughputLink",
    "expected_value",
    "sender_missing",
]

SENDER_KEYS = ("compiled", "pure", "frames", "json", "raw")
TRANSPORTS = ("ipc", "tcp")
ARRAY_WORKLOADS = frozenset({"A1M", "A16M"})
"""Workloads of one large array: sent and received zero-copy where the codec allows, few in flight."""

_BIG_HWM = 2  # two 16 MiB messages queued on each side are enough to keep both processes busy


def _array_of(msg: Message) -> Any:
    return msg.value[0]["value"]


def _noobwire_module() -> Any:
    import noobwire

    return noobwire


def sender_missing(key: str, workload: str) -> str | None:
    """Why codec ``key`` cannot be measured on ``workload`` here, or None if it can."""
    if key not in SENDER_KEYS:
        return f"unknown codec {key!r}; choose from {', '.join(SENDER_KEYS)}"
    if key == "raw" and workload not in ARRAY_WORKLOADS:
        return "raw pyzmq sends a bare array buffer: array workloads only"
    if key == "compiled":
        from noobwire import codec

        try:
            codec.get_backend("compiled")
        except ImportError as exc:
            return f"the compiled extension is not built ({exc})"
    if key == "frames" and not hasattr(_noobwire_module(), "encode_frames"):
        return "this noobwire has no encode_frames / decode_frames (the zero-copy path)"
    return None


def expected_value(workload: str, key: str) -> Any:
    """What the receiver of codec ``key`` must decode: the message, or for ``raw`` its array."""
    msg = make_workload(workload)
    return _array_of(msg) if key == "raw" else msg


def _sender(key: str, workload: str) -> Callable[[Any], None]:
    """The function that encodes and sends one message of ``workload`` on a socket."""
    msg = make_workload(workload)
    if key == "raw":
        array = _array_of(msg)
        return lambda socket: socket.send(array, copy=False)
    if key == "frames":
        encode_frames = _noobwire_module().encode_frames
        return lambda socket: socket.send_multipart(encode_frames(msg), copy=False)
    if key == "json":
        from noobwire.legacy_json import encode_json

        return lambda socket: socket.send(encode_json(msg), copy=False)
    from noobwire import codec

    encode = codec.get_backend(key).encode
    return lambda socket: socket.send(encode(msg), copy=False)


def _receiver(key: str, workload: str) -> Callable[[Any], Any]:
    """The function that receives and decodes one message of ``workload`` from a socket."""
    copy = workload not in ARRAY_WORKLOADS
    if key == "raw":
        import numpy as np

        template = _array_of(make_workload(workload))
        dtype, shape = template.dtype, template.shape
        return lambda socket: np.frombuffer(socket.recv(copy=False).buffer, dtype=dtype).reshape(shape)
    if key == "frames":
        decode_frames = _noobwire_module().decode_frames
        return lambda socket: decode_frames(socket.recv_multipart(copy=False))
    if key == "json":
        from noobwire.legacy_json import decode_json

        return lambda socket: decode_json(socket.recv(copy=copy))
    from noobwire import codec

    decode = codec.get_backend(key).decode
    return lambda socket: decode(socket.recv(copy=copy))


def _sender_main(endpoint: str, workload: str, key: str, control: Connection) -> None:
    """The sender process: connect, then send as many messages as each request on ``control`` asks."""
    import zmq

    context = zmq.Context()
    socket = context.socket(zmq.PUSH)
    try:
        send = _sender(key, workload)
        if workload in ARRAY_WORKLOADS:
            socket.sndhwm = _BIG_HWM
        socket.sndtimeo = 60_000  # never block for ever on a receiver that went away
        socket.connect(endpoint)
        control.send(("ready", None))
        while True:
            try:
                count = control.recv()
            except EOFError:  # the receiver's process is gone
                break
            if count is None:
                break
            for _ in range(count):
                send(socket)
    except Exception as exc:
        with contextlib.suppress(OSError):  # the receiver may be gone
            control.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        socket.close(linger=0)
        context.term()


class ThroughputLink:
    """A PULL socket here, a sender process pushing one workload to it; use it as a context manager.

    Raises ``ValueError`` for a codec that cannot send the workload (see :func:`sender_missing`).
    """

    def __init__(self, workload: str, key: str, transport: str, timeout_s: float = 30.0) -> None:
        why = sender_missing(key, workload)
        if why:
            raise ValueError(f"{key} on {workload}: {why}")
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport!r}; choose from {', '.join(TRANSPORTS)}")
        self.workload, self.key, self.transport = workload, key, transport
        self.timeout_s = timeout_s
        self._receive = _receiver(key, workload)
        self._folder: str | None = None
        self._process: Any = None
        self._control: Connection | None = None
        self._socket: Any = None
        self._context: Any = None

    def __enter__(self) -> ThroughputLink:
        import zmq

        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.PULL)
        if self.workload in ARRAY_WORKLOADS:
            self._socket.rcvhwm = _BIG_HWM
        try:
            if self.transport == "ipc":
                self._folder = tempfile.mkdtemp(prefix="noobwire-bench-")
                endpoint = f"ipc://{self._folder}/link"
                self._socket.bind(endpoint)
            else:
                port = self._socket.bind_to_random_port("tcp://127.0.0.1")
                endpoint = f"tcp://127.0.0.1:{port}"
            spawn = multiprocessing.get_context("spawn")
            self._control, child_end = spawn.Pipe()
            self._process = spawn.Process(
                target=_sender_main,
                args=(endpoint, self.workload, self.key, child_end),
                daemon=True,
                name=f"noobwire-bench-sender-{self.key}",
            )
            self._process.start()
            child_end.close()
            self._expect_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _expect_ready(self) -> None:
        assert self._control is not None
        if not self._control.poll(self.timeout_s):
            raise TimeoutError(f"the sender process did not start in {self.timeout_s:g} s")
        status, detail = self._control.recv()
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

    def _next(self) -> Any:
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
            return self._receive(socket)
        except zmq.Again:  # poll said a message was there; it cannot go away, but never block
            raise RuntimeError("a message announced by poll was not there") from None

    def transfer(self, count: int) -> tuple[float, Any]:
        """Have ``count`` messages sent, received and decoded; returns the seconds it took and the
        last decoded message (or array)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        assert self._control is not None, "use the link as a context manager"
        start = time.perf_counter()
        self._control.send(count)
        last = None
        for _ in range(count):
            last = self._next()
        return time.perf_counter() - start, last

    def close(self) -> None:
        """Stop the sender and release the sockets (also done on leaving the ``with`` block)."""
        if self._control is not None:
            with contextlib.suppress(OSError):  # the sender may be gone already
                self._control.send(None)
        if self._process is not None:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout=5)
            self._process = None
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        if self._context is not None:
            self._context.term()
            self._context = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
