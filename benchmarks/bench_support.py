"""What the benchmarks share: the codecs of this installation, and each workload built once."""

from __future__ import annotations

import functools
from typing import Any

from noobwire.bench.codecs import available_codecs
from noobwire.messages import Message
from noobwire.workloads import make_workload

CODECS, MISSING_CODECS = available_codecs()


@functools.cache
def workload_message(workload: str) -> Message:
    """The workload's message, built once per session (the array ones take a moment)."""
    return make_workload(workload)


@functools.cache
def prepared(workload: str, codec_key: str) -> Any:
    """The workload in the form codec ``codec_key`` encodes (a Struct, a dict, the message)."""
    return CODECS[codec_key].prepare(workload_message(workload))
