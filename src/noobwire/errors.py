"""The exceptions noobwire raises. All of them are ``ValueError``s."""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["DecodeError", "EncodeError", "SchemaError", "describe", "validation_summary"]


class _ShortRepr(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 2
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 4
        self.maxstring = self.maxother = 40

    def repr_int(self, x: int, level: int) -> str:
        # repr() of an int of thousands of digits raises (and is slow): say its size instead.
        if x.bit_length() > 64:
            return f"<int of {x.bit_length()} bits>"
        return repr(x)

    def repr_instance(self, x: Any, level: int) -> str:
        try:
            return super().repr_instance(x, level)
        except Exception:
            return f"<{type(x).__qualname__}>"


_short_repr = _ShortRepr()


def describe(value: Any) -> str:
    """A short, safe repr of a value from a frame or a message, for an error message."""
    return _short_repr.repr(value)


_LISTED = 3
"""How many of pydantic's problems a summary names."""
_LISTABLE = 64
"""A report of more problems than this is not read at all (its list costs what each problem's path
costs, and a frame can make many problems under one long path)."""
_PART_SIZE = 240
"""A problem is named in at most this many characters."""


def validation_summary(error: Any, first: Any = None) -> str:
    """A short account of a pydantic ``ValidationError``: how many problems it found, and the first
    few, each with its place (``value.nodes.cam.status: Input should be ...``), cut to a few hundred
    characters each. The whole report stays in the error itself: keep it as the cause. Of a report too
    long to read, the first problems are taken from ``first`` (a ``ValidationError`` of a validator
    that stops at the first problem of each container), if given."""
    count = error.error_count()
    listed = error
    if count > _LISTABLE:
        if first is None or first.error_count() > _LISTABLE:
            return f"{count} problems, too many to list (pydantic's report is this error's cause)"
        listed = first
    problems = listed.errors(include_url=False, include_context=False, include_input=False)[:_LISTED]
    parts = [_cut(f"{_place(problem['loc'])}: {problem['msg']}") for problem in problems]
    more = f"; and {count - len(parts)} more" if count > len(parts) else ""
    return f"{'; '.join(parts)}{more}"


def _place(loc: tuple[Any, ...]) -> str:
    return ".".join(item if type(item) is str and len(item) <= 40 else describe(item) for item in loc) or "-"


def _cut(text: str) -> str:
    return text if len(text) <= _PART_SIZE else text[: _PART_SIZE - 3] + "..."


class _PlacedError(ValueError):
    """An error with its ``reason`` and, where known, the place it was found, said after the reason."""

    _where = " at {}"

    def __init__(self, reason: str, place: Any) -> None:
        self.reason = reason
        self._place = place
        super().__init__(reason if place is None else reason + self._where.format(place))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self._place))


class DecodeError(_PlacedError):
    """Bytes that are not a valid message: malformed, truncated, of an unknown version, or refused.

    ``offset`` is the byte offset in the frame where the problem was found, when it is known.
    """

    _where = " (at offset {})"

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.offset = offset
        super().__init__(message, offset)


class SchemaError(DecodeError):
    """Well-formed MessagePack of the right version whose fields break the message schema.

    When pydantic found the violation, its ``ValidationError`` is the ``__cause__``.
    """


class EncodeError(_PlacedError):
    """A message or value that noobwire cannot encode without losing data.

    ``path`` says where in the message the value sits, e.g. ``value[2]['value']``.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(message, path)
