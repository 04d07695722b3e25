"""Test setup shared by every test: no windows, and the checkout's packages first."""

import os
import sys
from pathlib import Path

# Before anything imports Qt: GUI tests draw offscreen, with or without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
