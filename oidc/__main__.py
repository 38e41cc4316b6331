"""``python -m oidc``: see :mod:`oidc.cli`."""

import gc
import sys

from oidc.cli import main

code = main()
# The mocks leave event loops in worker threads; collect them now, not while the interpreter shuts down.
gc.collect()
sys.exit(code)
