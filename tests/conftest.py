"""Fixtures shared by the test suite: the backends to run against, and hypothesis profiles."""

from __future__ import annotations

import faulthandler
import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from noobwire import codec
from noobwire.codec import Backend
from noobwire.multipart import FrameCodec

# The default run (the README's, CI's) tries the same examples every time, so a green run stays green;
# HYPOTHESIS_PROFILE=thorough explores: random examples, many more of them.
settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=150,
    derandomize=True,
)
settings.register_profile(
    "thorough", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=2000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

HANG_SECONDS = 600
"""A test still running after this long is taken to hang (noob's runner waiting on a process that died, a
socket never answered): every thread's stack is printed and the run ends, failing, rather than holding CI
until its own limit. No test comes near it (the slowest take tens of seconds)."""

_hang_report: list[int] = []
"""A copy of the terminal's standard error, taken before any test runs. While a test runs, pytest points
the process's own descriptor 2 at a file it shows only when the test ends, so a hang's stacks written
there would be lost with the process."""


def pytest_configure(config: pytest.Config) -> None:
    _hang_report.append(os.dup(sys.__stderr__.fileno() if sys.__stderr__ else 2))


def pytest_unconfigure(config: pytest.Config) -> None:
    while _hang_report:
        os.close(_hang_report.pop())


@pytest.fixture(autouse=True)
def _end_the_run_on_a_hang() -> Iterator[None]:
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True, file=_hang_report[0])
    yield
    faulthandler.cancel_dump_traceback_later()


def available_backends() -> list[str]:
    """Every backend this installation has: ``pure`` always, ``compiled`` when it is built."""
    names = ["pure"]
    try:
        codec.get_backend("compiled")
    except ImportError:
        pass
    else:
        names.append("compiled")
    return names


def tested_backends() -> list[str]:
    """The backends the suite runs against: every one available, or those of them that
    ``NOOBWIRE_TEST_BACKENDS`` names (comma-separated, e.g. ``compiled``: CI's run on each further Python,
    where the pure backend has nothing new to show)."""
    available = available_backends()
    asked = [name.strip() for name in os.environ.get("NOOBWIRE_TEST_BACKENDS", "").split(",") if name.strip()]
    if not asked:
        return available
    missing = [name for name in asked if name not in available]
    if missing:
        raise pytest.UsageError(f"NOOBWIRE_TEST_BACKENDS asks for {missing}, which this installation lacks")
    return asked


BACKENDS = tested_backends()


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend's module in turn; tests that take it run once per backend."""
    return codec.get_backend(request.param)


@pytest.fixture(params=BACKENDS, scope="session")
def frame_codec(request: pytest.FixtureRequest) -> FrameCodec:
    """``encode_frames`` / ``decode_frames`` on each backend in turn."""
    return FrameCodec(codec.get_backend(request.param))
