"""Type stub of the compiled backend (``_fast.pyx``): the same functions as ``noobwire._pure``."""

from typing import Any

from noobwire.buffers import OutOfBand, ReceivedBuffers
from noobwire.messages import Message
from noobwire.options import Options

def encode(msg: Message, options: Options = ..., out_of_band: OutOfBand | None = None) -> bytes:
    """Encode ``msg`` as one wire-format frame, under the pickle policy and frame size of ``options``;
    with ``out_of_band``, the header frame of a message whose large buffers go in its ``buffers``."""

def decode_frame(
    buf: Any,
    classes: dict[str, type[Message]] = ...,
    options: Options = ...,
    buffers: ReceivedBuffers | None = None,
) -> Message:
    """Decode one non-empty MessagePack frame (a buffer) into a message of ``classes``; with
    ``buffers``, the header frame of a message whose buffer frames they are."""

def decode(data: Any, classes: dict[str, type[Message]] = ..., options: Options = ...) -> Message:
    """Decode a noobwire MessagePack frame or a legacy JSON frame (see :func:`noobwire.decode`)."""
