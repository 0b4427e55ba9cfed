"""How a frame starts: what a socket hands over, JSON or MessagePack, its size, and its version.

Both backends read a frame the same way before anything else is read. ``frame_to_decode`` takes the
one frame to decode from whatever a socket handed over (``frame_buffer``) and refuses it if it is empty
or larger than the codec's ``max_frame_size`` (``check_frame_size``); ``is_json`` tells a legacy JSON
frame by its first byte (the one place that does; a JSON frame then goes to
:func:`noobwire._core.legacy_json.decode_json`, which refuses it if the codec does not
``accept_json``); and ``check_prefix`` reads a MessagePack frame's array header and version before
anything else, so that a frame of another version is reported as such.
"""

from __future__ import annotations

from typing import Any

from noobwire import wire
from noobwire.errors import DecodeError
from noobwire.generations import by_version
from noobwire.layout import Generation
from noobwire.options import Options

__all__ = [
    "byte_view",
    "check_frame_size",
    "check_prefix",
    "frame_buffer",
    "frame_to_decode",
    "frame_too_large",
    "is_json",
    "read_int",
]


def frame_to_decode(data: Any, options: Options) -> Any:
    """The one frame to decode of what a socket handed over (see :func:`noobwire.decode`): a non-empty
    buffer no longer than ``options.max_frame_size``, or a :class:`DecodeError`."""
    buf = frame_buffer(data)
    size = len(buf)
    if not size:
        raise DecodeError("empty frame", 0)
    check_frame_size(size, options)
    return buf


def frame_buffer(data: Any) -> Any:
    """The bytes of the one frame to decode: ``data`` itself (any buffer), a ``zmq.Frame``'s buffer,
    or the last frame of a list or tuple of frames (the ones before it are a topic or identities).

    Anything else, or a buffer that cannot be read as one dimension of bytes (a released memoryview,
    a non-contiguous or empty multi-dimensional one, an object whose buffer protocol fails), is a
    :class:`DecodeError`."""
    if type(data) is bytes:
        return data
    try:
        return _one_buffer(data)
    except DecodeError:
        raise
    except Exception as exc:  # whatever a caller's object raises when asked for its buffer
        raise DecodeError(f"cannot decode a {type(data).__qualname__}: {type(exc).__name__}: {exc}") from None


def _one_buffer(data: Any) -> Any:
    if isinstance(data, list | tuple):
        if not data:
            raise DecodeError("no frames to decode")
        data = data[-1]
        if type(data) is bytes:
            return data
    buffer = getattr(data, "buffer", None)  # a zmq.Frame
    if buffer is not None:
        data = buffer
    return byte_view(data, f"a {type(data).__qualname__}")


def byte_view(data: Any, what: str) -> Any:
    """``data``'s buffer as a one-dimensional ``memoryview`` of unsigned bytes (itself, if it is one),
    or a :class:`DecodeError` naming ``what`` it is."""
    try:
        view = memoryview(data)
    except Exception as exc:  # not a buffer, a released memoryview, a __buffer__ that raises
        raise DecodeError(f"cannot decode {what}: {type(exc).__name__}: {exc}") from None
    if not view.c_contiguous:
        raise DecodeError(f"cannot decode {what}: a non-contiguous buffer")
    if view.ndim == 1 and view.format == "B":
        return view
    if not view.nbytes:
        return memoryview(b"")  # (an empty multi-dimensional buffer cannot be cast)
    try:
        return view.cast("B")
    except (TypeError, ValueError) as exc:  # a format memoryview cannot cast
        raise DecodeError(f"cannot decode {what}: {exc}") from None


def is_json(buf: Any) -> bool:
    """Whether a non-empty frame is a legacy JSON frame (it starts with ``{`` or JSON whitespace)."""
    return buf[0] in wire.JSON_FIRST_BYTES


def frame_too_large(size: int, max_frame_size: int) -> DecodeError:
    """The error for a frame longer than a codec's ``max_frame_size`` (raised before reading it)."""
    return DecodeError(
        f"a frame of {size} bytes is larger than this codec's max_frame_size ({max_frame_size})", 0
    )


def check_frame_size(size: int, options: Options) -> None:
    """Refuse a frame of ``size`` bytes that is longer than ``options.max_frame_size``."""
    if size > options.max_frame_size:
        raise frame_too_large(size, options.max_frame_size)


def read_int(buf: Any, pos: int) -> tuple[int | None, int]:
    """The MessagePack int at ``pos`` and the position after it, or None (and ``pos``) if there is none."""
    if pos >= len(buf):
        return None, pos
    marker = buf[pos]
    if marker <= 0x7F:
        return int(marker), pos + 1
    if marker >= 0xE0:
        return marker - 0x100, pos + 1
    fmt = wire.INT_FORMATS.get(marker)
    if fmt is None or pos + 1 + fmt.size > len(buf):
        return None, pos
    value: int = fmt.unpack_from(buf, pos + 1)[0]
    return value, pos + 1 + fmt.size


def check_prefix(buf: Any, generation: Generation) -> None:
    """Check that a MessagePack frame is an array of six fields whose first is ``generation``'s version."""
    size = len(buf)
    if size > 1 and buf[0] == wire.FRAME_ARRAY and buf[1] == generation.version:
        return  # what every noobwire encoder writes
    first = buf[0]
    if 0x90 <= first <= 0x9F:
        length, pos = first & 0x0F, 1
    elif first in wire.ARRAY_LENGTHS:
        fmt = wire.ARRAY_LENGTHS[first]
        if size < 1 + fmt.size:
            raise DecodeError("truncated array header", 0)
        (length,) = fmt.unpack_from(buf, 1)
        pos = 1 + fmt.size
    else:
        raise DecodeError(
            f"not a noobwire frame: it starts with byte 0x{first:02x}, neither a MessagePack array nor JSON",
            0,
        )
    if length == 0:
        raise DecodeError("not a noobwire frame: an empty array", 0)
    if pos >= size:
        raise DecodeError("truncated before the version field", pos)
    version, _ = read_int(buf, pos)
    if version is None:
        if buf[pos] in wire.INT_FORMATS:
            raise DecodeError("truncated version field", pos)
        raise DecodeError("not a noobwire frame: the first field is not a version number", pos)
    if version != generation.version:
        raise DecodeError(_other_version(version, generation), pos)
    if length != wire.HEADER_LENGTH:
        raise DecodeError(
            f"a version {version} frame is an array of {wire.HEADER_LENGTH} fields, this one has {length}",
            0,
        )


def _other_version(version: int, generation: Generation) -> str:
    reads = f"this codec reads version {generation.version} ({generation.summary})"
    known = by_version(version)
    if known is None:
        return f"unsupported wire format version {version}: {reads}"
    return (
        f"unsupported wire format version {version} here: it is {known.summary}'s, and {reads}; "
        "decode it with a codec of that generation"
    )
