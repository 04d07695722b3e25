"""Answers to the file workflow's questions, given in advance, so tests never block.

A test queues the answers it expects to be asked for; a question nobody queued an answer for
fails the test at once (rather than hanging on a dialog), and every question and error shown
is recorded for the test to check.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

from builder.gui.file_prompts import Prompts


class UnexpectedQuestion(AssertionError):
    pass


class ScriptedAnswers:
    """The queue of answers given in advance, for a prompts class to take its answers from:
    ``answers`` (question -> values), what was ``asked``, and the ``errors`` shown."""

    def __init__(self, parent, **answers):
        super().__init__(parent)
        self.answers: dict[str, deque] = defaultdict(deque)
        self.asked: list[tuple[str, object]] = []
        self.errors: list[str] = []
        for question, values in answers.items():
            self.answer(question, *values)

    def answer(self, question: str, *values):
        self.answers[question].extend(values)
        return self

    def _next(self, question: str, about):
        self.asked.append((question, about))
        if not self.answers[question]:
            raise UnexpectedQuestion(f"unexpected question {question!r} about {about!r}")
        return self.answers[question].popleft()


class ScriptedPrompts(ScriptedAnswers, Prompts):

    def unsaved_changes(self, name: str) -> str:
        return self._next("unsaved_changes", name)

    def recover(self, recovery) -> str:
        return self._next("recover", recovery)

    def open_path(self, directory: Path):
        return self._next("open_path", directory)

    def save_path(self, suggested: Path):
        return self._next("save_path", suggested)

    def diagram_path(self, suggested: Path):
        return self._next("diagram_path", suggested)

    def export_code(self, suggested: Path):
        return self._next("export_code", suggested)

    def confirm_replace(self, paths):
        return self._next("confirm_replace", paths)

    def offer_kept_source_review(self, names, when):
        return self._next("offer_kept_source_review", (names, when))

    def review_kept_source(self, blocks, focus):
        """A queued answer is the names to trust (or None), or a function that gets the real
        dialog, as the user would see it, and returns them."""
        answer = self._next("review_kept_source", [b.name for b in blocks])
        if callable(answer):
            from builder.gui.trust_dialog import KeptSourceDialog

            dialog = KeptSourceDialog(blocks, focus, self.parent)
            try:
                return answer(dialog)
            finally:
                dialog.deleteLater()
        return answer

    def error(self, title: str, text: str, details: str = "") -> None:
        self.errors.append(f"{title}: {text}\n{details}".strip())

    def info(self, title: str, text: str) -> None:
        self.asked.append(("info", text))


def script(window, **answers) -> ScriptedPrompts:
    """Give ``window`` scripted prompts (File and Export share them) and return them."""
    prompts = ScriptedPrompts(window, **answers)
    window.files.prompts = prompts
    return prompts
