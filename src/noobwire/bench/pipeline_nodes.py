"""The nodes of the pipeline benchmark's tubes, and the tubes themselves as noob specifications.

noob loads a node by the dotted name of a function or class, in every process of a runner, so these live in
an importable module of their own; they import nothing of noob (nor numpy, until a node is built), and
noob is needed only to run the tubes (see :mod:`noobwire.bench.pipeline`).

A frame source keeps one array and stamps each epoch's count into its first element before returning it,
as a camera driver that fills one buffer would: the sink reads that stamp back, so a run whose stamps do
not count up one by one has delivered a frame that changed after it was sent (or a stale one).
"""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = [
    "ARRAY_PIPELINES",
    "INSTALL_NOOB",
    "PIPELINES",
    "Counter",
    "FrameSource",
    "double",
    "frame_stamp",
    "pipeline_spec",
    "stamp_of",
]

_HERE = __name__

ARRAY_PIPELINES: dict[str, tuple[tuple[int, ...], str]] = {
    "A16M": ((2048, 2048), "float32"),
    "A1M": ((1024, 1024), "uint8"),
}
"""The array pipelines: a frame source and a sink; the shape and dtype of the frames."""

PIPELINES = ("A16M", "A1M", "small")
"""Every pipeline: the two array ones, and ``small``: a counter's values through three nodes."""

INSTALL_NOOB = (
    "pip install 'noob[zmq]' numpy; or noobwire with its noob extra, which brings both: "
    "pip install '.[noob]' in a clone of noobwire"
)
"""How to install what the pipelines need: noob with its ZeroMQ runner, and numpy."""


class FrameSource:
    """A source node: one array of ``shape`` and ``dtype``, returned each epoch with the epoch's count
    (1, 2, ...) written into its first element (modulo 251, so that it fits a uint8)."""

    def __init__(self, shape: list[int], dtype: str) -> None:
        import numpy as np

        self.frame = np.zeros(tuple(shape), dtype=dtype)
        self.count = 0

    def process(self) -> Any:
        """The frame, stamped with this epoch's count."""
        self.count += 1
        self.frame.flat[0] = self.count % 251
        return self.frame


def frame_stamp(frame: Any) -> int:
    """A sink node: the stamp of the frame it receives (and a check that the frame has its full shape)."""
    if frame.size == 0:
        raise ValueError("the sink received an empty frame")
    return int(frame.flat[0])


def stamp_of(count: int) -> int:
    """The stamp :class:`FrameSource` writes in epoch ``count`` (counting from 1)."""
    return count % 251


class Counter:
    """A source node: 1, 2, 3, ... one per epoch."""

    def __init__(self) -> None:
        self.count = 0

    def process(self) -> int:
        """The next count."""
        self.count += 1
        return self.count


def double(value: int) -> int:
    """A middle node: twice its input."""
    return value * 2


def pipeline_spec(name: str) -> dict[str, Any]:
    """The noob tube specification (a dict for ``noob.Tube.from_specification``) of pipeline ``name``.

    Each tube ends in a ``return`` node, so that a runner's ``run(n)`` returns the sink's values and
    clears each epoch's events as it returns them (without one, noob's ZeroMQ runner keeps every event).

    The array pipelines' nodes make numpy arrays in the runner's node processes: without numpy a node
    fails as its process starts, and noob's runner says only, ten seconds later, that its nodes were not
    ready. So their specification raises ``ModuleNotFoundError`` (naming numpy) at once where numpy is
    not installed.
    """
    if name in ARRAY_PIPELINES:
        if importlib.util.find_spec("numpy") is None:
            raise ModuleNotFoundError(
                f"pipeline {name!r} needs numpy, which is not installed: its nodes make numpy arrays in "
                f"every process of noob's runner ({INSTALL_NOOB})",
                name="numpy",
            )
        shape, dtype = ARRAY_PIPELINES[name]
        nodes: dict[str, Any] = {
            "source": {
                "type": f"{_HERE}.FrameSource",
                "params": {"shape": list(shape), "dtype": dtype},
            },
            "sink": {"type": f"{_HERE}.frame_stamp", "depends": [{"frame": "source.value"}]},
            "result": {"type": "return", "depends": "sink.value"},
        }
    elif name == "small":
        nodes = {
            "source": {"type": f"{_HERE}.Counter"},
            "middle": {"type": f"{_HERE}.double", "depends": [{"value": "source.value"}]},
            "sink": {"type": f"{_HERE}.double", "depends": [{"value": "middle.value"}]},
            "result": {"type": "return", "depends": "sink.value"},
        }
    else:
        raise ValueError(f"unknown pipeline {name!r}; choose from {', '.join(PIPELINES)}")
    return {"noob_id": f"noobwire-bench-{name.lower()}", "nodes": nodes}
