"""The words of noobwire's environment variables, for everything that reads them.

Standard library only: ``setup.py`` (``NOOBWIRE_PURE`` at build time), the start-up hook that runs in
every new interpreter (``_noobwire_install``, ``NOOBWIRE_INSTALL``) and the package itself
(``noobwire.options``, ``noobwire.noob``) all read their switches here, in the same words; and the name
of the record a build without the compiled extension leaves, which ``setup.py`` writes and the package
reads.
"""

import os
import sys

__all__ = [
    "BUILD_RECORD",
    "DEFAULT_MODULE",
    "ENV_ALLOW_PICKLE",
    "ENV_INSTALL",
    "ENV_JSON_FALLBACK",
    "ENV_PURE",
    "ENV_ZERO_COPY",
    "OFF_WORDS",
    "env_flag",
    "target_module",
]

ENV_INSTALL = "NOOBWIRE_INSTALL"
"""Asks for noobwire to be installed into noob in every new process (``1``, or a message module's name)."""
ENV_JSON_FALLBACK = "NOOBWIRE_JSON_FALLBACK"
"""``0`` makes the processes that the start-up hook patches refuse legacy JSON frames."""
ENV_ZERO_COPY = "NOOBWIRE_ZERO_COPY"
"""``0`` makes the processes that the start-up hook patches leave noob's runner unhooked (single frames)."""
ENV_ALLOW_PICKLE = "NOOBWIRE_ALLOW_PICKLE"
"""``0`` turns pickle off for every codec of the process that does not say otherwise."""
ENV_PURE = "NOOBWIRE_PURE"
"""``1`` uses (and, at build time, installs) the pure-Python backend only."""

BUILD_RECORD = "_build.json"
"""The file, beside where the compiled extension would be (``noobwire/_core/``), in which a build that
left the extension out says why: ``{"compiled": false, "reason": "...", "requested": <bool>}``
(``requested``: ``NOOBWIRE_PURE`` asked for it)."""

DEFAULT_MODULE = "noob.network.message"
"""The module that holds noob's message classes."""

OFF_WORDS = ("", "0", "false", "no", "off")
"""What turns a switch off (in any case)."""
_ON = ("1", "true", "yes", "on")
_reported: "set[tuple[str, str]]" = set()


def env_flag(name: str, default: bool = False) -> bool:
    """The switch the environment variable ``name`` sets: ``1``, ``true``, ``yes`` or ``on`` (any case)
    turn it on; ``0``, ``false``, ``no``, ``off`` or empty turn it off; unset, or any other word, leave
    ``default`` (another word is reported once on stderr). Every switch of noobwire reads these words."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in _ON:
        return True
    if word in OFF_WORDS:
        return False
    if (name, value) not in _reported:
        _reported.add((name, value))
        sys.stderr.write(f"noobwire: ignoring {name}={value!r}: neither 1/true/yes/on nor 0/false/no/off\n")
    return default


def target_module(value: "str | None" = None) -> "str | None":
    """The module ``NOOBWIRE_INSTALL`` (or ``value``) asks to patch, or None if it asks for nothing."""
    if value is None:
        value = os.environ.get(ENV_INSTALL, "")
    value = value.strip()
    if value.lower() in OFF_WORDS:
        return None
    if value.lower() in _ON:
        return DEFAULT_MODULE
    if all(part.isidentifier() for part in value.split(".")):
        return value
    return None
