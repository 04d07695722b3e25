"""A torchinfo-style summary of one network: layer, type, output shape, parameters, MACs.

MACs are per sample: the batch dimension ``N`` is taken as 1. Other symbolic sizes (a
sequence length ``L``) stay symbolic, so the total reads like ``4,096*L``. What a class kept
as source computes is not known here, so its MACs are unknown (``?``), and so is every sum
they are part of: a total that leaves them out would read as the whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph_schema.blocks import block_spec, infer_block
from graph_schema.catalog import ShapeError, get_spec
from graph_schema.diagnostics import one_line
from graph_schema.dims import Dim, Sym, format_shape
from graph_schema.document import Network, Project
from graph_schema.inference import Inference
from graph_schema.opaque import opaque_parameters
from graph_schema.structure import static_parameter_count

BATCH_NAMES = {"N", "B", "batch", "batch_size"}


@dataclass
class Row:
    depth: int
    name: str
    type: str
    outputs: list
    params: int | None  # None: unknown because of an error at or before this node
    macs: Dim | None  # None: unknown (an error, or a class kept as source, at or inside it)


@dataclass
class Summary:
    network: str
    rows: list[Row] = field(default_factory=list)

    @property
    def total_params(self) -> int:
        return sum(r.params or 0 for r in self.rows if r.depth == 0)

    @property
    def total_macs(self) -> Dim | None:
        return sum_macs(r.macs for r in self.rows if r.depth == 0)

    @property
    def unknown_macs(self) -> list[str]:
        """The top-level layers whose MACs are unknown, which leave the total unknown."""
        return [r.name for r in self.rows if r.depth == 0 and r.macs is None]

    @property
    def complete(self) -> bool:
        return all(r.params is not None for r in self.rows)


def sum_macs(values) -> Dim | None:
    """The sum, or None (unknown) when any of the values is."""
    total: Dim = 0
    for value in values:
        if value is None:
            return None
        total = total + value
    return total


def per_sample(value: Dim) -> Dim:
    if isinstance(value, Sym):
        return value.substitute(dict.fromkeys(BATCH_NAMES, 1))
    return value


def summarize(project: Project, network: Network | None = None,
              inference: Inference | None = None) -> Summary:
    network = network or project.networks[0]
    inference = inference or Inference(network, project)
    summary = Summary(network.name)
    _add_rows(project, inference, summary, depth=0)
    return summary


def _add_rows(project: Project, inference: Inference, summary: Summary, depth: int) -> None:
    for node_id in inference.order:
        node = inference.nodes[node_id]
        if node.type in ("io.Input", "io.Output"):
            continue
        state = inference.states[node_id]
        row = Row(depth, node.name, node.type, state.outputs or [], None, None)
        summary.rows.append(row)
        if state.outputs is None:
            continue
        first_inner = len(summary.rows)
        if node.block_name:
            _add_block(project, node, state, summary, row, depth)
        else:
            _add_layer(node, state, row)
        if node.reuses:
            # The weights are counted where the module is built; the work is done at every
            # call (a siamese encoder costs twice).
            for shared in [row, *summary.rows[first_inner:]]:
                shared.params = 0 if shared.params is not None else None


def _add_layer(node, state, row) -> None:
    spec = get_spec(node.type)
    try:
        row.params = spec.count_params(state.params)
        row.macs = 0 if not node.called else \
            per_sample(spec.macs(state.params, state.inputs, state.outputs))
    except (TypeError, ValueError, ArithmeticError, ShapeError):
        row.params = row.macs = None  # a parameter is still unknown


def _add_block(project, node, state, summary, row, depth) -> None:
    block = project.block(node.block_name)
    spec = block_spec(project, block.name)
    arguments = {**spec.defaults, **state.params}
    if not node.called:
        row.params = static_parameter_count(project, block, arguments)
        row.macs = 0
        return
    if block.opaque is not None:
        row.params = opaque_parameters(block, arguments, state.inputs)
        row.macs = None  # what the kept source computes is not known here
        return
    inner = infer_block(project, block, state.inputs, arguments)
    start = len(summary.rows)
    _add_rows(project, inner, summary, depth + 1)
    children = [r for r in summary.rows[start:] if r.depth == depth + 1]
    if all(r.params is not None for r in children):
        row.params = sum(r.params for r in children)
        row.macs = sum_macs(r.macs for r in children)


def _group(value: Dim | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def unknown_macs_note(summary: Summary) -> str:
    """Why the total MACs are unknown, written after them: " (not counted: source kept
    verbatim in gate)"; empty when they are known, or unknown because of errors."""
    names = summary.unknown_macs
    if not names or not summary.complete:
        return ""  # an error leaves them unknown, which the params line already says
    shown = ", ".join(one_line(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    return f" (not counted: source kept verbatim in {shown})"


def render_table(summary: Summary) -> str:
    header = ("Layer", "Type", "Output shape", "Params", "MACs")
    lines = []
    for row in summary.rows:
        shapes = ", ".join(format_shape(s) for s in row.outputs) or "?"
        lines.append(("  " * row.depth + one_line(row.name), one_line(row.type), shapes,
                      _group(row.params), _group(row.macs)))
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
              for i, h in enumerate(header)]
    rule = "=" * (sum(widths) + 2 * (len(widths) - 1))

    def fmt(cells):
        left = [c.ljust(w) for c, w in zip(cells[:3], widths[:3])]
        right = [c.rjust(w) for c, w in zip(cells[3:], widths[3:])]
        return "  ".join(left + right).rstrip()

    out = [f"Network '{one_line(summary.network)}'", rule, fmt(header), "-" * len(rule)]
    out += [fmt(line) for line in lines]
    out += [rule,
            f"Total params: {_group(summary.total_params)}"
            + ("" if summary.complete else " (incomplete: some layers have errors)"),
            f"Params size (float32): {summary.total_params * 4 / 2**20:.2f} MB",
            f"MACs per sample: {_group(summary.total_macs)}" + unknown_macs_note(summary),
            rule]
    return "\n".join(out)
