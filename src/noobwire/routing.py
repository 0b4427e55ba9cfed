"""Which decoder a frame goes to: the legacy JSON one or a backend's MessagePack one.

Both backends route the same way, before anything else is read: a frame is refused if it is empty or
larger than the codec's ``max_frame_size``, and its first byte tells JSON from MessagePack (a JSON
frame is refused if the codec does not ``accept_json``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from noobwire.errors import DecodeError
from noobwire.framing import check_frame_size, frame_buffer, is_json
from noobwire.layout import Generation
from noobwire.legacy_json import decode_json
from noobwire.options import Options

__all__ = ["FrameDecoder", "decode_any"]

FrameDecoder = Callable[[Any, Generation, Options], Any]
"""A backend's ``decode_frame(buf, generation, options)``."""


def decode_any(data: Any, generation: Generation, options: Options, decode_frame: FrameDecoder) -> Any:
    """Decode what a socket handed over (see :func:`noobwire.decode`) with ``decode_frame`` for
    MessagePack frames."""
    buf = frame_buffer(data)
    size = len(buf)
    if not size:
        raise DecodeError("empty frame", 0)
    check_frame_size(size, options)
    if is_json(buf):
        if not options.accept_json:
            raise DecodeError("a legacy JSON frame, refused: this codec has accept_json=False", 0)
        return decode_json(buf, generation, options)
    return decode_frame(buf, generation, options)
