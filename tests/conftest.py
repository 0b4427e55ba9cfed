"""Fixtures shared by the test suite: the backends to run against, and hypothesis profiles."""

from __future__ import annotations

import os

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


BACKENDS = available_backends()


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend's module in turn; tests that take it run once per backend."""
    return codec.get_backend(request.param)


NATIVE_OUT_OF_BAND = [
    name for name in BACKENDS if codec.get_backend(name).module.__dict__.get("SUPPORTS_OUT_OF_BAND")
]
"""The backends that handle out-of-band buffers themselves (the others use the pure backend for them)."""


@pytest.fixture(params=BACKENDS, scope="session")
def frame_codec(request: pytest.FixtureRequest) -> FrameCodec:
    """``encode_frames`` / ``decode_frames`` on each backend in turn."""
    return FrameCodec(codec.get_backend(request.param))


@pytest.fixture(params=NATIVE_OUT_OF_BAND, scope="session")
def native_frame_codec(request: pytest.FixtureRequest) -> FrameCodec:
    """``encode_frames`` / ``decode_frames`` on each backend that handles out-of-band buffers itself."""
    frame_codec = FrameCodec(codec.get_backend(request.param))
    assert frame_codec.native
    return frame_codec
