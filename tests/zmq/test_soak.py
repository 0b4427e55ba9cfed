"""The soak test: another process PUSHes 100,000 E4 messages with 1,000 A1M messages among them; every one
must arrive, in order, intact (sequence numbers and checksums), and the receiver's resident memory must not
grow. It takes a few seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from soak_sender import schedule

import zmq
from helpers import frame_under
from noobwire.bench.workloads import make_workload
from noobwire.zmq import recv_message

N_E4, N_A1M = 100_000, 1_000
RSS_GROWTH_LIMIT = 16 * 2**20
"""Far below what keeping one message in ten would cost (a leaked A1M is 1 MiB)."""


def resident_memory() -> int:
    """The process's resident memory in bytes (its peak, where the current size cannot be read)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _check_e4(seq: int, events: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [event["value"] for event in events[1:]] == [event["value"] for event in expected[1:]]
    assert events[0]["value"] == seq, f"message {seq} arrived out of order (frame_index {events[0]['value']})"
    assert [(e["id"], e["signal"], e["epoch"], e["timestamp"]) for e in events] == [
        (e["id"], e["signal"], e["epoch"], e["timestamp"]) for e in expected
    ]


def _check_a1m(seq: int, events: list[dict[str, Any]]) -> None:
    frame, checksum = events[0]["value"], events[1]["value"]
    assert checksum["seq"] == seq, f"message {seq} arrived out of order (seq {checksum['seq']})"
    assert frame.dtype == np.uint8
    assert frame.shape == (1024, 1024)
    assert isinstance(frame_under(frame), zmq.Frame), "an A1M frame is a view of the received frame"
    assert zlib.crc32(frame) == checksum["crc32"], f"message {seq}: the array's checksum differs"


def test_soak_push_pull_loses_nothing_and_memory_stays_flat() -> None:
    directory = tempfile.mkdtemp(prefix="nw")
    context: zmq.Context[Any] = zmq.Context()
    pull = context.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVHWM, 100)
    pull.setsockopt(zmq.RCVTIMEO, 30_000)
    pull.setsockopt(zmq.LINGER, 0)
    if zmq.has("ipc"):
        pull.bind(f"ipc://{directory}/soak")
    else:
        pull.bind("tcp://127.0.0.1:*")
    address = pull.getsockopt_string(zmq.LAST_ENDPOINT)
    sender = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("soak_sender.py")), address, str(N_E4), str(N_A1M)]
    )
    try:
        expected_e4 = make_workload("E4").value
        warm_up = (N_E4 + N_A1M) // 10
        counts = {"E4": 0, "A1M": 0}
        for seq, kind in enumerate(schedule(N_E4, N_A1M)):
            received = recv_message(pull)
            assert received.topic == b"event"
            events = received.message.value
            if kind == "E4":
                _check_e4(seq, events, expected_e4)
            else:
                _check_a1m(seq, events)
            counts[kind] += 1
            del received, events
            if seq == warm_up:
                memory_after_warm_up = resident_memory()
        memory_at_end = resident_memory()
        stop = recv_message(pull)
        assert stop.topic == b"stop"
        assert stop.message.type_ == "stop"
        assert sender.wait(timeout=60) == 0
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
        pull.close(linger=0)
        context.term()
    assert counts == {"E4": N_E4, "A1M": N_A1M}
    growth = memory_at_end - memory_after_warm_up
    assert growth < RSS_GROWTH_LIMIT, f"resident memory grew by {growth / 2**20:.1f} MiB"
