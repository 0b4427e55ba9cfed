"""The progress display of ``noobwire bench``: a bar that redraws itself on a terminal, plain lines
in a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 24


class Progress:
    """Shows which workload is being measured and how many of its repeats are done."""

    def __init__(self, workloads: int, stream: TextIO | None = None, live: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._live = self._stream.isatty() if live is None else live
        self._workloads = workloads
        self._index = 0
        self._label = ""
        self._repeats = 1
        self._started = 0.0

    def start(
        self, workload: str, codecs: int, repeats: int, kinds: tuple[str, str] = ("codecs", "repeats")
    ) -> None:
        """A workload begins: ``codecs`` codecs, each timed ``repeats`` times (``kinds`` names the two:
        ``("runners", "rounds")`` for the pipelines)."""
        self._index += 1
        self._label = (
            f"[{self._index}/{self._workloads}] {workload:<5} {codecs} {kinds[0]} x {repeats} {kinds[1]}"
        )
        self._repeats = repeats
        self._started = time.perf_counter()
        if self._live:
            self._draw("checking and calibrating")
        else:
            self._write(f"{self._label} ... ")

    def repeat(self, done: int) -> None:
        """``done`` repeats of the current workload are finished."""
        if self._live:
            filled = _WIDTH * done // self._repeats
            self._draw(f"|{'#' * filled}{'.' * (_WIDTH - filled)}| {done}/{self._repeats}")

    def finish(self) -> None:
        """The current workload is done."""
        elapsed = time.perf_counter() - self._started
        if self._live:
            self._draw(f"done in {elapsed:.1f} s")
            self._write("\n")
        else:
            self._write(f"done in {elapsed:.1f} s\n")

    def note(self, text: str) -> None:
        """A line of its own (a skipped workload, a missing codec)."""
        self._write(f"{text}\n")

    def _draw(self, status: str) -> None:
        self._write(f"\r\x1b[K{self._label}  {status}")

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
