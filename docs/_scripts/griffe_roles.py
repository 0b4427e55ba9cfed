"""A Griffe extension for the API reference: the docstrings' Sphinx roles (``:class:`noobwire.Codec```,
``:func:``, ``:meth:``, ...) are shown as code, since MkDocs renders docstrings as Markdown."""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`~?([^`]+)`")


class SphinxRolesAsCode(griffe.Extension):
    """Rewrites ``:role:`target``` as the code span ``target`` in every docstring it loads."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"``\1``", obj.docstring.value)
