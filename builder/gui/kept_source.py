"""Edit > Review Kept Source…: trusting a project's kept source after reading it.

Offered when a project with untrusted kept source opens, from the "untrusted-source"
diagnostic, from the context menu of a block placement, and when Export Code meets it. The
questions go through the File menu's Prompts (tests script them; offscreen nothing is trusted).
Trusting is one undoable command that swaps each block's kept source for its signed copy,
through the document, so diagnostics refresh and undo brings the untrusted error back.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStatusBar

from builder.gui.actions import make_action
from builder.gui.commands import SetBlockOpaque
from builder.gui.controller import EditController
from builder.gui.file_prompts import Prompts
from builder.gui.project_document import ProjectDocument
from graph_schema.document import Block
from graph_schema.trust import TrustError, kept_blocks, trust_blocks, untrusted_blocks


class KeptSourceReview(QObject):
    """Owns Edit > Review Kept Source… (``action``); the window puts it in its menu."""

    def __init__(self, doc: ProjectDocument, controller: EditController, prompts: Prompts,
                 status_bar: QStatusBar, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.controller = controller
        self.prompts = prompts  # the File menu's: FileController swaps both at once
        self.status_bar = status_bar
        self.action = make_action(self, "Review &Kept Source…", self.review)
        self.action.setStatusTip("Read the Python kept from an imported model, then trust it")
        for signal in (self.doc.diagnostics_changed, self.doc.opaque_changed,
                       self.doc.project_replaced, self.doc.graph_added,
                       self.doc.graph_removed, self.doc.graph_renamed):
            signal.connect(self._on_doc_changed)
        self._on_doc_changed()

    def untrusted(self) -> list[Block]:
        """The kept-source blocks this machine has not signed (all of them when the key
        cannot be read)."""
        try:
            return untrusted_blocks(self.doc.project)
        except TrustError:
            return kept_blocks(self.doc.project)

    def is_untrusted(self, block_name: str) -> bool:
        return any(block.name == block_name for block in self.untrusted())

    # -- asking ----------------------------------------------------------------------------
    def offer_review(self, when: str = "open") -> bool:
        """Ask once whether to review untrusted kept source now (``when``: "open" or
        "export"); True when something was trusted."""
        names = [block.name for block in self.untrusted()]
        if not names or not self.prompts.offer_kept_source_review(names, when):
            return False
        return self.review()

    def review(self, focus: str | None = None) -> bool:
        """Show the untrusted kept source (``focus`` first) and trust what the user ticks."""
        blocks = self.untrusted()
        if not blocks:
            self._status("Every kept source in this project is trusted")
            return False
        names = self.prompts.review_kept_source(blocks, focus)
        return self.trust(names) if names else False

    # -- trusting --------------------------------------------------------------------------
    def trust(self, names: list[str]) -> bool:
        """Sign these blocks' kept source: one undo step."""
        try:
            signed = trust_blocks(self.doc.project, names)
        except TrustError as err:
            self.prompts.error("Cannot trust the kept source", str(err),
                               "Nothing was trusted.")
            return False
        steps = [SetBlockOpaque(self.doc, name, signed.block(name).opaque) for name in names
                 if signed.block(name) is not None and signed.block(name).opaque is not None]
        if not steps:
            return False
        self.controller.push(f"Trust Kept Source of {', '.join(names)}", steps)
        self._status(f"Trusted and signed the kept source of {', '.join(names)}")
        return True

    def _on_doc_changed(self, *_args) -> None:
        self.action.setEnabled(bool(self.untrusted()))

    def _status(self, message: str) -> None:
        self.status_bar.showMessage(message, 8000)
