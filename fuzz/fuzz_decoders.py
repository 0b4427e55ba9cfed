"""Coverage-guided fuzzing of noobwire's decoders, with atheris (``pip install -e '.[fuzz]'``).

Every byte string given to a decoder must either decode to a message or raise ``noobwire.DecodeError``
(``SchemaError`` is one; pydantic's ``ValidationError`` must never escape). Anything else is a finding:
atheris stops, prints the traceback and writes the input to a ``crash-*`` file. A MessagePack frame
that decodes must also encode again, and the frame written must read back to the same frame.

    python fuzz/fuzz_decoders.py --backend pure --target all fuzz/corpus/pure -max_total_time=1800

``--backend`` picks the implementation (``pure`` or ``compiled``); ``--target`` the entry point:

* ``decode``: ``Codec(allow_pickle=False).decode``, which reads MessagePack and JSON frames, given
  the input as ``bytes``, ``bytearray`` and ``memoryview`` (the same verdict on all three);
* ``from_bytes``: ``Message.from_bytes([topic, frame])``, the package's defaults (pickle off here);
* ``decode_frame``: the backend's own ``decode_frame`` on a non-empty MessagePack frame;
* ``decode_frames``: ``noobwire.decode_frames`` on up to four frames cut from the input, where the
  installed noobwire has it;
* ``pickle_on``: ``Codec(allow_pickle=True).decode``, skipping inputs that hold a pickle (a mutated
  pickle can allocate gigabytes or run code: pickles are trusted input by the policy) or name an
  exception class in a module not yet imported;
* ``limits``: a codec with small limits (depth 6, length 16, frame size 2048), which must decode
  what it decodes as the codec without them does;
* ``all`` (the default): each of them in turn on every input (``decode_frames`` on the input as one
  frame).

The corpus directory is seeded from the golden vectors (``tests/vectors``, rejected ones included) and
the workloads' JSON frames when it is empty. The remaining arguments go to libFuzzer (``-help=1``);
given files instead of a directory, it runs those inputs once, which is how a finding is replayed.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGETS = ("decode", "from_bytes", "decode_frame", "decode_frames", "pickle_on", "limits", "all")


def _arguments() -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("pure", "compiled"), default="pure")
    parser.add_argument("--target", choices=TARGETS, default="all")
    return parser.parse_known_args()


args, libfuzzer_args = _arguments()
# Read by noobwire at import: the package-level functions (from_bytes, decode_frames) get pickle off
# and the backend asked for.
os.environ["NOOBWIRE_ALLOW_PICKLE"] = "0"
os.environ["NOOBWIRE_PURE"] = "1" if args.backend == "pure" else "0"

import atheris  # noqa: E402

with atheris.instrument_imports(include=["noobwire"]):
    import msgpack

    import noobwire
    from noobwire import Codec, DecodeError, Message, wire, workloads
    from noobwire.messages import MESSAGE_CLASSES

if noobwire.backend != args.backend:
    sys.exit(f"the {args.backend} backend is not available (noobwire.backend is {noobwire.backend!r})")

LOCKED = Codec(backend=args.backend, allow_pickle=False)
TRUSTING = Codec(backend=args.backend, allow_pickle=True)
LIMITED = Codec(backend=args.backend, allow_pickle=False, max_depth=6, max_length=16, max_frame_size=2048)
BACKEND_MODULE = {"pure": "noobwire._pure", "compiled": "noobwire._fast"}[args.backend]
DECODE_FRAME = sys.modules[BACKEND_MODULE].decode_frame
DECODE_FRAMES: Callable[[list[bytes]], Any] | None = getattr(noobwire, "decode_frames", None)


def _check_message(msg: Any, data: bytes, codec: Codec) -> None:
    """A decoded message is an instance of the table's class; a MessagePack one writes and reads back."""
    if not isinstance(msg, Message):
        raise AssertionError(f"decoded to a {type(msg).__qualname__}, not a message")
    if not isinstance(msg, MESSAGE_CLASSES[str(msg.type_)]):
        raise AssertionError(f"a {msg.type_} message decoded to a {type(msg).__qualname__}")
    if data[:1] and data[0] in wire.JSON_FIRST_BYTES:
        return  # JSON is validated as the reference does: it may hold what MessagePack cannot carry
    frame = codec.encode(msg)  # an EncodeError here is a finding: the decoder took what cannot be written
    again = codec.encode(codec.decode(frame))
    if again != frame:
        raise AssertionError(f"not stable: {frame.hex()} read back and written as {again.hex()}")


def _decode(data: bytes) -> None:
    try:
        msg = LOCKED.decode(data)
    except DecodeError as exc:
        _held_alike(data, str(exc), None)
        return
    _check_message(msg, data, LOCKED)
    _held_alike(data, None, LOCKED.encode(msg))


def _held_alike(data: bytes, error: str | None, written: bytes | None) -> None:
    """The frame held in a ``bytearray`` or a ``memoryview`` (which the compiled backend reads in
    place) gets the verdict it got as ``bytes``: the same error, or a message written the same."""
    for held in (bytearray(data), memoryview(data)):
        try:
            msg = LOCKED.decode(held)
        except DecodeError as exc:
            if str(exc) != error:
                raise AssertionError(f"{type(held).__name__}: {exc!r}, as bytes: {error!r}") from None
            continue
        if written is None or (data[0] not in wire.JSON_FIRST_BYTES and LOCKED.encode(msg) != written):
            raise AssertionError(f"{type(held).__name__} decoded to another message than bytes did")


def _from_bytes(data: bytes) -> None:
    try:
        msg = Message.from_bytes([b"event", data])
    except DecodeError:
        return
    _check_message(msg, data, LOCKED)


def _decode_frame(data: bytes) -> None:
    if not data or data[0] in wire.JSON_FIRST_BYTES:
        return  # decode_frame takes a non-empty MessagePack frame; decode() tells JSON apart
    try:
        msg = DECODE_FRAME(data, MESSAGE_CLASSES, LOCKED.options)
    except DecodeError:
        return
    _check_message(msg, data, LOCKED)


def _split_frames(data: bytes) -> list[bytes]:
    """Up to four frames: the low two bits of the first byte say how many more than one; each frame
    but the last is preceded by its length (two bytes); the last is what is left."""
    if not data:
        return [b""]
    count, rest, frames = (data[0] & 3) + 1, data[1:], []
    for _ in range(count - 1):
        if len(rest) < 2:
            break
        (size,) = struct.unpack_from(">H", rest)
        frames.append(rest[2 : 2 + size])
        rest = rest[2 + size :]
    return [*frames, rest]


def _decode_frames(frames: list[bytes]) -> None:
    assert DECODE_FRAMES is not None
    try:
        DECODE_FRAMES(frames)
    except DecodeError:
        return


class _Skip(Exception):
    """The input holds what a codec with pickle on must trust: not fuzzed with pickle on."""


def _refuse_trusted(code: int, data: bytes) -> Any:
    if code == wire.EXT_PICKLE:
        raise _Skip
    if code == wire.EXT_EXCEPTION_TYPE:
        module = bytes(data).partition(b":")[0].decode("utf-8", "replace")
        if module not in sys.modules:
            raise _Skip
    return None


def _holds_trusted_input(data: bytes) -> bool:
    """Whether decoding ``data`` with pickle on might unpickle or import a module.

    Every extension msgpack-python reaches before it stops is looked at (the decoder reaches no
    further); a JSON frame is skipped if it holds a ``pck__`` string, or does not parse as JSON.
    """
    if data[:1] and data[0] in wire.JSON_FIRST_BYTES:
        try:
            return "pck__" in json.dumps(json.loads(data))
        except (ValueError, RecursionError):
            return True
    try:
        msgpack.unpackb(data, ext_hook=_refuse_trusted, raw=True, strict_map_key=False, timestamp=3)
    except _Skip:
        return True
    except Exception:
        pass
    return False


def _pickle_on(data: bytes) -> None:
    if _holds_trusted_input(data):
        return
    try:
        msg = TRUSTING.decode(data)
    except DecodeError:
        return
    if not isinstance(msg, Message):
        raise AssertionError(f"decoded to a {type(msg).__qualname__}, not a message")


def _limits(data: bytes) -> None:
    try:
        msg = LIMITED.decode(data)
    except DecodeError:
        return
    _check_message(msg, data, LOCKED)
    if data[0] not in wire.JSON_FIRST_BYTES and LOCKED.encode(msg) != LOCKED.encode(LOCKED.decode(data)):
        raise AssertionError("the limits changed what a frame decodes to")


def _all(data: bytes) -> None:
    _decode(data)
    _limits(data)
    _from_bytes(data)
    _decode_frame(data)
    if DECODE_FRAMES is not None:
        _decode_frames([data])
    _pickle_on(data)


def _target() -> Callable[[bytes], None]:
    if args.target == "decode_frames":
        if DECODE_FRAMES is None:
            sys.exit("this noobwire has no decode_frames")
        return lambda data: _decode_frames(_split_frames(data))
    return {
        "decode": _decode,
        "from_bytes": _from_bytes,
        "decode_frame": _decode_frame,
        "pickle_on": _pickle_on,
        "limits": _limits,
        "all": _all,
    }[args.target]


def seeds() -> list[bytes]:
    """The golden vectors' frames (rejected ones too) and the workloads' JSON frames."""
    vectors = REPO / "tests" / "vectors"
    frames = [
        bytes.fromhex(json.loads(path.read_text())["hex"])
        for path in sorted([*vectors.glob("*.json"), *vectors.glob("rejected/*.json")])
    ]
    frames += [workloads.make_workload(name).to_json_bytes() for name in ("E4", "P", "S")]
    if args.target == "decode_frames":
        frames = [b"\x00" + frame for frame in frames]  # one frame each
    return frames


def _seed_corpus(arguments: list[str]) -> None:
    """Write the seeds into the first directory argument, if it is empty."""
    directories = [Path(arg) for arg in arguments if not arg.startswith("-") and Path(arg).is_dir()]
    if directories and not any(directories[0].iterdir()):
        for index, frame in enumerate(seeds()):
            (directories[0] / f"seed-{index:03d}").write_bytes(frame)


def main() -> None:
    _seed_corpus(libfuzzer_args)
    atheris.Setup([sys.argv[0], *libfuzzer_args], _target())
    atheris.Fuzz()


if __name__ == "__main__":
    main()
