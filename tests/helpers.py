"""What the tests share: strict equality for decoded values (same types, same bits, same order, same
offsets), the golden vectors, and small helpers."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from noobwire import DecodeError, EventMsg, Message
from noobwire._core import pure
from noobwire.bench.workloads import TIMESTAMP


def assert_same(expected: Any, actual: Any, path: str = "") -> None:
    """Fail unless ``actual`` is ``expected`` with the same type at every level (recursively)."""
    assert type(actual) is type(expected), f"{path}: {type(actual)} is not {type(expected)}"
    if isinstance(expected, Message):
        assert str(actual.type_) == str(expected.type_), f"{path}.type_"
        assert actual.node_id == expected.node_id, f"{path}.node_id"
        assert_same(expected.timestamp, actual.timestamp, f"{path}.timestamp")
        assert_same(expected.value, actual.value, f"{path}.value")
    elif isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, f"{path}: dtype {actual.dtype} != {expected.dtype}"
        assert actual.shape == expected.shape, f"{path}: shape {actual.shape} != {expected.shape}"
        assert _items(actual) == _items(expected), f"{path}: array contents differ"
        # C- and F-contiguous arrays keep their layout; other views come back C-contiguous
        layout = "F" if expected.flags.f_contiguous and not expected.flags.c_contiguous else "C"
        assert actual.flags[f"{layout}_CONTIGUOUS"], f"{path}: not {layout}-contiguous"
    elif isinstance(expected, np.generic):
        assert actual.dtype == expected.dtype, f"{path}: dtype {actual.dtype} != {expected.dtype}"
        assert actual.tobytes() == expected.tobytes(), f"{path}: scalar differs"
    elif isinstance(expected, float):
        if math.isnan(expected):
            assert math.isnan(actual), f"{path}: {actual} is not nan"
        else:
            assert actual == expected, f"{path}: {actual} != {expected}"
            assert math.copysign(1, actual) == math.copysign(1, expected), f"{path}: sign of zero"
    elif isinstance(expected, datetime):
        assert actual == expected, f"{path}: {actual} != {expected}"
        assert actual.utcoffset() == expected.utcoffset(), f"{path}: offset {actual.tzinfo}"
        assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None), f"{path}: wall time"
        if not _is_utc(expected):  # a UTC datetime's fold means nothing and is not kept
            assert actual.fold == expected.fold, f"{path}: fold"
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_same(e, a, f"{path}[{i}]")
    elif isinstance(expected, dict):
        assert list(map(_key, actual)) == list(map(_key, expected)), f"{path}: keys differ"
        for (ek, ev), (ak, av) in zip(expected.items(), actual.items(), strict=True):
            assert_same(ek, ak, f"{path} key {ek!r}")
            assert_same(ev, av, f"{path}[{ek!r}]")
    elif isinstance(expected, set | frozenset):
        assert actual == expected, f"{path}: {actual} != {expected}"
        assert sorted(map(_key, actual)) == sorted(map(_key, expected)), f"{path}: element types"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def _items(array: np.ndarray) -> bytes:
    """The bytes of an array's items, without the padding bytes of a structured dtype."""
    if array.dtype.names:
        return b"".join(_items(np.ascontiguousarray(array[name])) for name in array.dtype.names)
    return array.tobytes()


def _is_utc(value: datetime) -> bool:
    offset = value.utcoffset()
    return offset is not None and not offset


def _key(value: Any) -> str:
    """A text that tells apart values that compare equal across types (1, 1.0, True)."""
    if isinstance(value, datetime) and _is_utc(value):
        value = value.replace(fold=0)
    elif isinstance(value, set | frozenset):
        return f"{type(value).__qualname__}:{{{', '.join(sorted(map(_key, value)))}}}"
    elif isinstance(value, tuple):
        return f"{type(value).__qualname__}:({', '.join(map(_key, value))})"
    return f"{type(value).__qualname__}:{value!r}"


def json_safe(timestamp: datetime) -> datetime:
    """JSON has no fold, and pydantic keeps UTC offsets to the minute only."""
    timestamp = timestamp.replace(fold=0)
    offset = timestamp.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        return timestamp.replace(tzinfo=None)
    return timestamp


def event_msg(*values: Any) -> EventMsg:
    """An EventMsg with one event per value (appended after validation, as a node runner's are)."""
    msg = EventMsg(node_id="cam", timestamp=TIMESTAMP, value=[])
    for i, value in enumerate(values):
        msg.value.append(
            {"id": i, "timestamp": TIMESTAMP, "node_id": "cam", "signal": "s", "epoch": 42, "value": value}
        )
    return msg


TESTS_DIR = Path(__file__).parent
"""The tests' own folder (its files: the vectors, the JSON schemas, the shared helpers)."""
VECTOR_DIR = TESTS_DIR / "vectors"
VECTORS = {path.stem: json.loads(path.read_text()) for path in sorted(VECTOR_DIR.glob("*.json"))}
"""The golden vectors of the reference generation (version 1): name -> {hex, message, ...}."""
REJECTED = {path.stem: json.loads(path.read_text()) for path in sorted(VECTOR_DIR.glob("rejected/*.json"))}
"""Frames every decoder must refuse with a DecodeError."""
PICKLE_VECTORS = {name for name, vector in VECTORS.items() if "$pickle" in json.dumps(vector["message"])}
"""The vectors that hold a pickle (refused with pickle off)."""
V2_VECTORS = {path.stem: json.loads(path.read_text()) for path in sorted(VECTOR_DIR.glob("v2/*.json"))}
"""The golden vectors of wire-format version 2 (noob 1003.x)."""
V2_REJECTED = {
    path.stem: json.loads(path.read_text()) for path in sorted(VECTOR_DIR.glob("v2/rejected/*.json"))
}
"""Version-2 frames every decoder of that generation must refuse with a DecodeError."""


def frame_under(array: Any) -> Any:
    """The object whose memory a decoded array views, found by following its bases."""
    base: Any = array
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    while isinstance(base, memoryview):
        base = base.obj
    return base


@contextmanager
def handovers() -> Iterator[list[str]]:
    """Record each time the compiled backend hands a message or frame over to the pure one."""
    calls: list[str] = []

    def recording(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return function(*args, **kwargs)

        return recorded

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pure, "encode", recording("encode", pure.encode))
        patch.setattr(pure, "decode_frame", recording("decode", pure.decode_frame))
        yield calls


def decodes_or_refuses(decode: Callable[[Any], Any], data: Any) -> Any:
    """``decode(data)``: a message, or the :class:`noobwire.DecodeError` it raised (which must say what
    was wrong); anything else fails the test."""
    try:
        return decode(data)
    except DecodeError as exc:
        error = exc
    assert str(error), "a DecodeError must say what was wrong"
    return error


def table_row(report: str, table: str, name: str) -> list[str]:
    """The cells of the row ``name`` (a codec, a runner) in the table ``table`` (a workload, a pipeline)
    of a benchmark report."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{table}:"))
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        if line.strip().startswith(name):
            return line.strip()[len(name) :].split()
    raise AssertionError(f"no row {name!r} in the table of {table}")


ARRAY_KINDS: dict[str, np.ndarray] = {
    "uint8": np.arange(24, dtype=np.uint8).reshape(4, 6),
    "float32": np.linspace(0, 1, 12, dtype="<f4").reshape(3, 4),
    "big_endian_int32": np.arange(-5, 5, dtype=">i4"),
    "complex128": np.array([1 + 2j, -0.5j]),
    "bool": np.array([True, False, True]),
    "float16": np.array([0.5, -2.0], dtype=np.float16),
    "datetime64": np.array(["2026-01-01T00:00:00.5", "1969-12-31"], dtype="<M8[ms]"),
    "timedelta64": np.array([1, -2], dtype="<m8[s]"),
    "unicode": np.array(["ab", "cde"], dtype="<U3"),
    "bytes_dtype": np.array([b"x", b"yz"], dtype="S2"),
    "void": np.frombuffer(bytes(range(32)), dtype="V8"),
    "structured": np.array([(1, (0.5, 1.5)), (2, (2.5, 3.5))], dtype=[("id", "<u2"), ("xy", "<f4", (2,))]),
    "zero_dimensional": np.array(2.5, dtype="<f8"),
    "empty": np.zeros((0, 3), dtype="<i8"),
    "three_dimensional": np.arange(60, dtype="<i2").reshape(3, 4, 5),
    "fortran": np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4)),
    "strided": np.arange(100, dtype="<f4").reshape(10, 10)[::2, 1::3],
}
"""One numpy array of each kind the array extension writes: dtypes (byte orders, dates, strs, bytes,
void, structured), shapes (none, empty, three axes) and layouts (Fortran order, strided)."""
