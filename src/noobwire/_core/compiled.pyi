"""Type stub of the compiled backend (``compiled.pyx``): the same functions as ``noobwire._core.pure``."""

from collections.abc import Callable, Sequence
from typing import Any

from noobwire._core.backends import BoundFrames
from noobwire._core.out_of_band import OutOfBand, ReceivedBuffers
from noobwire.generations import GenerationLike
from noobwire.options import Options

def encode(
    msg: Any,
    generation: GenerationLike = ...,
    options: Options = ...,
    out_of_band: OutOfBand | None = None,
) -> bytes:
    """Encode ``msg`` as one frame of ``generation``'s wire format (the reference's by default), under
    the pickle policy and frame size of ``options``; with ``out_of_band``, the header frame of a message
    whose large buffers go in its ``buffers``."""

def decode_frame(
    buf: Any,
    generation: GenerationLike = ...,
    options: Options = ...,
    buffers: ReceivedBuffers | None = None,
) -> Any:
    """Decode one non-empty MessagePack frame (a buffer) of ``generation`` (or, given a dict of
    classes, of the reference building those classes); with ``buffers``, the header frame of a
    message whose buffer frames they are."""

def decode(data: Any, generation: GenerationLike = ..., options: Options = ...) -> Any:
    """Decode a noobwire MessagePack frame or a legacy JSON frame (see :func:`noobwire.decode`)."""

def encode_frames(
    msg: Any, generation: GenerationLike = ..., options: Options = ..., threshold: int = ...
) -> list[Any]:
    """``[buffer_0, ..., buffer_n-1, header]`` of ``msg`` (see :func:`noobwire.encode_frames`), a hot
    message written in one pass."""

def decode_frames(
    frames: Sequence[Any],
    generation: GenerationLike = ...,
    options: Options = ...,
    as_memoryview: bool = False,
) -> Any:
    """The message of ``frames`` read in one pass, or None where ``noobwire.multipart`` must read them."""

FrameFunctions: Callable[[GenerationLike, Options, Callable[..., Any]], BoundFrames]
"""``FrameFunctions(generation, options, general)``: ``encode_frames`` / ``decode_frames`` of one generation
and options (see :class:`noobwire.multipart.BoundFrames`), in one pass where they can; what they do not
read goes to ``general``."""
