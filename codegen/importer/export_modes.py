"""The two modes of a class traced by export: whether to trace it in training as well, and
what may differ between the two graphs.

Like tracer.py does for torch.fx, a class whose code reads ``self.training`` is traced in
both modes; the graphs may differ only in keywords that follow the mode (FOLLOWS_TRAINING),
and those are marked, with their value in training, on the graph of evaluation.
"""

from __future__ import annotations

from typing import Any

from torch import fx

from codegen.importer.tracer import TRAINING, reads_training
from codegen.importer.tracer import training_flags as compare_modes

# Keywords that may differ between the graphs of the two modes, with their value in
# evaluation: F.dropout(x, p, training=self.training), and attention's dropout_p
# (``dropout_p=self.p if self.training else 0.0``).
FOLLOWS_TRAINING = {TRAINING: False, "dropout_p": 0.0}


# One rule for both tracers: decorators and same-file helpers count (tracer.reads_training).
reads_training_anywhere = reads_training


def training_flags(evaluation: fx.Graph, training: fx.Graph
                   ) -> tuple[dict[str, set[str]], dict[str, dict[str, Any]]]:
    """tracer.training_flags with the keywords an exported graph may follow the mode in."""
    return compare_modes(evaluation, training, FOLLOWS_TRAINING)
