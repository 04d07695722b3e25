"""What can go wrong when importing a model, as two kinds of exception."""

from __future__ import annotations


class ModelImportError(Exception):
    """The model cannot be imported; the message says what and where, for the user."""


class Untraceable(Exception):
    """One class cannot become a diagram (torch.fx cannot trace it, or its graph uses
    something the catalog cannot draw). The importer then keeps that class as source."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
