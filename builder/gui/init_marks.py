"""What the init check says about each drawn node: a flag for its badge, lines for its tooltip.

The runner (``--check-init``, builder/training/init_check.py) reports one LAYER per leaf module
that ran, ``{"name", "type", "shape", "mean", "std", "near_zero", "vanishing", "exploding",
"reason"}``, named by the drawn node's name, or by module path for a module the drawing does
not show as a node (a layer inside a block instance: ``layer1_0.conv1``). Such a layer is told
on the node that holds it: the one whose name is the longest dotted prefix of its path, so a
block instance sums up the layers inside it (a node's attribute in the generated code is its
name, so the path starts with it; the runner maps the few that are not, such as the positions
of a sequential network, to node names). Plain Python: no Qt, no torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LISTED_INSIDE = 6  # flagged layers inside a block named one by one in its tooltip


@dataclass(frozen=True)
class InitMark:
    flag: str | None  # "vanish", "explode" or "both"; None: nothing wrong, the numbers only
    lines: tuple[str, ...]  # for the node's tooltip


@dataclass(frozen=True)
class Layer:
    name: str
    type: str
    mean: float | None  # None: not finite (the runner writes NaN and Inf as null)
    std: float | None
    near_zero: float
    vanishing: bool
    exploding: bool
    reason: str

    @property
    def flag(self) -> str | None:
        if self.vanishing and self.exploding:
            return "both"
        return "vanish" if self.vanishing else "explode" if self.exploding else None


def parse_layers(layers: Iterable[Mapping[str, Any]]) -> list[Layer]:
    """The runner's LAYER objects; ValueError names the first one that is not one."""
    parsed = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, Mapping) or not isinstance(layer.get("name"), str):
            raise ValueError(f"init check: layer {index} has no name")
        parsed.append(
            Layer(
                layer["name"],
                str(layer.get("type", "")),
                _float(layer.get("mean")),
                _float(layer.get("std")),
                _float(layer.get("near_zero")) or 0.0,
                bool(layer.get("vanishing")),
                bool(layer.get("exploding")),
                str(layer.get("reason") or ""),
            )
        )
    return parsed


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def owner_of(name: str, by_name: Mapping[str, str]) -> tuple[str, str | None] | None:
    """The node a layer is told on, and the layer's path inside it (None: the node's own
    module). ``by_name`` maps node names to node ids."""
    if name in by_name:
        return by_name[name], None
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in by_name:
            return by_name[prefix], ".".join(parts[end:])
    return None


def marks_for(
    layers: list[Layer],
    by_name: Mapping[str, str],
) -> tuple[dict[str, InitMark], list[str]]:
    """Each reported node's mark, and the names of layers that belong to no node."""
    own: dict[str, list[Layer]] = {}
    inside: dict[str, list[tuple[str, Layer]]] = {}
    unmatched = []
    for layer in layers:
        owner = owner_of(layer.name, by_name)
        if owner is None:
            unmatched.append(layer.name)
        elif owner[1] is None:
            own.setdefault(owner[0], []).append(layer)
        else:
            inside.setdefault(owner[0], []).append((owner[1], layer))
    marks = {}
    for node_id in [*own, *(n for n in inside if n not in own)]:
        mine, held = own.get(node_id, []), inside.get(node_id, [])
        flags = {layer.flag for layer in mine} | {layer.flag for _, layer in held}
        marks[node_id] = InitMark(_joined(flags), tuple(own_lines(mine) + inside_lines(held)))
    return marks, unmatched


def _joined(flags: set[str | None]) -> str | None:
    flags.discard(None)
    if "both" in flags or flags == {"vanish", "explode"}:
        return "both"
    return next(iter(flags), None)


def own_lines(layers: list[Layer]) -> list[str]:
    """One line per call of the node's own module (a module called twice is reported twice)."""
    lines = [layer_line(layer) for layer in layers]
    if len(lines) > 1:
        lines = [f"call {i}: {line}" for i, line in enumerate(lines, 1)]
    return lines


def layer_line(layer: Layer) -> str:
    numbers = f"std {number(layer.std)}, {layer.near_zero:.0%} near zero"
    if layer.flag is None:
        return f"activations at init: mean {number(layer.mean)}, {numbers}"
    verb = {"vanish": "vanish", "explode": "explode", "both": "vanish and explode"}
    return f"activations {verb[layer.flag]} at init: {numbers} — {layer.reason}"


def inside_lines(held: list[tuple[str, Layer]]) -> list[str]:
    """A block instance: how many layers inside are flagged, and the first few of them
    (``held``: each layer with its path inside the instance)."""
    if not held:
        return []
    layers = [layer for _, layer in held]
    flagged = [(inner, layer) for inner, layer in held if layer.flag]
    if not flagged:
        stds = [layer.std for layer in layers if layer.std is not None]
        spread = f" (std {number(min(stds))} to {number(max(stds))})" if stds else ""
        return [f"init check: {_count(len(layers))} inside, none flagged{spread}"]
    vanish = sum(1 for _, layer in flagged if layer.vanishing)
    explode = sum(1 for _, layer in flagged if layer.exploding)
    parts = [f"{_count(vanish)} inside {'vanishes' if vanish == 1 else 'vanish'}"] if vanish else []
    if explode:
        verb = "explodes" if explode == 1 else "explode"
        parts.append(f"{explode} {verb}" if parts else f"{_count(explode)} inside {verb}")
    lines = [f"{' and '.join(parts)} at init ({len(layers)} checked)"]
    for inner, layer in flagged[:LISTED_INSIDE]:
        lines.append(
            f"  {inner} ({layer.type}): std {number(layer.std)}, "
            f"{layer.near_zero:.0%} near zero — {layer.reason}"
        )
    if len(flagged) > LISTED_INSIDE:
        lines.append(f"  … and {len(flagged) - LISTED_INSIDE} more")
    return lines


def _count(n: int) -> str:
    return f"{n} layer" if n == 1 else f"{n} layers"


def number(value: float | None) -> str:
    """3.1e-07, 0.53, 412: two significant figures far from 1, three near it."""
    if value is None:
        return "NaN/Inf"
    if value == 0:
        return "0"
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 else f"{value:.2g}"
