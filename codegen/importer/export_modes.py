"""The two modes of a class traced by export: whether to trace it in training as well, and
what may differ between the two graphs.

Like tracer.py does for torch.fx, a class whose code reads ``self.training`` is traced in
both modes; the graphs may differ only in keywords that follow the mode (FOLLOWS_TRAINING),
and those are marked, with their value in training, on the graph of evaluation.
"""

from __future__ import annotations

from typing import Any

from torch import fx

from codegen.importer.errors import Untraceable
from codegen.importer.tracer import TRAINING, reads_training

# Keywords that may differ between the graphs of the two modes, with their value in
# evaluation: F.dropout(x, p, training=self.training), and attention's dropout_p
# (``dropout_p=self.p if self.training else 0.0``).
FOLLOWS_TRAINING = {TRAINING: False, "dropout_p": 0.0}


# One rule for both tracers: decorators and same-file helpers count (tracer.reads_training).
reads_training_anywhere = reads_training


def _layout_only(node: fx.Node) -> bool:
    """``x.contiguous()`` is traced only where x is not contiguous at that moment, and the
    two modes may lay a tensor out differently (attention's kernels do): it is not a
    difference of what the forward computes."""
    return node.op == "call_method" and node.target == "contiguous"


def _plain_nodes(graph: fx.Graph) -> list[tuple[fx.Node, tuple]]:
    kept = [n for n in graph.nodes if not _layout_only(n)]
    index = {node: i for i, node in enumerate(kept)}

    def plain(value):
        def number(n: fx.Node) -> tuple:
            while _layout_only(n):
                n = n.args[0]
            return ("node", index[n])
        return fx.node.map_arg(value, number)

    return [(n, (n.op, n.target, plain(n.args), plain(n.kwargs))) for n in kept]


def training_flags(evaluation: fx.Graph, training: fx.Graph
                   ) -> tuple[dict[str, set[str]], dict[str, dict[str, Any]]]:
    """Which keywords of which nodes follow self.training (FOLLOWS_TRAINING), and their
    values in training; any other difference between the modes raises Untraceable."""
    different = Untraceable("its forward does different things in training and in evaluation "
                            "(it branches on self.training)")
    a, b = _plain_nodes(evaluation), _plain_nodes(training)
    if len(a) != len(b):
        raise different
    flags: dict[str, set[str]] = {}
    values: dict[str, dict[str, Any]] = {}
    for (node, (op, target, args, kwargs)), (_, (op2, target2, args2, kwargs2)) in zip(a, b):
        if (op, target, args) != (op2, target2, args2) or set(kwargs) != set(kwargs2):
            raise different
        for key in kwargs:
            if kwargs[key] == kwargs2[key]:
                continue
            if key in FOLLOWS_TRAINING and kwargs[key] == FOLLOWS_TRAINING[key]:
                flags.setdefault(node.name, set()).add(key)
                values.setdefault(node.name, {})[key] = kwargs2[key]
            else:
                raise different
    return flags, values
