"""``python -m noobwire``: the command line."""

import sys

from noobwire.cli import main

sys.exit(main())
