"""Collection rules for the whole repository (the doctests of ``searchlib/`` included).

The server's modules import Starlette, an optional extra: without it they are not
collected for doctests, as its own tests skip and say why."""

from __future__ import annotations

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("starlette") else ["searchlib/server/*.py"]
