"""noobwire: a fast MessagePack codec for the messages of noob's ZeroMQ pipeline runner."""

from noobwire import messages
from noobwire._core.allowlist import register_exception, unregister_exception
from noobwire._core.legacy_json import decode_json, encode_json
from noobwire.codec import Codec, PureBackendWarning, backend, decode, encode, get_backend
from noobwire.errors import DecodeError, EncodeError, SchemaError
from noobwire.messages import *  # noqa: F403 (the mirror, as messages.__all__ lists it)
from noobwire.multipart import decode_frames, encode_frames
from noobwire.options import Options

__all__ = [
    "Codec",
    "DecodeError",
    "EncodeError",
    "Options",
    "PureBackendWarning",
    "SchemaError",
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
__all__ += messages.__all__


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
