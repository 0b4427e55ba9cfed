"""The backends and which one is active: the compiled one when it is built and ``NOOBWIRE_PURE`` is not
set (to ``1``, ``true``, ``yes`` or ``on``), otherwise the pure-Python one.

Both implement the same three functions, with one argument order: what is read or written, the
generation of the schema, the codec's options, then what only some calls have:

- ``encode(msg, generation, options, out_of_band=None) -> bytes``
- ``decode(data, generation, options) -> Message``
- ``decode_frame(buf, generation, options, buffers=None) -> Message``
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Protocol

from _noobwire_environment import ENV_PURE, env_flag
from noobwire._core import pure
from noobwire._core.out_of_band import OutOfBand, ReceivedBuffers
from noobwire.generations import GenerationLike
from noobwire.options import Options

__all__ = ["ACTIVE", "Backend", "BackendName", "get_backend"]

BackendName = str
"""``"compiled"`` or ``"pure"``."""


class Encoder(Protocol):
    """A backend's ``encode``."""

    def __call__(
        self,
        msg: Any,
        generation: GenerationLike = ...,
        options: Options = ...,
        out_of_band: OutOfBand | None = ...,
        /,
    ) -> bytes: ...


class Decoder(Protocol):
    """A backend's ``decode``."""

    def __call__(self, data: Any, generation: GenerationLike = ..., options: Options = ..., /) -> Any: ...


class FrameDecoder(Protocol):
    """A backend's ``decode_frame``."""

    def __call__(
        self,
        buf: Any,
        generation: GenerationLike = ...,
        options: Options = ...,
        buffers: ReceivedBuffers | None = ...,
        /,
    ) -> Any: ...


class Backend:
    """One implementation of the wire format: the backend's own functions, with no layer between them
    and the caller.

    ``encode(msg, generation=REFERENCE, options=DEFAULT_OPTIONS, out_of_band=None)`` writes one frame
    of ``generation``'s format and raises :class:`noobwire.EncodeError` if a value cannot be written
    without losing data (or without pickle, when ``options`` has it off); with an
    :class:`~noobwire._core.out_of_band.OutOfBand`, it writes the header frame and leaves the large
    buffers in it. ``decode(data, generation=REFERENCE, options=DEFAULT_OPTIONS)`` reads a MessagePack
    frame or a legacy JSON frame: ``data`` may be ``bytes``, any buffer (``memoryview``,
    ``bytearray``), a ``zmq.Frame``, or the list of frames a ZeroMQ socket returns, of which the last is
    decoded (the ones before it are a topic or routing identities); ``generation`` is the generation to
    read (or, for the reference, a dict of the classes to build, message type to class). It raises
    :class:`noobwire.DecodeError` for anything that is not a valid message or that ``options``
    refuses, and its subclass :class:`noobwire.SchemaError` for a well-formed frame whose fields break
    the schema. ``decode_frame(buf, generation, options, buffers=None)`` reads one MessagePack frame,
    with ``buffers`` (:class:`~noobwire._core.out_of_band.ReceivedBuffers`) the header of a message
    whose buffer frames they are.
    """

    def __init__(self, name: BackendName, module: ModuleType) -> None:
        self.name = name
        self.encode: Encoder = module.encode
        self.decode: Decoder = module.decode
        self.decode_frame: FrameDecoder = module.decode_frame
        self.frame_functions: Any = getattr(module, "FrameFunctions", None)
        """The compiled backend's ``FrameFunctions(generation, options, general)``: ``encode_frames`` /
        ``decode_frames`` of one generation and options in one pass, handing what they do not read to
        ``general``; None for a backend without (the pure one: ``noobwire.multipart`` does it all)."""

    def __repr__(self) -> str:
        return f"<noobwire backend {self.name!r}>"


_backends: dict[str, Backend] = {"pure": Backend("pure", pure)}


def get_backend(name: BackendName) -> Backend:
    """The backend named ``"pure"`` or ``"compiled"``. ``ImportError``, saying why and what to do, if
    the compiled one is not built in this installation."""
    if name not in _backends:
        if name != "compiled":
            raise ValueError(f"unknown backend {name!r}; choose 'compiled' or 'pure'")
        _backends[name] = Backend(name, _compiled_module())
    return _backends[name]


def _compiled_module() -> ModuleType:
    try:
        from noobwire._core import compiled
    except ImportError as exc:
        raise ImportError(
            "the compiled backend is not built in this installation of noobwire (it was installed "
            "without a C compiler, or with NOOBWIRE_PURE=1): the pure backend reads and writes the same "
            "bytes; to build the compiled one, reinstall noobwire where a C compiler and the Python "
            f"headers are present ({exc})"
        ) from exc
    return compiled


def _active() -> Backend:
    if env_flag(ENV_PURE):
        return get_backend("pure")
    try:
        return get_backend("compiled")
    except ImportError:
        return get_backend("pure")


ACTIVE: Backend = _active()
"""The backend in use where none is named: chosen once, at import."""
