"""Type stub of the compiled backend (``_fast.pyx``): the same functions as ``noobwire._pure``."""

from typing import Any

from noobwire.messages import Message
from noobwire.options import Options

def encode(msg: Message, options: Options = ...) -> bytes:
    """Encode ``msg`` as one wire-format frame, under the pickle policy and frame size of ``options``."""

def decode_frame(buf: Any, classes: dict[str, type[Message]] = ..., options: Options = ...) -> Message:
    """Decode one non-empty MessagePack frame (a buffer) into a message of ``classes``."""

def decode(data: Any, classes: dict[str, type[Message]] = ..., options: Options = ...) -> Message:
    """Decode a noobwire MessagePack frame or a legacy JSON frame (see :func:`noobwire.decode`)."""
