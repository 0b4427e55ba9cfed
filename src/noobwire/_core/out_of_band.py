"""Out-of-band buffers: large arrays and bytes that travel in frames of their own.

A message with out-of-band buffers is several frames: the buffers, then the header, a frame of the
usual form whose ``n_buffers`` says how many buffer frames precede it and whose values refer to them
by index (``docs/wire-format.md``, section 5). This module holds what both backends share: the
reference extensions, built and read back, and the two objects a backend is handed.

Encoding: :class:`OutOfBand` collects the buffers of one message. :func:`take_out_of_band` replaces
each large buffer in a message's free values (found through its generation's layout) by a reference
(a ``msgpack.ExtType``, which both backends write as the extension it holds), so a backend's own
writer writes the header; :func:`finish_header` then writes its ``n_buffers``.

Decoding: :class:`ReceivedBuffers` holds the buffer frames. A backend's
``decode_frame(buf, generation, options, buffers)`` refuses the header unless its ``n_buffers`` equals
``len(buffers)``, and reads each extension of code 16 to 31 as ``buffers.resolve(code, payload)``.
The caller then calls :meth:`ReceivedBuffers.check_all_used`.
"""

from __future__ import annotations

import sys
from datetime import datetime
from functools import lru_cache
from typing import Any

import msgpack
from msgpack import ExtType

from noobwire import wire
from noobwire._core import extensions
from noobwire._core.extensions import array_layout, dtype_descr
from noobwire._core.pickled_strs import refuse_encoded
from noobwire._core.screens import unpack_value
from noobwire._core.shapes import construct_message
from noobwire.errors import DecodeError, EncodeError, describe
from noobwire.layout import FREE_KINDS, Generation, ListOf, Record
from noobwire.options import Options

__all__ = [
    "MAX_BUFFER_DEPTH",
    "OutOfBand",
    "ReceivedBuffers",
    "array_reference_payload",
    "bytes_reference_payload",
    "finish_header",
    "take_out_of_band",
    "with_n_buffers",
]

MAX_BUFFER_DEPTH = 32
"""Buffers nested deeper than this in a free value (the value itself being depth 0) stay in-band."""

_packer = msgpack.Packer(use_bin_type=True)


class OutOfBand:
    """Where an encoder puts the buffers of one message that go out of band.

    ``threshold``: a buffer of at least this many bytes goes out of band. ``buffers``: the frames
    collected so far, in index order; each is ``bytes`` or a one-dimensional ``memoryview`` of
    unsigned bytes over the value's own memory.
    """

    __slots__ = ("buffers", "threshold")

    def __init__(self, threshold: int = wire.DEFAULT_BUFFER_THRESHOLD) -> None:
        if type(threshold) is not int or threshold < 0:
            raise ValueError(f"threshold must be a non-negative int, not {describe(threshold)}")
        self.threshold = threshold
        self.buffers: list[Any] = []


# --- references, written -------------------------------------------------------------------------


def array_reference_payload(index: int, descr: Any, shape: list[int], layout: int) -> bytes:
    """The payload of an ``EXT_BUFFER_NDARRAY``: MessagePack ``[index, dtype, shape, layout]``."""
    payload: bytes = _packer.pack([index, descr, shape, layout])
    return payload


def bytes_reference_payload(index: int) -> bytes:
    """The payload of an ``EXT_BUFFER_BYTES``: the buffer frame's index, a MessagePack int."""
    payload: bytes = _packer.pack(index)
    return payload


def _reference(obj: Any, out_of_band: OutOfBand) -> ExtType | None:
    """If ``obj`` is a buffer that goes out of band: add its frame and return its reference."""
    kind = type(obj)
    if kind is bytes or kind is bytearray:
        if len(obj) < out_of_band.threshold:
            return None
        frame: Any = obj
    elif kind is memoryview:
        try:
            if obj.nbytes < out_of_band.threshold or not obj.c_contiguous:
                return None  # a non-contiguous memoryview is refused by the in-band encoder
            frame = obj if obj.ndim == 1 and obj.format == "B" else obj.cast("B")
        except (ValueError, TypeError):  # released, or a shape that cannot be cast
            return None
    else:
        np = sys.modules.get("numpy")
        if np is None or kind is not np.ndarray:
            return None
        return _array_reference(obj, out_of_band)
    index = len(out_of_band.buffers)
    out_of_band.buffers.append(frame)
    return ExtType(wire.EXT_BUFFER_BYTES, bytes_reference_payload(index))


def _array_reference(array: Any, out_of_band: OutOfBand) -> ExtType | None:
    dtype = array.dtype
    if array.nbytes < out_of_band.threshold or dtype.hasobject or dtype.itemsize == 0:
        return None
    try:
        descr = dtype_descr(dtype)
    except Exception:  # a dtype that cannot be described (a title that is not a str): the in-band
        return None  # writer refuses it, and says where it is
    layout, data = array_layout(array)  # as in band
    try:
        frame = memoryview(data).cast("B")
    except (ValueError, TypeError):  # a dtype with no buffer format (datetimes, some structured ones)
        frame = memoryview(data.reshape(-1).view(_numpy().uint8))
    index = len(out_of_band.buffers)
    payload = array_reference_payload(index, descr, list(array.shape), layout)
    out_of_band.buffers.append(frame)
    return ExtType(wire.EXT_BUFFER_NDARRAY, payload)


def _numpy() -> Any:
    import numpy

    return numpy


_PLAIN = frozenset({int, float, str, bool, type(None), datetime})
"""Kinds of value that hold no buffer: looked past without a call."""


def _substitute(obj: Any, out_of_band: OutOfBand, depth: int, path: set[int]) -> Any:
    """``obj`` with its large buffers replaced by references; ``obj`` itself if it holds none.

    Containers are copied only where something changed. Only the containers the format writes as
    arrays and maps by exact type (list, tuple, dict values) are entered: dict keys and set elements
    stay in-band, as does anything pickled. ``path`` holds the containers being entered (a cycle is
    left to the encoder to refuse).
    """
    kind = type(obj)
    if kind is not list and kind is not tuple and kind is not dict:
        reference = _reference(obj, out_of_band)
        return obj if reference is None else reference
    if depth >= MAX_BUFFER_DEPTH or id(obj) in path:
        return obj
    path.add(id(obj))
    try:
        items = obj.items() if kind is dict else enumerate(obj)
        changed: Any = None  # a copy of obj (a list for a tuple), made at the first item replaced
        for key, item in items:
            if type(item) in _PLAIN:
                continue
            new = _substitute(item, out_of_band, depth + 1, path)
            if new is not item:
                if changed is None:
                    changed = dict(obj) if kind is dict else list(obj)
                changed[key] = new
        if changed is None:
            return obj
        return tuple(changed) if kind is tuple else changed
    finally:
        path.discard(id(obj))


def take_out_of_band(msg: Any, out_of_band: OutOfBand, generation: Generation) -> Any:
    """``msg``, or a shallow copy of it whose free values refer to their large buffers, which are
    added to ``out_of_band.buffers``. ``msg`` itself is never changed.

    Only the constructed messages of ``generation`` (the hot path: events and process messages) carry
    buffers out of band, from the free fields of their records (an event's ``value``, a process
    message's ``input``). Anything this cannot read as the layout says is left as it is, for the
    encoder to refuse.
    """
    layout = generation.layout(msg.type_) if isinstance(msg.type_, str) else None
    if layout is None or not layout.constructed:
        return msg
    shape = layout.value
    value = msg.value
    path: set[int] = set()
    if isinstance(shape, ListOf) and isinstance(shape.item, Record) and type(value) is list:
        free = _free_keys(shape.item)
        new_value: Any = None
        for i, record in enumerate(value):
            new = _substitute_fields(record, free, out_of_band, path)
            if new is not record:
                if new_value is None:
                    new_value = list(value)
                new_value[i] = new
        if new_value is None:
            return msg
    elif isinstance(shape, Record):
        new_value = _substitute_fields(value, _free_keys(shape), out_of_band, path)
        if new_value is value:
            return msg
    else:
        return msg
    return construct_message(type(msg), msg.type_, msg.node_id, msg.timestamp, new_value)


def _free_keys(record: Record) -> tuple[str, ...]:
    return tuple(item.name for item in record.fields if item.shape in FREE_KINDS)


def _substitute_fields(record: Any, keys: tuple[str, ...], out_of_band: OutOfBand, path: set[int]) -> Any:
    """A record (a dict) with the buffers of its free fields replaced by references; itself if none."""
    if type(record) is not dict:
        return record  # the encoder refuses what is not a record
    changed: dict[str, Any] | None = None
    for key in keys:
        item = record.get(key)
        if type(item) in _PLAIN:
            continue
        new = _substitute(item, out_of_band, 0, path)
        if new is not item:
            if changed is None:
                changed = dict(record)
            changed[key] = new
    return record if changed is None else changed


def with_n_buffers(header: bytes, count: int) -> bytes:
    """A header frame written with ``n_buffers`` 0 by a single-frame encoder, with ``count`` instead.

    Every noobwire encoder writes ``96 <version> <type> 00`` first (the version, the type code and
    ``n_buffers`` are positive fixints), so the count replaces the fourth byte.
    """
    if header[0] != wire.FRAME_ARRAY or header[3] != 0:
        raise RuntimeError(
            "noobwire internal error: a header frame that does not start 96 <version> <type> 00"
        )
    packed: bytes = _packer.pack(count)
    return header[:3] + packed + header[4:]


def _nbytes(frame: Any) -> int:
    return frame.nbytes if type(frame) is memoryview else len(frame)


def finish_header(
    header: bytes, out_of_band: OutOfBand, msg: Any, generation: Generation, options: Options
) -> bytes:
    """The header frame a backend wrote for ``msg`` once :func:`take_out_of_band` had put its large
    buffers in ``out_of_band``: with ``n_buffers`` written, and, with pickle off, refused if an item of
    an array sent out of band is a str that noob's classes would unpickle (the header holds none)."""
    count = len(out_of_band.buffers)
    if count == 0:
        return header
    for index, frame in enumerate(out_of_band.buffers):
        if _nbytes(frame) > options.max_frame_size:  # (what the same settings' decoder would refuse)
            raise EncodeError(
                f"buffer frame {index} would be {_nbytes(frame)} bytes, more than this codec's "
                f"max_frame_size ({options.max_frame_size})"
            )
    if generation.pickle_prefix is not None and not options.allow_pickle:
        refuse_encoded(None, msg, generation.pickle_prefix)
    return with_n_buffers(header, count)


# --- references, read back -----------------------------------------------------------------------


class ReceivedBuffers:
    """The buffer frames of one received message, for a backend to resolve references to.

    ``frames`` are ``bytes`` or one-dimensional ``memoryview`` objects of unsigned bytes, in index
    order. Each must be referred to exactly once. Bytes values come back as ``bytes`` (a frame that
    is ``bytes`` itself, else one copy) or, with ``as_memoryview``, as a ``memoryview`` of the frame.
    """

    __slots__ = ("_as_memoryview", "_frames", "_used")

    def __init__(self, frames: list[Any], as_memoryview: bool = False) -> None:
        self._frames = frames
        self._as_memoryview = as_memoryview
        self._used = [False] * len(frames)

    def __len__(self) -> int:
        return len(self._frames)

    def resolve(self, code: int, payload: bytes | memoryview) -> Any:
        """The value an extension of code 16 to 31 stands for: a view of its frame, or its bytes."""
        if code == wire.EXT_BUFFER_NDARRAY:
            return self._array(payload)
        if code == wire.EXT_BUFFER_BYTES:
            frame = self._take(_read_payload(payload, "bytes"))
            if self._as_memoryview:
                return frame if type(frame) is memoryview else memoryview(frame)
            return frame if type(frame) is bytes else bytes(frame)
        raise DecodeError(f"unknown out-of-band reference (extension {code})")

    def forget_references(self) -> None:
        """Count no buffer as referred to yet (a decoder that reads the header again calls this)."""
        self._used = [False] * len(self._frames)

    def check_all_used(self) -> None:
        """Raise :class:`DecodeError` if a buffer frame was not referred to."""
        if not all(self._used):
            unused = [i for i, used in enumerate(self._used) if not used]
            raise DecodeError(
                f"buffer frame {unused[0]} is not referred to by the header ({len(unused)} unused)"
            )

    def _take(self, index: Any) -> Any:
        if type(index) is not int or not 0 <= index < len(self._frames):
            raise DecodeError(
                f"reference to buffer frame {describe(index)}, the message has {len(self._frames)}"
            )
        if self._used[index]:
            raise DecodeError(f"buffer frame {index} is referred to twice")
        self._used[index] = True
        return self._frames[index]

    def _array(self, payload: bytes | memoryview) -> Any:
        reference = _read_payload(payload, "array")
        if type(reference) is not list or len(reference) != 4:
            raise DecodeError("array reference must be [index, dtype, shape, layout]")
        index, descr, shape, layout = reference
        dtype: Any = _known_dtype(descr)
        count = None
        if dtype is not None and type(layout) is int and layout in _VIEW_LAYOUTS:
            count = _count(shape)
        if count is None:  # a dtype not met before, or something wrong: check it all
            dtype = _checked_dtype(descr, shape, layout)
            count = _count(shape) or 0  # the shape is valid now
        frame = self._take(index)
        if count * dtype.itemsize != len(frame):
            raise DecodeError(
                f"array reference of dtype {dtype.str} and shape {tuple(shape)} needs "
                f"{count * dtype.itemsize} bytes, buffer frame {index} has {len(frame)}"
            )
        order = "F" if layout == wire.LAYOUT_F else "C"
        try:
            if type(frame) is bytes:  # memory that cannot move: the array keeps the bytes
                array = _numpy().ndarray(shape, dtype, frame, order=order)
            else:  # a view that holds the frame's buffer while the array lives (numpy's ndarray keeps only
                # the object: a bytearray could then be resized, an mmap closed, under the array)
                array = _numpy().frombuffer(frame, dtype=dtype, count=count).reshape(shape, order=order)
        except (ValueError, TypeError) as exc:
            raise DecodeError(f"array reference that numpy refuses: {exc}") from None
        extensions.check_str_items(array)
        return array


_VIEW_LAYOUTS = (wire.LAYOUT_C, wire.LAYOUT_F)


def _known_dtype(descr: Any) -> Any:
    """The dtype of a simple descr that passed its check before, or None (then it is checked whole)."""
    if type(descr) is not str:
        return None
    try:
        return _simple_dtype(descr)
    except (DecodeError, ImportError):
        return None


def _count(shape: Any) -> int | None:
    """How many items an array of ``shape`` holds; None if ``shape`` is not a valid shape."""
    if type(shape) is not list or len(shape) > wire.MAX_NDIM:
        return None
    count = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:
            return None
        count *= dim
    return count


@lru_cache(maxsize=256)
def _simple_dtype(descr: str) -> Any:
    """The dtype of a simple (str) descr, checked once: the check costs more than the rest."""
    dtype, _, _ = extensions.check_array_header([descr, [], wire.LAYOUT_C])
    return dtype


def _checked_dtype(descr: Any, shape: Any, layout: Any) -> Any:
    """The dtype of an array reference, checked with its shape and layout as ``EXT_NDARRAY``'s are."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise DecodeError("the message holds a numpy array; install numpy to decode it") from None
    dtype, _, _ = extensions.check_array_header([descr, shape, layout])
    if layout == wire.LAYOUT_SCALAR:
        raise DecodeError("array reference with the layout of a numpy scalar")
    return dtype


def _read_payload(payload: bytes | memoryview, kind: str) -> Any:
    try:
        return unpack_value(payload)  # (not presized from counts the payload does not hold)
    except RecursionError:  # the caller's stack, not the frame's fault: no verdict
        raise
    except Exception as exc:
        raise DecodeError(f"malformed {kind} reference ({type(exc).__name__}: {exc})") from None
