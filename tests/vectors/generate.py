"""Writes the golden vectors of the catalogues below that do not exist yet.

``CATALOGUE``: frames and the message each decodes to (``tests/vectors/NAME.json``). ``REJECTED``:
frames every decoder must refuse with a ``DecodeError`` (``tests/vectors/rejected/NAME.json``), among
them every frame that fuzzing once found to raise anything else. A vector, once written, is the
format: this script never rewrites one (delete it by hand if the format itself changed, and say so in
docs/wire-format.md). Run from the repository root:

    python tests/vectors/generate.py
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

import noobwire  # noqa: E402
from noobwire.bench import workloads  # noqa: E402
from noobwire.generations import REFERENCE  # noqa: E402
from tagged import write_vectors  # noqa: E402

T = workloads.TIMESTAMP


def _value(value: Any, signal: str = "value") -> noobwire.Message:
    msg = noobwire.EventMsg(node_id="cam", timestamp=T, value=[])
    # Appended after validation: the reference's validators would unpickle a "pck__" string.
    msg.value.append(
        {"id": 7, "timestamp": T, "node_id": "cam", "signal": signal, "epoch": 42, "value": value}
    )
    return msg


IDENTIFY = {
    "node_id": "cam",
    "outbox": "ipc:///tmp/noob/cam",
    "status": "ready",
    "signals": ["frame", "mean"],
    "slots": None,
}

CATALOGUE: dict[str, tuple[str, Any]] = {
    # one per message type
    "msg_announce": (
        "AnnounceMsg",
        lambda: noobwire.AnnounceMsg(
            node_id="command",
            timestamp=T,
            value={"inbox": "ipc:///tmp/noob/inbox", "nodes": {"cam": IDENTIFY}},
        ),
    ),
    "msg_identify": ("IdentifyMsg", lambda: noobwire.IdentifyMsg(node_id="cam", timestamp=T, value=IDENTIFY)),
    "msg_process": ("ProcessMsg, workload P", workloads.p),
    "msg_process_no_input": (
        "ProcessMsg whose input is None",
        lambda: noobwire.ProcessMsg(node_id="command", timestamp=T, value={"epoch": 0, "input": None}),
    ),
    "msg_init": ("InitMsg", lambda: noobwire.InitMsg(node_id="command", timestamp=T)),
    "msg_deinit": ("DeinitMsg", lambda: noobwire.DeinitMsg(node_id="command", timestamp=T)),
    "msg_ping": ("PingMsg", lambda: noobwire.PingMsg(node_id="command", timestamp=T)),
    "msg_start": (
        "StartMsg with a count",
        lambda: noobwire.StartMsg(node_id="command", timestamp=T, value=100),
    ),
    "msg_start_none": ("StartMsg without a count", lambda: noobwire.StartMsg(node_id="command", timestamp=T)),
    "msg_status": ("StatusMsg, workload S", workloads.s),
    "msg_stop": ("StopMsg", lambda: noobwire.StopMsg(node_id="command", timestamp=T)),
    "msg_event_e4": ("EventMsg, workload E4", workloads.e4),
    "msg_event_empty": (
        "EventMsg with no events",
        lambda: noobwire.EventMsg(node_id="cam", timestamp=T, value=[]),
    ),
    "msg_error": (
        "ErrorMsg",
        lambda: noobwire.ErrorMsg(
            node_id="cam",
            timestamp=T,
            value={
                "err_type": ValueError,
                "err_args": ("bad frame", 3),
                "traceback": "Traceback (most recent call last):\n",
            },
        ),
    ),
    # message timestamps
    "timestamp_naive": (
        "a naive message timestamp",
        lambda: noobwire.PingMsg(node_id="command", timestamp=datetime(2026, 1, 1, 12, 0, 0, 123456)),
    ),
    "timestamp_offset": (
        "a message timestamp at +05:30",
        lambda: noobwire.PingMsg(
            node_id="command",
            timestamp=datetime(
                2026, 1, 1, 17, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
            ),
        ),
    ),
    "timestamp_32bit": (
        "a whole-second UTC timestamp (timestamp 32)",
        lambda: noobwire.PingMsg(node_id="command", timestamp=datetime(2026, 1, 1, tzinfo=UTC)),
    ),
    "timestamp_96bit": (
        "a UTC timestamp before 1970 (timestamp 96)",
        lambda: noobwire.PingMsg(
            node_id="command", timestamp=datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)
        ),
    ),
    # one per value kind
    "value_none": ("None", lambda: _value(None)),
    "value_bool": ("True and False", lambda: _value([True, False])),
    "value_int": (
        "ints of every MessagePack width",
        lambda: _value([0, 127, -1, -32, -33, 255, 256, 65536, -(2**31), 2**63 - 1, 2**64 - 1, -(2**63)]),
    ),
    "value_bigint": (
        "ints beyond 64 bits (EXT_BIGINT)",
        lambda: _value([2**64, -(2**63) - 1, 2**200, -(2**200)]),
    ),
    "value_float": (
        "floats, nan, infinities, negative zero",
        lambda: _value([0.5, -0.0, float("inf"), float("-inf"), float("nan"), 1e308]),
    ),
    "value_str": ("str, empty and not ASCII", lambda: _value(["", "ok", "naïve ✓ 字"])),
    "value_bytes": ("bytes, not UTF-8", lambda: _value(b"\xff\x00\x80raw")),
    "value_list_dict": (
        "lists and str-keyed dicts, nested",
        lambda: _value({"a": [1, {"b": [2.5, None]}], "c": []}),
    ),
    "value_dict_keys": (
        "dict keys that are not str",
        lambda: _value(
            {
                1: "int",
                (2, "t"): "tuple",
                None: "none",
                b"k": "bytes",
                1.5: "float",
                frozenset({3}): "frozenset",
            }
        ),
    ),
    "value_tuple": ("tuples, nested and empty (EXT_TUPLE)", lambda: _value((1, (2, 3), ()))),
    "value_set": ("a set (EXT_SET), in canonical order", lambda: _value({"b", "a", 3, (1, 2)})),
    "value_frozenset": ("a frozenset (EXT_FROZENSET)", lambda: _value(frozenset({1, "x"}))),
    "value_datetime_utc": ("a UTC datetime inside a value (timestamp extension)", lambda: _value(T)),
    "value_datetime_naive": (
        "a naive datetime (EXT_DATETIME, 12 bytes)",
        lambda: _value(datetime(2026, 1, 1, 12, 0, 0, 5)),
    ),
    "value_datetime_fold": (
        "a naive datetime with fold=1",
        lambda: _value(datetime(2026, 11, 1, 1, 30, fold=1)),
    ),
    "value_datetime_offset": (
        "a datetime at -03:30 (EXT_DATETIME, 20 bytes)",
        lambda: _value(datetime(2026, 1, 1, 8, 30, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))),
    ),
    "value_noevent": (
        "the meta signal's NoEvent (EXT_META_SIGNAL)",
        lambda: _value(noobwire.MetaSignal.NoEvent, "__META__"),
    ),
    "value_ndarray_c": (
        "a C-ordered uint8 array (EXT_NDARRAY)",
        lambda: _value(np.arange(6, dtype=np.uint8).reshape(2, 3)),
    ),
    "value_ndarray_f": (
        "a Fortran-ordered float64 array",
        lambda: _value(np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))),
    ),
    "value_ndarray_big_endian": (
        "a big-endian int32 array",
        lambda: _value(np.array([1, -2, 3], dtype=">i4")),
    ),
    "value_ndarray_structured": (
        "a structured array",
        lambda: _value(
            np.array([(1, (0.5, 1.5)), (2, (2.5, 3.5))], dtype=[("id", "<u2"), ("xy", "<f4", (2,))])
        ),
    ),
    "value_ndarray_empty": ("an array with no items", lambda: _value(np.zeros((0, 3), dtype="<i8"))),
    "value_ndarray_0d": ("a 0-dimensional array", lambda: _value(np.array(2.5, dtype="<f4"))),
    "value_ndarray_datetime64": (
        "a datetime64 array",
        lambda: _value(np.array(["2026-01-01", "2026-01-02"], dtype="<M8[D]")),
    ),
    "value_ndarray_unicode": ("a unicode array", lambda: _value(np.array(["ab", "c"], dtype="<U2"))),
    "value_numpy_scalar": ("numpy scalars", lambda: _value([np.float32(1.5), np.int64(-7), np.bool_(True)])),
    "value_exception_type": ("an exception class in a value (EXT_EXCEPTION_TYPE)", lambda: _value(KeyError)),
    "value_pickle": (
        "a value with no MessagePack form, pickled (EXT_PICKLE)",
        lambda: _value(timedelta(days=1, seconds=2)),
    ),
    "value_big_event_id": (
        "a 128-bit event id, as noob's asset events carry",
        lambda: noobwire.EventMsg(
            node_id="cam",
            timestamp=T,
            value=[
                {
                    "id": 2**127 + 5,
                    "timestamp": T,
                    "node_id": "assets",
                    "signal": "asset",
                    "epoch": 42,
                    "value": None,
                }
            ],
        ),
    ),
}


_TS0 = "d6ff00000000"  # timestamp 32: the epoch
_HEAD = "96010900a16e" + _TS0  # [1, event, 0, "n", epoch, ...


def _in_event(value_hex: str) -> str:
    """A frame of one event whose value is the MessagePack ``value_hex``."""
    return _HEAD + "91" + "9601" + _TS0 + "a16ea17303" + value_hex


def _exception_type(name: str) -> str:
    """An ``EXT_EXCEPTION_TYPE`` naming ``name``, as an event value."""
    data = name.encode()
    return _in_event(f"c7{len(data):02x}09" + data.hex())


REJECTED: dict[str, tuple[str, str]] = {
    # found by fuzzing the pure decoder: each once raised something other than DecodeError
    "fuzz_bigint_type_code": (
        "a type code that is a 14-kilobit EXT_BIGINT (its repr raised ValueError)",
        "9601c806fa047f" + "ff" * 1785 + "00a161d6ff00000000c0",
    ),
    "fuzz_deep_type_code": (
        "a type code that is a list nested 995 deep (its repr recursed)",
        "9601" + "91" * 994 + "90" + "00a161d6ff00000000c0",
    ),
    "fuzz_deep_status": (
        "a status value nested 1000 lists deep (pydantic's enum repr recursed)",
        "96010700a161d6ff00000000" + "91" * 1000 + "90",
    ),
    "fuzz_deep_identify_status": (
        "an identify status nested 1000 lists deep",
        "96010100a161d6ff0000000095a16ea16f" + "91" * 1000 + "90c0c0",
    ),
    # declared lengths far beyond the bytes present: refused before anything is allocated
    "huge_str": ("a str declaring 4 GiB - 1 bytes, in a frame of 17 bytes", _HEAD + "dbffffffff"),
    "huge_bin": ("a bin declaring 4 GiB - 1 bytes", _HEAD + "c6ffffffff"),
    "huge_array": ("an array declaring 4 Gi - 1 items", _HEAD + "ddffffffff"),
    "huge_map": ("a map declaring 4 Gi - 1 entries", _HEAD + "dfffffffff"),
    "huge_ext": ("an extension declaring 4 GiB - 1 bytes", _HEAD + "c9ffffffff07"),
    # exception classes a decoder must not resolve, whatever its pickle policy
    "exception_type_os_system": (
        "an exception class named os:system (a function, not a class)",
        _exception_type("os:system"),
    ),
    "exception_type_posix_system": (
        "an exception class named posix:system",
        _exception_type("posix:system"),
    ),
    "exception_type_missing_module": (
        "an exception class in a module that does not exist",
        _exception_type("noobwire_no_such_module:Error"),
    ),
    "exception_type_not_a_class": (
        "an exception class named builtins:eval (a builtin, not an exception class)",
        _exception_type("builtins:eval"),
    ),
}


def main() -> None:
    write_vectors(HERE, CATALOGUE, REJECTED, REFERENCE)


if __name__ == "__main__":
    main()
