"""The ZeroMQ throughput link of the benchmarks: a sender process, a receiver here, what arrives.
A few messages each; nothing here asserts on a time."""

from __future__ import annotations

import pytest

from noobwire.bench.check import first_difference
from noobwire.bench.throughput import ThroughputLink, expected_value, sender_missing

pytest.importorskip("zmq", reason="the throughput link needs pyzmq, which the test extra installs")


@pytest.mark.parametrize(
    ("workload", "key", "transport"), [("E4", "pure", "ipc"), ("P", "json", "tcp"), ("A1M", "raw", "ipc")]
)
def test_what_the_sender_sends_arrives_decoded(workload: str, key: str, transport: str) -> None:
    with ThroughputLink(workload, key, transport) as link:
        for count in (1, 5):
            seconds, last = link.transfer(count)
            assert seconds > 0
            assert first_difference(expected_value(workload, key), last) is None


def test_links_that_cannot_be_made_are_refused() -> None:
    assert sender_missing("raw", "E4") == "raw pyzmq sends a bare array buffer: array workloads only"
    with pytest.raises(ValueError, match="raw on E4"):
        ThroughputLink("E4", "raw", "ipc")
    with pytest.raises(ValueError, match="unknown transport 'udp'"):
        ThroughputLink("E4", "pure", "udp")
    with pytest.raises(ValueError, match="unknown codec 'msgspec'"):
        ThroughputLink("E4", "msgspec", "ipc")


def test_a_link_is_used_inside_its_with_block() -> None:
    link = ThroughputLink("S", "pure", "ipc")
    with pytest.raises(AssertionError, match="context manager"):
        link.transfer(1)
    with link, pytest.raises(ValueError, match="at least 1"):
        link.transfer(0)
