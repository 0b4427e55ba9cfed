"""Send and receive noobwire messages over ZeroMQ sockets, laid out as noob's runner lays them out.

A message goes out as ``[*identities, topic, *encode_frames(msg)]``: the topic frame first (on a PUB
socket, for SUB's prefix filter), ROUTER identities before it, and the message's own frames last, its
large buffers out of band and its header at the very end. The receiver finds the header without being
told the socket type (see :mod:`noobwire.multipart`). Needs pyzmq (``pip install 'noobwire[zmq]'``).

The blocking functions take a ``zmq.Socket``; ``send_message_async`` / ``recv_message_async`` are the
same for ``zmq.asyncio`` sockets. ``limit_socket`` has libzmq refuse frames longer than a codec's
``max_frame_size`` before they are received.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

try:
    import zmq
except ImportError as exc:  # pragma: no cover - pyzmq is in the test extra
    raise ImportError("noobwire.zmq needs pyzmq: pip install 'noobwire[zmq]'") from exc

from noobwire.generations import REFERENCE, GenerationLike
from noobwire.messages import Message
from noobwire.multipart import DEFAULT_THRESHOLD, BuffersAs, decode_frames, decode_multipart, encode_frames
from noobwire.options import DEFAULT_OPTIONS, Options

__all__ = [
    "Received",
    "limit_socket",
    "recv_message",
    "recv_message_async",
    "send_message",
    "send_message_async",
]

_NO_LIMIT = -1
"""``ZMQ_MAXMSGSIZE``'s value for no limit."""
_LARGEST_LIMIT = 2**63 - 1
"""The largest ``ZMQ_MAXMSGSIZE`` (an int64)."""


def limit_socket(socket: Any, options: Options = DEFAULT_OPTIONS) -> Any:
    """Set the socket's ``ZMQ_MAXMSGSIZE`` to ``options.max_frame_size`` and return the socket.

    libzmq then drops a peer that sends a frame (any part of a message: a header, a buffer frame, a
    topic) longer than that, before it is received whole, where the codec would refuse it only after
    the socket has taken it into memory. Call it before the socket binds or connects: the limit holds
    for the connections made after it. A ``max_frame_size`` of 2**63 or more (no limit that libzmq can
    hold) leaves the socket without a limit. Works on ``zmq.asyncio`` sockets too.
    """
    limit = options.max_frame_size
    socket.setsockopt(zmq.MAXMSGSIZE, limit if limit <= _LARGEST_LIMIT else _NO_LIMIT)
    return socket


class Received(NamedTuple):
    """A message received, and the frames that came before its own (its *envelope*)."""

    message: Message
    envelope: list[bytes]
    """A SUB socket's topic (``[b"event"]``), a ROUTER socket's routing identities, or ``[]``."""

    @property
    def topic(self) -> bytes | None:
        """The first frame of the envelope (on a SUB socket, the topic), or None if there is none."""
        return self.envelope[0] if self.envelope else None


def _outgoing(
    msg: Message,
    generation: GenerationLike,
    topic: bytes | str | None,
    identities: Sequence[bytes],
    threshold: int,
    options: Options,
    track: bool,
) -> tuple[list[Any], list[zmq.Frame]]:
    """The frames to send, ``[*identities, topic, *encode_frames(msg)]``, and, when ``track``, the
    message's buffer frames as tracked ``zmq.Frame`` objects (they are among the frames to send)."""
    frames = encode_frames(msg, generation, options, threshold=threshold)
    tracked: list[zmq.Frame] = []
    if track and len(frames) > 1:
        # pyzmq's tracker follows the last frame only, and ours is the header, which is copied: each
        # buffer gets a tracker of its own, and the caller's tracker waits for all of them.
        tracked = [zmq.Frame(buffer, copy=False, track=True) for buffer in frames[:-1]]
        frames = [*tracked, frames[-1]]
    if topic is None and not identities:
        return frames, tracked
    envelope: list[Any] = list(identities)
    if topic is not None:
        envelope.append(topic.encode("utf-8") if isinstance(topic, str) else topic)
    return envelope + frames, tracked


def _received(
    frames: list[Any], generation: GenerationLike, options: Options, buffers_as: BuffersAs
) -> Received:
    if len(frames) == 1:  # no envelope
        return Received(decode_frames(frames, generation, options, buffers_as=buffers_as), [])
    envelope, msg = decode_multipart(frames, generation, options, buffers_as=buffers_as)
    return Received(msg, [frame if type(frame) is bytes else bytes(frame) for frame in envelope])


_FRAMES_KNOW_MORE = zmq.backend.Frame.__module__.startswith("zmq.backend.cython")
"""Whether a received ``zmq.Frame`` says if more parts follow: pyzmq's Cython backend sets
``Frame.more``; its CFFI backend (PyPy) leaves it False."""


def _recv_frames(socket: zmq.Socket[Any], flags: int, copy: bool) -> list[Any]:
    """``socket.recv_multipart(flags=flags, copy=copy)``, quicker without a copy on pyzmq's Cython
    backend: a received ``zmq.Frame`` says itself whether more follow, where pyzmq asks the socket."""
    if copy or not _FRAMES_KNOW_MORE:
        return socket.recv_multipart(flags=flags, copy=copy)
    frames = [socket.recv(flags, copy=False)]
    while frames[-1].more:  # the parts of a message arrive together: these never wait
        frames.append(socket.recv(flags, copy=False))
    return frames


def send_message(
    socket: zmq.Socket[Any],
    msg: Message,
    topic: bytes | str | None = None,
    *,
    generation: GenerationLike = REFERENCE,
    identities: Sequence[bytes] = (),
    copy: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
    options: Options = DEFAULT_OPTIONS,
    flags: int = 0,
    track: bool = False,
) -> zmq.MessageTracker | None:
    """Send ``msg`` as ``[*identities, topic, *encode_frames(msg, threshold)]``.

    ``topic`` (a ``str`` is UTF-8 encoded) goes first on a PUB socket, as noob's runner sends
    ``b"event"`` or ``b"process"``; ``identities`` route a reply on a ROUTER socket. With ``copy=False``
    (the default) ZeroMQ sends the buffers of large arrays and bytes from their own memory, after this
    returns: do not change them until it has (``track=True`` returns a ``zmq.MessageTracker`` that says
    when). ``flags`` are pyzmq's (``zmq.NOBLOCK``). ``generation``: the schema the frames are of (the
    reference's by default).
    """
    frames, tracked = _outgoing(msg, generation, topic, identities, threshold, options, track and not copy)
    if len(frames) == 1:  # a message of one frame and no envelope: pyzmq's quicker way to send it
        tracker: zmq.MessageTracker | None = socket.send(frames[0], flags, copy=copy, track=track)
    else:
        tracker = socket.send_multipart(frames, flags=flags, copy=copy, track=track)
    return zmq.MessageTracker(*tracked) if tracked else tracker


def recv_message(
    socket: zmq.Socket[Any],
    generation: GenerationLike = REFERENCE,
    *,
    copy: bool = False,
    buffers_as: BuffersAs = "bytes",
    options: Options = DEFAULT_OPTIONS,
    flags: int = 0,
) -> Received:
    """Receive one message: a noobwire message of one or more frames, or the legacy JSON frame of an
    unmodified noob process, after any topic or identities.

    ``generation``: the schema to read (the reference's by default; a dict of classes builds those).
    Returns ``(message, envelope)``. With ``copy=False`` (the default) the arrays of the message are
    views of the received frames' memory (see :func:`noobwire.decode_frames`), which they keep alive.
    Raises :class:`noobwire.DecodeError` for frames that are not a valid message (the frames are
    consumed), and pyzmq's errors as ``socket.recv_multipart`` does.
    """
    return _received(_recv_frames(socket, flags, copy), generation, options, buffers_as)


async def send_message_async(
    socket: Any,
    msg: Message,
    topic: bytes | str | None = None,
    *,
    generation: GenerationLike = REFERENCE,
    identities: Sequence[bytes] = (),
    copy: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
    options: Options = DEFAULT_OPTIONS,
    flags: int = 0,
    track: bool = False,
) -> zmq.MessageTracker | None:
    """:func:`send_message` for a ``zmq.asyncio`` socket."""
    frames, tracked = _outgoing(msg, generation, topic, identities, threshold, options, track and not copy)
    tracker: zmq.MessageTracker | None = await socket.send_multipart(
        frames, flags=flags, copy=copy, track=track
    )
    return zmq.MessageTracker(*tracked) if tracked else tracker


async def recv_message_async(
    socket: Any,
    generation: GenerationLike = REFERENCE,
    *,
    copy: bool = False,
    buffers_as: BuffersAs = "bytes",
    options: Options = DEFAULT_OPTIONS,
    flags: int = 0,
) -> Received:
    """:func:`recv_message` for a ``zmq.asyncio`` socket."""
    frames = await socket.recv_multipart(flags=flags, copy=copy)
    return _received(frames, generation, options, buffers_as)
