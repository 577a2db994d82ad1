"""`python -m tools.profile`: py-spy over a worker draining a backlog (tools/profile/run.py)."""

import sys

from tools.profile.run import main

sys.exit(main())
