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
* ``noob``: the installed noob's generation (noob 1000 to 1003, where one is installed), pickle off,
  with ``noobwire.noob.install(allow_pickle=False)`` in place: a message that decodes is then handled
  as noob's node and runner handle what they receive (its events put in a new ``EventMsg``, as a node
  publishing them does; the message printed, copied, and decoded again by noob's ``from_bytes``), and
  nothing of it may open a file, import a module or unpickle (``sys.addaudithook``);
* ``all`` (the default): each of them in turn on every input (``decode_frames`` on the input as one
  frame; ``noob`` where noob is installed);
* ``structured``: the input drives a generator of frames (``FuzzedDataProvider``) instead of being the
  frame: nested arrays, maps, sets and tuples, duplicate keys, extensions, counts that tell the truth or
  claim what the bytes left could hold, and runs of one item repeated up to thousands of times (frames
  up to a megabyte from a short input), which byte-level mutation rarely reaches; each frame is decoded
  with pickle off and with the small limits;
* ``combined``: ``all`` on the input as a frame, then ``structured`` on it as a generator's input (one
  process covers both, where a machine has no core to spare for a second).

Every target also runs under an amplification oracle: each decode's peak memory (``tracemalloc``) and
time are recorded, and an input whose peak exceeds the README's bound (``MEMORY_PER_BYTE`` x its size +
``MEMORY_CONSTANT``) or whose time per byte is more than ``SLOWER_THAN_WORKLOADS`` times the slowest of
the workloads' (measured at start-up, under the same tracing) is a finding, as is an input that reaches
the compiled backend's "internal error" (the twins disagree). ``--report FILE`` writes, at exit, how
many inputs ran and the worst peak and time per byte seen.

The corpus directory is seeded from the golden vectors (``tests/vectors``, rejected ones included) and
the workloads' JSON frames when it is empty. The remaining arguments go to libFuzzer (``-help=1``);
given files instead of a directory, it runs those inputs once, which is how a finding is replayed.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import struct
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGETS = (
    "decode",
    "from_bytes",
    "decode_frame",
    "decode_frames",
    "pickle_on",
    "limits",
    "noob",
    "all",
    "structured",
    "combined",
)


def _arguments() -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("pure", "compiled"), default="pure")
    parser.add_argument("--target", choices=TARGETS, default="all")
    parser.add_argument("--report", type=Path, help="write the oracle's counts here (JSON) at exit")
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
    from noobwire import Codec, DecodeError, Message, wire
    from noobwire.bench import workloads
    from noobwire.generations import REFERENCE
    from noobwire.messages import MESSAGE_CLASSES

sys.path.insert(0, str(REPO / "tests"))
import hostile  # noqa: E402  (the frame builders of the cost tests)

if noobwire.backend != args.backend:
    sys.exit(f"the {args.backend} backend is not available (noobwire.backend is {noobwire.backend!r})")

# --- the amplification oracle ----------------------------------------------------------------------

MEMORY_PER_BYTE = 120
MEMORY_CONSTANT = 2**20
"""README's bound (Security): decoding N bytes grows the peak of memory by at most 120 x N + 1 MiB."""
SLOWER_THAN_WORKLOADS = 100
"""A decode whose time per byte is this many times the workloads' slowest is a finding (the worst
shapes the cost tests build run at about 15 times it)."""
MIN_SLOW_SECONDS = 0.2
"""Below this a decode is never judged slow (a collection of the cycle collector takes that long)."""


class Oracle:
    """Records each decode's peak memory and time, and raises on one beyond the bounds."""

    def __init__(self) -> None:
        self.inputs = 0
        self.decodes = 0
        self.worst_memory = (0.0, 0)  # (peak per byte, size)
        self.worst_time = (0.0, 0)  # (ns per byte, size) of decodes over MIN_SLOW_SECONDS / 10
        self.workload_ns_per_byte = 0.0
        self.report: Path | None = None
        self.last_report = 0.0

    def watched(self, decode: Callable[..., Any]) -> Callable[..., Any]:
        """``decode`` (whose first argument is the frame, or a list of frames) under the oracle."""

        def run(data: Any, *rest: Any, **options: Any) -> Any:
            size = sum(map(len, data)) if isinstance(data, list) else len(data)
            result, error, peak, seconds = self.measure(decode, data, rest, options)
            for _ in range(2):  # a slow decode is timed again: this machine may have been busy
                if not self.too_slow(size, seconds):
                    break
                seconds = min(seconds, self.measure(decode, data, rest, options)[3])
            self.judge(size, peak, seconds)
            if error is not None:
                raise error
            return result

        return run

    @staticmethod
    def measure(
        decode: Callable[..., Any], data: Any, rest: Any, options: Any
    ) -> tuple[Any, BaseException | None, int, float]:
        """What ``decode`` returns or raises, its peak of memory and its time."""
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        result: Any = None
        error: BaseException | None = None
        try:
            result = decode(data, *rest, **options)
        except RuntimeError as exc:
            if "internal error" in str(exc):
                raise AssertionError(f"the twins disagree on this input: {exc}") from exc
            error = exc
        except Exception as exc:  # the target judges the verdict
            error = exc
        seconds = time.perf_counter() - start
        return result, error, tracemalloc.get_traced_memory()[1] - before, seconds

    def too_slow(self, size: int, seconds: float) -> bool:
        return bool(
            self.workload_ns_per_byte
            and seconds > MIN_SLOW_SECONDS
            and seconds * 1e9 / max(size, 1) > SLOWER_THAN_WORKLOADS * self.workload_ns_per_byte
        )

    def judge(self, size: int, peak: int, seconds: float) -> None:
        self.decodes += 1
        per_byte = peak / max(size, 1)
        if per_byte > self.worst_memory[0] and peak > MEMORY_CONSTANT:
            self.worst_memory = (per_byte, size)
        if peak > MEMORY_PER_BYTE * size + MEMORY_CONSTANT:
            raise AssertionError(f"a frame of {size} bytes made the decoder hold {peak} bytes at its peak")
        ns_per_byte = seconds * 1e9 / max(size, 1)
        if seconds > MIN_SLOW_SECONDS / 10 and ns_per_byte > self.worst_time[0]:
            self.worst_time = (ns_per_byte, size)
        if self.too_slow(size, seconds):
            raise AssertionError(
                f"a frame of {size} bytes took {seconds:.2f} s ({ns_per_byte:.0f} ns a byte, the workloads "
                f"take {self.workload_ns_per_byte:.0f})"
            )

    def calibrate(self, decode: Callable[[bytes], Any]) -> None:
        """The workloads' time per byte, decoded and refused (cut short by a byte: the pure backend's
        walker then says where), under the same tracing and instrumentation as the inputs."""
        for build in hostile.SHAPES.values():  # lazy imports (numpy) and caches, before anything is judged
            decode(build(4096))
        slowest = 0.0
        for name in ("E4", "E64", "P", "S"):
            whole = noobwire.encode(workloads.make_workload(name))
            for frame in (whole, whole[:-1]):
                rounds = 50
                start = time.perf_counter()
                for _ in range(rounds):
                    with contextlib.suppress(DecodeError):
                        decode(frame)
                slowest = max(slowest, (time.perf_counter() - start) * 1e9 / rounds / len(frame))
        self.workload_ns_per_byte = slowest

    def count_input(self) -> None:
        self.inputs += 1
        now = time.monotonic()
        if self.report is not None and now - self.last_report > 10:
            self.last_report = now
            self.write_report()

    def write_report(self) -> None:
        if self.report is None:
            return
        self.report.write_text(
            json.dumps(
                {
                    "backend": args.backend,
                    "target": args.target,
                    "inputs": self.inputs,
                    "decodes": self.decodes,
                    "workload_ns_per_byte": round(self.workload_ns_per_byte, 1),
                    "worst_peak_per_byte": [round(self.worst_memory[0], 1), self.worst_memory[1]],
                    "worst_ns_per_byte": [round(self.worst_time[0], 1), self.worst_time[1]],
                },
                indent=1,
            )
        )


ORACLE = Oracle()
ORACLE.report = args.report


class _WatchedCodec:
    """A codec whose ``decode`` and ``decode_frames`` run under the oracle."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.options = codec.options
        self.encode = codec.encode
        self.decode = ORACLE.watched(codec.decode)
        self.decode_frames = ORACLE.watched(codec.decode_frames)


LOCKED = _WatchedCodec(Codec(backend=args.backend, allow_pickle=False))
TRUSTING = _WatchedCodec(Codec(backend=args.backend, allow_pickle=True))
LIMITED = _WatchedCodec(
    Codec(backend=args.backend, allow_pickle=False, max_depth=6, max_length=16, max_frame_size=2048)
)
BACKEND_MODULE = {"pure": "noobwire._core.pure", "compiled": "noobwire._core.compiled"}[args.backend]
DECODE_FRAME = ORACLE.watched(sys.modules[BACKEND_MODULE].decode_frame)
_PACKAGE_DECODE_FRAMES = getattr(noobwire, "decode_frames", None)
DECODE_FRAMES: Callable[[list[bytes]], Any] | None = (
    None if _PACKAGE_DECODE_FRAMES is None else ORACLE.watched(_PACKAGE_DECODE_FRAMES)
)
FROM_BYTES = ORACLE.watched(lambda frames: Message.from_bytes(frames))


def _check_message(msg: Any, data: bytes, codec: Any) -> None:
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
        msg = FROM_BYTES([b"event", data])
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


# --- what noob does next: no file, no import, no pickle --------------------------------------------


class _Untouched:
    """An audit hook that, while armed, records every file opened, module imported, pickle global
    looked up and process started: what handling a message from a hostile peer must never do."""

    EVENTS = frozenset(
        (
            "open",
            "import",
            "pickle.find_class",
            "os.mkdir",
            "os.remove",
            "os.rename",
            "shutil.copyfile",
            "subprocess.Popen",
            "os.system",
            "os.exec",
            "os.spawn",
        )
    )

    def __init__(self) -> None:
        self.armed = False
        self.seen: list[str] = []
        sys.addaudithook(self.hook)

    def hook(self, event: str, arguments: tuple[Any, ...]) -> None:
        if self.armed and event in self.EVENTS:
            self.seen.append(f"{event} {str(arguments[:2])[:200]}")

    @contextlib.contextmanager
    def watching(self) -> Any:
        self.seen.clear()
        self.armed = True
        try:
            yield
        finally:
            self.armed = False
        if self.seen:
            raise AssertionError(f"handling a decoded message did what it must not: {self.seen[:5]}")


def _noob() -> tuple[Any, Any, Any] | None:
    """The installed noob's message module, its generation and a codec of it with pickle off, with
    noobwire installed into it (pickle off); None where noob is not installed."""
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import noob.network.message as module

        from noobwire.noob import install
        from noobwire.noob.compat import recognize
    except ImportError:
        return None
    generation = recognize(module).generation
    if generation is None:
        return None
    installation = install(module=module, allow_pickle=False, zero_copy=False)
    return (
        module,
        installation.generation,
        Codec(generation=installation.generation, backend=args.backend, allow_pickle=False),
    )


NOOB = _noob()
UNTOUCHED = _Untouched()


def _as_noob_handles_it(module: Any, msg: Any, data: bytes) -> None:
    """What noob's node and runner do with a message they receive (see the security guide's table)."""
    repr(msg)
    str(msg)
    msg.model_copy(deep=True)
    if isinstance(msg, module.EventMsg):
        module.EventMsg(node_id=msg.node_id, value=list(msg.value))  # publish_events: noob validates again
    module.Message.from_bytes([b"topic", data])  # the patched from_bytes: the same bytes, the same verdict


def _noob_target(data: bytes) -> None:
    if NOOB is None:
        return
    module, _, codec = NOOB
    decode = ORACLE.watched(codec.decode)
    with UNTOUCHED.watching():
        try:
            msg = decode(data)
        except DecodeError:
            return
        try:
            _as_noob_handles_it(module, msg, data)
        except DecodeError as exc:
            raise AssertionError(f"noob's from_bytes refused what the codec decoded: {exc}") from exc
        except Exception as exc:
            if isinstance(exc, AssertionError):
                raise
    again = codec.encode(msg)  # what the decoder accepts, the encoder writes
    if codec.encode(codec.decode(again)) != again:
        raise AssertionError("a noob frame is not stable when written again")


def _all(data: bytes) -> None:
    _decode(data)
    _limits(data)
    _from_bytes(data)
    _decode_frame(data)
    if DECODE_FRAMES is not None:
        _decode_frames([data])
    _pickle_on(data)
    _noob_target(data)


# --- the structure-aware generator --------------------------------------------------------------------

_MAX_GENERATED = 2**18
"""A generated frame stops growing at about this many bytes."""
_SCALARS = [
    b"\x00",
    b"\x7f",
    b"\xff",
    b"\xc0",
    b"\xc3",
    b"\xa0",
    b"\xa2ab",
    b"\xcd\x12\x34",
    b"\xcf" + b"\xff" * 8,
    b"\xd3\x80" + b"\x00" * 7,
    b"\xca\x3f\x80\x00\x00",
    b"\xcb" + struct.pack(">d", 0.5),
    b"\xc4\x02ab",
    b"\xd6\xff\x00\x00\x00\x01",
    b"\xd7\xff" + bytes(8),
    b"\xc7\x00" + bytes([wire.EXT_META_SIGNAL]),
    b"\xd4" + bytes([wire.EXT_BIGINT]) + b"\x01",
    b"\xc7\x09" + bytes([wire.EXT_BIGINT]) + b"\x01" + bytes(8),
    b"\xc7\x14" + bytes([wire.EXT_DATETIME]) + bytes(12) + struct.pack(">q", 3_600_000_000),
    b"\xc7\x0c" + bytes([wire.EXT_DATETIME]) + bytes(12),
    b"\xc7\x08" + bytes([wire.EXT_NDARRAY]) + b"\x93\xa3|u1\x91\x00\x00",
    b"\xc7\x13" + bytes([wire.EXT_EXCEPTION_TYPE]) + b"builtins:ValueError",
]
_MARKERS = [wire.EXT_TUPLE, wire.EXT_SET, wire.EXT_FROZENSET]


class _Generator:
    """Builds one frame from a fuzzer's bytes: what a byte-level mutation rarely reaches."""

    def __init__(self, data: bytes) -> None:
        self.fdp = atheris.FuzzedDataProvider(data)
        self.size = 0

    def frame(self) -> bytes:
        value = self.value(0)
        kind = self.fdp.ConsumeIntInRange(0, 2)
        if kind == 0:
            return hostile.event_frame(value)
        if kind == 1:  # a process message's input
            return (
                hostile.EVENT_PREFIX[:2]
                + bytes([REFERENCE.type_codes["process"]])
                + hostile.EVENT_PREFIX[3:]
                + b"\x92\x01"
                + value
            )
        code = self.fdp.ConsumeIntInRange(0, len(REFERENCE.type_names) - 1)
        return hostile.EVENT_PREFIX[:2] + bytes([code]) + hostile.EVENT_PREFIX[3:] + value

    def value(self, depth: int) -> bytes:
        fdp = self.fdp
        choice = fdp.ConsumeIntInRange(0, 9) if depth < 40 and self.size < _MAX_GENERATED else 0
        if choice <= 2 or fdp.remaining_bytes() == 0:
            return self.grown(fdp.PickValueInList(_SCALARS))
        if choice <= 4:
            return self.array(depth, marker=None)
        if choice == 5:
            return self.array(depth, marker=fdp.PickValueInList(_MARKERS))
        if choice <= 7:
            return self.map(depth)
        if choice == 8:  # a run of one item repeated: large frames from a short input
            item = self.value(depth + 1)
            large = fdp.ConsumeIntInRange(0, 7) == 0  # now and then a long run, mostly short ones
            times = 1 << fdp.ConsumeIntInRange(0, 12 if large else 4)
            times = max(1, min(times, (_MAX_GENERATED - self.size) // max(len(item), 1)))
            return self.grown(self.header(times, 1) + item * times, len(item) * (times - 1))
        return self.deep(depth)

    def grown(self, data: bytes, extra: int = 0) -> bytes:
        self.size += len(data) + extra
        return data

    def count(self, actual: int) -> int:
        """The count a container declares: mostly the truth, else a claim the bytes could hold."""
        if self.fdp.ConsumeIntInRange(0, 3):
            return actual
        return actual + self.fdp.ConsumeIntInRange(
            0, max(self.size, 1) + (1 << self.fdp.ConsumeIntInRange(0, 20))
        )

    def header(self, count: int, per_item: int) -> bytes:
        return hostile.array_header(count) if per_item == 1 else hostile.map_header(count)

    def array(self, depth: int, marker: int | None) -> bytes:
        items = [self.value(depth + 1) for _ in range(self.fdp.ConsumeIntInRange(0, 6))]
        if marker is not None:
            items.insert(0, b"\xc7\x00" + bytes([marker]))
        return self.grown(self.header(self.count(len(items)), 1) + b"".join(items))

    def map(self, depth: int) -> bytes:
        keys, values = [], []
        for _ in range(self.fdp.ConsumeIntInRange(0, 5)):
            use_scalar = self.fdp.ConsumeBool()
            keys.append(self.fdp.PickValueInList(_SCALARS[:8]) if use_scalar else self.value(depth + 1))
            values.append(self.value(depth + 1))
        if keys and self.fdp.ConsumeBool():  # a duplicate key, whose value replaces the first one's
            keys.append(keys[0])
            values.append(self.value(depth + 1))
        body = b"".join(key + value for key, value in zip(keys, values, strict=True))
        return self.grown(self.header(self.count(len(keys)), 2) + body)

    def deep(self, depth: int) -> bytes:
        """A chain of containers of one item (or entry), up to the format's depth."""
        levels = self.fdp.ConsumeIntInRange(1, wire.MAX_DEPTH)
        link = self.fdp.PickValueInList([b"\x91", b"\x81\x00", b"\x81\xa0", b"\x92\xc7\x00\x03"])
        claimed = self.count(1)
        first = hostile.array_header(claimed) if link[0] != 0x81 else hostile.map_header(claimed) + link[1:]
        if link[0] == 0x92:
            first = link
        inner = self.fdp.PickValueInList(_SCALARS)
        return self.grown(first + link * (levels - 1) + inner)


def _structured(data: bytes) -> None:
    """A generated frame, decoded by the codec with pickle off (and by the limited one): each decode
    under the oracle, a message read back as for ``decode``."""
    frame = _Generator(data).frame()
    try:
        msg = LOCKED.decode(frame)
    except DecodeError:
        pass
    else:
        _check_message(msg, frame, LOCKED)
    with contextlib.suppress(DecodeError):
        LIMITED.decode(frame)


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
        "noob": _noob_target,
        "all": _all,
        "structured": _structured,
        "combined": _combined,
    }[args.target]


def _combined(data: bytes) -> None:
    _all(data)
    _structured(data)


def _counted(target: Callable[[bytes], None]) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        ORACLE.count_input()
        target(data)

    return run


def seeds() -> list[bytes]:
    """The golden vectors' frames (rejected ones too) and the workloads' JSON frames."""
    vectors = REPO / "tests" / "vectors"
    frames = [
        bytes.fromhex(json.loads(path.read_text())["hex"])
        for path in sorted(
            [*vectors.glob("*.json"), *vectors.glob("rejected/*.json"), *vectors.glob("v2/*.json")]
        )
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


def _warm_noob() -> None:
    """Handle each seed as noob would, unwatched: what is imported on first use is imported now."""
    if NOOB is None:
        return
    module, _, codec = NOOB
    for frame in seeds():
        with contextlib.suppress(Exception):
            _as_noob_handles_it(module, codec.decode(frame), frame)


def main() -> None:
    _seed_corpus(libfuzzer_args)
    _warm_noob()
    tracemalloc.start()
    ORACLE.calibrate(LOCKED.codec.decode)
    atexit.register(ORACLE.write_report)
    atheris.Setup([sys.argv[0], *libfuzzer_args], _counted(_target()))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
