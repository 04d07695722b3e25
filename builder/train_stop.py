"""What the train commands share: exit codes, the usage error, and stopping on a signal.

Its own module so that `train` and `train --task gan` both use it without importing each
other (the gan command is loaded only when a GAN is trained).
"""

from __future__ import annotations

import contextlib
import signal
import time

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class UsageProblem(Exception):
    """A problem with the arguments (exit 2)."""


class StopFlag:
    """Ctrl+C / SIGTERM ask the loop to stop at the next step boundary and checkpoint; a second
    Ctrl+C stops at once. Under a user's own torchrun one Ctrl+C arrives twice (from the terminal
    and from torchrun), so a repeat within a second counts as the same one."""

    REPEAT_S = 1.0

    def __init__(self):
        self.signum = None
        self._first = 0.0

    def is_set(self) -> bool:
        return self.signum is not None

    def _handle(self, signum, _frame):
        now = time.monotonic()
        if self.signum is not None and signum == signal.SIGINT:
            if now - self._first > self.REPEAT_S:
                raise KeyboardInterrupt
            return
        self.signum, self._first = signum, now

    def installed(self):
        @contextlib.contextmanager
        def scope():
            previous = {s: signal.signal(s, self._handle) for s in EXIT_SIGNAL}
            try:
                yield
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)

        return scope()
