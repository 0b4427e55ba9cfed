"""The public entry points and the choice of backend.

The compiled backend is used when it is built and ``NOOBWIRE_PURE`` is not set (to ``1``, ``true``,
``yes`` or ``on``); otherwise the pure-Python one. Both write the same bytes and accept and reject the
same frames. A :class:`Codec` holds settings of its own (the generation of the schema it speaks, the
pickle policy, the limits); the package-level functions use the defaults. Importing this module also
gives the mirror's ``Message`` its ``to_bytes()`` / ``from_bytes()``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from _noobwire_install import env_flag
from noobwire import _pure, messages
from noobwire.buffers import OutOfBand, ReceivedBuffers
from noobwire.generations import REFERENCE, Schema, as_generation
from noobwire.layout import Generation
from noobwire.legacy_json import encode_json
from noobwire.options import Options
from noobwire.wire import DEFAULT_BUFFER_THRESHOLD

if TYPE_CHECKING:
    from noobwire.multipart import BuffersAs, FrameCodec

__all__ = ["Backend", "Codec", "backend", "decode", "encode", "get_backend"]


class Encoder(Protocol):
    """A backend's ``encode``."""

    def __call__(
        self,
        msg: Any,
        options: Options = ...,
        out_of_band: OutOfBand | None = ...,
        generation: Generation = ...,
        /,
    ) -> bytes: ...


class Decoder(Protocol):
    """A backend's ``decode``."""

    def __call__(self, data: Any, schema: Schema = ..., options: Options = ..., /) -> Any: ...


class FrameDecoder(Protocol):
    """A backend's ``decode_frame``."""

    def __call__(
        self,
        buf: Any,
        schema: Schema = ...,
        options: Options = ...,
        buffers: ReceivedBuffers | None = ...,
        /,
    ) -> Any: ...


class Backend:
    """One implementation of the wire format: the backend's own functions, with no layer between them
    and the caller.

    ``encode(msg, options=DEFAULT_OPTIONS, out_of_band=None, generation=REFERENCE)`` writes one frame
    of ``generation``'s format and raises :class:`noobwire.EncodeError` if a value cannot be written
    without losing data (or without pickle, when ``options`` has it off); with an
    :class:`~noobwire.buffers.OutOfBand`, it writes the header frame and leaves the large buffers in it.
    ``decode(data, schema=REFERENCE, options=DEFAULT_OPTIONS)`` reads a MessagePack frame or a legacy
    JSON frame: ``data`` may be ``bytes``, any buffer (``memoryview``, ``bytearray``), a ``zmq.Frame``,
    or the list of frames a ZeroMQ socket returns, of which the last is decoded (the ones before it are a
    topic or routing identities); ``schema`` is the generation to read (or, for the reference, a dict of
    the classes to build, message type to class). It raises :class:`noobwire.DecodeError` for anything
    that is not a valid message or that ``options`` refuses, and its subclass
    :class:`noobwire.SchemaError` for a well-formed frame whose fields break the schema.
    ``decode_frame(buf, schema, options, buffers=None)`` reads one MessagePack frame, with ``buffers``
    (:class:`~noobwire.buffers.ReceivedBuffers`) the header of a message whose buffer frames they are.
    """

    def __init__(self, name: str, module: ModuleType) -> None:
        self.name = name
        self.encode: Encoder = module.encode
        self.decode: Decoder = module.decode
        self.decode_frame: FrameDecoder = module.decode_frame

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
    if env_flag("NOOBWIRE_PURE"):
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

    ``generation``: the schema it speaks (:mod:`noobwire.generations`; the reference by default), or
    for the reference a dict of the classes to build. ``allow_pickle``: pickle what has no MessagePack
    form and unpickle what frames carry (by default what ``NOOBWIRE_ALLOW_PICKLE`` says, else on). Turn
    it off for peers you do not trust: no frame can then import a module or run code. ``max_depth`` (at
    most 1024, the format's limit), ``max_length`` (elements of one array or map, bytes of one str, bin
    or extension) and ``max_frame_size`` (bytes of one frame) bound what a frame may hold; a frame
    beyond them is refused with :class:`noobwire.DecodeError` (a legacy JSON frame is held to
    ``max_frame_size`` only; each out-of-band buffer frame of ``decode_frames`` is too).
    ``accept_json=False`` refuses legacy JSON frames unread, for peers that never send them (by default
    they are read). ``backend``: ``"compiled"``, ``"pure"`` or None for the active one. A codec holds no
    state of its own beyond its settings: one may be used from several threads.
    """

    def __init__(
        self,
        *,
        generation: Schema = REFERENCE,
        allow_pickle: bool | None = None,
        max_depth: int | None = None,
        max_length: int | None = None,
        max_frame_size: int | None = None,
        accept_json: bool | None = None,
        backend: str | None = None,
    ) -> None:
        settings: dict[str, Any] = {
            "allow_pickle": allow_pickle,
            "max_depth": max_depth,
            "max_length": max_length,
            "max_frame_size": max_frame_size,
            "accept_json": accept_json,
        }
        self.generation: Generation = as_generation(generation)
        """The generation of the schema this codec reads and writes."""
        self.options = Options(**{name: value for name, value in settings.items() if value is not None})
        """The settings, as both backends read them."""
        self.backend = _active if backend is None else get_backend(backend)
        """The implementation this codec runs on."""

    def __repr__(self) -> str:
        return f"<noobwire.Codec {self.backend.name} {self.generation.name} {self.options}>"

    def encode(self, msg: Any) -> bytes:
        """Encode ``msg`` as one MessagePack frame (see :func:`noobwire.encode`) under this codec's
        settings: with pickle off, a value that would need pickle raises :class:`noobwire.EncodeError`
        naming its type and path."""
        return self.backend.encode(msg, self.options, None, self.generation)

    def decode(self, data: Any, schema: Schema | None = None) -> Any:
        """Decode a frame (see :func:`noobwire.decode`) under this codec's settings; ``schema``, if
        given, in place of the codec's generation."""
        return self.backend.decode(data, self.generation if schema is None else schema, self.options)

    def encode_frames(self, msg: Any, threshold: int = DEFAULT_BUFFER_THRESHOLD) -> list[Any]:
        """Encode ``msg`` as a header frame and its large buffers out of band (see
        :func:`noobwire.encode_frames`) under this codec's settings."""
        return self._frames.encode_frames(msg, threshold, options=self.options, generation=self.generation)

    def decode_frames(
        self, frames: Sequence[Any], schema: Schema | None = None, *, buffers_as: BuffersAs = "bytes"
    ) -> Any:
        """Decode the frames of one message (see :func:`noobwire.decode_frames`) under this codec's
        settings: the limits and the pickle policy hold for the header frame, where every value but the
        out-of-band buffers is."""
        generation = self.generation if schema is None else schema
        return self._frames.decode_frames(frames, generation, buffers_as=buffers_as, options=self.options)

    @functools.cached_property
    def _frames(self) -> FrameCodec:
        from noobwire.multipart import FrameCodec  # an edge of the core: imported when first used

        return FrameCodec(self.backend)


def _to_bytes(self: messages.Message) -> bytes:
    """Encode this message as one noobwire MessagePack frame (``noobwire.encode(msg)``)."""
    return encode(self)


def _from_bytes(cls: type[messages.Message], msg: list[bytes]) -> messages.Message:
    """Decode the last frame of ``msg``: a noobwire MessagePack frame or a legacy JSON frame.

    Raises :class:`noobwire.DecodeError` (a ``ValueError``) for anything that is not a message.
    """
    decoded: messages.Message = decode(msg)
    return decoded


def _to_json_bytes(self: messages.Message) -> bytes:
    """Encode this message exactly as the reference JSON codec does (for unmodified noob peers):
    ``noobwire.encode_json(msg)``."""
    return encode_json(self)


messages.Message.to_bytes = _to_bytes  # type: ignore[method-assign]
messages.Message.from_bytes = classmethod(_from_bytes)  # type: ignore[assignment, method-assign]
messages.Message.to_json_bytes = _to_json_bytes  # type: ignore[method-assign]
