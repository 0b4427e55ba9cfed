"""Per-codec settings: the pickle policy and the resource limits, shared by both backends."""

from __future__ import annotations

from dataclasses import dataclass, field

from _noobwire_environment import ENV_ALLOW_PICKLE, env_flag
from noobwire import wire

__all__ = ["DEFAULT_OPTIONS", "Options", "pickle_allowed_by_environment"]


def pickle_allowed_by_environment() -> bool:
    """False when ``NOOBWIRE_ALLOW_PICKLE`` is set to ``0`` (or ``false``/``no``/``off``)."""
    return env_flag(ENV_ALLOW_PICKLE, default=True)


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
    """A frame longer than this many bytes is refused before it is read (and is not written); a
    message's out-of-band buffer frames are held to it each too."""
    accept_json: bool = True
    """Read legacy JSON frames (of unmodified noob processes); off, they are refused unread."""

    def __post_init__(self) -> None:
        for name in ("allow_pickle", "accept_json"):
            if type(getattr(self, name)) is not bool:
                raise TypeError(f"{name} must be a bool, not {type(getattr(self, name)).__qualname__}")
        for name in ("max_depth", "max_length", "max_frame_size"):
            if type(getattr(self, name)) is not int:
                raise TypeError(f"{name} must be an int, not {type(getattr(self, name)).__qualname__}")
        if not 1 <= self.max_depth <= wire.MAX_DEPTH:
            # msgpack-python's unpacker cannot go deeper, and the format does not either.
            raise ValueError(f"max_depth must be between 1 and {wire.MAX_DEPTH}, not {self.max_depth}")
        if self.max_length < wire.HEADER_LENGTH:
            raise ValueError(
                f"max_length must be at least {wire.HEADER_LENGTH} (every frame is an array of "
                f"{wire.HEADER_LENGTH}), not {self.max_length}"
            )
        if self.max_frame_size < 1:
            raise ValueError(f"max_frame_size must be at least 1, not {self.max_frame_size}")


DEFAULT_OPTIONS = Options()
"""The settings of the package-level ``encode`` / ``decode``, read once at import."""
