"""pytest-benchmark: encode and decode of each workload, noobwire against the reference JSON codec.

    python -m pytest benchmarks --benchmark-group-by=param:workload

The full suite (msgspec, msgpack-python, pickle, ZeroMQ throughput) builds on this file.
"""

from __future__ import annotations

import pytest

from noobwire.bench import codecs
from noobwire.legacy_json import encode_json
from noobwire.workloads import WORKLOADS, make_workload

CODECS = codecs()


@pytest.mark.parametrize("codec_name", list(CODECS))
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_encode(benchmark, workload: str, codec_name: str) -> None:
    benchmark.group = f"{workload} encode"
    msg = make_workload(workload)
    encode, decode = CODECS[codec_name]
    frame = benchmark(encode, msg)
    assert decode(frame).node_id == msg.node_id


@pytest.mark.parametrize("codec_name", list(CODECS))
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_decode(benchmark, workload: str, codec_name: str) -> None:
    benchmark.group = f"{workload} decode"
    msg = make_workload(workload)
    encode, decode = CODECS[codec_name]
    frame = encode(msg)
    decoded = decode(frame)
    assert encode_json(decoded) == encode_json(msg), "decoded message differs from the original"
    benchmark(decode, frame)
