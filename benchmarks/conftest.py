"""The benchmarks' fixtures, and the summary printed after the run: frame sizes of every codec on
every workload, ZeroMQ messages per second."""

from __future__ import annotations

from typing import Any

import pytest

from bench_support import CODECS
from noobwire.bench.codecs import CODEC_KEYS
from noobwire.bench.report import format_ratio
from noobwire.bench.workloads import WORKLOADS

FRAME_SIZES = pytest.StashKey[dict[tuple[str, str], int]]()
THROUGHPUT = pytest.StashKey[dict[tuple[str, str, str], float]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FRAME_SIZES] = {}
    config.stash[THROUGHPUT] = {}


@pytest.fixture
def frame_sizes(request: pytest.FixtureRequest) -> dict[tuple[str, str], int]:
    """Where a benchmark records the bytes of a frame: ``frame_sizes[workload, codec] = size``."""
    return request.config.stash[FRAME_SIZES]


@pytest.fixture
def throughput(request: pytest.FixtureRequest) -> dict[tuple[str, str, str], float]:
    """Where a benchmark records messages per second: ``throughput[workload, transport, codec]``."""
    return request.config.stash[THROUGHPUT]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    sizes = config.stash.get(FRAME_SIZES, {})
    if sizes:
        names = {key: CODECS[key].name for key in CODEC_KEYS if key in CODECS}
        columns = [key for key in names if any(codec == key for _, codec in sizes)]
        terminalreporter.section("frame sizes (bytes on the wire)")
        terminalreporter.write_line(f"{'workload':<9}" + "".join(f"{names[key]:>17}" for key in columns))
        for workload in WORKLOADS:
            cells = [sizes.get((workload, key)) for key in columns]
            if any(cell is not None for cell in cells):
                terminalreporter.write_line(
                    f"{workload:<9}"
                    + "".join(f"{'-' if cell is None else f'{cell:,}':>17}" for cell in cells)
                )
    rates = config.stash.get(THROUGHPUT, {})
    if rates:
        terminalreporter.section("ZeroMQ PUSH/PULL throughput (messages per second, median round)")
        terminalreporter.write_line(
            "each codec ran alone, under its own share of the machine's load; for ratios, run "
            "`python benchmarks/test_zmq.py`, where the codecs take turns"
        )
        for workload, transport in dict.fromkeys((w, t) for w, t, _ in rates):
            row = {codec: rate for (w, t, codec), rate in rates.items() if (w, t) == (workload, transport)}
            ceiling = row.get("raw")
            cells = []
            for codec, rate in row.items():
                share = f" ({format_ratio(rate / ceiling)} of raw)" if ceiling and codec != "raw" else ""
                cells.append(f"{codec} {rate:,.0f}{share}")
            terminalreporter.write_line(f"{workload:<5} {transport}://  " + ";  ".join(cells))
