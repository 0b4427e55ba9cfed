"""The named workloads (PRODUCT.md): the same messages in the benchmarks, the tests and ``noobwire bench``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from noobwire.messages import Event, EventMsg, Message, ProcessMsg, StatusMsg

__all__ = ["WORKLOADS", "make_workload"]

TIMESTAMP = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
"""Every workload carries this timestamp, so their frames are the same from run to run."""

EVENT_KINDS: tuple[tuple[str, Any], ...] = (
    ("frame_index", 1234),
    ("mean", 0.5),
    ("label", "ok"),
    ("coords", [1.0, 2.0, 3.0]),
)


def _events(count: int) -> list[Event]:
    # The events of one process call share one timestamp, as noob's event store makes them.
    return [
        Event(
            id=i,
            timestamp=TIMESTAMP,
            node_id="cam",
            signal=EVENT_KINDS[i % len(EVENT_KINDS)][0],
            epoch=42,
            value=EVENT_KINDS[i % len(EVENT_KINDS)][1],
        )
        for i in range(count)
    ]


def _array_event(dtype: str, shape: tuple[int, ...]) -> list[Event]:
    import numpy as np

    size = 1
    for dim in shape:
        size *= dim
    frame = (np.arange(size, dtype=np.uint32) % 251).astype(dtype).reshape(shape)
    return [Event(id=0, timestamp=TIMESTAMP, node_id="cam", signal="frame", epoch=42, value=frame)]


def e4() -> Message:
    """``EventMsg`` of 4 events: an int, a float, a str and a list of floats."""
    return EventMsg(node_id="cam", timestamp=TIMESTAMP, value=_events(4))


def e64() -> Message:
    """``EventMsg`` of 64 events, the four kinds of ``E4`` in turn."""
    return EventMsg(node_id="cam", timestamp=TIMESTAMP, value=_events(64))


def p() -> Message:
    """``ProcessMsg`` from the command node with a small input dict."""
    return ProcessMsg(
        node_id="command",
        timestamp=TIMESTAMP,
        value={"epoch": 42, "input": {"gain": 2, "name": "x"}},
    )


def s() -> Message:
    """``StatusMsg`` (a control message: the slow path)."""
    return StatusMsg(node_id="cam", timestamp=TIMESTAMP, value="ready")


def a1m() -> Message:
    """One event whose value is a ``uint8`` array of shape (1024, 1024) (needs numpy)."""
    return EventMsg(node_id="cam", timestamp=TIMESTAMP, value=_array_event("uint8", (1024, 1024)))


def a16m() -> Message:
    """One event whose value is a ``float32`` array of shape (2048, 2048) (needs numpy)."""
    return EventMsg(node_id="cam", timestamp=TIMESTAMP, value=_array_event("float32", (2048, 2048)))


WORKLOADS: dict[str, Callable[[], Message]] = {
    "E4": e4,
    "E64": e64,
    "P": p,
    "S": s,
    "A1M": a1m,
    "A16M": a16m,
}
"""Each workload's name and the function that builds its message."""


def make_workload(name: str) -> Message:
    """Build the message of workload ``name`` (``E4``, ``E64``, ``P``, ``S``, ``A1M``, ``A16M``)."""
    try:
        return WORKLOADS[name]()
    except KeyError:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}") from None
