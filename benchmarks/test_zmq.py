"""ZeroMQ throughput: messages per second of E4 and A16M over PUSH/PULL, sender in a second process.

Each benchmark starts a sender process (:class:`noobwire.bench.throughput.ThroughputLink`) and times
rounds of a fixed number of messages, each encoded by the sender and decoded here; the groups
(``zmq-E4-ipc``, ...) put the codecs of one workload and transport side by side, and the summary
after the run gives messages per second (for A16M also as a share of ``raw``, pyzmq sending the bare
array buffer with ``copy=False``: the ceiling). Under ``--benchmark-disable`` each one sends a few
messages only, to prove that it works.

pytest-benchmark runs one codec after the other, each meeting its own share of the machine's load.
``python benchmarks/test_zmq.py [rounds]`` prints the fairer table: one sender process per workload and
transport carries every codec, the codecs take turns in an order shuffled each round, and ``x raw`` is
the median of each round's ratio to the raw round in it.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

import pytest

from noobwire import encode
from noobwire.bench.check import first_difference
from noobwire.bench.throughput import (
    ARRAY_WORKLOADS,
    RAW_KEYS,
    SENDER_KEYS,
    SENDER_NAMES,
    TRANSPORTS,
    ThroughputLink,
    expected_value,
    format_throughput,
    interleaved_rates,
    sender_missing,
)
from noobwire.bench.workloads import make_workload

pytest.importorskip("zmq", reason="the ZeroMQ benchmarks need pyzmq: pip install 'noobwire[bench]'")

MESSAGES_PER_ROUND = {"E4": 20_000, "A16M": 8}
MESSAGES_WHEN_DISABLED = {"E4": 200, "A16M": 2}
SECONDS_PER_BENCHMARK = 3.0
MAX_ROUNDS = 15

CASES = [
    (workload, key)
    for workload in MESSAGES_PER_ROUND
    for key in SENDER_KEYS
    if key not in RAW_KEYS or workload in ARRAY_WORKLOADS
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
    with ThroughputLink(workload, transport, [key]) as link:
        warmup_s, last = link.transfer(key, count)  # a warm-up round, and the check of what arrives
        difference = first_difference(expected_value(workload, key), last)
        assert difference is None, f"{key} over {transport}: {difference}"
        rounds = max(2, min(MAX_ROUNDS, int(SECONDS_PER_BENCHMARK / warmup_s)))
        seconds: list[float] = []
        benchmark.pedantic(lambda: seconds.append(link.transfer(key, count)[0]), rounds=rounds)
    if benchmark.disabled:  # the one round pedantic ran proves it works; its time means nothing
        return
    rate = count / statistics.median(seconds)
    benchmark.extra_info["messages_per_s"] = rate
    throughput[workload, transport, key] = rate


# --- one run, the codecs taking turns --------------------------------------------------------------

RACES = [
    ("E4", "every codec", dict.fromkeys(SENDER_KEYS, 5_000)),
    ("A16M", "zero-copy against raw pyzmq", dict.fromkeys(("frames", "zmq", "raw", "raw2"), 8)),
    ("A16M", "every codec", {**dict.fromkeys(SENDER_KEYS, 8), "pure": 4, "compiled": 4, "json": 1}),
]
"""Which codecs race each other on one link, and how many messages each sends per round. The zero-copy
paths also race the raw ceilings alone: the copying codecs' rounds (the reference JSON's above all)
leave the receiver's heap in states that slow the next round down, whichever it is."""


def interleaved_races(rounds: int) -> list[dict[str, Any]]:
    """Each race over each transport, every codec of a race that this installation has taking turns
    with the others on one link (see :func:`noobwire.bench.throughput.interleaved_rates`): its title,
    the size of the workload's frame, and every round's rate of each codec."""
    races = []
    for workload, race, counts in RACES:
        keys = [key for key in counts if not sender_missing(key, workload)]
        nbytes = len(encode(make_workload(workload)))  # the one frame's size; in MB/s
        for transport in TRANSPORTS:
            with ThroughputLink(workload, transport, keys) as link:
                rates = interleaved_rates(link, counts, rounds)
            title = f"{workload} over {transport}:// PUSH/PULL, {race}, {rounds} rounds"
            races.append(
                {
                    "title": title,
                    "workload": workload,
                    "transport": transport,
                    "race": race,
                    "nbytes": nbytes,
                    "rates": rates,
                }
            )
    return races


def format_races(races: list[dict[str, Any]]) -> str:
    """The tables of :func:`interleaved_races`, one per race and transport."""
    return "\n\n".join(
        format_throughput(race["title"], race["rates"], SENDER_NAMES, race["nbytes"]) for race in races
    )


if __name__ == "__main__":
    print(format_races(interleaved_races(int(sys.argv[1]) if len(sys.argv) > 1 else 15)))
