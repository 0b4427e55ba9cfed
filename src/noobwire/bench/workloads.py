"""The named workloads (PRODUCT.md): the same messages in the benchmarks, the tests and ``noobwire bench``.

Most are messages of the reference schema (noobwire's mirror); ``E4n`` and ``E4sub`` are noob 1003's
own messages (they need noob 1003.x installed), read and written as wire-format version 2.
:func:`workload_generation` says which generation each one is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from noobwire.generations import NOOB_1003, REFERENCE
from noobwire.layout import Generation
from noobwire.messages import Event, EventMsg, Message, ProcessMsg, StatusMsg

__all__ = ["WORKLOADS", "make_workload", "workload_generation"]

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


def _noob_1003_events(epoch: Any) -> Any:
    """noob 1003's own ``EventMsg`` of the four events of ``E4``, each of ``epoch`` (a function of
    noob_core's ``Epoch``); ImportError unless noob 1003.x is installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("noob")
    except PackageNotFoundError:
        found = "none"
    if not found.startswith("1003."):
        raise ImportError(f"needs noob 1003.x (pip install 'noob[zmq]==1003.*'); installed: {found}")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # noob warns about its runtime directory on import
        from noob.network.message import EventMsg as NoobEventMsg
        from noob_core import Epoch

    shared = epoch(Epoch)  # the events of one process call share its epoch, as noob's store makes them
    events = [{**event, "epoch": shared} for event in _events(4)]
    return NoobEventMsg(node_id="cam", timestamp=TIMESTAMP, value=events)


def e4_noob() -> Any:
    """noob 1003's ``EventMsg`` of the 4 events of ``E4``, of a root epoch (needs noob 1003.x)."""
    return _noob_1003_events(lambda epoch: epoch(42))


def e4_sub_epochs() -> Any:
    """noob 1003's ``EventMsg`` of the 4 events of ``E4``, of a two-level sub-epoch (needs noob 1003.x)."""
    return _noob_1003_events(lambda epoch: epoch(42) / ("map", 1) / ("gather", 0))


WORKLOADS: dict[str, Callable[[], Any]] = {
    "E4": e4,
    "E64": e64,
    "P": p,
    "S": s,
    "A1M": a1m,
    "A16M": a16m,
    "E4n": e4_noob,
    "E4sub": e4_sub_epochs,
}
"""Each workload's name and the function that builds its message."""

_GENERATIONS: dict[str, Generation] = {"E4n": NOOB_1003, "E4sub": NOOB_1003}


def workload_generation(name: str) -> Generation:
    """The generation of the schema whose message workload ``name`` is (the reference's, but for the
    workloads of noob 1003's own messages)."""
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    return _GENERATIONS.get(name, REFERENCE)


def make_workload(name: str) -> Any:
    """Build the message of workload ``name`` (one of :data:`WORKLOADS`): ImportError if it needs
    what is not installed (numpy for the arrays, noob 1003.x for its own messages)."""
    try:
        build = WORKLOADS[name]
    except KeyError:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}") from None
    return build()
