"""The frame walker: where a malformed frame goes wrong, and how deep a frame nests.

``locate_malformation`` walks a frame that failed to decode, as a second, slow MessagePack reader that
checks each length against the bytes left, to say what broke and at which offset (it runs only on the
error path). ``check_depth`` enforces a nesting limit below the format's own, and ``may_nest_deeper`` /
``nests_deeper`` are the cheap tests it and the pure encoder start with.
"""

from __future__ import annotations

import operator
import struct
from functools import partial
from itertools import chain, compress
from typing import Any

import msgpack

from noobwire import wire
from noobwire.errors import DecodeError

__all__ = [
    "CONTAINER_TYPES",
    "check_depth",
    "frame_height",
    "is_whole",
    "locate_malformation",
    "may_nest_deeper",
    "may_presize_beyond",
    "nests_deeper",
    "unpack_value",
]


CONTAINER_TYPES = frozenset((list, dict, tuple, set, frozenset))
"""The values written as MessagePack arrays and maps: the ones that nest."""
_is_container_type = CONTAINER_TYPES.__contains__
_is_dict_type = partial(operator.is_, dict)
_NOT_CONTAINER_HEADERS = bytes(b for b in range(256) if not (0x80 <= b <= 0x9F or 0xDC <= b <= 0xDF))


def may_nest_deeper(buf: Any, max_depth: int) -> bool:
    """False if the frame ``buf`` cannot nest deeper than ``max_depth``: each level needs an array or
    map header of its own, and it holds no more bytes that could start one (one pass in C)."""
    data = buf if type(buf) is bytes else bytes(buf)
    return len(data.translate(None, _NOT_CONTAINER_HEADERS)) > max_depth


def nests_deeper(root: Any, max_depth: int) -> bool:
    """Whether the lists, dicts, tuples, sets and frozensets in ``root`` (level 1) nest deeper than
    ``max_depth`` levels. Walked level by level in C (``map``, ``compress``), not item by item."""
    level = [root]
    for _ in range(max_depth):
        dicts = list(compress(level, map(_is_dict_type, map(type, level))))
        items = (
            list(chain.from_iterable(level))
            if not dicts
            else [
                *chain.from_iterable(
                    compress(level, map(operator.not_, map(_is_dict_type, map(type, level))))
                ),
                *chain.from_iterable(dicts),  # their keys
                *chain.from_iterable(map(dict.values, dicts)),
            ]
        )
        if CONTAINER_TYPES.isdisjoint(map(type, items)):
            return False  # (cheaper than the compress below: most deep levels are leaves)
        level = list(compress(items, map(_is_container_type, map(type, items))))
    return True


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


class _Height(int):
    """How many levels of arrays and maps a container of a height pass holds, itself included."""

    __slots__ = ()


_is_height = partial(operator.is_, _Height)
_ONE_LEVEL = _Height(1)


def _container_height(items: Any) -> _Height:
    if not items or _Height not in set(map(type, items)):
        return _ONE_LEVEL  # (most containers hold no container: no new object for them)
    return _Height(max(compress(items, map(_is_height, map(type, items)))) + 1)


def _map_height(pairs: Any) -> _Height:
    return _container_height(list(chain.from_iterable(pairs))) if pairs else _ONE_LEVEL


def _no_extension(code: int, data: bytes) -> None:
    return None


def frame_height(buf: Any) -> int:
    """How deep the arrays and maps of a whole MessagePack value (a frame) nest, as written: every
    entry of a map counts, duplicate keys or not. msgpack-python reads it with each container turned
    into its height (a call per container, none per scalar) and no extension built."""
    height = msgpack.unpackb(
        buf,
        list_hook=_container_height,
        object_pairs_hook=_map_height,
        ext_hook=_no_extension,
        raw=True,
        strict_map_key=False,
        timestamp=0,
    )
    return int(height) if type(height) is _Height else 0


# --- what msgpack-python may presize -------------------------------------------------------------

_PRESIZED_HEADERS = (b"\xdc", b"\xdd", b"\xde", b"\xdf")
"""The array and map headers whose count msgpack-python presizes from beyond a few items: a list, or a
map's list of entries when it is read with a pairs hook (as every frame over 64 KiB is)."""


def may_presize_beyond(buf: Any) -> bool:
    """False if msgpack-python cannot presize from ``buf``'s counts more than a constant plus a few
    times ``buf``'s size: it holds at most one byte that could start an array or map of more than 15
    items (a fix container's 15 items, 1024 levels deep, are the constant)."""
    if type(buf) is not bytes:
        return True
    if len(buf) <= _FILTER_UP_TO:
        return len(buf.translate(None, _NOT_PRESIZED)) > 1
    found = 0
    for header in _PRESIZED_HEADERS:  # bytes.find of one byte is a memchr: fast on a long frame
        at = buf.find(header)
        if at >= 0:
            found += 1 if buf.find(header, at + 1) < 0 else 2
            if found > 1:
                return True
    return False


_NOT_PRESIZED = bytes(byte for byte in range(256) if bytes((byte,)) not in _PRESIZED_HEADERS)
_FILTER_UP_TO = 1024
"""Frames up to this size keep only their presizing header bytes (one pass: a few thousand instructions
on a small frame, where four counts or searches cost twice that); longer ones are searched (memchr)."""


def is_whole(buf: Any) -> bool:
    """Whether the MessagePack value at the start of ``buf`` is whole: every array, map, str, bin and
    extension in it has all the items and bytes it declares (and it nests at most 1024 levels). A walk
    in C that builds nothing (msgpack-python's ``Unpacker.skip``; the value is copied into it once)."""
    unpacker = msgpack.Unpacker(max_buffer_size=max(len(buf), 1))
    unpacker.feed(buf)
    try:
        unpacker.skip()
    except (msgpack.OutOfData, ValueError):  # truncated; malformed; too deep
        return False
    return True


def unpack_value(buf: Any) -> Any:
    """A small MessagePack value held in a frame (an array header, a buffer reference), read with
    msgpack-python (str as str, any map keys) without presizing from counts the bytes do not hold.
    Raises what msgpack-python raises (``ValueError`` and its kin) for a malformed one."""
    if may_presize_beyond(buf) and not is_whole(buf):
        raise ValueError("a truncated or malformed MessagePack value")
    return msgpack.unpackb(buf, raw=False, strict_map_key=False)


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
