"""Per-codec settings: the pickle policy and the resource limits, shared by both backends."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from noobwire import wire

__all__ = ["DEFAULT_OPTIONS", "Options", "pickle_allowed_by_environment"]


def pickle_allowed_by_environment() -> bool:
    """False when ``NOOBWIRE_ALLOW_PICKLE`` is set to ``0`` (or ``false``/``no``/``off``)."""
    return os.environ.get("NOOBWIRE_ALLOW_PICKLE", "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Options:
    """What one codec allows. Both backends read the same fields and enforce them the same way."""

    allow_pickle: bool = field(default_factory=pickle_allowed_by_environment)
    """Pickle what has no native encoding, and unpickle what a frame carries (trusted peers only)."""
    max_depth: int = wire.MAX_DEPTH
    """Arrays and maps nest at most this deep, the frame's own array counting as one."""
    max_length: int = 2**32 - 1
    """At most this many elements in one array or map, and this many bytes in one str, bin or ext."""
    max_frame_size: int = 2**32 - 1
    """A frame longer than this many bytes is refused before it is read."""


DEFAULT_OPTIONS = Options()
"""The settings of the package-level ``encode`` / ``decode``, read once at import."""
