"""The ZeroMQ throughput link of the benchmarks: a sender process, a receiver here, what arrives.
A few messages each; nothing here asserts on a time."""

from __future__ import annotations

import pytest

from noobwire.bench.check import first_difference
from noobwire.bench.throughput import (
    ThroughputLink,
    expected_value,
    format_throughput,
    interleaved_rates,
    sender_missing,
)

pytest.importorskip("zmq", reason="the throughput link needs pyzmq, which the test extra installs")


@pytest.mark.parametrize(
    ("workload", "keys", "transport"),
    [
        ("E4", ["pure", "zmq"], "ipc"),
        ("P", ["json", "frames"], "tcp"),
        ("A1M", ["raw", "raw2", "frames", "zmq"], "ipc"),
    ],
)
def test_what_the_sender_sends_arrives_decoded(workload: str, keys: list[str], transport: str) -> None:
    with ThroughputLink(workload, transport, keys) as link:
        for count in (1, 5):
            for key in keys:
                seconds, last = link.transfer(key, count)
                assert seconds > 0
                assert first_difference(expected_value(workload, key), last) is None


def test_interleaved_rates_give_every_codec_a_rate_per_round() -> None:
    keys = ["pure", "zmq"]
    with ThroughputLink("E4", "ipc", keys) as link:
        rates = interleaved_rates(link, {"pure": 3, "zmq": 4}, rounds=3)
    assert list(rates) == keys
    assert all(len(samples) == 3 and all(rate > 0 for rate in samples) for samples in rates.values())


def test_the_throughput_table_gives_medians_and_the_median_ratio_to_raw() -> None:
    rates = {"zmq": [90.0, 50.0, 100.0], "raw": [100.0, 100.0, 80.0]}
    table = format_throughput("A16M over ipc://", rates, {"raw": "raw pyzmq"}, nbytes=2_000_000)
    lines = table.splitlines()
    assert lines[0] == "A16M over ipc://"
    assert lines[1].split() == ["codec", "msgs/s", "MB/s", "x", "raw"]
    # zmq: median 90 msgs/s, 180 MB/s; its ratios to raw round by round are 0.9, 0.5, 1.25
    assert lines[2].split() == ["zmq", "90.0", "180", "0.900"]
    assert lines[3].split() == ["raw", "pyzmq", "100.0", "200", "1.000"]
    without_raw = format_throughput("E4", {"pure": [10.0]}, {}, nbytes=100)
    assert without_raw.splitlines()[1].split() == ["codec", "msgs/s", "MB/s"]


def test_links_that_cannot_be_made_are_refused() -> None:
    assert sender_missing("raw", "E4") == "raw pyzmq sends a bare array buffer: array workloads only"
    with pytest.raises(ValueError, match="raw on E4"):
        ThroughputLink("E4", "ipc", ["pure", "raw"])
    with pytest.raises(ValueError, match="unknown transport 'udp'"):
        ThroughputLink("E4", "udp", ["pure"])
    with pytest.raises(ValueError, match="unknown codec 'msgspec'"):
        ThroughputLink("E4", "ipc", ["msgspec"])
    with pytest.raises(ValueError, match="at least one codec"):
        ThroughputLink("E4", "ipc", [])


def test_a_link_is_used_inside_its_with_block_and_for_its_own_codecs() -> None:
    link = ThroughputLink("S", "ipc", ["pure"])
    with pytest.raises(AssertionError, match="context manager"):
        link.transfer("pure", 1)
    with link:
        with pytest.raises(ValueError, match="at least 1"):
            link.transfer("pure", 0)
        with pytest.raises(ValueError, match="carries pure, not 'json'"):
            link.transfer("json", 1)
        with pytest.raises(ValueError, match="rounds must be at least 1"):
            interleaved_rates(link, {"pure": 1}, rounds=0)
