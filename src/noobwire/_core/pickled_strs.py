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

from noobwire._core.extensions import PICKLE_OFF, str_parts
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


def find(root: Any, prefix: str, path: str, keys: bool = True) -> str | None:
    """The path of the first str under ``root`` (itself, or a value, key, item or element of its
    lists, tuples, sets and dicts, or an item of a numpy str array) that begins with ``prefix``, or the
    first bytes that do (written as a str by the reference JSON, they would be taken for a pickle by
    whoever reads that); None if there is none. ``keys=False`` leaves the keys of dicts out (the
    reference JSON's readers unpickle values only). Walked depth first with a stack of iterators, not by
    recursion (as deep as the value, whatever the caller's own depth), holding one iterator a level:
    the path is written only for what is found."""
    raw = prefix.encode("utf-8")
    steps: list[tuple[str, Any] | None] = [None]  # how each open container was reached (root: None)
    stack: list[Any] = [iter((("", path, root),))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            steps.pop()
            continue
        how, label, obj = entry
        kind = type(obj)
        if kind is str or isinstance(obj, str):
            if obj.startswith(prefix):
                return _path(steps, how, label)
        elif kind is memoryview or isinstance(obj, bytes | bytearray):  # (numpy's bytes_ too)
            if bytes(obj[: len(raw)]) == raw:
                return _path(steps, how, label)
        elif kind is dict:
            stack.append(_entries(obj) if keys else (("item", key, item) for key, item in obj.items()))
            steps.append((how, label))
        elif kind is list or kind is tuple:
            stack.append(("item", index, item) for index, item in enumerate(obj))
            steps.append((how, label))
        elif kind is set or kind is frozenset:
            stack.append(("element", None, item) for item in obj)
            steps.append((how, label))
        elif _holds_prefixed_item(obj, prefix):
            return _path(steps, how, label) + " (an item of a numpy str or bytes array)"
    return None


def _entries(mapping: dict[Any, Any]) -> Any:
    for key, item in mapping.items():
        yield "key", key, key
        yield "item", key, item


def _path(steps: list[tuple[str, Any] | None], how: str, label: Any) -> str:
    """A value's path from the steps to its container and its own, cut to a few hundred characters."""
    text = "".join(_step(*step) for step in [*steps, (how, label)] if step is not None)
    return text if len(text) <= _PATH_SIZE else f"{text[:100]}...{text[-(_PATH_SIZE - 103) :]}"


_PATH_SIZE = 300


def _step(how: str, label: Any) -> str:
    if how == "item":
        return f"[{label}]" if type(label) is int else f"[{describe(label)}]"
    if how == "key":
        return f" (key {describe(label)})"
    if how == "element":
        return " (an element)"
    return str(label)


def _holds_prefixed_item(obj: Any, prefix: str) -> bool:
    """Whether ``obj`` is a numpy array or scalar with a str or bytes item (in any field of a structured
    dtype) that begins with ``prefix``, or a structured dtype whose field name or title does."""
    np = sys.modules.get("numpy")
    if np is None or not (type(obj) is np.ndarray or isinstance(obj, np.generic)):
        return False
    array = np.asarray(obj)
    if _names_prefixed(array.dtype, prefix, 0):
        return True
    raw = prefix.encode("utf-8")  # a numpy bytes item is written by JSON as the str of its UTF-8
    return any(
        bool(np.char.startswith(part, prefix if part.dtype.kind == "U" else raw).any())
        for part in str_parts(array, "US")
    )


def _names_prefixed(dtype: Any, prefix: str, depth: int) -> bool:
    if dtype.names is None or depth > 32:
        return False
    for name in dtype.names:
        field = dtype.fields[name]
        titles = [title for title in field[2:] if isinstance(title, str)]
        if name.startswith(prefix) or any(title.startswith(prefix) for title in titles):
            return True
        if _names_prefixed(field[0], prefix, depth + 1):
            return True
    return False


def _why(prefix: str) -> str:
    return (
        f"a str (or bytes, which JSON writes as one) that begins with {prefix!r}, which noob's classes "
        f"take for a pickle and unpickle, and {PICKLE_OFF}"
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
