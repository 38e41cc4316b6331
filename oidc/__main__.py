"""``python -m oidc``: see :mod:`oidc.cli`."""

import sys

from oidc.cli import main

sys.exit(main())
