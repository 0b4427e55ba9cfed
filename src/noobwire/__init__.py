"""noobwire: a fast MessagePack codec for the messages of noob's ZeroMQ pipeline runner."""

from noobwire._core.allowlist import register_exception, unregister_exception
from noobwire._core.legacy_json import decode_json, encode_json
from noobwire.codec import Codec, backend, decode, encode, get_backend
from noobwire.errors import DecodeError, EncodeError, SchemaError
from noobwire.messages import (
    META_SIGNAL,
    AnnounceMsg,
    AnnounceValue,
    DeinitMsg,
    ErrorMsg,
    ErrorValue,
    Event,
    EventMsg,
    IdentifyMsg,
    IdentifyValue,
    InitMsg,
    Message,
    MessageAdapter,
    MessageType,
    MetaSignal,
    NodeStatus,
    PingMsg,
    ProcessMsg,
    ProcessValue,
    StartMsg,
    StatusMsg,
    StopMsg,
)
from noobwire.multipart import decode_frames, encode_frames
from noobwire.options import Options

__all__ = [
    "META_SIGNAL",
    "AnnounceMsg",
    "AnnounceValue",
    "Codec",
    "DecodeError",
    "DeinitMsg",
    "EncodeError",
    "ErrorMsg",
    "ErrorValue",
    "Event",
    "EventMsg",
    "IdentifyMsg",
    "IdentifyValue",
    "InitMsg",
    "Message",
    "MessageAdapter",
    "MessageType",
    "MetaSignal",
    "NodeStatus",
    "Options",
    "PingMsg",
    "ProcessMsg",
    "ProcessValue",
    "SchemaError",
    "StartMsg",
    "StatusMsg",
    "StopMsg",
    "backend",
    "decode",
    "decode_frames",
    "decode_json",
    "encode",
    "encode_frames",
    "encode_json",
    "get_backend",
    "register_exception",
    "unregister_exception",
]


def __getattr__(name: str) -> str:
    # The version is read from the installed distribution's metadata, whose one source is pyproject.toml
    # (on first use: reading metadata costs more than an import should).
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("noobwire")
        except PackageNotFoundError:  # run from a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module 'noobwire' has no attribute {name!r}")
