"""ZeroMQ throughput: messages per second of E4 and A16M over PUSH/PULL, sender in a second process.

Each benchmark starts a sender process (:class:`noobwire.bench.throughput.ThroughputLink`) and times
rounds of a fixed number of messages, each encoded by the sender and decoded here; the groups
(``zmq-E4-ipc``, ...) put the codecs of one workload and transport side by side, and the summary
after the run gives messages per second (for A16M also as a share of ``raw``, pyzmq sending the bare
array buffer with ``copy=False``: the ceiling). Under ``--benchmark-disable`` each one sends a few
messages only, to prove that it works.
"""

from __future__ import annotations

import statistics

import pytest

from noobwire.bench.check import first_difference
from noobwire.bench.throughput import (
    ARRAY_WORKLOADS,
    SENDER_KEYS,
    TRANSPORTS,
    ThroughputLink,
    expected_value,
    sender_missing,
)

pytest.importorskip("zmq", reason="the ZeroMQ benchmarks need pyzmq: pip install 'noobwire[bench]'")

MESSAGES_PER_ROUND = {"E4": 20_000, "A16M": 8}
MESSAGES_WHEN_DISABLED = {"E4": 200, "A16M": 2}
SECONDS_PER_BENCHMARK = 3.0
MAX_ROUNDS = 15

CASES = [
    (workload, key)
    for workload in MESSAGES_PER_ROUND
    for key in SENDER_KEYS
    if key != "raw" or workload in ARRAY_WORKLOADS
]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("workload", "key"), CASES)
def test_throughput(benchmark, throughput, workload: str, key: str, transport: str) -> None:
    why = sender_missing(key, workload)
    if why:
        pytest.skip(f"{key}: {why}")
    benchmark.group = f"zmq-{workload}-{transport}"
    count = (MESSAGES_WHEN_DISABLED if benchmark.disabled else MESSAGES_PER_ROUND)[workload]
    benchmark.extra_info["messages_per_round"] = count
    with ThroughputLink(workload, key, transport) as link:
        warmup_s, last = link.transfer(count)  # a warm-up round, and the check of what arrives
        difference = first_difference(expected_value(workload, key), last)
        assert difference is None, f"{key} over {transport}: {difference}"
        rounds = max(2, min(MAX_ROUNDS, int(SECONDS_PER_BENCHMARK / warmup_s)))
        seconds: list[float] = []
        benchmark.pedantic(lambda: seconds.append(link.transfer(count)[0]), rounds=rounds)
    if benchmark.disabled:  # the one round pedantic ran proves it works; its time means nothing
        return
    rate = count / statistics.median(seconds)
    benchmark.extra_info["messages_per_s"] = rate
    throughput[workload, transport, key] = rate
