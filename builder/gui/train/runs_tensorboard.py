"""TensorBoard on a runs folder: is it installed, and the command that serves it.

Every run writes its events under ``<run>/tensorboard/``, so one TensorBoard on the runs folder
shows all of them side by side. It is started detached: it keeps serving after the app quits,
like one started from a terminal would.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 6006  # TensorBoard's own default, used when it is free


@dataclass(frozen=True)
class TensorBoardLaunch:
    program: str
    arguments: list[str]
    url: str


def tensorboard_program() -> list[str] | None:
    """How to start TensorBoard here: this Python's module (the runner's environment), else a
    ``tensorboard`` on the PATH; None when neither is installed. Looking the module up does
    not import it."""
    if importlib.util.find_spec("tensorboard") is not None:
        return [sys.executable, "-m", "tensorboard.main"]
    found = shutil.which("tensorboard")
    return [found] if found else None


def tensorboard_launch(
    runs_dir: Path,
    program: list[str],
    port: int | None = None,
) -> TensorBoardLaunch:
    """The command serving ``runs_dir`` on localhost, on ``port`` or a free one."""
    port = port or free_port()
    arguments = [
        *program[1:],
        "--logdir",
        str(runs_dir),
        "--port",
        str(port),
        "--host",
        "localhost",
    ]
    return TensorBoardLaunch(program[0], arguments, f"http://localhost:{port}/")


def free_port() -> int:
    """TensorBoard's default port when nothing listens there (a second TensorBoard would fail
    to start on it), else one the system says is free."""
    for port in (DEFAULT_PORT, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("localhost", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port for TensorBoard")
