"""What the benchmarks share: the codecs of this installation, and each workload built once."""

from __future__ import annotations

import functools
from typing import Any

from noobwire.bench.codecs import BenchCodec, available_codecs, load_codec
from noobwire.bench.workloads import make_workload, workload_generation
from noobwire.generations import REFERENCE
from noobwire.messages import Message

CODECS, MISSING_CODECS = available_codecs()
"""The codecs of the reference schema this installation has (the names of the tables), and why others
are missing."""


@functools.cache
def codec_for(workload: str, codec_key: str) -> BenchCodec:
    """Codec ``codec_key`` for the messages of ``workload``'s generation (noob 1003's for E4n, E4sub)."""
    generation = workload_generation(workload)
    return CODECS[codec_key] if generation is REFERENCE else load_codec(codec_key, generation)


@functools.cache
def workload_message(workload: str) -> Message:
    """The workload's message, built once per session (the array ones take a moment)."""
    return make_workload(workload)


@functools.cache
def prepared(workload: str, codec_key: str) -> Any:
    """The workload in the form codec ``codec_key`` encodes (a Struct, a dict, the message)."""
    return codec_for(workload, codec_key).prepare(workload_message(workload))
