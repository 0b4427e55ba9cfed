"""The exception classes a codec with pickle off names and resolves: the builtins and registered ones.

With pickle off, an ``EXT_EXCEPTION_TYPE`` name is looked up here and nowhere else: no module is
imported and no attribute of anything but ``builtins`` is read, so a frame cannot make the decoder run
code by naming a class. The registry is replaced whole under a lock on each change, so lookups from any
thread see either the old table or the new one.
"""

from __future__ import annotations

import builtins
import threading
from typing import TypeVar

__all__ = ["allowed_exception", "exception_name", "register_exception", "unregister_exception"]

_E = TypeVar("_E", bound=type[BaseException])

_lock = threading.Lock()
_registered: dict[str, type[BaseException]] = {}


def exception_name(cls: type) -> str:
    """The ``"module:qualname"`` a class travels as."""
    return f"{cls.__module__}:{cls.__qualname__}"


def register_exception(cls: _E) -> _E:
    """Allow the exception class ``cls`` in frames of codecs that have pickle off; return it.

    It is then found by its ``"module:qualname"`` without importing anything (a class defined inside
    a function can be registered too). Usable as a class decorator. Registering the same class again
    does nothing; registering a different class under a name already taken raises ``ValueError``.
    """
    global _registered
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        raise TypeError(f"register_exception takes an exception class, not {cls!r}")
    name = exception_name(cls)
    with _lock:
        known = _registered.get(name)
        if known is cls:
            return cls
        if known is not None:
            raise ValueError(f"another exception class is already registered as {name}")
        _registered = {**_registered, name: cls}
    return cls


def unregister_exception(cls: type[BaseException]) -> None:
    """Take a class registered with :func:`register_exception` off the allow-list (if it is on it)."""
    global _registered
    name = exception_name(cls)
    with _lock:
        if _registered.get(name) is cls:
            _registered = {key: value for key, value in _registered.items() if key != name}


def allowed_exception(name: str) -> type[BaseException] | None:
    """The allowed exception class called ``name`` (``"module:qualname"``), or None.

    Allowed: a registered class, or a ``BaseException`` subclass that ``builtins`` holds under that
    plain name (``builtins:ValueError``, ``builtins:IOError``).
    """
    found = _registered.get(name)
    if found is not None:
        return found
    module, _, qualname = name.partition(":")
    if module != "builtins":
        return None
    candidate = vars(builtins).get(qualname)
    if isinstance(candidate, type) and issubclass(candidate, BaseException):
        return candidate
    return None
