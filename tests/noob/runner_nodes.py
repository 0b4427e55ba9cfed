"""Nodes for the tests that run noob's ZeroMQ runner (test_noob_runner_pipeline.py).

noob finds a node by its dotted name in every process of the runner: this module is importable as
``runner_nodes`` because pytest puts the tests' folder on ``sys.path``, and the node processes are forked
from the test process. Nothing here imports noob.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LARGE = ("c_float64", "f_int16", "strided_uint8", "complex64", "bool", "datetime64")
"""The arrays of :func:`expected_arrays` of at least 64 KiB: the ones that travel out of band."""


def expected_arrays(count: int) -> dict[str, Any]:
    """The values the source sends in epoch ``count``: arrays of several dtypes and layouts, and bytes."""
    strided_base = (np.arange(1024 * 1536) + count).astype(np.uint8).reshape(1024, 1536)
    return {
        "c_float64": np.arange(300 * 400, dtype=np.float64).reshape(300, 400) + count,
        "f_int16": np.asfortranarray(
            ((np.arange(512 * 257) + count) % 30000).astype(np.int16).reshape(512, 257)
        ),
        "strided_uint8": strided_base[::2, ::3],
        "complex64": (np.arange(128 * 128) + 1j * count).astype(np.complex64).reshape(128, 128),
        "bool": ((np.arange(300 * 300) % (count + 2)) == 0).reshape(300, 300),
        "datetime64": np.arange(10_000).astype("datetime64[s]") + count,
        "empty_float32": np.zeros((0, 7), dtype=np.float32),
        "small_int32": np.arange(5, dtype=np.int32) + count,
        "blob": (np.arange(100_000) + count).astype(np.uint8).tobytes(),
    }


def mismatches(actual: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """What differs between two dicts of :func:`expected_arrays`' kind: type, dtype, shape, layout, items."""
    found = []
    if sorted(actual) != sorted(expected):
        return [f"keys {sorted(actual)} != {sorted(expected)}"]
    for name, want in expected.items():
        got = actual[name]
        if type(got) is not type(want):
            found.append(f"{name}: {type(got).__name__} is not {type(want).__name__}")
        elif isinstance(want, bytes):
            if got != want:
                found.append(f"{name}: bytes differ")
        elif got.dtype != want.dtype or got.shape != want.shape:
            found.append(f"{name}: {got.dtype}{got.shape} != {want.dtype}{want.shape}")
        elif want.flags.f_contiguous and not want.flags.c_contiguous and not got.flags.f_contiguous:
            found.append(f"{name}: not Fortran-ordered")
        elif not np.array_equal(got, want):
            found.append(f"{name}: items differ")
    return found


def over_zmq_frame(value: Any) -> bool:
    """Whether ``value``'s memory is a received ``zmq.Frame`` (a view of it, not a copy)."""
    import zmq

    seen = 0
    while value is not None and seen < 16:
        if isinstance(value, zmq.Frame):
            return True
        value = getattr(value, "base", None) if isinstance(value, np.ndarray) else getattr(value, "obj", None)
        seen += 1
    return False


class ArraySource:
    """Each epoch, :func:`expected_arrays` of the epoch's count, written into the same arrays every time
    (a node that reuses its buffers: what it sent must not change under a message in flight)."""

    def __init__(self) -> None:
        self.count = 0
        self.buffers: dict[str, Any] = {}

    def process(self) -> dict:  # type: ignore[type-arg]
        """``{"count": n, "arrays": {...}}``."""
        self.count += 1
        arrays = expected_arrays(self.count)
        if not self.buffers:
            self.buffers = {
                name: value.copy(order="K") for name, value in arrays.items() if isinstance(value, np.ndarray)
            }
            self.buffers["strided_uint8"] = np.zeros((1024, 1536), dtype=np.uint8)[::2, ::3]
        for name, buffer in self.buffers.items():
            buffer[...] = arrays[name]
            arrays[name] = buffer
        return {"count": self.count, "arrays": arrays}


class CheckingSink:
    """Checks what it receives against :func:`expected_arrays`, writes into one of the arrays, as a node
    may, and keeps the first epoch's arrays to check that later epochs leave them unchanged."""

    def __init__(self) -> None:
        self.kept: dict[str, Any] | None = None
        self.kept_count = 0

    def process(self, frames: dict) -> dict:  # type: ignore[type-arg]
        """A report: ``count``, ``mismatches``, ``zero_copy`` (arrays over received frames), ``write``
        (None, or why writing into a received array failed) and ``kept_mismatches``."""
        count, arrays = frames["count"], frames["arrays"]
        expected = expected_arrays(count)
        report: dict[str, Any] = {
            "count": count,
            "mismatches": mismatches(arrays, expected),
            "zero_copy": sorted(name for name, value in arrays.items() if over_zmq_frame(value)),
            "write": None,
        }
        try:
            arrays["c_float64"] += 1.0
        except Exception as exc:
            report["write"] = f"{type(exc).__name__}: {exc}"
        else:
            if not np.array_equal(arrays["c_float64"], expected["c_float64"] + 1.0):
                report["write"] = "the write did not take"
        if self.kept is None:
            self.kept, self.kept_count = arrays, count
        kept_expected = expected_arrays(self.kept_count)
        kept_expected["c_float64"] = kept_expected["c_float64"] + 1.0
        report["kept_mismatches"] = mismatches(self.kept, kept_expected)
        return report
