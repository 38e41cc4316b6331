"""The pulumi-aws-oidc component provider, which Pulumi runs for `pulumi package add` and for every deployment.

The component and its typed arguments are in ``oidc/package.py``, one folder up.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oidc.package import main

if __name__ == "__main__":
    main()
