"""The codecs the benchmark compares, each behind the same small interface.

Every codec turns a message into the form it works on (``prepare``, done once, outside the timed
loops: the pydantic message itself for noobwire, noob's JSON and pickle; a msgspec Struct; a plain
dict for msgpack-python), then ``encode``s that form and ``decode``s the result. A codec is loaded for
the generation of the schema a workload's message has: the reference's (noobwire's mirror, whose
JSON is the reference's) or a noob generation's (noob's own classes, whose JSON is that noob's own
``to_bytes()`` / ``from_bytes()``). The benchmarks in ``benchmarks/`` and ``noobwire bench`` both take
their codecs from here.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from noobwire import codec
from noobwire._core.legacy_json import decode_json, encode_json
from noobwire.generations import REFERENCE
from noobwire.layout import Generation
from noobwire.messages import Message

__all__ = ["CODEC_KEYS", "BenchCodec", "available_codecs", "frame_size", "load_codec"]


def _same_message(msg: Message) -> Any:
    return msg


def frame_size(encoded: Any) -> int:
    """The bytes on the wire of what a codec's ``encode`` returned: one frame, or a list of frames."""
    if isinstance(encoded, list | tuple):
        return sum(memoryview(frame).nbytes for frame in encoded)
    return memoryview(encoded).nbytes


@dataclass(frozen=True)
class BenchCodec:
    """One codec of the benchmark: how to encode and decode a message, and what to call it."""

    key: str
    """The short name that ``noobwire bench --codec`` takes (``pure``, ``msgspec``, ...)."""
    name: str
    """The name in tables and charts (``noobwire pure``, ``msgspec``, ...)."""
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    prepare: Callable[[Message], Any] = _same_message
    """The message in the form ``encode`` takes, and ``decode`` must give back."""
    noobwire_backend: bool = False
    """Whether this is a backend of noobwire's ``to_bytes()`` path (the baseline of the ratios)."""


def _backend(name: str, generation: Generation) -> BenchCodec:
    try:
        backend = codec.get_backend(name)
    except ImportError as exc:
        raise ImportError(f"the compiled extension is not built ({exc})") from exc
    if name != codec.backend and codec.backend == "pure":
        # Every noobwire row runs on the active backend, so that none is labelled compiled and runs pure.
        raise ImportError("NOOBWIRE_PURE=1 makes the pure backend the active one")
    if generation is REFERENCE:  # the functions themselves, as to_bytes() calls them
        return BenchCodec(name, f"noobwire {name}", backend.encode, backend.decode, noobwire_backend=True)
    return BenchCodec(
        name,
        f"noobwire {name}",
        lambda msg: backend.encode(msg, generation),
        lambda data: backend.decode(data, generation),
        noobwire_backend=True,
    )


def _frames(generation: Generation) -> BenchCodec:
    frames = codec.Codec(generation=generation).frames  # on the active backend, as the runner hook calls it
    return BenchCodec(
        "frames", f"noobwire frames ({codec.backend})", frames.encode_frames, frames.decode_frames
    )


def _json(generation: Generation) -> BenchCodec:
    if generation is REFERENCE:
        return BenchCodec("json", "reference JSON", encode_json, decode_json)
    message = generation.bound_module.Message  # noob's, whose from_bytes() reads every type
    return BenchCodec("json", f"{generation.summary} JSON", _noob_to_bytes, message.from_bytes)


def _noob_to_bytes(msg: Any) -> list[bytes]:
    """noob's own ``to_bytes()``, as the frames its ``from_bytes()`` reads (the last is the message)."""
    return [msg.to_bytes()]


def _msgspec(generation: Generation) -> BenchCodec:
    try:
        import msgspec  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"msgspec is not installed ({exc}); pip install 'noobwire[bench]'") from exc
    if generation is REFERENCE:
        from noobwire.bench import msgspec_codec

        return BenchCodec(
            "msgspec", "msgspec", msgspec_codec.encode, msgspec_codec.decode, msgspec_codec.from_message
        )
    from noobwire.bench import msgspec_noob  # (noob_core comes with noob 1003)

    return BenchCodec(
        "msgspec", "msgspec", msgspec_noob.encode, msgspec_noob.decode, msgspec_noob.from_message
    )


def _msgpack(generation: Generation) -> BenchCodec:
    from noobwire.bench import msgpack_codec

    prepare = msgpack_codec.from_message if generation is REFERENCE else msgpack_codec.from_noob_message
    return BenchCodec("msgpack", "msgpack-python", msgpack_codec.encode, msgpack_codec.decode, prepare)


def _pickle_encode(msg: Message) -> bytes:
    return pickle.dumps(msg, protocol=5)


def _pickle(generation: Generation) -> BenchCodec:
    return BenchCodec("pickle", "pickle 5", _pickle_encode, pickle.loads)


_LOADERS: dict[str, Callable[[Generation], BenchCodec]] = {
    "compiled": lambda generation: _backend("compiled", generation),
    "pure": lambda generation: _backend("pure", generation),
    "frames": _frames,
    "json": _json,
    "msgspec": _msgspec,
    "msgpack": _msgpack,
    "pickle": _pickle,
}

CODEC_KEYS: tuple[str, ...] = tuple(_LOADERS)
"""Every codec the benchmark knows, in the order of its tables."""


def load_codec(key: str, generation: Generation = REFERENCE) -> BenchCodec:
    """The codec ``key`` (one of :data:`CODEC_KEYS`) for messages of ``generation``; ``ImportError``
    saying why when it is missing."""
    try:
        loader = _LOADERS[key]
    except KeyError:
        raise ValueError(f"unknown codec {key!r}; choose from {', '.join(CODEC_KEYS)}") from None
    return loader(generation)


def available_codecs(
    keys: Iterable[str] | None = None, generation: Generation = REFERENCE
) -> tuple[dict[str, BenchCodec], dict[str, str]]:
    """The codecs of ``keys`` (default: all) for messages of ``generation`` that this installation has,
    and why each other one is missing (key to reason)."""
    found: dict[str, BenchCodec] = {}
    missing: dict[str, str] = {}
    for key in keys if keys is not None else CODEC_KEYS:
        try:
            found[key] = load_codec(key, generation)
        except ImportError as exc:
            missing[key] = str(exc)
    return found, missing
