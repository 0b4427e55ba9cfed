"""Cost bounded by the frame: what decoding an N-byte frame holds at its peak, on both backends.

The security guide (docs/guide/security.md) states the bound: peak memory growth <= MEMORY_PER_BYTE x N
+ MEMORY_CONSTANT, pickle off. The frames are built byte by byte (``hostile.py``): nested containers
each claiming what the bytes left could hold (the attack on presizing), valid frames whose claims fit at
every depth, and frames of the most Python objects per byte. Work is counted as memory
(``tracemalloc``), never as time: the compiled backend's seconds came from the memory it presized and
then had to free.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import msgpack
import pytest

from helpers import TESTS_DIR
from hostile import (
    REFUSED_BUILDERS,
    SHAPES,
    array_header,
    event_frame,
    fitting_claims,
    map_header,
    nested_claims,
    peak_growth,
)
from noobwire import DecodeError, SchemaError, wire
from noobwire.codec import Backend
from noobwire.generations import NOOB_1003, REFERENCE
from noobwire.layout import Generation
from noobwire.messages import MESSAGE_CLASSES
from noobwire.options import Options

MEMORY_PER_BYTE = 120
"""K of the documented bound (the worst shape measured, nested 1-entry maps with int keys: 112)."""
MEMORY_CONSTANT = 2**20
"""C of the documented bound: what a decode holds whatever the frame (caches, a fix array's presize at
every level, the first call's lazy imports)."""
SAME_WORK = 3
"""The compiled backend holds at most this many times what the pure one holds (plus the constant)."""

LOCKED = Options(allow_pickle=False)
MiB = 2**20


def _decoder(backend: Backend) -> Any:
    return lambda frame: backend.decode(frame, MESSAGE_CLASSES, LOCKED)


def _within_bound(peak: int, frame: bytes) -> bool:
    return peak <= MEMORY_PER_BYTE * len(frame) + MEMORY_CONSTANT


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Lazy imports and caches are filled once, before anything is measured."""
    from noobwire import codec

    for name in ("pure", "compiled"):
        try:
            decode = _decoder(codec.get_backend(name))
        except ImportError:
            continue
        for build in SHAPES.values():
            decode(build(4096))


CLAIMS = [(kind, size) for size in (1 * MiB, 4 * MiB) for kind in ("map", "array", "mixed")]


@pytest.mark.parametrize(("kind", "size"), CLAIMS, ids=[f"{k}-{s // MiB}MiB" for k, s in CLAIMS])
def test_nested_claims_are_refused_within_the_bound(backend: Backend, kind: str, size: int) -> None:
    frame = nested_claims(kind, size)
    peak, error = peak_growth(_decoder(backend), frame)
    assert isinstance(error, DecodeError)
    assert "bytes are left" in str(error)
    # Refused where the second level's count no longer fits: nothing like 1020 presized containers.
    assert peak <= 9 * len(frame) + MEMORY_CONSTANT, f"{peak / len(frame):.1f} x N"


@pytest.mark.parametrize(("kind", "size"), CLAIMS, ids=[f"{k}-{s // MiB}MiB" for k, s in CLAIMS])
def test_claims_that_fit_decode_within_the_bound(backend: Backend, kind: str, size: int) -> None:
    frame = fitting_claims(kind, size)
    peak, error = peak_growth(_decoder(backend), frame)
    assert error is None
    assert _within_bound(peak, frame), f"{peak / len(frame):.1f} x N"


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_most_objects_per_byte_stay_within_the_bound(backend: Backend, name: str) -> None:
    frame = SHAPES[name](MiB // 8)
    peak, error = peak_growth(_decoder(backend), frame)
    assert error is None, error
    assert _within_bound(peak, frame), f"{peak / len(frame):.1f} x N"


def test_the_bound_is_not_loose() -> None:
    """The stated K is the worst shape's, not a number far above anything measured."""
    from noobwire import codec

    frame = SHAPES["nested 1-entry maps"](MiB // 4)
    peak, _ = peak_growth(_decoder(codec.get_backend("pure")), frame)
    assert peak > (MEMORY_PER_BYTE - 15) * len(frame)


ALL_FRAMES = {
    **{
        f"nested claims {kind} {size // MiB} MiB": nested_claims(kind, size)
        for kind in ("map", "array", "mixed")
        for size in (MiB, 4 * MiB)
    },
    **{f"fitting claims {kind}": fitting_claims(kind, MiB) for kind in ("map", "array", "mixed")},
    **{name: build(MiB // 16) for name, build in SHAPES.items()},
}


@pytest.mark.parametrize("name", list(ALL_FRAMES))
def test_compiled_holds_no_more_than_pure(name: str) -> None:
    """The work of the compiled backend, counted as the memory it holds, is the pure one's."""
    from noobwire import codec

    try:
        compiled = codec.get_backend("compiled")
    except ImportError:
        pytest.skip("the compiled extension is not built")
    frame = ALL_FRAMES[name]
    compiled_peak, compiled_error = peak_growth(_decoder(compiled), frame)
    pure_peak, pure_error = peak_growth(_decoder(codec.get_backend("pure")), frame)
    assert type(compiled_error) is type(pure_error)
    assert compiled_peak <= SAME_WORK * pure_peak + MEMORY_CONSTANT, (compiled_peak, pure_peak)


SHORT_CLAIMS = {
    "map16": map_header(0xFFFF) + b"\x00",
    "array16": array_header(0xFFFF),
    "map32": b"\xdf" + (0xFFFF).to_bytes(4, "big") + b"\x00",
    "array32": b"\xdd" + (0xFFFF).to_bytes(4, "big"),
}
"""Headers claiming 65,535 items (entries): each fits the bytes left of a frame over 128 KiB on its own."""


@pytest.mark.parametrize("name", list(SHORT_CLAIMS))
def test_nested_claims_of_what_a_large_frame_could_hold_are_refused_within_the_bound(
    backend: Backend, name: str
) -> None:
    # The fuzzer's oracle found this with maps of 16-bit counts: 900 of them, each claiming 65,535
    # entries of a 144 KB frame, made msgpack-python presize 77 MB on both backends before it failed.
    frame = event_frame(SHORT_CLAIMS[name] * 900 + b"\x00" * 140_000)
    peak, error = peak_growth(_decoder(backend), frame)
    assert isinstance(error, DecodeError)
    assert "bytes are left" in str(error)
    assert peak <= 9 * len(frame) + MEMORY_CONSTANT, f"{peak / len(frame):.1f} x N"


def test_an_empty_array_extension_costs_no_buffer(backend: Backend) -> None:
    # The fuzzer's oracle found a 91-byte frame holding 1.1 MB: msgpack-python's Unpacker, asked for a
    # buffer of at most 0 bytes (an empty payload), takes that for "no limit" and allocates 1 MiB.
    frame = event_frame(b"\xc7\x00" + bytes([wire.EXT_NDARRAY]))
    peak, error = peak_growth(_decoder(backend), frame)
    assert isinstance(error, DecodeError)
    assert "malformed header" in str(error)
    assert peak <= 64 * 1024, f"{peak:,} bytes for a {len(frame)}-byte frame"


# --- counts inside extension payloads: read by msgpack-python on both backends ----------------------


def _nested_array_claims(size: int) -> bytes:
    """MessagePack of ~``size`` bytes: 1000 arrays nested, each claiming every byte after its header."""
    body = b"".join(b"\xdd" + (size - 5 * (level + 1)).to_bytes(4, "big") for level in range(1000))
    return body + b"\x00" * (size - len(body))


def test_an_array_header_of_nested_claims_costs_nothing(backend: Backend) -> None:
    payload = _nested_array_claims(MiB)
    ext = b"\xc9" + len(payload).to_bytes(4, "big") + bytes([wire.EXT_NDARRAY]) + payload
    frame = event_frame(ext)
    peak, error = peak_growth(_decoder(backend), frame)
    assert isinstance(error, DecodeError)
    assert peak <= 9 * len(frame) + MEMORY_CONSTANT, f"{peak / len(frame):.1f} x N"


def test_a_buffer_reference_of_nested_claims_costs_nothing(backend: Backend) -> None:
    from noobwire._core.out_of_band import ReceivedBuffers

    payload = _nested_array_claims(MiB)
    header = msgpack.packb(
        [REFERENCE.version, REFERENCE.type_codes["event"], 1, "n", msgpack.Timestamp(0), []]
    )
    header = header[:-1] + b"\x91\x96\x00\xd6\xff\x00\x00\x00\x00\xa0\xa0\x00"
    frame = header + b"\xc9" + len(payload).to_bytes(4, "big") + bytes([wire.EXT_BUFFER_BYTES]) + payload

    def decode(data: bytes) -> Any:
        return backend.decode_frame(data, MESSAGE_CLASSES, LOCKED, ReceivedBuffers([b"x"]))

    peak, error = peak_growth(decode, frame)
    assert isinstance(error, DecodeError)
    assert peak <= 9 * len(frame) + MEMORY_CONSTANT, f"{peak / len(frame):.1f} x N"


# --- values whose hash the frame chooses: dicts and sets must not go quadratic ---------------------------

_MASK, _MERSENNE = 2**64 - 1, 2**61 - 1
_P1, _P2, _P5 = 11400714785074694791, 14029467366897019727, 2870177450012600261


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _colliding_pairs(count: int) -> list[tuple[int, int]]:
    """Pairs of 64-bit ints whose tuples share one hash (CPython's xxHash-based tuple hash, inverted)."""
    target, pairs, first = 12345, [], 1
    undo_p1, undo_p2 = pow(_P1, -1, 2**64), pow(_P2, -1, 2**64)
    while len(pairs) < count:
        after_first = (_rotl((_P5 + first * _P2) & _MASK, 31) * _P1) & _MASK
        second = ((_rotl((target * undo_p1) & _MASK, 64 - 31) - after_first) * undo_p2) & _MASK
        if second < _MERSENNE:  # an int whose hash is itself
            pairs.append((first, second))
        first += 1
    return pairs


def _tuple(pair: tuple[int, int]) -> bytes:
    return b"\x93\xc7\x00" + bytes([wire.EXT_TUPLE]) + msgpack.packb(pair[0]) + msgpack.packb(pair[1])


def _bigint(value: int) -> bytes:
    return msgpack.packb(msgpack.ExtType(wire.EXT_BIGINT, value.to_bytes(value.bit_length() // 8 + 1, "big")))


def _flooding_frames() -> dict[str, bytes]:
    pairs = _colliding_pairs(2000)
    nested = [b"\x92\xc7\x00" + bytes([wire.EXT_TUPLE]) + _tuple(pair) for pair in pairs]
    if len({hash(pair) for pair in pairs}) != 1:
        pytest.skip("this Python's tuple hash is not the one the pairs were made for")
    bigints = [_bigint(_MERSENNE * (2**64 + i)) for i in range(2000)]  # hash 0, all of them
    return {
        "map of big int keys": event_frame(map_header(2000) + b"".join(key + b"\x00" for key in bigints)),
        "set of big ints": event_frame(
            array_header(2001) + b"\xc7\x00" + bytes([wire.EXT_SET]) + b"".join(bigints)
        ),
        "map of tuple keys": event_frame(
            map_header(2000) + b"".join(_tuple(pair) + b"\x00" for pair in pairs)
        ),
        "map of nested tuple keys": event_frame(map_header(2000) + b"".join(key + b"\x00" for key in nested)),
        "frozenset of tuples": event_frame(
            array_header(2001) + b"\xc7\x00" + bytes([wire.EXT_FROZENSET]) + b"".join(map(_tuple, pairs))
        ),
    }


def test_keys_of_one_hash_are_refused(backend: Backend) -> None:
    """2000 distinct keys of one hash: each insertion would compare with all the others (a 300 KB frame
    of them took half a minute); the frame is refused once 33 keys of one map or set share a hash."""
    for frame in _flooding_frames().values():
        with pytest.raises(DecodeError, match="keys of one hash value"):
            backend.decode(frame, MESSAGE_CLASSES, LOCKED)


def test_equal_values_and_chance_collisions_are_fine(backend: Backend) -> None:
    same = _bigint(2**70)
    repeated = event_frame(array_header(5000) + same * 5000)
    assert len(backend.decode(repeated).value[0]["value"]) == 5000
    few = [_bigint(_MERSENNE * (2**64 + i)) for i in range(32)]  # as many as may share a hash
    assert (
        len(
            backend.decode(event_frame(map_header(32) + b"".join(k + b"\x00" for k in few))).value[0]["value"]
        )
        == 32
    )


@pytest.mark.parametrize("size", [0, 1, 2, 40, 1024, 1025, 20_000])
def test_the_presize_screen_counts_the_headers_at_every_size(size: int) -> None:
    # Short frames are filtered, long ones searched: both must find the same second presizing header.
    import random

    from noobwire._core.screens import may_presize_beyond

    rng = random.Random(size)
    headers = [0xDC, 0xDD, 0xDE, 0xDF]
    for _ in range(200):
        frame = bytearray(rng.randrange(0xDC) for _ in range(size))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            if size:
                frame[rng.randrange(size)] = rng.choice(headers)
        expected = sum(frame.count(header) for header in headers) > 1
        assert may_presize_beyond(bytes(frame)) is expected
    assert may_presize_beyond(bytearray(b"\x90" * size)) is True  # not bytes: always screened further


# --- refused frames whose problems multiply: the refusal costs what a decode may ------------------------

MESSAGE_LIMIT = 2048
"""A refusal's message is at most this long, whatever the frame (it names the first few problems)."""
REFUSED_GENERATIONS = [REFERENCE, NOOB_1003]
REFUSED = [(name, generation) for name in REFUSED_BUILDERS for generation in REFUSED_GENERATIONS]


@pytest.mark.parametrize(
    ("name", "generation"), REFUSED, ids=[f"{name}-{generation.name}" for name, generation in REFUSED]
)
def test_a_refusal_whose_problems_multiply_stays_within_the_bound(
    backend: Backend, name: str, generation: Generation
) -> None:
    # Before: a 20 KB frame was refused with pydantic's report of every problem, each naming its place
    # (the long key): a 97 MB message, and noob's node logged all of it.
    def decode(frame: bytes) -> Any:
        return backend.decode(frame, generation, LOCKED)

    with pytest.raises(SchemaError):  # what is imported or built on first use, first
        decode(REFUSED_BUILDERS[name](generation, 256))
    frame = REFUSED_BUILDERS[name](generation, 64 * 1024)
    peak, error = peak_growth(decode, frame)
    assert isinstance(error, SchemaError), error
    assert len(str(error)) <= MESSAGE_LIMIT, len(str(error))
    assert _within_bound(peak, frame), f"{peak / len(frame):.1f} x N"


_RSS_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from hostile import REFUSED_BUILDERS, resident_peak_growth
from noobwire import SchemaError, codec
from noobwire.generations import GENERATIONS
from noobwire.options import Options

backend = codec.get_backend({backend!r})
generation = next(g for g in GENERATIONS if g.version == {version})
build = REFUSED_BUILDERS[{name!r}]
options = Options(allow_pickle=False)
def decode(frame):
    try:
        backend.decode(frame, generation, options)
    except SchemaError:
        pass
for size in (256, 4096):  # imports, caches, the allocator's first arenas
    decode(build(generation, size))
frame = build(generation, {size})
print(len(frame), resident_peak_growth(lambda: decode(frame)))
"""


@pytest.mark.parametrize(
    ("name", "generation"), REFUSED, ids=[f"{name}-{generation.name}" for name, generation in REFUSED]
)
def test_a_refusal_holds_no_memory_outside_python_beyond_the_bound(
    backend: Backend, name: str, generation: Generation
) -> None:
    """pydantic keeps the problems it finds in memory of its own, which tracemalloc does not see: the
    peak of the whole process's resident memory, in a process of its own (before: 75 MB to 1.2 GB for
    frames of 22-60 KB)."""
    script = _RSS_SCRIPT.format(
        tests=str(TESTS_DIR),
        backend=backend.name,
        version=generation.version,
        name=name,
        size=40_000,
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    size, growth = map(int, done.stdout.split())
    assert growth <= MEMORY_PER_BYTE * size + 4 * MEMORY_CONSTANT, f"{growth / size:.1f} x N"
