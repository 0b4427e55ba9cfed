"""Every Python code block of README.md and of the pages under docs/ runs as a test (Sybil).

The blocks of one page run top to bottom in one namespace, as a reader reads them; a block that needs
what the reader already has (a connected socket, received frames) gets it from an invisible block above
it (``<!-- invisible-code-block: python ... -->``), which renders nowhere. ``<!-- skip: next -->``
leaves out the next block. A block that raises fails its test.
"""

from __future__ import annotations

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["README.md", "docs/*.md", "docs/**/*.md"],
).pytest()
