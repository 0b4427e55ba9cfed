"""Error diagnosis: where a frame goes wrong, and where in a message a value cannot be written.

Both run only on the error path. ``locate_malformation`` walks a frame that failed to decode, as a
second, slow MessagePack reader that checks each length against the bytes left, to say what broke and
at which offset; ``check_depth`` enforces a nesting limit below the format's own on the frame as
written. ``locate_encode_error`` finds the value in a message that cannot be written, and its path:
the compiled backend asks the pure one, which asks here once its packer has failed. It starts from the
message's free values (found through the generation's layout), so a value is named by where it sits
in the message (``value[2]['value']['a'][1]``), and descends to the innermost value that still fails.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from noobwire import wire
from noobwire._core import extensions
from noobwire._core.screens import CONTAINER_TYPES, frame_height, may_nest_deeper
from noobwire._core.shapes import free_values
from noobwire.errors import DecodeError, EncodeError, describe
from noobwire.layout import Generation, MessageLayout

__all__ = [
    "check_depth",
    "encode_error",
    "is_too_deep",
    "locate_encode_error",
    "locate_malformation",
    "locate_unencodable",
    "refuse_too_deep",
    "refuse_too_deep_keys",
]


def check_depth(buf: Any, max_depth: int) -> None:
    """Refuse a frame whose arrays and maps, as written, nest deeper than ``max_depth``, the frame's
    own array being level 1. Call it on a frame that decodes (it reads it once more).

    msgpack-python's unpacker stops at the format's limit (1024) by itself; a codec with a lower
    limit checks here. Each level of nesting needs an array or map header of its own, so a frame with
    fewer bytes that could start one than ``max_depth`` is shallow enough (one pass in C over its
    bytes). Otherwise its height is read from the bytes (``frame_height``), not from the decoded
    objects, where a map's duplicate key or a set's equal elements hide the levels they replaced.
    """
    if not may_nest_deeper(buf, max_depth) or frame_height(buf) <= max_depth:
        return
    located = locate_malformation(buf, max_depth)
    if located is not None and "nested deeper" in located.reason:
        raise located
    raise DecodeError(f"nested deeper than {max_depth} levels (this codec's max_depth)")


# --- locating a malformation ---------------------------------------------------------------------

_FIXED_SIZES = {
    0xC0: 0,
    0xC2: 0,
    0xC3: 0,
    0xCA: 4,
    0xCB: 8,
    **{m: f.size for m, f in wire.INT_FORMATS.items()},
}
_LENGTH_PREFIXED = {  # marker: (size of the length field, what it holds)
    0xC4: (1, "bin"),
    0xC5: (2, "bin"),
    0xC6: (4, "bin"),
    0xD9: (1, "str"),
    0xDA: (2, "str"),
    0xDB: (4, "str"),
    0xC7: (1, "ext"),
    0xC8: (2, "ext"),
    0xC9: (4, "ext"),
}
_FIXEXT_SIZES = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
_CONTAINERS = {
    0xDC: (2, 1),
    0xDD: (4, 1),
    0xDE: (2, 2),
    0xDF: (4, 2),
}  # length size, items per entry
_UINT = {1: struct.Struct(">B"), 2: struct.Struct(">H"), 4: struct.Struct(">I")}


class _Malformed(Exception):
    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason, self.offset = reason, offset


def locate_malformation(
    buf: Any, max_depth: int = wire.MAX_DEPTH, max_length: int | None = None
) -> DecodeError | None:
    """The first structural fault of a frame, as a :class:`DecodeError` with its offset, or None.

    Structural faults: truncation, the never-used byte 0xc1, a str that is not UTF-8, a length that
    exceeds the bytes left or ``max_length``, a bad timestamp, nesting deeper than ``max_depth``,
    bytes after the frame.
    """
    walker = _Walker(buf, max_depth, max_length)
    try:
        walker.walk()
    except _Malformed as fault:
        return DecodeError(fault.reason, fault.offset)
    except _OutOfBudget:
        return None
    if walker.pos != len(buf):
        return DecodeError(f"{len(buf) - walker.pos} bytes after the end of the frame", walker.pos)
    return None


class _OutOfBudget(Exception):
    """The frame has too many items to walk in Python at a cost proportionate to a refusal."""


_ITEM_BUDGET = 50_000
"""Items the walker steps over before it gives up (a Python loop: about 0.1 s of them)."""


class _Walker:
    """Steps over one MessagePack object, checking each length against the bytes left."""

    def __init__(self, buf: Any, max_depth: int, max_length: int | None) -> None:
        self.buf = buf
        self.size = len(buf)
        self.pos = 0
        self.max_depth = max_depth
        self.max_length = max_length

    def check_length(self, length: int, what: str, unit: str, start: int) -> None:
        """Refuse a declared length above the codec's ``max_length``."""
        if self.max_length is not None and length > self.max_length:
            raise _Malformed(
                f"{what} of {length} {unit} exceeds this codec's max_length ({self.max_length})", start
            )

    def take(self, count: int, what: str, *details: Any) -> int:
        """Step over ``count`` bytes; return where they start. ``what`` (formatted with ``details``
        only if they are missing) says what they hold."""
        start = self.pos
        if start + count > self.size:
            raise _Malformed(
                f"truncated: {what.format(*details)} needs {count} bytes, "
                f"{max(self.size - start, 0)} are left",
                start,
            )
        self.pos += count
        return start

    def uint(self, width: int) -> int:
        start = self.take(width, "a length")
        value: int = _UINT[width].unpack_from(self.buf, start)[0]
        return value

    def walk(self) -> None:
        items_left = [1]  # how many items each open container still holds; the frame is the first
        owed = 1  # their sum: the bytes they need at least, one per item
        budget = _ITEM_BUDGET
        while items_left:
            if items_left[-1] == 0:
                items_left.pop()
                continue
            items_left[-1] -= 1
            owed -= 1
            budget -= 1
            if not budget:
                raise _OutOfBudget
            start = self.pos
            if start >= self.size:
                raise _Malformed("truncated: the frame ends where a value should start", start)
            entries = self.item()
            if entries is None:
                continue
            count, per_entry = entries
            room = self.size - self.pos - owed  # what the containers around it leave
            if count * per_entry > room:
                raise _Malformed(
                    f"a container declares {count} {'items' if per_entry == 1 else 'entries'} but only "
                    f"{max(room, 0)} bytes are left for them",
                    start,
                )
            self.check_length(
                count, *(("an array", "items") if per_entry == 1 else ("a map", "entries")), start
            )
            if len(items_left) > self.max_depth:
                raise _Malformed(f"nested deeper than {self.max_depth} levels", start)
            items_left.append(count * per_entry)
            owed += count * per_entry

    def item(self) -> tuple[int, int] | None:
        """Step over one item's header (and a scalar's body); a container returns its size."""
        start = self.take(1, "a value")
        marker = self.buf[start]
        if marker <= 0x7F or marker >= 0xE0:
            return None
        if marker <= 0x8F:
            return marker & 0x0F, 2
        if marker <= 0x9F:
            return marker & 0x0F, 1
        if marker <= 0xBF:
            self.string(marker & 0x1F, start)
        elif marker == 0xC1:
            raise _Malformed("byte 0xc1 is never used in MessagePack", start)
        elif marker in _FIXED_SIZES:
            self.take(_FIXED_SIZES[marker], "a value of type 0x{:02x}", marker)
        elif marker in _LENGTH_PREFIXED:
            width, kind = _LENGTH_PREFIXED[marker]
            length = self.uint(width)
            if kind == "str":
                self.string(length, start)
            elif kind == "bin":
                self.check_length(length, "a bin", "bytes", start)
                self.take(length, "a bin of {} bytes", length)
            else:
                self.ext(length, start)
        elif marker in _FIXEXT_SIZES:
            self.ext(_FIXEXT_SIZES[marker], start)
        else:
            width, per_entry = _CONTAINERS[marker]
            return self.uint(width), per_entry
        return None

    def string(self, length: int, header: int) -> None:
        self.check_length(length, "a str", "bytes", header)
        start = self.take(length, "a str of {} bytes", length)
        try:
            bytes(self.buf[start : self.pos]).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Malformed(f"str is not valid UTF-8 ({exc.reason})", start + exc.start) from None

    def ext(self, length: int, start: int) -> None:
        self.check_length(length, "an extension", "bytes", start)
        code = self.buf[self.take(1, "an extension type")]
        payload = self.take(length, "an extension of {} bytes", length)
        if code == wire.EXT_TIMESTAMP & 0xFF:
            _check_timestamp(bytes(self.buf[payload : self.pos]), start)


def _check_timestamp(payload: bytes, start: int) -> None:
    if len(payload) == 4:
        return
    if len(payload) == 8:
        nanoseconds = int.from_bytes(payload, "big") >> 34
    elif len(payload) == 12:
        nanoseconds, seconds = struct.unpack(">Iq", payload)
        # the range of datetime: years 1 to 9999
        if not -62135596800 <= seconds <= 253402300799:
            raise _Malformed("timestamp out of the range of datetime", start)
    else:
        raise _Malformed(f"timestamp of {len(payload)} bytes (must be 4, 8 or 12)", start)
    if nanoseconds > 999_999_999:
        raise _Malformed(f"timestamp with {nanoseconds} nanoseconds", start)


# --- where a value cannot be written ------------------------------------------------------------


TryPack = Callable[[Any], BaseException | None]
"""Writes a value and returns the exception that raised, or None if it could be written."""


def refuse_too_deep(layout: MessageLayout, value: Any) -> None:
    """Raise :class:`EncodeError` if a free value of a message holds an array or map deeper than the
    format allows, naming the free value."""
    for path, free, level in free_values(layout.value, value, "value", wire.LEVEL_FIELD):
        if _max_container_depth(free, level) > wire.MAX_DEPTH:
            kind = type(free).__qualname__
            raise EncodeError(f"a {kind} nested deeper than {wire.MAX_DEPTH} levels (or cyclic)", path)


def refuse_too_deep_keys(layout: MessageLayout, value: Any) -> None:
    """Raise :class:`EncodeError` at the first map key or set element in a message's free values that
    nests tuples and frozensets deeper than a decoder accepts (``values.MAX_KEY_DEPTH``)."""
    for path, free, _ in free_values(layout.value, value, "value", wire.LEVEL_FIELD):
        stack = [(free, path)]
        while stack:
            obj, where = stack.pop()
            kind = type(obj)
            if kind is dict:
                for key, item in obj.items():
                    _refuse_deep_key(key, f"{where} (key {describe(key)})")
                    stack.append((item, f"{where}[{describe(key)}]"))
            elif kind is set or kind is frozenset:
                for item in obj:
                    _refuse_deep_key(item, f"{where} (an element)")
                    stack.append((item, f"{where} (an element)"))
            elif kind is list or kind is tuple:
                stack.extend((item, f"{where}[{i}]") for i, item in enumerate(obj))


def _refuse_deep_key(key: Any, path: str) -> None:
    try:
        extensions.refuse_deep_keys([key])
    except DecodeError as exc:
        raise EncodeError(exc.reason, path) from None


def _max_container_depth(obj: Any, depth: int) -> int:
    """The level of the deepest array or map in ``obj`` (which sits at ``depth``), as written."""
    deepest = 0
    stack = [(obj, depth)]
    while stack:
        obj, depth = stack.pop()
        kind = type(obj)
        if kind not in CONTAINER_TYPES:
            continue
        deepest = max(deepest, depth)
        if depth > wire.MAX_DEPTH:
            return depth
        children = [*obj.keys(), *obj.values()] if kind is dict else obj
        stack.extend((child, depth + 1) for child in children)
    return deepest


def locate_encode_error(
    generation: Generation,
    layout: MessageLayout,
    value: Any,
    node_id: Any,
    error: Exception,
    try_pack: TryPack,
) -> EncodeError:
    """Something in a message cannot be written (``error`` is what the packer raised): find it and say
    where it is. ``value`` is the message's value, ``node_id`` its node id as written."""
    node_id_error = try_pack(node_id)
    if node_id_error is not None:
        return encode_error(node_id_error, "node_id", node_id)
    if is_too_deep(error):
        try:
            refuse_too_deep(layout, value)
        except EncodeError as too_deep:
            return too_deep
    # Start from the values the schema leaves free, so that a value nested too deep is named by
    # where it sits in the message rather than by the message's own nesting.
    for path, free, _ in free_values(layout.value, value, "value", wire.LEVEL_FIELD):
        if try_pack(free) is not None:
            path, leaf, leaf_error = locate_unencodable(free, path, try_pack)
            return encode_error(leaf_error or error, path, leaf)
    path, leaf, leaf_error = locate_unencodable(value, "value", try_pack)
    return encode_error(leaf_error or error, path, leaf)


def _children(obj: Any) -> list[tuple[str, Any]]:
    kind = type(obj)
    if kind is list or kind is tuple:
        return [(f"[{i}]", item) for i, item in enumerate(obj)]
    if kind is dict:
        found: list[tuple[str, Any]] = []
        for key, item in obj.items():
            found.append((f" (key {describe(key)})", key))
            found.append((f"[{describe(key)}]", item))
        return found
    if kind is set or kind is frozenset:
        return [(" (an element)", item) for item in obj]
    return []


def locate_unencodable(obj: Any, path: str, try_pack: TryPack) -> tuple[str, Any, BaseException | None]:
    """Find the innermost value under ``obj`` that ``try_pack`` fails on: its path, itself, its error.

    Only called once encoding has failed, so the cost of trying each child again does not matter.
    A value nested too deep (or cyclic) is reported where the descent starts.
    """
    error = try_pack(obj)
    while error is not None and not is_too_deep(error):
        for step, child in _children(obj):
            child_error = try_pack(child)
            if child_error is not None:
                obj, path, error = child, path + step, child_error
                break
        else:
            break
    return path, obj, error


def is_too_deep(error: BaseException) -> bool:
    """Whether a packer's error says the value nests too deep (msgpack-python's words, and the compiled
    backend's)."""
    return isinstance(error, ValueError) and "recursion limit" in str(error)


def encode_error(error: BaseException, path: str, value: Any) -> EncodeError:
    """The :class:`EncodeError` for the exception ``value`` raised when it was written."""
    if isinstance(error, EncodeError):
        return EncodeError(error.reason, path)
    kind = type(value).__qualname__
    if isinstance(error, UnicodeEncodeError):
        return EncodeError(f"a {kind} that is not valid UTF-8 (it holds a lone surrogate)", path)
    if is_too_deep(error):
        return EncodeError(f"a {kind} nested deeper than {wire.MAX_DEPTH} levels (or cyclic)", path)
    return EncodeError(f"cannot encode a {kind} ({type(error).__name__}: {error})", path)
