"""Drop-in for noob itself: make an installed noob's messages travel as noobwire frames.

Three jobs, three modules: :mod:`noobwire.noob.install` patches noob's message classes (``install()``,
``uninstall()``), :mod:`noobwire.noob.compat` recognizes which generation of noob's schema is installed,
and :mod:`noobwire.noob.runner_hook` hooks noob's ZeroMQ runner so that large buffers travel as frames of
their own. What a user calls is here.
"""

from noobwire.noob.install import *  # noqa: F403 (what a user calls, as install.__all__ lists it)
from noobwire.noob.install import __all__ as __all__
