"""Warnings from the paper-implementer's checklist: valid graphs that are probably mistakes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graph_schema.catalog.spec import Fix
from graph_schema.diagnostics import Diagnostic, scope_of
from graph_schema.dims import format_shape
from graph_schema.document import Block, Network, Node, Project
from graph_schema.inference import Inference

SOFTMAXES = {"nn.Softmax", "nn.LogSoftmax", "op.softmax", "op.log_softmax"}
LINEAR = "nn.Linear"
BIASED = {"nn.Linear", "nn.Conv1d", "nn.Conv2d", "nn.Conv3d", "nn.ConvTranspose1d",
          "nn.ConvTranspose2d", "nn.ConvTranspose3d"}
BATCH_NORMS = {"nn.BatchNorm1d", "nn.BatchNorm2d", "nn.BatchNorm3d"}
DROPOUTS = {"nn.Dropout", "nn.Dropout1d", "nn.Dropout2d", "nn.Dropout3d", "nn.AlphaDropout",
            "nn.FeatureAlphaDropout"}
# Layers that do not change what a Linear sees, for the "two Linears in a row" check.
TRANSPARENT = DROPOUTS | {"nn.Identity"}
RESHAPES = {"op.reshape", "op.view"}
SPATIAL_FAMILIES = {"conv", "pool", "norm", "padding", "resample"}


class _Linter:
    def __init__(self, project: Project, network: Network, inference: Inference):
        self.project = project
        self.network = network
        self.inference = inference
        self.nodes = inference.nodes
        self.scope = scope_of(network)

    def sources(self, node: Node) -> list[Node]:
        """Upstream nodes, one per connected input port in port order."""
        return [self.nodes[e.source] for e in self.inference.incoming[node.id]]

    def consumers(self, node: Node) -> list[Node]:
        return [self.nodes[t] for t in sorted(self.inference.outgoing[node.id])]

    def warn(self, node: Node, code: str, message: str, fix: Fix | None = None,
             port: int | None = None) -> Diagnostic:
        return Diagnostic(node.id, port, "warning", code, message, fix,
                          network=self.network.name, node_name=node.name,
                          node_type=node.type, scope=self.scope)

    def param(self, node: Node, name: str):
        return self.inference.states[node.id].params.get(name)

    # -- the lints -----------------------------------------------------------------------
    def softmax_before_loss(self) -> Iterator[Diagnostic]:
        loss = self.project.training.loss
        if isinstance(self.network, Block) or loss not in ("cross_entropy", "nll"):
            return
        for node in self.network.outputs():
            for source in self.sources(node):
                if source.type not in SOFTMAXES:
                    continue
                if loss == "nll" and "log" in source.type.lower():
                    continue  # LogSoftmax + NLLLoss is the correct pairing
                why = ("applies log-softmax itself, so the network should output raw logits"
                       if loss == "cross_entropy" else
                       "expects log-probabilities: use LogSoftmax instead")
                yield self.warn(source, "softmax-before-loss",
                                f"feeds output '{node.name}', but the training loss {loss} "
                                f"{why}", Fix(f"remove '{source.name}'", "remove_node", {}))

    def linear_after_linear(self) -> Iterator[Diagnostic]:
        for node in self.network.nodes:
            if node.type != LINEAR:
                continue
            upstream = self.sources(node)
            while len(upstream) == 1 and upstream[0].type in TRANSPARENT:
                upstream = self.sources(upstream[0])
            if len(upstream) == 1 and upstream[0].type == LINEAR:
                yield self.warn(
                    node, "linear-linear",
                    f"follows Linear '{upstream[0].name}' with no activation between: two "
                    f"Linear layers in a row collapse into one linear map",
                    Fix("insert ReLU", "insert_node", {"type": "nn.ReLU", "params": {}}), 0)

    def bias_before_batch_norm(self) -> Iterator[Diagnostic]:
        for node in self.network.nodes:
            if node.type not in BIASED or not self.param(node, "bias"):
                continue
            norms = [c for c in self.consumers(node) if c.type in BATCH_NORMS]
            if norms and len(self.consumers(node)) == 1:
                yield self.warn(
                    node, "bias-before-batchnorm",
                    f"has a bias, but BatchNorm '{norms[0].name}' right after it subtracts "
                    f"the mean, so the bias is wasted parameters",
                    Fix("set bias=False", "set_param", {"param": "bias", "value": False}))

    def dropout_before_batch_norm(self) -> Iterator[Diagnostic]:
        for node in self.network.nodes:
            if node.type not in BATCH_NORMS:
                continue
            for source in self.sources(node):
                if source.type in DROPOUTS:
                    yield self.warn(
                        node, "dropout-before-batchnorm",
                        f"comes right after dropout '{source.name}': batch statistics then "
                        f"differ between training and evaluation (variance shift); put "
                        f"dropout after the normalisation", port=0)

    def reshape_meant_permute(self) -> Iterator[Diagnostic]:
        for node in self.network.nodes:
            if node.type not in RESHAPES:
                continue
            state = self.inference.states[node.id]
            if not state.outputs or not state.inputs or state.inputs[0] is None:
                continue
            before, after = state.inputs[0], state.outputs[0]
            order = _permutation(before, after)
            if order is None:
                continue
            dims = ", ".join(str(i) for i in order)
            yield self.warn(
                node, "reshape-not-permute",
                f"reshapes {format_shape(before)} to {format_shape(after)}: the same sizes in "
                f"another order, but reshape keeps the memory order, so values end up mixed "
                f"across dimensions; to swap dimensions use permute({dims})",
                Fix(f"use permute({dims})", "replace_node",
                    {"type": "op.permute", "params": {"dims": list(order)}}))

    def linear_on_feature_map(self) -> Iterator[Diagnostic]:
        from graph_schema.catalog import get_spec

        for node in self.network.nodes:
            if node.type != LINEAR:
                continue
            state = self.inference.states[node.id]
            sources = self.sources(node)
            if not state.inputs or state.inputs[0] is None or len(state.inputs[0]) < 4:
                continue
            spec = get_spec(sources[0].type) if sources else None
            if spec is not None and spec.family in SPATIAL_FAMILIES:
                yield self.warn(
                    node, "linear-on-feature-map",
                    f"receives the feature map {format_shape(state.inputs[0])} and acts on "
                    f"its last dimension only; insert Flatten to connect every feature",
                    Fix("insert Flatten", "insert_node", {"type": "nn.Flatten", "params": {}}),
                    0)


def _permutation(before: tuple, after: tuple) -> tuple[int, ...] | None:
    """The axis order that turns ``before`` into ``after`` if it is a real reordering."""
    if len(before) != len(after) or len(before) < 2 or before == after:
        return None
    remaining = list(range(len(before)))
    order = []
    for size in after:
        match = next((i for i in remaining if before[i] == size), None)
        if match is None:
            return None
        remaining.remove(match)
        order.append(match)
    return tuple(order)


LINTS: tuple[Callable[[_Linter], Iterator[Diagnostic]], ...] = (
    _Linter.softmax_before_loss,
    _Linter.linear_after_linear,
    _Linter.bias_before_batch_norm,
    _Linter.dropout_before_batch_norm,
    _Linter.reshape_meant_permute,
    _Linter.linear_on_feature_map,
)


def lint_network(project: Project, network: Network, inference: Inference) -> list[Diagnostic]:
    linter = _Linter(project, network, inference)
    return [diagnostic for lint in LINTS for diagnostic in lint(linter)]
