"""pytest-benchmark: encode and decode of every workload with every codec.

    python -m pytest benchmarks                       # the comparison table, one group per workload
    python -m pytest benchmarks --benchmark-save=NAME # keep a run in .benchmarks/
    python -m pytest benchmarks --benchmark-compare   # compare with the last saved run

Each group (``E4-encode``, ``E4-decode``, ...) puts the codecs of one workload side by side. Every
benchmark checks once, outside the timed calls, that the codec decodes its frame back into what it
encoded (:func:`noobwire.bench.timing.check_round_trip`). A codec this installation lacks (the
compiled backend before it is built, msgspec without the ``bench`` extra) is skipped with the reason.
"""

from __future__ import annotations

import pytest

from bench_support import MISSING_CODECS, codec_for, prepared
from noobwire.bench.codecs import CODEC_KEYS, frame_size
from noobwire.bench.timing import check_round_trip
from noobwire.bench.workloads import WORKLOADS

CODEC_PARAMS = [
    pytest.param(key, marks=pytest.mark.skip(reason=f"{key}: {MISSING_CODECS[key]}"))
    if key in MISSING_CODECS
    else key
    for key in CODEC_KEYS
]


@pytest.mark.parametrize("codec_key", CODEC_PARAMS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_encode(benchmark, frame_sizes, workload: str, codec_key: str) -> None:
    benchmark.group = f"{workload}-encode"
    bench_codec = codec_for(workload, codec_key)
    native = prepared(workload, codec_key)
    encoded = benchmark(bench_codec.encode, native)
    frame_sizes[workload, codec_key] = benchmark.extra_info["frame_bytes"] = frame_size(encoded)
    check_round_trip(bench_codec, workload, native, encoded)


@pytest.mark.parametrize("codec_key", CODEC_PARAMS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_decode(benchmark, frame_sizes, workload: str, codec_key: str) -> None:
    benchmark.group = f"{workload}-decode"
    bench_codec = codec_for(workload, codec_key)
    native = prepared(workload, codec_key)
    encoded = bench_codec.encode(native)
    frame_sizes[workload, codec_key] = benchmark.extra_info["frame_bytes"] = frame_size(encoded)
    check_round_trip(bench_codec, workload, native, encoded)
    benchmark(bench_codec.decode, encoded)
