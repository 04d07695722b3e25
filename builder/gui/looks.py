"""From a node and its inferred state to what its glyph shows (a NodeLook).

The canvas and the exporter both build looks here, so a node reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

from builder.gui.glyphs import OPERATORS, NodeLook
from graph_schema.catalog.counterparts import glyph_family, layer_counterpart
from graph_schema.catalog.spec import LayerSpec
from graph_schema.diagnostics import Diagnostic
from graph_schema.dims import format_dim, format_shape_compact
from graph_schema.document import Node, Project
from graph_schema.inference import NodeState
from graph_schema.specs import spec_for

# Short labels for the parameters a node shows on the canvas ("k3 · s2" rather than
# "kernel_size=(3, 3), stride=(2, 2)"); others are written name=value.
ABBREVIATIONS = {
    "out_channels": "",
    "out_features": "",
    "kernel_size": "k",
    "stride": "s",
    "dilation": "d",
    "padding": "p",
    "num_heads": "heads ",
    "dropout_p": "dropout=",
    "hidden_size": "",
    "p": "p=",
    "chunks": "chunks ",
    "dim": "dim ",
    "num_features": "",
    "normalized_shape": "",
    "embed_dim": "",
    "num_embeddings": "vocab ",  # name=value for both would not fit the widest glyph
    "embedding_dim": "dim ",
}


def format_value(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        items = [format_value(v) for v in value]
        if items and all(i == items[0] for i in items) and not isinstance(value, list):
            return items[0]
        return "×".join(items) if all(isinstance(v, int) for v in value) else \
            "[" + ", ".join(items) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "None"
    return str(value)


def detail_text(spec: LayerSpec, params: dict) -> str:
    """The key parameters: the first always, the others when they differ from the default.

    An unset parameter the layer needs reads "?" (``k?``: the kernel is still to be given);
    an unset optional one (interpolate's size when a scale factor is given) is left out.
    """
    parts = []
    for index, name in enumerate(spec.summary_params):
        if name not in params:
            continue
        value = params[name]
        if index and value == spec.defaults.get(name):
            continue
        prefix = ABBREVIATIONS.get(name, f"{name}=")
        if value is None:
            param = spec.param_map.get(name)
            if param is None or not (param.required or param.inferable):
                continue
            parts.append(f"{prefix}?")
            continue
        parts.append(f"{prefix}{format_value(value)}")
    return " · ".join(parts)


def merge_detail(spec: LayerSpec, params: dict) -> str:
    """What a merge shows under its operator: "dim=1" for cat and stack (every parameter,
    default or not: which dimension is joined is the point of the node)."""
    return " ".join(f"{name}={format_value(params[name])}" for name in spec.summary_params
                    if params.get(name) is not None)


def type_label(node: Node, spec: LayerSpec | None = None) -> str:
    """"Conv2d", "block SE"; a functional op drawn as its layer reads as the call it is,
    "relu()", so it is not taken for an nn.ReLU module."""
    if node.block_name:
        return f"block {node.block_name}"
    short = node.type.split(".", 1)[-1]
    return f"{short}()" if spec is not None and is_functional(spec) else short


def is_functional(spec: LayerSpec) -> bool:
    """An op written as a function call that draws with its layer's glyph (F.relu)."""
    return layer_counterpart(spec) is not None


def worst_severity(diagnostics: list[Diagnostic]) -> str | None:
    if any(d.is_error for d in diagnostics):
        return "error"
    return "warning" if diagnostics else None


def node_look(project: Project, node: Node, state: NodeState | None,
              diagnostics: list[Diagnostic], incoming_ports: set[int]) -> NodeLook:
    spec = spec_for(node.type, project)
    severity = worst_severity(diagnostics)
    if spec is None:
        return NodeLook(node.name, node.type + " (unknown)", "", "op",
                        inputs=max(1, len(incoming_ports)), outputs=1, severity=severity)
    params = dict(spec.defaults)
    if state is not None and state.params:
        params.update(state.params)
    inputs = input_port_count(spec, incoming_ports)
    outputs = len(state.outputs) if state and state.outputs is not None else len(spec.outputs)
    operator = OPERATORS.get(node.type)
    if node.type == "io.Input":
        detail = input_detail(state, params)
    elif node.type == "io.Output":
        # What the network returns here: the shape arriving at the output.
        received = state.inputs[0] if state and state.inputs else None
        detail = format_shape_compact(received) if received is not None else ""
    elif operator is not None:
        detail = merge_detail(spec, params)
    else:
        detail = detail_text(spec, params)
    return NodeLook(
        name=node.name,
        type_label=type_label(node, spec),
        detail=detail,
        family=glyph_family(spec),
        inputs=inputs,
        outputs=outputs,
        operator=operator,
        severity=severity,
        functional=is_functional(spec),
        icon=IO_ICONS.get(node.type),
    )


# Inputs and outputs share the io colour; their icons say which way the tensor goes.
IO_ICONS = {"io.Input": "input", "io.Output": "output"}


def input_detail(state: NodeState | None, params: dict) -> str:
    # A block's input shows the shape its first placement gives it.
    shape = state.outputs[0] if state and state.outputs else params.get("shape") or ()
    detail = "×".join(format_dim(d) if not isinstance(d, str) else d for d in shape)
    if params.get("dtype") not in (None, "float32"):
        detail += f" {params['dtype']}"
    return detail


def input_port_count(spec: LayerSpec, connected: set[int]) -> int:
    """The declared ports; a variadic last port always offers one free slot more."""
    count = len(spec.inputs)
    highest = max(connected) + 1 if connected else 0
    if spec.inputs and spec.inputs[-1].variadic:
        return max(count, highest + 1, 2)
    return max(count, highest)
