"""Test setup shared by every test: no windows, and the checkout's packages first."""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# Before anything imports torch: one thread per test process. The suite runs one pytest-xdist
# worker per core, and torch's threads fighting over the same cores make small models many
# times slower. Child processes (training runs, torchrun workers) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Before anything imports Qt: GUI tests draw offscreen, with or without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The trust key (graph_schema/trust.py) of a test run lives in a folder of its own, never in
# the user's config; child processes (import workers, the CLI) inherit it.
os.environ["TORCHCANVAS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="torchcanvas-config-")
atexit.register(shutil.rmtree, os.environ["TORCHCANVAS_CONFIG_DIR"], ignore_errors=True)

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def digits():
    """(the seed-0 training split of scikit-learn's digits as 1x8x8 images, its Task): the
    data of the training tools' tests."""
    from builder.training.data import load_dataset, parse_data, split
    from builder.training.task import resolve_task

    dataset = load_dataset(parse_data("digits"), ["N", 1, 8, 8])
    return split(dataset, seed=0)[0], resolve_task(None, None, dataset)
