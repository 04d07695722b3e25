"""Diagnostics: what is wrong (or suspicious) in a drawing, pinned to a node and input port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from graph_schema.catalog.spec import Fix
from graph_schema.document import Block, Network, Node

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    node_id: str | None  # None: about the whole network
    port: int | None  # the input port, when the problem is at one
    severity: Severity
    code: str  # stable machine-readable kind: "shape-mismatch", "cycle", "unconnected-input"
    message: str  # what was expected and what was received, without the location
    fix: Fix | None = None
    network: str = ""  # the name of the network (or block) the node is in
    node_name: str = ""
    node_type: str = ""
    scope: str = "network"  # "network" or "block"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        """``network 'main', node 'fc1' (nn.Linear), input 0``"""
        parts = [f"{self.scope} '{self.network}'"] if self.network else []
        if self.node_id is not None:
            parts.append(f"node '{self.node_name or self.node_id}' ({self.node_type})")
        if self.port is not None:
            parts.append(f"input {self.port}")
        return ", ".join(parts)

    def format(self, prefix: str = "") -> str:
        where = self.location()
        head = f"{prefix}: " if prefix else ""
        level = "" if self.is_error else "warning: "
        fix = f" (fix: {self.fix.label})" if self.fix else ""
        text = f"{head}{where}: {level}{self.message}{fix}" if where else \
            f"{head}{level}{self.message}{fix}"
        return one_line(text)

    def to_json(self) -> dict:
        return {
            "scope": self.scope,
            "network": self.network,
            "node_id": self.node_id,
            "node_name": self.node_name,
            "node_type": self.node_type,
            "port": self.port,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "fix": None if self.fix is None else {
                "label": self.fix.label, "kind": self.fix.kind, "args": self.fix.args},
        }


def one_line(text: str) -> str:
    """``text`` with newlines and every other invisible character escaped (``\\n``,
    ``\\u202e``): names and reasons come from files, and a report prints one problem a
    line."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def scope_of(network: Network) -> str:
    """How a location names its graph: ``network 'main'`` or ``block 'SE'``."""
    return "block" if isinstance(network, Block) else "network"


def node_diagnostic(network: Network, node: Node, code: str, message: str,
                    severity: Severity = "error") -> Diagnostic:
    """A problem of a whole node (no particular input)."""
    return Diagnostic(node.id, None, severity, code, message, network=network.name,
                      node_name=node.name, node_type=node.type, scope=scope_of(network))


def graph_diagnostic(network: Network, code: str, message: str,
                     severity: Severity = "error") -> Diagnostic:
    """A problem of the graph itself (no input node, no output node, ...)."""
    return Diagnostic(None, None, severity, code, message, network=network.name,
                      scope=scope_of(network))
