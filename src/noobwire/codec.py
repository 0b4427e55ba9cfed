"""The public entry points and the choice of backend.

The compiled backend is used when it is built and ``NOOBWIRE_PURE`` is not set to ``1``; otherwise the
pure-Python one. Both write the same bytes and accept and reject the same frames. A :class:`Codec`
holds settings of its own (the pickle policy, the limits); the package-level functions use the defaults.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from noobwire import _pure
from noobwire.messages import MESSAGE_CLASSES, Message
from noobwire.options import Options
from noobwire.wire import DEFAULT_BUFFER_THRESHOLD

if TYPE_CHECKING:
    from noobwire.multipart import BuffersAs, FrameCodec

__all__ = ["Backend", "Codec", "backend", "decode", "encode", "get_backend"]


class Encoder(Protocol):
    """A backend's ``encode``."""

    def __call__(self, msg: Message, options: Options = ..., /) -> bytes: ...


class Decoder(Protocol):
    """A backend's ``decode``."""

    def __call__(
        self, data: Any, classes: dict[str, type[Message]] = ..., options: Options = ..., /
    ) -> Message: ...


class Backend:
    """One implementation of the wire format, with the same ``encode`` / ``decode`` as the package.

    ``encode(msg, options=DEFAULT_OPTIONS)`` writes one noobwire MessagePack frame, and raises
    :class:`noobwire.EncodeError` if a value cannot be written without losing data (or without pickle,
    when ``options`` has it off). ``decode(data, classes=MESSAGE_CLASSES, options=DEFAULT_OPTIONS)``
    reads a noobwire MessagePack frame or a legacy JSON frame: ``data`` may be ``bytes``, any buffer
    (``memoryview``, ``bytearray``), a ``zmq.Frame``, or the list of frames a ZeroMQ socket returns, of
    which the last is decoded (the ones before it are a topic or routing identities); ``classes`` maps
    each message type to the class to build. It raises :class:`noobwire.DecodeError` for anything that
    is not a valid message or that ``options`` refuses, and its subclass :class:`noobwire.SchemaError`
    for a well-formed frame whose fields break the schema.

    Both are the backend module's own functions (no layer between them and the caller).
    """

    def __init__(self, name: str, module: ModuleType) -> None:
        self.name = name
        self.module = module
        self.encode: Encoder = module.encode
        self.decode: Decoder = module.decode

    def __repr__(self) -> str:
        return f"<noobwire backend {self.name!r}>"


def _compiled_module() -> ModuleType:
    from noobwire import _fast

    return _fast


_backends: dict[str, Backend] = {"pure": Backend("pure", _pure)}


def get_backend(name: str) -> Backend:
    """The backend named ``"pure"`` or ``"compiled"`` (``ImportError`` if the compiled one is not built)."""
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
"""``encode(msg, options=DEFAULT_OPTIONS) -> bytes``: the active backend's encoder.

Writes ``msg`` as one noobwire MessagePack frame, every value in it (arrays copied into the frame:
for large arrays see :func:`noobwire.encode_frames`). Raises :class:`noobwire.EncodeError` naming the
value's type and path if a value cannot be written without losing data (or without pickle, when
``options`` has it off). ``Message.to_bytes()`` calls it.
"""

decode = _active.decode
"""``decode(data, classes=MESSAGE_CLASSES, options=DEFAULT_OPTIONS) -> Message``: the active backend's
decoder.

Reads a noobwire MessagePack frame or a legacy JSON frame (the first byte tells them apart). ``data``
may be ``bytes``, any contiguous buffer (``memoryview``, ``bytearray``, a ``uint8`` array), a
``zmq.Frame``, or the list of frames a ZeroMQ socket returns, of which the last is decoded (the ones
before it are a topic or routing identities); ``classes`` maps each message type to the class to build.
Raises :class:`noobwire.DecodeError` for anything that is not a valid message or that ``options``
refuses, and its subclass :class:`noobwire.SchemaError` for a well-formed frame whose fields break the
schema. ``Message.from_bytes(frames)`` calls it.
"""


class Codec:
    """A codec with settings of its own, for one kind of peer.

    ``allow_pickle``: pickle what has no MessagePack form and unpickle what frames carry (by default
    what ``NOOBWIRE_ALLOW_PICKLE`` says, else on). Turn it off for peers you do not trust: no frame
    can then import a module or run code. ``max_depth`` (at most 1024, the format's limit),
    ``max_length`` (elements of one array or map, bytes of one str, bin or extension) and
    ``max_frame_size`` (bytes of one frame) bound what a frame may hold; a frame beyond them is refused
    with :class:`noobwire.DecodeError` (a legacy JSON frame is held to ``max_frame_size`` only).
    ``backend``: ``"compiled"``, ``"pure"`` or None for the active one. A codec holds no state of its
    own beyond its settings: one may be used from several threads.
    """

    def __init__(
        self,
        *,
        allow_pickle: bool | None = None,
        max_depth: int | None = None,
        max_length: int | None = None,
        max_frame_size: int | None = None,
        backend: str | None = None,
    ) -> None:
        settings: dict[str, Any] = {
            "allow_pickle": allow_pickle,
            "max_depth": max_depth,
            "max_length": max_length,
            "max_frame_size": max_frame_size,
        }
        self.options = Options(**{name: value for name, value in settings.items() if value is not None})
        """The settings, as both backends read them."""
        self.backend = _active if backend is None else get_backend(backend)
        """The implementation this codec runs on."""

    def __repr__(self) -> str:
        return f"<noobwire.Codec {self.backend.name} {self.options}>"

    def encode(self, msg: Message) -> bytes:
        """Encode ``msg`` as one MessagePack frame (see :func:`noobwire.encode`) under this codec's
        settings: with pickle off, a value that would need pickle raises :class:`noobwire.EncodeError`
        naming its type and path."""
        return self.backend.encode(msg, self.options)

    def decode(self, data: Any, classes: dict[str, type[Message]] = MESSAGE_CLASSES) -> Message:
        """Decode a frame (see :func:`noobwire.decode`) under this codec's settings."""
        return self.backend.decode(data, classes, self.options)

    def encode_frames(self, msg: Message, threshold: int = DEFAULT_BUFFER_THRESHOLD) -> list[Any]:
        """Encode ``msg`` as a header frame and its large buffers out of band (see
        :func:`noobwire.encode_frames`) under this codec's settings."""
        return self._frames.encode_frames(msg, threshold, options=self.options)

    def decode_frames(
        self,
        frames: Sequence[Any],
        classes: dict[str, type[Message]] = MESSAGE_CLASSES,
        *,
        buffers_as: BuffersAs = "bytes",
    ) -> Message:
        """Decode the frames of one message (see :func:`noobwire.decode_frames`) under this codec's
        settings: the limits and the pickle policy hold for the header frame, where every value but the
        out-of-band buffers is."""
        return self._frames.decode_frames(frames, classes, buffers_as=buffers_as, options=self.options)

    @functools.cached_property
    def _frames(self) -> FrameCodec:
        from noobwire.multipart import FrameCodec  # which imports this module

        return FrameCodec(self.backend)
