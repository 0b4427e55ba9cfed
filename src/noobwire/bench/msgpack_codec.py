"""msgpack-python on the plain dicts of a message: what a node would do with msgpack and no schema.

The message becomes ``model_dump()``'s dict (``type``, ``node_id``, ``timestamp``, ``value``, the
events as dicts); datetimes travel as MessagePack's timestamp extension (``datetime=True``) and come
back as aware datetimes (``timestamp=3``); numpy arrays use the extension of
:mod:`noobwire.bench.array_ext`. Nothing is validated on decoding.
"""

from __future__ import annotations

from typing import Any

import msgpack

from noobwire.bench.array_ext import ARRAY_EXT_CODE, array_from_payload, array_payload, is_array
from noobwire.bench.plain import plain_epochs
from noobwire.messages import Message

__all__ = ["decode", "encode", "from_message", "from_noob_message"]


def _default(obj: Any) -> Any:
    if is_array(obj):
        return msgpack.ExtType(ARRAY_EXT_CODE, array_payload(obj))
    raise TypeError(f"msgpack codec: cannot encode {type(obj).__qualname__}")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == ARRAY_EXT_CODE:
        return array_from_payload(data)
    return msgpack.ExtType(code, data)


# One packer, reused, as msgpack's documentation advises for repeated packing (not thread-safe:
# the benchmark runs in one thread).
_packer = msgpack.Packer(datetime=True, default=_default)


def from_message(msg: Message) -> dict[str, Any]:
    """The plain dict of a pydantic mirror message (``model_dump()``)."""
    return msg.model_dump()


def from_noob_message(msg: Any) -> dict[str, Any]:
    """The plain dict of a noob 1003 message, each epoch in its JSON form (an int or a list)."""
    data = msg.model_dump()
    return plain_epochs({**data, "type": str(getattr(data["type"], "value", data["type"]))})


def encode(data: dict[str, Any]) -> bytes:
    """The MessagePack frame of a message's dict."""
    return _packer.pack(data)  # type: ignore[no-any-return]


def decode(frame: Any) -> Any:
    """The dict of a frame, datetimes as aware ``datetime`` objects."""
    return msgpack.unpackb(frame, timestamp=3, ext_hook=_ext_hook)
