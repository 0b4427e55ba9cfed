"""The backends and which one is active: the compiled one when it is built and ``NOOBWIRE_PURE`` is not
set (to ``1``, ``true``, ``yes`` or ``on``), otherwise the pure-Python one. An installation whose build
could not compile the extension says so as noobwire is imported (:class:`PureBackendWarning`), once, in
the process that imports it first.

Both implement the same three functions, with one argument order: what is read or written, the
generation of the schema, the codec's options, then what only some calls have:

- ``encode(msg, generation, options, out_of_band=None) -> bytes``
- ``decode(data, generation, options) -> Message``
- ``decode_frame(buf, generation, options, buffers=None) -> Message``
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

from _noobwire_environment import BUILD_RECORD, ENV_PURE, env_flag
from noobwire._core import pure
from noobwire._core.out_of_band import OutOfBand, ReceivedBuffers
from noobwire.generations import GenerationLike
from noobwire.options import Options

__all__ = [
    "ACTIVE",
    "Backend",
    "BackendName",
    "BoundFrames",
    "BuffersAs",
    "PureBackendWarning",
    "get_backend",
]

BuffersAs = Literal["bytes", "memoryview"]
"""How ``decode_frames`` hands over ``bytes`` values sent out of band."""

BackendName = str
"""``"compiled"`` or ``"pure"``."""


class PureBackendWarning(RuntimeWarning):
    """noobwire runs its pure-Python backend because its compiled extension could not be built when it
    was installed (no C compiler, no Python headers, ...), not because ``NOOBWIRE_PURE`` asked for it.
    Given once, as noobwire is imported; ``NOOBWIRE_PURE=1`` chooses the pure backend and silences it."""


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


class BoundFrames(Protocol):
    """:meth:`FrameCodec.bound`'s functions: ``encode_frames`` and ``decode_frames`` whose generation and
    options, when not given, are those it was made with, and ``encode_frames_at(msg, threshold)``, the form
    noob's runner hook calls."""

    def encode_frames(
        self,
        msg: Any,
        generation: GenerationLike | None = None,
        options: Options | None = None,
        *,
        threshold: int = ...,
    ) -> list[Any]: ...

    def encode_frames_at(self, msg: Any, threshold: int) -> list[Any]: ...

    def decode_frames(
        self,
        frames: Sequence[Any],
        generation: GenerationLike | None = None,
        options: Options | None = None,
        *,
        buffers_as: BuffersAs = ...,
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


_REINSTALL = (
    "install a C compiler and the Python headers, and reinstall noobwire (pip install --force-reinstall "
    "--no-deps . in its clone)"
)


def _compiled_module() -> ModuleType:
    try:
        from noobwire._core import compiled
    except ImportError as exc:
        record = _build_record()
        if record is None:
            why = f"it cannot be imported here ({exc})"
        else:
            why = f"this installation was built without it: {record.get('reason')}"
        if record is not None and record.get("requested"):
            what = f"reinstall noobwire without {ENV_PURE} set"
        else:
            what = _REINSTALL
        raise ImportError(
            f"noobwire's compiled backend is not available: {why}. The pure backend reads and writes the "
            f"same bytes: get_backend('pure'), or Codec(backend='pure'). For the compiled one, {what}",
            name=f"{__package__}.compiled",
        ) from exc
    return compiled


def _build_record() -> dict[str, Any] | None:
    """What the build of this installation recorded when it left the compiled extension out (see
    ``BUILD_RECORD``), or None: the extension was built, or this is a source tree or an editable
    install."""
    try:
        record = json.loads(Path(__file__).with_name(BUILD_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _warn_of_a_pure_build() -> None:
    """Warn that the pure backend runs because the compiled one could not be built at install time (not
    when ``NOOBWIRE_PURE`` asked for it then, and not in the processes a process starts: once is enough)."""
    record = _build_record()
    if record is None or record.get("requested"):
        return
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.parent_process() is not None:
        return
    warnings.warn(
        f"noobwire runs its pure-Python backend, 6 to 10 times slower than the compiled one, which was not "
        f"built when noobwire was installed: {record.get('reason')}. For the compiled backend, {_REINSTALL}; "
        f"set {ENV_PURE}=1 to choose the pure backend and silence this warning",
        PureBackendWarning,
        stacklevel=2,
    )


def _active() -> Backend:
    if env_flag(ENV_PURE):
        return get_backend("pure")
    try:
        return get_backend("compiled")
    except ImportError:
        _warn_of_a_pure_build()
        return get_backend("pure")


ACTIVE: Backend = _active()
"""The backend in use where none is named: chosen once, at import."""
