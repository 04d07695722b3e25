"""Whole-project validation: every graph analysed and checked as the app checks it.

A fresh ``Session`` does the work, so the command line and the app share one definition of
each graph's diagnostics (a placed block is checked under its first placement's shapes in
both).
"""

from __future__ import annotations

from graph_schema.diagnostics import Diagnostic
from graph_schema.document import Project
from graph_schema.session import Session


def validate(project: Project) -> list[Diagnostic]:
    """Every error and warning in the project, networks first, then blocks."""
    return Session(project).diagnostics()


def errors_in(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.is_error]
