"""Type stub of the compiled backend (``_fast.pyx``): the same functions as ``noobwire._pure``."""

from typing import Any

from noobwire.buffers import OutOfBand, ReceivedBuffers
from noobwire.layout import Generation
from noobwire.options import Options

def encode(
    msg: Any,
    options: Options = ...,
    out_of_band: OutOfBand | None = None,
    generation: Generation = ...,
) -> bytes:
    """Encode ``msg`` as one frame of ``generation``'s wire format (the reference's by default), under
    the pickle policy and frame size of ``options``; with ``out_of_band``, the header frame of a message
    whose large buffers go in its ``buffers``."""

def decode_frame(
    buf: Any,
    schema: Generation | dict[str, type] = ...,
    options: Options = ...,
    buffers: ReceivedBuffers | None = None,
) -> Any:
    """Decode one non-empty MessagePack frame (a buffer) of the generation ``schema`` (or, given a dict
    of classes, of the reference building those classes); with ``buffers``, the header frame of a
    message whose buffer frames they are."""

def decode(data: Any, schema: Generation | dict[str, type] = ..., options: Options = ...) -> Any:
    """Decode a noobwire MessagePack frame or a legacy JSON frame (see :func:`noobwire.decode`)."""
