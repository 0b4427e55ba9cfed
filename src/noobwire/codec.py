"""The public entry points: the package-level ``encode`` / ``decode`` on the active backend, and
:class:`Codec`, which holds settings of its own.

Every entry point takes its arguments in one order: what is written or read, the generation of the
schema (:mod:`noobwire.generations`; the reference by default), then the settings
(:class:`noobwire.Options`), then what only that call has (keyword-only). The compiled backend is used
when it is built and ``NOOBWIRE_PURE`` is not set; otherwise the pure-Python one. Both write the same
bytes and accept and reject the same frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from noobwire._core.backends import ACTIVE, Backend, BackendName, PureBackendWarning, get_backend
from noobwire.generations import REFERENCE, GenerationLike, as_generation
from noobwire.layout import Generation
from noobwire.multipart import DEFAULT_THRESHOLD, BoundFrames, BuffersAs, FrameCodec
from noobwire.options import Options

__all__ = ["Backend", "Codec", "PureBackendWarning", "backend", "decode", "encode", "get_backend"]

backend: BackendName = ACTIVE.name
"""Which backend is active: ``"compiled"`` or ``"pure"``."""

encode = ACTIVE.encode
"""``encode(msg, generation=REFERENCE, options=DEFAULT_OPTIONS) -> bytes``: the active backend's encoder.

Writes ``msg`` as one noobwire MessagePack frame of ``generation``'s wire format, every value in it
(arrays copied into the frame: for large arrays see :func:`noobwire.encode_frames`). Raises
:class:`noobwire.EncodeError` naming the value's type and path if a value cannot be written without
losing data (or without pickle, when ``options`` has it off). ``Message.to_bytes()`` calls it.
"""

decode = ACTIVE.decode
"""``decode(data, generation=REFERENCE, options=DEFAULT_OPTIONS) -> Message``: the active backend's
decoder.

Reads a noobwire MessagePack frame or a legacy JSON frame (the first byte tells them apart). ``data``
may be ``bytes``, any contiguous buffer (``memoryview``, ``bytearray``, a ``uint8`` array), a
``zmq.Frame``, or the list of frames a ZeroMQ socket returns, of which the last is decoded (the ones
before it are a topic or routing identities). ``generation`` is the generation to read, or, for the
reference, a dict of the classes to build (message type to class). Raises :class:`noobwire.DecodeError`
for anything that is not a valid message or that ``options`` refuses, and its subclass
:class:`noobwire.SchemaError` for a well-formed frame whose fields break the schema.
``Message.from_bytes(frames)`` calls it.
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
    state of its own beyond its settings, which are fixed when it is made (its attributes are read
    only: make another codec for other settings): one may be used from several threads.

    Each method takes what it writes or reads, then, if given, a generation in place of the codec's.
    """

    def __init__(
        self,
        *,
        generation: GenerationLike = REFERENCE,
        allow_pickle: bool | None = None,
        max_depth: int | None = None,
        max_length: int | None = None,
        max_frame_size: int | None = None,
        accept_json: bool | None = None,
        backend: BackendName | None = None,
    ) -> None:
        settings: dict[str, Any] = {
            "allow_pickle": allow_pickle,
            "max_depth": max_depth,
            "max_length": max_length,
            "max_frame_size": max_frame_size,
            "accept_json": accept_json,
        }
        self._generation: Generation = as_generation(generation)
        _check_bound(self._generation)
        self._options = Options(**{name: value for name, value in settings.items() if value is not None})
        self._backend: Backend = ACTIVE if backend is None else get_backend(backend)
        self._frames: BoundFrames = FrameCodec(self._backend).bound(self._generation, self._options)

    # Read only: the frames functions are made for these, so a codec's settings are fixed when it is made.

    @property
    def generation(self) -> Generation:
        """The generation of the schema this codec reads and writes."""
        return self._generation

    @property
    def options(self) -> Options:
        """The settings, as both backends read them."""
        return self._options

    @property
    def backend(self) -> Backend:
        """The implementation this codec runs on."""
        return self._backend

    @property
    def frames(self) -> BoundFrames:
        """``encode_frames`` / ``decode_frames`` of this codec's generation and settings, called with no
        layer between (on the compiled backend, its own functions): what noob's runner hook takes."""
        return self._frames

    def __repr__(self) -> str:
        return f"<noobwire.Codec {self.backend.name} {self.generation.name} {self.options}>"

    def encode(self, msg: Any, generation: GenerationLike | None = None) -> bytes:
        """Encode ``msg`` as one MessagePack frame (see :func:`noobwire.encode`) under this codec's
        settings: with pickle off, a value that would need pickle raises :class:`noobwire.EncodeError`
        naming its type and path."""
        return self.backend.encode(msg, self.generation if generation is None else generation, self.options)

    def decode(self, data: Any, generation: GenerationLike | None = None) -> Any:
        """Decode a frame (see :func:`noobwire.decode`) under this codec's settings."""
        return self.backend.decode(data, self.generation if generation is None else generation, self.options)

    def encode_frames(
        self, msg: Any, generation: GenerationLike | None = None, *, threshold: int = DEFAULT_THRESHOLD
    ) -> list[Any]:
        """Encode ``msg`` as a header frame and its large buffers out of band (see
        :func:`noobwire.encode_frames`) under this codec's settings."""
        return self._frames.encode_frames(msg, generation, threshold=threshold)

    def decode_frames(
        self,
        frames: Sequence[Any],
        generation: GenerationLike | None = None,
        *,
        buffers_as: BuffersAs = "bytes",
    ) -> Any:
        """Decode the frames of one message (see :func:`noobwire.decode_frames`) under this codec's
        settings: the limits and the pickle policy hold for the header frame, where every value but the
        out-of-band buffers is."""
        return self._frames.decode_frames(frames, generation, buffers_as=buffers_as)


def _check_bound(generation: Generation) -> None:
    """Refuse a generation whose module, where it can be imported, is not of that generation (a codec
    of noob 1000's schema in a process of noob 1003's would fail on every frame)."""
    try:
        missing = generation.unresolved()
    except ImportError:  # not installed here: the codec says so when it is used
        return
    if missing:
        raise ValueError(
            f"the {generation.name} generation does not describe the module {generation.module} of this "
            f"process: it has no {', '.join(missing)} (noobwire.noob.compat.recognize() names the "
            "generation of the installed noob)"
        )
