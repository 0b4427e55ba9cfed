"""Nodes for the tests that run noob's own ZeroMQ runner with noobwire installed (test_noob_current.py).

noob finds a node by its dotted name in every process of the runner: this module is importable as
``noob_nodes`` because pytest puts the tests' folder on ``sys.path``, and the node processes are forked
from the test process. (No ``from __future__ import annotations`` here: noob reads each node's
signals from its annotations at run time.)
"""

from collections.abc import Generator
from typing import Annotated, Any

import numpy as np
from noob import Name


def frames() -> Generator[Annotated[np.ndarray, Name("frame")]]:
    """A small float32 image each epoch, its pixels the epoch's count."""
    count = 0
    while True:
        yield np.full((6, 4), count, dtype=np.float32)
        count += 1


def frame_rows() -> Generator[Annotated[list[list[float]], Name("frame")]]:
    """:func:`frames` as lists of rows: noob 1000.x's scheduler compares every value with ``==`` to its
    NoEvent, which a numpy array refuses, so a node of that noob cannot emit arrays at all."""
    for frame in frames():
        yield frame.tolist()


def words() -> Generator[Annotated[list[str], Name("words")]]:
    """A list of words each epoch (a map node makes a sub-epoch of each)."""
    count = 0
    while True:
        yield [f"w{count}", "tuple", "meta"]
        count += 1


def shout(word: str) -> str:
    return word.upper()


def join(strings: list[str]) -> str:
    return "+".join(strings)


def total(frame: np.ndarray) -> float:
    return float(np.asarray(frame).sum())


def paired(frame: np.ndarray) -> tuple[int, tuple[int, ...]]:
    """A tuple value (noob's JSON makes it a list; noobwire keeps it a tuple)."""
    frame = np.asarray(frame)
    return int(frame[0, 0]), frame.shape


def fail_late(value: float) -> float:
    """Raises once the total passes a limit: the error reaches the command node."""
    if value > 24 * 3:
        raise ValueError(f"the total {value} is over the limit")
    return value


def passthrough(value: Any) -> Any:
    return value


class Opaque:
    """A value with no JSON form: noob's JSON pickles it (a ``pck__`` string)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.label == self.label

    def __hash__(self) -> int:
        return hash(self.label)
