"""``torch.einsum(equation, *operands)``: Einstein summation, read the way torch reads it.

An equation names each operand's dimensions with letters (``bhld,bhmd->bhlm``); ``...``
stands for the dimensions no letter names, which broadcast across operands like the batch
dimensions of matmul. A letter used twice in one operand takes a diagonal (``ii->i``); a
letter shared by operands must have one size there (or 1, which broadcasts). Without ``->``
the output is torch's implicit one: the ``...`` dimensions, then every letter used exactly
once, in alphabetical order (capitals first).

MACs follow torch's own evaluation: operands contracted left to right, two at a time, each
pair a batched matrix product over the letters summed at that step (an elementwise product,
no MACs, when nothing is summed there).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graph_schema.catalog.ops_common import bad_param, broadcast, broadcast_pair, conflict, merge
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, OpCall, PortSpec, ShapeError
from graph_schema.dims import Dim, Shape, format_dim, format_shape, product

ELLIPSIS = "..."


@dataclass(frozen=True)
class Equation:
    operands: tuple[tuple[str, ...], ...]  # per operand, its letters and "..." in order
    output: tuple[str, ...] | None  # None: torch's implicit output

    @property
    def has_ellipsis(self) -> bool:
        return any(ELLIPSIS in term for term in self.operands)

    def output_labels(self) -> tuple[str, ...]:
        if self.output is not None:
            return self.output
        counts: dict[str, int] = {}
        for term in self.operands:
            for label in term:
                if label != ELLIPSIS:
                    counts[label] = counts.get(label, 0) + 1
        once = sorted(label for label, count in counts.items() if count == 1)
        return ((ELLIPSIS,) if self.has_ellipsis else ()) + tuple(once)


# -- parsing -----------------------------------------------------------------------------------
def _term(text: str, offset: int, equation: str, what: str) -> tuple[str, ...]:
    """One side of a comma: letters and at most one '...' (spaces are ignored, as in torch)."""
    labels: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == ".":
            if text[i:i + 3] != ELLIPSIS:
                raise bad_param(f"equation {equation!r}: the '.' at index {offset + i} is not "
                                f"part of an ellipsis '...'")
            if ELLIPSIS in labels:
                raise bad_param(f"equation {equation!r}: {what} has a second ellipsis '...' "
                                f"at index {offset + i}; one may stand for the unnamed "
                                f"dimensions")
            labels.append(ELLIPSIS)
            i += 3
            continue
        if char != " ":
            if not (char.isascii() and char.isalpha()):
                raise bad_param(f"equation {equation!r}: {char!r} at index {offset + i} is not "
                                f"a subscript (subscripts are the letters a-z and A-Z)")
            labels.append(char)
        i += 1
    return tuple(labels)


@lru_cache(maxsize=256)
def parse_equation(equation: str) -> Equation:
    """The equation's terms, or a bad-param ShapeError saying what torch would refuse."""
    left, arrow, right = equation.partition("->")
    if "->" in right:
        raise bad_param(f"equation {equation!r} has '->' twice; one comes before the output")
    operands, offset = [], 0
    for index, text in enumerate(left.split(",")):
        operands.append(_term(text, offset, equation, f"operand {index}"))
        offset += len(text) + 1
    if not arrow:
        return Equation(tuple(operands), None)
    output = _term(right, len(left) + 2, equation, "the output")
    used = {label for term in operands for label in term}
    for position, label in enumerate(output):
        if label == ELLIPSIS:
            continue
        if label not in used:
            raise bad_param(f"equation {equation!r}: the output subscript {label} appears in "
                            f"no operand")
        if label in output[:position]:
            raise bad_param(f"equation {equation!r}: the output subscript {label} appears "
                            f"twice in the output")
    return Equation(tuple(operands), output)


# -- sizes ------------------------------------------------------------------------------------
@dataclass
class _Sizes:
    """What the operands say about each letter, and the dimensions '...' covers."""

    letters: dict[str, Dim]
    ellipsis: Shape


def _term_of(equation: Equation, port: int, shape: Shape) -> list[tuple[str, Dim]]:
    """(label, size) per dimension of one operand; '...' expands to one label per dimension
    it covers, named by its distance from the end of the ellipsis (``...0`` is its last)."""
    term = equation.operands[port]
    letters = [label for label in term if label != ELLIPSIS]
    written = "".join(term)
    if ELLIPSIS not in term and len(shape) != len(letters):
        raise ShapeError(f"expected operand {port} to have {len(letters)} dimensions, one per "
                         f"subscript of {written!r}, received {format_shape(shape)}",
                         port=port, code="rank-mismatch")
    if len(shape) < len(letters):
        raise ShapeError(f"expected operand {port} to have at least {len(letters)} "
                         f"dimensions, the subscripts of {written!r}, received "
                         f"{format_shape(shape)}", port=port, code="rank-mismatch")
    covered = len(shape) - len(letters)
    labels: list[str] = []
    for label in term:
        if label == ELLIPSIS:
            labels += [f"...{covered - 1 - k}" for k in range(covered)]
        else:
            labels.append(label)
    return list(zip(labels, shape))


def _diagonal(port: int, shape: Shape,
              pairs: list[tuple[str, Dim]]) -> tuple[dict[str, Dim], dict[str, int]]:
    """Each label's size in one operand and the axis where it first stands; a repeated
    letter must repeat its size exactly (torch takes the diagonal, it does not broadcast)."""
    sizes: dict[str, Dim] = {}
    axes: dict[str, int] = {}
    for axis, (label, size) in enumerate(pairs):
        if label in sizes:
            if conflict(sizes[label], size):
                raise ShapeError(
                    f"expected dimensions {axes[label]} and {axis} of operand {port} "
                    f"{format_shape(shape)} to be equal: the subscript {label} is repeated "
                    f"there (a diagonal), received {format_dim(sizes[label])} and "
                    f"{format_dim(size)}", port=port)
            sizes[label] = merge(sizes[label], size)
        else:
            sizes[label], axes[label] = size, axis
    return sizes, axes


def _sizes(equation: Equation, inputs) -> tuple[_Sizes, list[dict[str, Dim]]]:
    """The size of every letter across the operands (equal, or 1 which broadcasts) and of
    the '...' dimensions; and each operand's own sizes, '...' ones included."""
    letters: dict[str, Dim] = {}
    seen_in: dict[str, tuple[int, Shape]] = {}  # the operand that gave a letter its size
    per_operand: list[dict[str, Dim]] = []
    ellipses: list[Shape] = []
    for port, shape in enumerate(inputs):
        pairs = _term_of(equation, port, shape)
        own, axes = _diagonal(port, shape, pairs)
        per_operand.append(own)
        ellipses.append(tuple(size for label, size in pairs if label.startswith(ELLIPSIS)))
        for label, size in own.items():
            if label.startswith(ELLIPSIS):
                continue
            joined = size if label not in letters else broadcast_pair(letters[label], size)
            if joined is None:
                first_port, first_shape = seen_in[label]
                raise ShapeError(
                    f"expected dimension {axes[label]} of operand {port} "
                    f"{format_shape(shape)} to be {format_dim(letters[label])} or 1, the "
                    f"size of subscript {label} in operand {first_port} "
                    f"{format_shape(first_shape)}, received {format_dim(size)}", port=port)
            if joined != letters.get(label):
                seen_in[label] = (port, shape)
            letters[label] = joined
    names = [f"the dimensions '...' covers in operand {port}" for port in range(len(inputs))]
    ellipsis = broadcast(ellipses, names, list(range(len(inputs))))
    return _Sizes(letters, ellipsis), per_operand


def _check_count(equation: Equation, inputs, text: str) -> None:
    if len(equation.operands) != len(inputs):
        have = len(inputs)
        raise bad_param(f"equation {text!r} has {len(equation.operands)} operand"
                        f"{'s' * (len(equation.operands) != 1)}, but {have} tensor"
                        f"{'s are' if have != 1 else ' is'} connected")


def _einsum_rule(p, inputs):
    equation = parse_equation(p["equation"])
    _check_count(equation, inputs, p["equation"])
    sizes, _ = _sizes(equation, inputs)
    out: list[Dim] = []
    for label in equation.output_labels():
        out += list(sizes.ellipsis) if label == ELLIPSIS else [sizes.letters[label]]
    return [tuple(out)]


# -- MACs ---------------------------------------------------------------------------------------
def _einsum_macs(p, inputs, _outputs):
    equation = parse_equation(p["equation"])
    sizes, per_operand = _sizes(equation, inputs)
    kept = set(equation.output_labels())
    ellipsis_labels = [f"...{k}" for k in range(len(sizes.ellipsis))]
    # Each operand with every label: its own size, or 1 where it lacks the label (or
    # broadcasts it); the '...' dimensions right-aligned, as broadcasting aligns them.
    operands = []
    for own in per_operand:
        operand = {label: own.get(label, 1) for label in sizes.letters}
        operand.update({label: own.get(label, 1) for label in ellipsis_labels})
        operands.append(operand)
    summed = [label for label in [*sizes.letters, *ellipsis_labels]
              if not (label in kept or (label.startswith(ELLIPSIS) and ELLIPSIS in kept))]
    return _contract_left_to_right(operands, summed)


def _contract_left_to_right(operands: list[dict[str, Dim]], summed: list[str]) -> Dim:
    """torch's pairwise contraction: a letter is summed with the pair where it last appears
    in two operands; a letter that only one side of the pair has, and no later operand, is
    summed on that side first (no MACs). A pair that sums nothing is an elementwise product;
    one that does, a batched matmul over all of its letters (batch, rows, columns, summed)."""
    counts = {label: sum(op[label] != 1 for op in operands) for label in summed}
    total: Dim = 0
    result = dict(operands[0])
    for other in operands[1:]:
        left, right = dict(result), dict(other)
        now = []
        for label in summed:
            if left[label] != 1 and right[label] != 1:
                counts[label] -= 1
                if counts[label] == 1:
                    now.append(label)
                    counts[label] = 0
            elif counts[label] == 1:
                side = left if left[label] != 1 else right
                if side[label] != 1:
                    side[label] = 1
                    counts[label] = 0
        joined = {label: left[label] if left[label] != 1 else right[label] for label in left}
        if now:
            total = total + product(joined.values())
        result = {label: 1 if label in now else size for label, size in joined.items()}
    return total


register(
    LayerSpec(
        type="op.einsum",
        family="op",
        rule=_einsum_rule,
        params=(ParamSpec("equation", "str", required=True,
                          doc="subscripts per operand and, after '->', of the output: "
                              "'bhld,bhmd->bhlm'; '...' for the dimensions no letter names"),),
        inputs=(PortSpec("operands", variadic=True),),
        call=OpCall("function", "torch.einsum", leading=("equation",)),
        macs=_einsum_macs,
        summary_params=("equation",),
        description="Einstein summation (torch.einsum): products of the operands summed over "
                    "the letters missing from the output, e.g. 'bhld,bhmd->bhlm' for "
                    "attention scores or 'bij,bjk->bik' for a batched matmul.",
    ),
)
