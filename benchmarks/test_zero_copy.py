"""pytest-benchmark: ``encode_frames`` + ``decode_frames`` of ``A1M`` and ``A16M`` on each backend, flat
in the array's size since neither copies it. The messages per second of these frames over ZeroMQ are
in ``test_zmq.py``.

    python -m pytest benchmarks/test_zero_copy.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from noobwire.bench.workloads import make_workload
from noobwire.codec import get_backend
from noobwire.messages import Message
from noobwire.multipart import FrameCodec


def _available(name: str) -> bool:
    try:
        get_backend(name)
    except ImportError:
        return False
    return True


BACKENDS = [name for name in ("compiled", "pure") if _available(name)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("workload", ["A1M", "A16M"])
def test_encode_frames_and_decode_frames(benchmark: Any, workload: str, backend: str) -> None:
    benchmark.group = "encode_frames + decode_frames"
    frame_codec = FrameCodec(get_backend(backend))
    msg = make_workload(workload)

    def roundtrip() -> Message:
        return frame_codec.decode_frames(frame_codec.encode_frames(msg))

    decoded = benchmark(roundtrip)
    array = decoded.value[0]["value"]
    assert np.shares_memory(array, msg.value[0]["value"]), "the array was copied"
