"""The noob installed beside the tests, and the generation of noobwire that describes it: what the
tests of this folder that run with each published noob (CI runs them with 1000.0.0, 1001.0.0, 1002.0.0
and 1003.0.2) share. A module that imports this is skipped where no noob of these generations is."""

from __future__ import annotations

import warnings
from importlib import metadata
from types import ModuleType

import pytest

from noobwire.generations import NOOB_1000, NOOB_1002, NOOB_1003
from noobwire.layout import Generation

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # noob warns about its runtime directory on import
    noob_message: ModuleType = pytest.importorskip("noob.network.message")

NOOB_VERSION = metadata.version("noob")
if NOOB_VERSION.startswith("0."):
    pytest.skip(f"noob {NOOB_VERSION} predates the generations these tests test", allow_module_level=True)

EXPECTED = {"1003": NOOB_1003, "1002": NOOB_1002, "1001": NOOB_1000, "1000": NOOB_1000}
"""The generation of each published noob release line."""
GENERATION: Generation = EXPECTED[NOOB_VERSION.split(".")[0]].bind(noob_message)
"""The installed noob's generation, bound to its message module."""
