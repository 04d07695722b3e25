"""What the hostile-file tests share: the CLI run in process, and what a reader must see."""

from __future__ import annotations

import contextlib
import io
import sys
import unicodedata
from dataclasses import dataclass
from unittest import mock

from builder.cli import main
from tests.fuzz_strategies import CANARY


@dataclass
class Run:
    argv: tuple
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.err.splitlines()

    def __str__(self) -> str:
        return f"torchcanvas {' '.join(self.argv)} -> {self.code}\n{self.out}\n{self.err}"


def cli(*argv) -> Run:
    """builder.cli.main in process, stdin not a terminal (as under pytest, or in CI) and
    holding a 'y' for any prompt that reads it anyway."""
    argv = tuple(str(a) for a in argv)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            mock.patch.object(sys, "stdin", io.StringIO("y\n")):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse only; every argument here is well formed
            code = exit_.code
    run = Run(argv, code, out.getvalue(), err.getvalue())
    assert "Traceback" not in run.out + run.err, str(run)
    assert not CANARY.exists(), f"a payload ran: {run}"
    return run


def visible_text(text: str) -> bool:
    """No character that moves the cursor, colours the terminal or reorders the line."""
    return all(c == "\n" or (c.isprintable() and unicodedata.category(c) != "Cf")
               for c in text)


def one_visible_line(text: str) -> bool:
    return "\n" not in text and visible_text(text)


def review_lines(block) -> int:
    """The lines trust prints for a block: its name, why kept, imports, source, a blank."""
    opaque = block.opaque
    return 1 + bool(opaque.reason.strip()) + len(opaque.imports) + \
        opaque.source.strip("\n").count("\n") + 1 + 1
