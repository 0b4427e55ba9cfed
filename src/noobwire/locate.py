"""Where an encode error is: the value in a message that cannot be written, and its path.

Both backends raise the same :class:`noobwire.EncodeError` for a message they cannot write: the
compiled one asks the pure one, which asks this module once its packer has failed. It starts from the
message's free values (the ones the schema leaves free, found through the generation's layout), so a
value is named by where it sits in the message (``value[2]['value']['a'][1]``), and descends to the
innermost value that still fails. It runs only on the error path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from noobwire import values, wire
from noobwire.errors import DecodeError, EncodeError, describe
from noobwire.layout import Generation, MessageLayout
from noobwire.records import free_values
from noobwire.walker import CONTAINER_TYPES

__all__ = [
    "encode_error",
    "is_too_deep",
    "locate_encode_error",
    "locate_unencodable",
    "refuse_too_deep",
    "refuse_too_deep_keys",
]

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
        values.refuse_deep_keys([key])
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
