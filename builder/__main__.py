"""`python -m builder` is the `torchcanvas` command."""

import sys

from builder.cli import main

sys.exit(main())
