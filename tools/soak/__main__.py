"""`python -m tools.soak`: the sustained-load run (tools/soak/run.py)."""

import sys

from tools.soak.run import main

sys.exit(main())
