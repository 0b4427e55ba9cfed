"""Cheap screens over a frame: what a frame's bytes, or a decoded value, cannot be.

Each answers a question in C-speed passes before anything costly is done: whether a frame can nest
deeper than a limit (``may_nest_deeper``, ``nests_deeper``, ``frame_height``), whether msgpack-python
could presize beyond what the frame pays for (``may_presize_beyond``, ``is_whole``), and a small value
read without presizing (``unpack_value``).
"""

from __future__ import annotations

import operator
from functools import partial
from itertools import chain, compress
from typing import Any

import msgpack

__all__ = [
    "CONTAINER_TYPES",
    "frame_height",
    "is_whole",
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
