"""Messages as several frames: large buffers out of band, without a copy.

``encode_frames(msg)`` returns ``[buffer_0, ..., buffer_n-1, header]``: the large buffers of the message
(numpy arrays, bytes) each in a frame of its own, then the header frame, which refers to them by index
and whose ``n_buffers`` says how many frames before it are buffers. A message with no large buffer is
one frame, the same bytes as ``encode(msg)``. Whatever a socket puts before these frames (a PUB topic,
ROUTER identities) is the *envelope*: the receiver reads the last frame, learns from it how many frames
before it are buffers, and takes everything before those as the envelope, so it never needs to know the
socket type, and an envelope frame is never parsed (``docs/wire-format.md``, section 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from noobwire import wire
from noobwire._core.backends import ACTIVE, Backend, BoundFrames, BuffersAs
from noobwire._core.framing import byte_view, check_prefix, frame_buffer, is_json, read_int
from noobwire._core.out_of_band import OutOfBand, ReceivedBuffers
from noobwire.errors import DecodeError
from noobwire.generations import REFERENCE, GenerationLike, as_generation
from noobwire.layout import Generation
from noobwire.options import DEFAULT_OPTIONS, Options

__all__ = [
    "DEFAULT_THRESHOLD",
    "BoundFrames",
    "BuffersAs",
    "FrameCodec",
    "decode_frames",
    "decode_multipart",
    "encode_frames",
]

DEFAULT_THRESHOLD = wire.DEFAULT_BUFFER_THRESHOLD
"""Buffers of at least this many bytes (64 KiB) travel out of band."""

_BUFFERS_AS = ("bytes", "memoryview")


class FrameCodec:
    """``encode_frames`` / ``decode_frames`` on one backend: its ``encode`` takes ``out_of_band`` and its
    ``decode_frame`` takes ``buffers`` (see :mod:`noobwire._core.out_of_band`)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._encode = backend.encode
        self._decode = backend.decode
        self._decode_frame = backend.decode_frame
        functions = backend.frame_functions  # the compiled backend's one pass, or None
        self._compiled = (
            None if functions is None else functions(REFERENCE, DEFAULT_OPTIONS, self.decode_frames_general)
        )

    def __repr__(self) -> str:
        return f"<noobwire FrameCodec on {self.backend.name!r}>"

    def encode_frames(
        self,
        msg: Any,
        generation: GenerationLike = REFERENCE,
        options: Options = DEFAULT_OPTIONS,
        *,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> list[Any]:
        """Encode ``msg`` as ``[buffer_0, ..., buffer_n-1, header]``, for
        ``socket.send_multipart(frames, copy=False)``.

        Every numpy array (of a dtype that is not object), ``bytes``, ``bytearray`` and C-contiguous
        ``memoryview`` of at least ``threshold`` bytes in an event's value or a process message's input
        gets a frame of its own: the value's own memory, not a copy (``bytes``, or a ``memoryview`` of
        unsigned bytes), except for an array that is neither C- nor F-contiguous, which is made
        C-contiguous once. Do not change a buffer until the frames are sent. Without such a buffer the
        result is ``[encode(msg)]``. Raises :class:`noobwire.EncodeError` as ``encode`` does. The frames
        are of ``generation``'s format (the reference's by default).
        """
        if self._compiled is not None:
            frames: list[Any] = self._compiled.encode_frames(msg, generation, options, threshold=threshold)
            return frames
        out_of_band = OutOfBand(threshold)
        header = self._encode(msg, generation, options, out_of_band)
        frames = out_of_band.buffers
        frames.append(header)
        return frames

    def decode_multipart(
        self,
        frames: Sequence[Any],
        generation: GenerationLike = REFERENCE,
        options: Options = DEFAULT_OPTIONS,
        *,
        buffers_as: BuffersAs = "bytes",
    ) -> tuple[list[Any], Any]:
        """The envelope (the frames before the message's own, as given) and the decoded message.

        See :meth:`decode_frames`.
        """
        if buffers_as not in _BUFFERS_AS:
            raise ValueError(f"buffers_as must be 'bytes' or 'memoryview', not {buffers_as!r}")
        if not isinstance(frames, list | tuple):
            frames = [frames]
        if not frames:
            raise DecodeError("no frames to decode")
        generation = as_generation(generation)
        if _without_buffers(frames[-1], generation):  # the message is its last frame: read it whole
            return list(frames[:-1]), self._decode(frames[-1], generation, options)
        header = frame_buffer(frames[-1])
        if not len(header) or is_json(header):  # the decoder refuses the one, reads the other
            return list(frames[:-1]), self._decode(header, generation, options)
        check_prefix(header, generation)
        count = _n_buffers(header)
        if not count:  # a single frame; or a count that is not one: the decoder says so
            return list(frames[:-1]), self._decode_frame(header, generation, options)
        if count >= len(frames):
            raise DecodeError(
                f"the header counts {count} buffer frames before it, but only {len(frames) - 1} frames "
                "precede it"
            )
        first = len(frames) - 1 - count
        limit = options.max_frame_size
        buffer_frames = [_buffer(frame, first + i, limit) for i, frame in enumerate(frames[first:-1])]
        received = ReceivedBuffers(buffer_frames, buffers_as == "memoryview")
        msg = self._decode_frame(header, generation, options, received)
        received.check_all_used()
        return list(frames[:first]), msg

    def decode_frames(
        self,
        frames: Sequence[Any],
        generation: GenerationLike = REFERENCE,
        options: Options = DEFAULT_OPTIONS,
        *,
        buffers_as: BuffersAs = "bytes",
    ) -> Any:
        """Decode the frames of one message, as ``socket.recv_multipart()`` returns them.

        ``frames`` is a list (or tuple) of ``bytes``, ``zmq.Frame`` objects or other buffers; the last
        is the header (a noobwire frame, or a legacy JSON frame from an unmodified noob process), the
        ``n_buffers`` before it are the message's buffers, and any before those (a topic, routing
        identities) are ignored. Arrays come back as views of their frame's memory, not copies:
        read-only unless the frame is writable (a ``zmq.Frame`` or a ``bytearray`` is), and keeping the
        frame alive. ``bytes`` values come back as ``bytes`` (a copy, unless the frame is ``bytes``),
        or with ``buffers_as="memoryview"`` as a ``memoryview`` of the frame.

        Raises :class:`noobwire.DecodeError` for anything that is not a valid message, among them a
        header that counts more buffer frames than precede it, refers to one that is not there or to
        one twice, leaves one unreferred, or whose array does not fit its frame's length.
        """
        if self._compiled is not None:
            return self._compiled.decode_frames(frames, generation, options, buffers_as=buffers_as)
        return self.decode_frames_general(frames, generation, options, buffers_as)

    def decode_frames_general(
        self, frames: Any, generation: GenerationLike, options: Options, buffers_as: Any
    ) -> Any:
        """:meth:`decode_frames` in Python: every form of frames, and what each refusal says (the compiled
        backend reads the common forms in one pass, and hands the others here)."""
        if (
            type(frames) is list
            and frames
            and buffers_as in _BUFFERS_AS
            and _without_buffers(frames[-1], generation := as_generation(generation))
        ):
            return self._decode(frames[-1], generation, options)  # a small message: read at once
        return self.decode_multipart(frames, generation, options, buffers_as=buffers_as)[1]

    def bound(self, generation: GenerationLike, options: Options) -> BoundFrames:
        """``encode_frames`` / ``decode_frames`` of one generation and options (each still takes another
        per call): the compiled backend's own, which no Python code stands between, or the methods above."""
        if self.backend.frame_functions is not None:
            bound: BoundFrames = self.backend.frame_functions(generation, options, self.decode_frames_general)
            return bound
        return _BoundInPython(self, generation, options)


class _BoundInPython:
    """:class:`BoundFrames` of a backend without its own (the pure one)."""

    def __init__(self, codec: FrameCodec, generation: GenerationLike, options: Options) -> None:
        self._codec, self._generation, self._options = codec, generation, options

    def encode_frames(
        self,
        msg: Any,
        generation: GenerationLike | None = None,
        options: Options | None = None,
        *,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> list[Any]:
        return self._codec.encode_frames(
            msg,
            self._generation if generation is None else generation,
            options or self._options,
            threshold=threshold,
        )

    def encode_frames_at(self, msg: Any, threshold: int) -> list[Any]:
        return self._codec.encode_frames(msg, self._generation, self._options, threshold=threshold)

    def decode_frames(
        self,
        frames: Sequence[Any],
        generation: GenerationLike | None = None,
        options: Options | None = None,
        *,
        buffers_as: BuffersAs = "bytes",
    ) -> Any:
        return self._codec.decode_frames(
            frames,
            self._generation if generation is None else generation,
            options or self._options,
            buffers_as=buffers_as,
        )


def _buffer(frame: Any, position: int, max_frame_size: int) -> Any:
    """A buffer frame as ``bytes`` (kept as it is) or a one-dimensional ``memoryview`` of bytes, no
    longer than ``max_frame_size``."""
    if type(frame) is bytes:
        buffer: Any = frame
    else:
        try:
            data = getattr(frame, "buffer", frame)  # a zmq.Frame's memory
        except Exception as exc:  # a property of the caller's object that fails
            kind = type(frame).__qualname__
            raise DecodeError(f"frame {position} is not a buffer ({kind}: {exc})") from None
        buffer = byte_view(data, f"frame {position} ({type(frame).__qualname__})")
    if len(buffer) > max_frame_size:
        raise DecodeError(
            f"buffer frame {position} of {len(buffer)} bytes is larger than this codec's max_frame_size "
            f"({max_frame_size})"
        )
    return buffer


def _without_buffers(frame: Any, generation: Generation) -> bool:
    """Whether ``frame`` (``bytes`` or a ``zmq.Frame``) starts as every noobwire encoder starts a
    message of ``generation`` whose ``n_buffers`` is 0. Anything else takes the general path, which
    says what is wrong."""
    if type(frame) is bytes:
        data: Any = frame
    else:
        try:
            data = getattr(frame, "buffer", None)
        except Exception:  # the general path says what is wrong with it
            return False
        if type(data) is not memoryview or data.format != "B" or data.ndim != 1:
            return False
    return (
        data is not None
        and len(data) > 3
        and data[0] == wire.FRAME_ARRAY
        and data[1] == generation.version
        and data[2] < 0x80
        and data[3] == 0
    )


_ARRAY_HEADER_SIZES = {0xDC: 3, 0xDD: 5}


def _n_buffers(header: Any) -> int | None:
    """The ``n_buffers`` field of a header that passed ``check_prefix``: a count, or None when the
    type code or the field is not an int or the count is negative (the decoder refuses those)."""
    if (
        len(header) > 3
        and header[0] == wire.FRAME_ARRAY
        and header[1] < 0x80
        and header[2] < 0x80
        and header[3] < 0x80
    ):
        return int(header[3])  # what every noobwire encoder writes
    pos = _ARRAY_HEADER_SIZES.get(header[0], 1)
    for _ in ("version", "type"):
        value, pos = read_int(header, pos)
        if value is None:
            return None
    count, _ = read_int(header, pos)
    return count if count is not None and count >= 0 else None


_active = FrameCodec(ACTIVE)
_functions = _active.bound(REFERENCE, DEFAULT_OPTIONS)  # (the compiled backend's own, where it is active)

encode_frames = _functions.encode_frames
"""``encode_frames(msg, generation=REFERENCE, options=DEFAULT_OPTIONS, *, threshold=65536) -> list``:
``msg`` as ``[buffer_0, ..., buffer_n-1, header]`` on the active backend, for
``socket.send_multipart(frames, copy=False)``; see :meth:`FrameCodec.encode_frames`."""

decode_frames = _functions.decode_frames
"""``decode_frames(frames, generation=REFERENCE, options=DEFAULT_OPTIONS, *, buffers_as="bytes") ->
Message``: the message of ``frames`` (as ``socket.recv_multipart()`` returns them) on the active
backend, its arrays views of their frames; see :meth:`FrameCodec.decode_frames`."""

decode_multipart = _active.decode_multipart
"""The envelope and the message of ``frames``, on the active backend; see
:meth:`FrameCodec.decode_multipart`."""
