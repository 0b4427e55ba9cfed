"""Strs that a reader would take for pickles: found in a frame's bytes, and in a message's values.

The reference JSON writes a value it cannot serialize as ``"pck__" + base64(pickle)``, and noob's
classes unpickle *any* str that begins so where they declare a ``Picklable`` value (an event's value,
an error message's value), whenever they validate it: when they read JSON, and also when noob builds a
new message from values it holds (a node publishing what it computed from what it received). So with
pickle off, a str beginning with ``pck__`` must never reach noob's classes from a peer: not as an event's
value, nor anywhere a node could take it from (a key, an item, a process input, an element of a numpy
str array). :func:`find` says where such a str is in a message; :func:`may_hold` rules most frames out
from their bytes alone.
"""

from __future__ import annotations

import sys
from typing import Any

from noobwire._core.extensions import PICKLE_OFF
from noobwire.errors import DecodeError, EncodeError, describe

__all__ = ["find", "may_hold", "refuse_decoded", "refuse_encoded"]

_CONTAINERS = (list, tuple, set, frozenset)


def may_hold(buf: Any, prefix: str) -> bool:
    """False if no str decoded from the MessagePack bytes ``buf`` can begin with ``prefix``: the bytes
    hold it neither as UTF-8 (a str) nor as UTF-32 of either byte order (the items of a numpy str
    array). One search in C per encoding."""
    data = buf if type(buf) is bytes else bytes(buf)
    return any(_encoded(prefix, encoding) in data for encoding in ("utf-8", "utf-32-le", "utf-32-be"))


def _encoded(prefix: str, encoding: str) -> bytes:
    return prefix.encode(encoding)


def find(root: Any, prefix: str, path: str) -> str | None:
    """The path of the first str under ``root`` (itself, or a value, key, item or element of its
    lists, tuples, sets and dicts, or an item of a numpy str array) that begins with ``prefix``; None if
    there is none. Walked with a stack, not by recursion: as deep as the value, whatever the caller's
    own depth."""
    stack: list[tuple[Any, Any, str]] = [(root, None, path)]  # (value, its parent's entry, the step to it)
    while stack:
        entry = stack.pop()
        obj = entry[0]
        kind = type(obj)
        if kind is str or isinstance(obj, str):
            if obj.startswith(prefix):
                return _path(entry)
        elif kind is dict:
            for key, item in obj.items():
                stack.append((key, entry, f" (key {_short(key)})"))
                stack.append((item, entry, f"[{_short(key)}]"))
        elif kind in _CONTAINERS:
            if kind is list or kind is tuple:
                stack.extend((item, entry, f"[{index}]") for index, item in enumerate(obj))
            else:
                stack.extend((item, entry, " (an element)") for item in obj)
        elif _holds_prefixed_item(obj, prefix):
            return _path(entry) + " (an item of a numpy str array)"
    return None


def _path(entry: tuple[Any, Any, str]) -> str:
    steps = []
    while entry is not None:
        steps.append(entry[2])
        entry = entry[1]
    return "".join(reversed(steps))


def _short(key: Any) -> str:
    return describe(key)


def _holds_prefixed_item(obj: Any, prefix: str) -> bool:
    """Whether ``obj`` is a numpy array or scalar with a str item (in any field of a structured dtype)
    that begins with ``prefix``."""
    np = sys.modules.get("numpy")
    if np is None or not (type(obj) is np.ndarray or isinstance(obj, np.generic)):
        return False
    array = np.asarray(obj)
    return any(bool(np.char.startswith(part, prefix).any()) for part in _str_parts(np, array, 0))


def _str_parts(np: Any, array: Any, depth: int) -> list[Any]:
    """The parts of ``array`` whose items are numpy strs: itself, or its fields' (and theirs)."""
    dtype = array.dtype
    if dtype.kind == "U":
        return [array]
    if dtype.names is None or depth > 32:
        return []
    return [part for name in dtype.names for part in _str_parts(np, array[name], depth + 1)]


def _why(prefix: str) -> str:
    return (
        f"a str that begins with {prefix!r}, which noob's classes take for a pickle and unpickle, "
        f"and {PICKLE_OFF}"
    )


def refuse_decoded(buf: Any, all_values: bool, node_id: Any, value: Any, prefix: str) -> None:
    """Raise :class:`DecodeError` if a decoded message (its ``node_id`` and ``value``, read from the
    frame ``buf``) holds a str that begins with ``prefix``; ``all_values``: look whatever the bytes say
    (a message with buffer frames, whose arrays' items the frame does not hold)."""
    if not all_values and not may_hold(buf, prefix):
        return
    found = find(node_id, prefix, "node_id") or find(value, prefix, "value")
    if found is not None:
        raise DecodeError(f"refused {_why(prefix)} (at {found})")


def refuse_encoded(packed: Any, msg: Any, prefix: str) -> None:
    """Raise :class:`EncodeError` at the path of a str that begins with ``prefix`` in ``msg``, which was
    written as ``packed`` (None: look whatever the bytes say)."""
    if packed is not None and not may_hold(packed, prefix):
        return
    found = find(msg.node_id, prefix, "node_id") or find(msg.value, prefix, "value")
    if found is not None:
        raise EncodeError(f"cannot encode {_why(prefix)}", found)
