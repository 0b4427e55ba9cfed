"""The scalars a generation's layouts type, written: a subclass converted, anything else named.

A field the schema types as ``str`` may hold a ``StrEnum`` member, one typed ``int`` a ``bool`` or an
``IntEnum`` member: they are written as the plain value. What is not of the type is an
:class:`noobwire.EncodeError` at the field's path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from noobwire.errors import EncodeError
from noobwire.layout import Kind

__all__ = ["as_int", "as_optional_dict", "as_str", "writer"]

_Plain = TypeVar("_Plain")


def as_str(value: Any, path: str) -> str:
    """A field the schema types as ``str``: a subclass (a ``StrEnum`` member) is written as a str."""
    return value if type(value) is str else _as_plain(value, path, str, str.__str__, "str")


def as_int(value: Any, path: str) -> int:
    """A field the schema types as ``int``: a subclass (``bool``, an ``IntEnum``) is written as an int."""
    return value if type(value) is int else _as_plain(value, path, int, int.__index__, "int")


def as_optional_dict(value: Any, path: str) -> dict[Any, Any] | None:
    """A field the schema types as ``dict | None``: a dict subclass is written as a dict."""
    if value is None or type(value) is dict:
        return value
    return _as_plain(value, path, dict, dict, "a dict or None")


def _as_plain(
    value: Any, path: str, kind: type[_Plain], plain: Callable[[Any], _Plain], expected: str
) -> _Plain:
    """A value of a subclass of ``kind`` as the plain ``kind``; anything else an :class:`EncodeError`."""
    if isinstance(value, kind):
        return plain(value)
    raise EncodeError(f"expected {expected}, got {type(value).__qualname__}", path)


def _as_datetime(value: Any, path: str) -> datetime:
    if isinstance(value, datetime):
        return value
    raise EncodeError(f"expected datetime, got {type(value).__qualname__}", path)


def _as_exception_class(value: Any, path: str) -> type[Exception]:
    if isinstance(value, type) and issubclass(value, Exception):
        return value
    raise EncodeError(f"expected an exception class, got {type(value).__qualname__}", path)


def _as_args(value: Any, path: str) -> list[Any]:
    if isinstance(value, tuple | list):
        return list(value)
    raise EncodeError(f"expected a tuple, got {type(value).__qualname__}", path)


def _as_none(value: Any, path: str) -> None:
    if value is not None:
        raise EncodeError(f"expected None, got {type(value).__qualname__}", path)


_WRITERS: dict[Kind, Callable[[Any, str], Any]] = {
    Kind.INT: as_int,
    Kind.STR: as_str,
    Kind.DATETIME: _as_datetime,
    Kind.OPTIONAL_DICT: as_optional_dict,
    Kind.NONE: _as_none,
    Kind.EXCEPTION_CLASS: _as_exception_class,
    Kind.ARGS: _as_args,
}


def writer(kind: Kind) -> Callable[[Any, str], Any]:
    """What checks and converts a value of the scalar ``kind`` for writing: ``writer(kind)(value, path)``."""
    return _WRITERS[kind]
