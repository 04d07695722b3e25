"""Warnings from the paper-implementer's checklist: valid graphs that are probably mistakes.

Which types a lint looks at is the catalog's to say, as tags on their specs (``"dropout" in
spec.tags``), so a new dropout or softmax type is covered where it is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graph_schema.catalog.spec import Fix, LayerSpec
from graph_schema.diagnostics import Diagnostic, scope_of
from graph_schema.dims import format_shape
from graph_schema.document import Block, Network, Node, Project
from graph_schema.inference import Inference
from graph_schema.specs import spec_for

LINEAR = "nn.Linear"
SPATIAL_FAMILIES = {"conv", "pool", "norm", "padding", "resample"}


class _Linter:
    def __init__(self, project: Project, network: Network, inference: Inference):
        self.project = project
        self.network = network
        self.inference = inference
        self.nodes = inference.nodes
        self.scope = scope_of(network)
        self._specs: dict[str, LayerSpec | None] = {}

    def spec(self, node: Node) -> LayerSpec | None:
        if node.type not in self._specs:
            self._specs[node.type] = spec_for(node.type, self.project)
        return self._specs[node.type]

    def tagged(self, node: Node, tag: str) -> bool:
        spec = self.spec(node)
        return spec is not None and tag in spec.tags

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
                if not self.tagged(source, "softmax"):
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
            # Dropout and identity do not change what a Linear sees.
            while len(upstream) == 1 and self.tagged(upstream[0], "transparent"):
                upstream = self.sources(upstream[0])
            if len(upstream) == 1 and upstream[0].type == LINEAR:
                yield self.warn(
                    node, "linear-linear",
                    f"follows Linear '{upstream[0].name}' with no activation between: two "
                    f"Linear layers in a row collapse into one linear map",
                    Fix("insert ReLU", "insert_node", {"type": "nn.ReLU", "params": {}}), 0)

    def bias_before_batch_norm(self) -> Iterator[Diagnostic]:
        for node in self.network.nodes:
            if not self.tagged(node, "biased") or not self.param(node, "bias"):
                continue
            norms = [c for c in self.consumers(node) if self.tagged(c, "batch-norm")]
            if norms and len(self.consumers(node)) == 1:
                yield self.warn(
                    node, "bias-before-batchnorm",
                    f"has a bias, but BatchNorm '{norms[0].name}' right after it subtracts "
                    f"the mean, so the bias is wasted parameters",
                    Fix("set bias=False", "set_param", {"param": "bias", "value": False}))

    def dropout_before_batch_norm(self) -> Iterator[Diagnostic]:
        for node in self.network.nodes:
            if not self.tagged(node, "batch-norm"):
                continue
            for source in self.sources(node):
                if self.tagged(source, "dropout"):
                    yield self.warn(
                        node, "dropout-before-batchnorm",
                        f"comes right after dropout '{source.name}': batch statistics then "
                        f"differ between training and evaluation (variance shift); put "
                        f"dropout after the normalisation", port=0)

    def reshape_meant_permute(self) -> Iterator[Diagnostic]:
        for node in self.network.nodes:
            if not self.tagged(node, "reshape"):
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
        for node in self.network.nodes:
            if node.type != LINEAR:
                continue
            state = self.inference.states[node.id]
            sources = self.sources(node)
            if not state.inputs or state.inputs[0] is None or len(state.inputs[0]) < 4:
                continue
            spec = self.spec(sources[0]) if sources else None
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
