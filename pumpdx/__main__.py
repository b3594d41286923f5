"""`python -m pumpdx` is the `pumpdx` command."""

import sys

from pumpdx.cli import main

sys.exit(main())
