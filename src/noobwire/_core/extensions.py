"""The value kinds MessagePack lacks: their extension payloads, built and read back.

Both backends write these payloads byte for byte the same way; the pure backend calls these functions
for every such value, the compiled one for the rare kinds. numpy is imported only when an array is met.
"""

from __future__ import annotations

import importlib
import pickle
import re
import struct
import sys
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import msgpack

from noobwire import wire
from noobwire._core import allowlist
from noobwire.errors import DecodeError, EncodeError, describe

__all__ = [
    "NO_EVENT",
    "array_layout",
    "bigint_from_payload",
    "bigint_payload",
    "check_array_header",
    "datetime_from_payload",
    "datetime_parts",
    "dtype_descr",
    "exception_type_from_payload",
    "exception_type_payload",
    "is_numpy_value",
    "meta_signal_from_payload",
    "meta_signal_payload",
    "ndarray_from_payload",
    "ndarray_parts",
    "ndarray_payload",
    "pickle_payload",
    "unpickle_payload",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_NAIVE = datetime(1970, 1, 1)
_ONE_DAY_US = 86_400_000_000
_TS96 = struct.Struct(">Iq")
_OFFSET = struct.Struct(">q")

# --- datetimes ----------------------------------------------------------------------------------


def datetime_parts(dt: datetime) -> tuple[int, int, int | None]:
    """Split ``dt`` into (seconds, nanoseconds, UTC offset in microseconds or None if naive).

    For an aware datetime the seconds count the UTC instant since the epoch; for a naive one they
    count its wall-clock time read as if it were UTC.
    """
    offset = dt.utcoffset()
    if offset is None:
        delta = dt.replace(tzinfo=None) - EPOCH_NAIVE
        offset_us = None
    else:
        delta = dt - EPOCH
        offset_us = offset // timedelta(microseconds=1)
    return delta.days * 86400 + delta.seconds, delta.microseconds * 1000, offset_us


_FOLD_BIT = 1 << 31
_RESERVED_BIT = 1 << 30


def datetime_payload(seconds: int, nanoseconds: int, offset_us: int | None, fold: int) -> bytes:
    """The payload of a ``EXT_DATETIME`` extension (naive, or aware with a non-zero offset).

    The top bit of the nanoseconds field carries ``fold``.
    """
    head = _TS96.pack(nanoseconds | (_FOLD_BIT if fold else 0), seconds)
    return head if offset_us is None else head + _OFFSET.pack(offset_us)


def datetime_from_payload(payload: bytes | memoryview) -> datetime:
    """Read back an ``EXT_DATETIME`` payload."""
    size = len(payload)
    if size not in (wire.DATETIME_NAIVE_SIZE, wire.DATETIME_OFFSET_SIZE):
        raise DecodeError(f"datetime extension of {size} bytes (must be 12 or 20)")
    nanoseconds, seconds = _TS96.unpack_from(payload)
    fold = 1 if nanoseconds & _FOLD_BIT else 0
    nanoseconds &= ~_FOLD_BIT
    if nanoseconds > 999_999_999:
        raise DecodeError(f"datetime extension with nanoseconds field 0x{nanoseconds:08x}")
    offset_us = 0
    tz = None
    if size == wire.DATETIME_OFFSET_SIZE:
        (offset_us,) = _OFFSET.unpack_from(payload, 12)
        if offset_us == 0 or not -_ONE_DAY_US < offset_us < _ONE_DAY_US:
            raise DecodeError(f"datetime extension with UTC offset of {offset_us} microseconds")
        tz = timezone(timedelta(microseconds=offset_us))
    try:
        local = EPOCH_NAIVE + timedelta(seconds=seconds, microseconds=nanoseconds // 1000 + offset_us)
    except OverflowError:
        raise DecodeError("datetime extension out of the range of datetime") from None
    return local.replace(tzinfo=tz, fold=fold)


# --- meta signals ------------------------------------------------------------------------------------

NO_EVENT = "NoEvent"
"""The name of the meta signal that an empty ``EXT_META_SIGNAL`` payload stands for."""


def meta_signal_payload(member: Any) -> bytes:
    """The ``EXT_META_SIGNAL`` payload of a member of a meta-signal enum: empty for ``NoEvent``, else
    the member's name in UTF-8."""
    name: str = member.name
    return b"" if name == NO_EVENT else name.encode("utf-8")


def meta_signal_from_payload(payload: bytes | memoryview, enum: Any) -> Any:
    """The member of the meta-signal ``enum`` an ``EXT_META_SIGNAL`` payload names (None: the schema has
    no meta signals, and the extension is refused)."""
    if enum is None:
        raise DecodeError("meta signal extension in a schema that has no meta signals")
    if not payload:
        member = getattr(enum, NO_EVENT, None)
        if member is None:
            raise DecodeError("meta signal extension for NoEvent, which this schema does not have")
        return member
    try:
        name = bytes(payload).decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("meta signal extension whose name is not UTF-8") from None
    member = enum.__members__.get(name) if name != NO_EVENT else None  # NoEvent is the empty payload
    if member is None:
        raise DecodeError(f"meta signal extension naming {describe(name)}, which this schema does not have")
    return member


# --- keys whose hash a frame can choose --------------------------------------------------------------

MAX_SHARED_HASH = 32
"""A map or set may hold at most this many keys (elements) of one hash value among those whose hash
the frame's writer can choose (``check_hashes``)."""
_INT_RANGE = range(-(2**63), 2**64)


def is_floodable(key: Any) -> bool:
    """Whether the hash of ``key`` (a map's key, a set's element) is the frame writer's to choose: a
    tuple or frozenset (their hash combines their elements'), an int beyond 64 bits (``hash(n)`` is
    ``n`` mod 2**61 - 1) or a numpy scalar (a complex one's hash is its parts'). str, bytes and
    datetimes hash with a random key; floats and ints of 64 bits share a hash a few dozen at a time at
    most."""
    kind = type(key)
    if kind is tuple or kind is frozenset:
        return True
    if kind is int:
        return key not in _INT_RANGE
    np = sys.modules.get("numpy")
    return np is not None and kind is not str and kind is not float and isinstance(key, np.generic)


MAX_KEY_DEPTH = 32
"""A map's key or a set's element nests at most this many tuples and frozensets deep. Putting it in its
dict or set may compare it with another key of the same hash, which recurses as deep as both: deeper,
the verdict would depend on how much of the stack the caller has left."""


def refuse_deep_keys(keys: Any) -> None:
    """Refuse (:class:`DecodeError`) the keys of one map, or the elements of one set, if one of them nests
    tuples and frozensets deeper than ``MAX_KEY_DEPTH`` (walked level by level, not by recursion)."""
    for key in keys:
        kind = type(key)
        if (kind is tuple or kind is frozenset) and _nests_deeper(key, MAX_KEY_DEPTH):
            raise DecodeError(
                f"a map key or set element of tuples and frozensets nested deeper than {MAX_KEY_DEPTH} levels"
            )


def _nests_deeper(key: Any, limit: int) -> bool:
    level = [key]
    for _ in range(limit):
        level = [item for container in level for item in container if type(item) in _HASHABLE_CONTAINERS]
        if not level:
            return False
    return True


_HASHABLE_CONTAINERS = (tuple, frozenset)


def check_hashes(keys: Any) -> None:
    """Refuse (:class:`DecodeError`) the keys of one map, or the elements of one set, if more than
    ``MAX_SHARED_HASH`` of those whose hash the frame chooses share a hash value: each insertion into
    the dict or set would compare with all the others (2000 such keys in 300 KB took half a minute).
    Honest frames never come near it: distinct keys share a 64-bit hash by chance almost never."""
    counts: dict[int, int] = {}
    for key in keys:
        if is_floodable(key):
            try:
                code = hash(key)
            except (TypeError, RecursionError):  # unhashable: the dict or set refuses it itself
                continue
            counts[code] = count = counts.get(code, 0) + 1
            if count > MAX_SHARED_HASH:
                kind = type(key).__qualname__
                raise DecodeError(
                    f"a map or set with more than {MAX_SHARED_HASH} keys of one hash value (a {kind} among "
                    "them): a frame made to slow down the dict or set it fills"
                )


# --- big integers ------------------------------------------------------------------------------


def bigint_payload(value: int) -> bytes:
    """Two's complement, big-endian, in as few bytes as hold ``value`` with its sign."""
    return value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)


def bigint_from_payload(payload: bytes | memoryview) -> int:
    """Read back an ``EXT_BIGINT`` payload."""
    if not payload:
        raise DecodeError("big integer extension with no bytes")
    return int.from_bytes(payload, "big", signed=True)


# --- numpy ----------------------------------------------------------------------------------------

_header_packer = msgpack.Packer(use_bin_type=True)


def is_numpy_value(obj: Any) -> bool:
    """Whether ``obj`` is a numpy array (exactly ``ndarray``) or a numpy scalar."""
    np = sys.modules.get("numpy")
    return np is not None and (type(obj) is np.ndarray or isinstance(obj, np.generic))


def ndarray_payload(obj: Any) -> bytes | None:
    """The ``EXT_NDARRAY`` payload of a numpy array or scalar; None if its dtype holds objects or
    has no size (those are pickled).

    A C-contiguous array is written as it lies in memory, an F-contiguous one too (layout F); any
    other array is first made C-contiguous (one copy).
    """
    parts = ndarray_parts(obj)
    if parts is None:
        return None
    header, data = parts
    items: bytes = data.tobytes()
    return header + items


def ndarray_parts(obj: Any) -> tuple[bytes, Any] | None:
    """The ``EXT_NDARRAY`` payload of a numpy array or scalar in two parts: the packed header, and a
    C-contiguous array whose bytes follow it; None if the value is pickled instead."""
    import numpy as np

    if isinstance(obj, np.generic):
        # A numpy str/bytes scalar reports itemsize 0 when empty; its array form holds one item.
        obj = np.asarray(obj)
        layout, data = wire.LAYOUT_SCALAR, obj
    else:
        layout, data = array_layout(obj)
    if obj.dtype.hasobject or obj.dtype.itemsize == 0:
        return None
    # The header packer writes the tuples of a structured dtype's descr as arrays.
    header: bytes = _header_packer.pack([dtype_descr(obj.dtype), list(obj.shape), layout])
    return header, data


def array_layout(array: Any) -> tuple[int, Any]:
    """How an array is written, in band or out of band: its layout, and a C-contiguous array of its
    bytes. C- and F-contiguous arrays are written as they lie (F as its transpose); any other is made
    C-contiguous once."""
    flags = array.flags
    if flags.c_contiguous:
        return wire.LAYOUT_C, array
    if flags.f_contiguous:
        return wire.LAYOUT_F, array.T
    import numpy as np

    return wire.LAYOUT_C, np.ascontiguousarray(array)


@lru_cache(maxsize=256)
def dtype_descr(dtype: Any) -> Any:
    """numpy's ``dtype_to_descr`` of ``dtype`` (what an array's header carries), remembered: finding
    it costs more than the rest of a header."""
    from numpy.lib.format import dtype_to_descr

    return dtype_to_descr(dtype)


_HEADER_PREFIX = 4096
"""How much of an array payload is handed to the header's unpacker at first (the header is small;
copying the whole payload into the unpacker would copy the array's data once more)."""


def ndarray_from_payload(payload: bytes | memoryview) -> Any:
    """Read back an ``EXT_NDARRAY`` payload as a new, writable array (or a numpy scalar)."""
    try:
        import numpy as np
    except ImportError:
        raise DecodeError("the frame holds a numpy array; install numpy to decode it") from None
    view = memoryview(payload)
    header_size = _array_header_size(view)
    try:
        # Read once whole (the skip above): no list is presized from a count the payload lacks.
        header = msgpack.unpackb(view[:header_size], raw=False, strict_map_key=False)
    except RecursionError:  # the caller's stack, not the frame's fault: no verdict
        raise
    except Exception as exc:
        raise DecodeError(f"array extension with a malformed header: {exc}") from None
    data = view[header_size:]
    dtype, shape, layout = check_array_header(header)
    count = 1
    for dim in shape:
        count *= dim
    if count * dtype.itemsize != len(data):
        raise DecodeError(
            f"array extension of dtype {dtype.str} and shape {tuple(shape)} "
            f"needs {count * dtype.itemsize} bytes of data, has {len(data)}"
        )
    try:
        # A copy of the bytes themselves (padding included), so the array re-encodes to the same bytes.
        flat = np.frombuffer(bytearray(data), dtype=dtype, count=count)
        check_str_items(flat)
        if layout == wire.LAYOUT_SCALAR:
            return flat.reshape(())[()]
        return flat.reshape(shape, order="F" if layout == wire.LAYOUT_F else "C")
    except (ValueError, TypeError, MemoryError) as exc:
        raise DecodeError(f"array extension that numpy refuses: {exc}") from None


def _array_header_size(view: memoryview) -> int:
    """The bytes of the MessagePack header at the start of an array payload, found by stepping over it
    in C without building anything (msgpack-python's ``Unpacker.skip``)."""
    unpacker = msgpack.Unpacker(max_buffer_size=max(len(view), 1))  # (0 would mean its 1 MiB default)
    unpacker.feed(view[:_HEADER_PREFIX])
    try:
        try:
            unpacker.skip()
        except msgpack.OutOfData:
            if len(view) <= _HEADER_PREFIX:
                raise
            unpacker.feed(view[_HEADER_PREFIX:])  # a header longer than the prefix: rare
            unpacker.skip()
    except (msgpack.OutOfData, ValueError) as exc:
        raise DecodeError(f"array extension with a malformed header: {exc}") from None
    size: int = unpacker.tell()
    return size


def check_array_header(header: Any) -> tuple[Any, list[int], int]:
    """Check an array's ``[dtype, shape, layout]`` as read from a frame; return the numpy dtype, the
    shape and the layout, or raise :class:`DecodeError` saying what is wrong."""
    import numpy as np
    from numpy.lib.format import descr_to_dtype

    if type(header) is not list or len(header) != 3:
        raise DecodeError("array extension header must be [dtype, shape, layout]")
    descr, shape, layout = header
    if type(layout) is not int or layout not in (wire.LAYOUT_C, wire.LAYOUT_F, wire.LAYOUT_SCALAR):
        raise DecodeError(f"array extension with unknown layout {describe(layout)}")
    if type(shape) is not list or len(shape) > wire.MAX_NDIM:
        raise DecodeError(f"array extension with a shape of more than {wire.MAX_NDIM} dimensions")
    if any(type(dim) is not int or dim < 0 for dim in shape):
        raise DecodeError(f"array extension with invalid shape {describe(shape)}")
    if layout == wire.LAYOUT_SCALAR and shape:
        raise DecodeError("numpy scalar extension with a non-empty shape")
    try:
        dtype = descr_to_dtype(_descr_from_wire(descr, 0))
    except DecodeError:
        raise
    except RecursionError:  # the caller's stack, not the frame's fault: no verdict
        raise
    except Exception as exc:  # numpy raises many kinds for a bad descr
        raise DecodeError(f"array extension with invalid dtype {describe(descr)}: {exc}") from None
    if not isinstance(dtype, np.dtype) or dtype.hasobject or dtype.itemsize == 0:
        raise DecodeError(f"array extension with unsupported dtype {describe(descr)}")
    if _generic_time(np, dtype, 0):
        raise DecodeError(
            f"array extension of datetimes or timedeltas without a unit ({describe(descr)}): numpy cannot "
            "show their items"
        )
    return dtype, shape, layout


def _generic_time(np: Any, dtype: Any, depth: int) -> bool:
    """Whether ``dtype`` holds datetimes or timedeltas of no unit (``M8``), anywhere in its fields:
    numpy makes such arrays, but its ``repr()`` of them raises."""
    if dtype.kind in "mM":
        return bool(np.datetime_data(dtype)[0] == "generic")
    if depth > _MAX_DTYPE_NESTING:
        return False
    if dtype.subdtype is not None:
        return _generic_time(np, dtype.subdtype[0], depth + 1)
    return dtype.names is not None and any(
        _generic_time(np, dtype.fields[name][0], depth + 1) for name in dtype.names
    )


_MAX_DTYPE_NESTING = 32
_MAX_CODE_POINT = 0x10FFFF


def str_parts(array: Any, kinds: str = "U", depth: int = 0) -> list[Any]:
    """The parts of a numpy array whose items are numpy strs (dtype kind ``U``; with ``kinds="US"``,
    numpy bytes too): itself, or its fields' (and theirs)."""
    dtype = array.dtype
    if dtype.kind in kinds:
        return [array]
    if dtype.names is None or depth > _MAX_DTYPE_NESTING:
        return []
    return [part for name in dtype.names for part in str_parts(array[name], kinds, depth + 1)]


def check_str_items(array: Any) -> None:
    """Refuse (:class:`DecodeError`) an array of numpy strs holding a code point beyond U+10FFFF, which
    numpy cannot turn into a str (its ``repr()`` would fail)."""
    import numpy as np

    for part in str_parts(array):
        order = part.dtype.byteorder
        big = order == ">" or (order == "=" and sys.byteorder == "big")
        codes = np.ascontiguousarray(part).view(">u4" if big else "<u4")
        if codes.size and int(codes.max()) > _MAX_CODE_POINT:
            raise DecodeError("array extension of numpy strs holding a code point beyond U+10FFFF")


# What numpy writes for a dtype without fields (dtype.str): byte order, kind, size, datetime unit.
# Anything else is refused before numpy parses it (no object kind "O", no deprecated aliases).
_SIMPLE_DTYPE = re.compile(r"[<>|][biufcmMSUV][0-9]{1,9}(\[[0-9]*[A-Za-z]{1,2}\])?")


def _descr_from_wire(descr: Any, depth: int) -> Any:
    """Turn the arrays of a structured dtype's descr back into the tuples numpy expects."""
    if type(descr) is str:
        if not _SIMPLE_DTYPE.fullmatch(descr):
            raise DecodeError(f"array extension with unsupported dtype {describe(descr)}")
        return descr
    if type(descr) is not list or depth > _MAX_DTYPE_NESTING:
        raise DecodeError(f"array extension with invalid dtype {describe(descr)}")
    fields: list[tuple[Any, ...]] = []
    for field in descr:
        if type(field) is not list or len(field) not in (2, 3):
            raise DecodeError(f"array extension with invalid dtype field {describe(field)}")
        name = _field_name(field[0])
        fmt = _descr_from_wire(field[1], depth + 1)
        if len(field) == 3:
            shape = field[2]
            if (
                type(shape) is not list
                or len(shape) > wire.MAX_NDIM
                or any(type(dim) is not int or dim < 0 for dim in shape)
            ):
                raise DecodeError(f"array extension with invalid dtype field {describe(field)}")
            fields.append((name, fmt, tuple(shape)))
        else:
            fields.append((name, fmt))
    return fields


def _field_name(name: Any) -> Any:
    """A structured dtype field's name as numpy's descr has it: a str, or ``[title, name]`` with both strs
    (numpy takes any object for a title, but an array whose title is not a str cannot be written again)."""
    if type(name) is str:
        return name
    if type(name) is list and len(name) == 2 and type(name[0]) is str and type(name[1]) is str:
        return (name[0], name[1])
    raise DecodeError(
        f"array extension with a dtype field named {describe(name)}: a name is a str or [title, name]"
    )


# --- pickled objects --------------------------------------------------------------------------------
#
# The pickle policy lives in the functions below, which take it as an argument, so that both backends
# (the compiled one calls these same functions) enforce it the same way.

PICKLE_OFF = "pickle is off (allow_pickle=False)"


def pickle_payload(obj: Any, allow_pickle: bool) -> bytes:
    """Pickle ``obj`` (protocol 5) or raise :class:`EncodeError` saying why it could not be.

    With ``allow_pickle`` false nothing is pickled: the error names the value's type (the caller adds
    its path).
    """
    if not allow_pickle:
        raise EncodeError(
            f"cannot encode a value of type {type(obj).__qualname__}: it has no MessagePack form "
            f"and {PICKLE_OFF}"
        )
    try:
        return pickle.dumps(obj, protocol=wire.PICKLE_PROTOCOL)
    except Exception as exc:
        raise EncodeError(
            f"cannot encode a value of type {type(obj).__qualname__}: it has no MessagePack form "
            f"and pickling it failed ({type(exc).__name__}: {exc})"
        ) from exc


def unpickle_payload(payload: bytes | memoryview, allow_pickle: bool) -> Any:
    """Unpickle an ``EXT_PICKLE`` payload; any failure, or ``allow_pickle`` false, is a
    :class:`DecodeError`. With pickle off the payload is not looked at."""
    if not allow_pickle:
        raise DecodeError(f"refused a pickled value of {len(payload)} bytes: {PICKLE_OFF}")
    try:
        return pickle.loads(payload)
    except Exception as exc:
        raise DecodeError(f"pickled value that cannot be unpickled ({type(exc).__name__}: {exc})") from exc


# --- exception classes ---------------------------------------------------------------------------


def exception_type_payload(cls: type, allow_pickle: bool) -> bytes:
    """``"module:qualname"`` of an exception class, checked to lead back to the same class.

    A registered or builtin class always can; any other only with ``allow_pickle`` (the decoder finds
    it by importing its module), and only if importing leads back to ``cls``.
    """
    name = allowlist.exception_name(cls)
    if allowlist.allowed_exception(name) is cls:
        return name.encode("utf-8")
    if not allow_pickle:
        raise EncodeError(
            f"exception class {name} is neither a builtin nor registered with "
            f"noobwire.register_exception, and {PICKLE_OFF}"
        )
    try:
        found = _import_by_name(cls.__module__, cls.__qualname__)
    except DecodeError:
        found = None
    if found is not cls:
        raise EncodeError(f"exception class {name} cannot be found again by its name")
    return name.encode("utf-8")


def exception_type_from_payload(payload: bytes | memoryview, allow_pickle: bool) -> type[BaseException]:
    """Find the exception class an ``EXT_EXCEPTION_TYPE`` payload names.

    Registered and builtin classes are found without importing anything. Any other name is refused
    with pickle off; with pickle on, its module is imported (which runs the module's code).
    """
    try:
        name = bytes(payload).decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("exception class name is not UTF-8") from None
    module, sep, qualname = name.partition(":")
    if not sep or not module or not qualname:
        raise DecodeError(f"exception class name {describe(name)} is not 'module:qualname'")
    allowed = allowlist.allowed_exception(name)
    if allowed is not None:
        return allowed
    if not allow_pickle:
        raise DecodeError(
            f"refused exception class {describe(name)}: it is neither a builtin exception nor "
            f"registered with noobwire.register_exception, and {PICKLE_OFF}"
        )
    cls = _import_by_name(module, qualname)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        raise DecodeError(f"{describe(name)} is not an exception class")
    return cls


def _import_by_name(module_name: str, qualname: str) -> Any:
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception as exc:
        raise DecodeError(
            f"cannot find exception class {module_name}:{qualname} ({type(exc).__name__}: {exc})"
        ) from None
    return obj
