"""The exceptions noobwire raises. All of them are ``ValueError``s."""

from __future__ import annotations

from typing import Any

__all__ = ["DecodeError", "EncodeError", "SchemaError"]


class DecodeError(ValueError):
    """Bytes that are not a valid message: malformed, truncated, of an unknown version, or refused.

    ``offset`` is the byte offset in the frame where the problem was found, when it is known.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.offset = offset
        self.reason = message
        if offset is not None:
            message = f"{message} (at offset {offset})"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.offset))


class SchemaError(DecodeError):
    """Well-formed MessagePack of the right version whose fields break the message schema.

    When pydantic found the violation, its ``ValidationError`` is the ``__cause__``.
    """


class EncodeError(ValueError):
    """A message or value that noobwire cannot encode without losing data.

    ``path`` says where in the message the value sits, e.g. ``value[2]['value']``.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        self.reason = message
        if path is not None:
            message = f"{message} at {path}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.path))
