"""The public entry points and the choice of backend.

The compiled backend is used when it is built and ``NOOBWIRE_PURE`` is not set to ``1``; otherwise the
pure-Python one. Both write the same bytes and accept and reject the same frames.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from noobwire import _pure
from noobwire.errors import DecodeError
from noobwire.framing import frame_buffer, is_json
from noobwire.legacy_json import decode_json
from noobwire.messages import MESSAGE_CLASSES, Message

__all__ = ["Backend", "backend", "decode", "encode", "get_backend"]


class Backend:
    """One implementation of the wire format, with the same ``encode`` / ``decode`` as the package."""

    def __init__(self, name: str, module: ModuleType) -> None:
        self.name = name
        self._encode = module.encode
        self._decode_frame = module.decode_frame

    def __repr__(self) -> str:
        return f"<noobwire backend {self.name!r}>"

    def encode(self, msg: Message) -> bytes:
        """Encode ``msg`` as one noobwire MessagePack frame.

        Raises :class:`noobwire.EncodeError` if a value cannot be written without losing data.
        """
        return self._encode(msg)  # type: ignore[no-any-return]

    def decode(self, data: Any, classes: dict[str, type[Message]] = MESSAGE_CLASSES) -> Message:
        """Decode a frame into a message: a noobwire MessagePack frame or a legacy JSON frame.

        ``data`` may be ``bytes``, any buffer (``memoryview``, ``bytearray``), a ``zmq.Frame``, or the
        list of frames a ZeroMQ socket returns, of which the last is decoded (the ones before it are
        a topic or routing identities). ``classes`` maps each message type to the class to build.

        Raises :class:`noobwire.DecodeError` for anything that is not a valid message, and its
        subclass :class:`noobwire.SchemaError` for a well-formed frame whose fields break the schema.
        """
        buf = frame_buffer(data)
        if not len(buf):
            raise DecodeError("empty frame", 0)
        if is_json(buf):
            return decode_json(buf, classes)
        return self._decode_frame(buf, classes)  # type: ignore[no-any-return]


def _compiled_module() -> ModuleType:
    from noobwire import _fast

    return _fast


_backends: dict[str, Backend] = {"pure": Backend("pure", _pure)}


def get_backend(name: str) -> Backend:
    """Backend ``"pure"`` or ``"compiled"`` (``ImportError`` if it is not built), whichever is active."""
    if name not in _backends:
        if name != "compiled":
            raise ValueError(f"unknown backend {name!r}; choose 'compiled' or 'pure'")
        _backends[name] = Backend(name, _compiled_module())
    return _backends[name]


def _active_backend() -> Backend:
    if os.environ.get("NOOBWIRE_PURE", "") == "1":
        return get_backend("pure")
    try:
        return get_backend("compiled")
    except ImportError:
        return get_backend("pure")


_active = _active_backend()
backend: str = _active.name
"""Which backend is active: ``"compiled"`` or ``"pure"``."""

encode = _active.encode
decode = _active.decode
