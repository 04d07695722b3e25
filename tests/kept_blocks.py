"""A kept-source ("opaque") block written by hand, as import would write it, and a network
that places it: for the tests of kept source, trust and the commands that read it."""

from __future__ import annotations

from graph_schema.document import (
    Block,
    ImportedName,
    Network,
    OpaqueCall,
    OpaqueClass,
    Project,
)
from graph_schema.trust import signed
from tests.graphs import chain_edges, node

KEPT = '''class Gate(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x
'''


def kept_block(source: str = KEPT, name: str = "Gate", sign: bool = True, **changes) -> Block:
    """A kept-source block, signed with this run's trust key as import would sign it."""
    opaque = dict(class_name=name, source=source, origin="models.py",
                  reason="control flow on values",
                  imports=[ImportedName(module="torch.nn", alias="nn")],
                  calls=[OpaqueCall(arguments={"width": 4}, inputs=[["N", 4]],
                                    outputs=[["N", 4]], parameters=20)])
    opaque.update(changes)
    kept = OpaqueClass(**opaque)
    return Block(name=name, nodes=[node("i", "io.Input", "x", shape=["N", 4]),
                                   node("o", "io.Output", "y")],
                 arguments={"width": 4}, opaque=signed(kept) if sign else kept)


def placed_gate(block: Block, shape=("N", 4)) -> Project:
    nodes = [node("in", "io.Input", "x", shape=list(shape)), node("g", "block:Gate", "gate"),
             node("out", "io.Output", "y")]
    return Project(networks=[Network(name="n", nodes=nodes, edges=chain_edges("in", "g", "out"))],
                   blocks=[block])
