"""`--check-init`: how activations look at initialisation, layer by layer, on one batch.

A network whose activations shrink towards zero (vanishing, dead ReLUs) or blow up (exploding)
layer after layer trains badly or not at all; this is where a wrong init scheme or a missing
normalisation shows before a single step. One forward in training mode, the mode the first step
sees (batch norm normalising by the batch, not by its untouched running statistics), with the
weights, buffers and every torch RNG put back afterwards, so checking does not change a seeded run.

As JSON (``layer_json``: the runner's ``init_check`` event and ``init_check.json``, sanity's
``"init_check"``), one object per layer in the order they ran: ``{"name": str, "type": str,
"shape": [int], "mean": float | null, "std": float | null, "near_zero": float, "vanishing":
bool, "exploding": bool, "reason": str}``; a mean or std that is NaN or infinite is null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from builder.training.inputs import Inputs, call
from builder.training.problem import preserved_rng, restored

NEAR_ZERO = 1e-6  # |v| below this counts as zero (a ReLU's zeros are exact)
VANISHING_STD = 1e-3
DEAD_FRACTION = 0.9
EXPLODING_STD = 1e2
GROWTH = 10.0  # std growing more than this from one layer to the next...
GROWTH_FLOOR = 1.0  # ...and ending above this: 0.001 -> 0.02 is not an explosion
# A norm layer sets its output's scale itself (to its affine weight), whatever came in: a jump
# there is the layer doing its job.
NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)


@dataclass(frozen=True)
class LayerStats:
    name: str  # the drawn node's name (the module path when the model was not drawn)
    type: str  # the module's class, e.g. "Conv2d"
    shape: tuple[int, ...]
    mean: float
    std: float
    near_zero: float  # fraction of outputs with |v| < 1e-6
    vanishing: bool
    exploding: bool
    reason: str = ""  # why it is flagged, one line; "" when it is not

    @property
    def flagged(self) -> bool:
        return self.vanishing or self.exploding


def activation_report(model: nn.Module, x: Inputs,
                      names: Mapping[str, str] | None = None) -> list[LayerStats]:
    """The output statistics of every leaf module, in the order they ran on `x` (a module called
    twice appears twice). `names` maps module paths to node names. The model is left exactly as
    it was: weights, buffers (batch norm's running statistics), mode and RNG."""
    names = names or {}
    outputs: list[tuple[str, nn.Module, torch.Tensor]] = []
    handles = []
    try:
        for path, module in model.named_modules():
            if next(module.children(), None) is None:  # a leaf: containers only pass on
                handles.append(module.register_forward_hook(_recorder(path, outputs)))
        device = (x[0] if isinstance(x, tuple) else x).device
        with restored(model), preserved_rng(device), torch.no_grad():
            model.train()
            call(model, x)
    finally:
        for handle in handles:
            handle.remove()
    return _judge([(names.get(path, path) or "(model)", module, out)
                   for path, module, out in outputs])


def _recorder(path: str, outputs: list):
    def hook(module: nn.Module, inputs, output) -> None:
        tensor = _first_float_tensor(output)
        if tensor is not None:
            outputs.append((path, module, tensor.detach().to(torch.float64)))
    return hook


def _first_float_tensor(output) -> torch.Tensor | None:
    """The tensor of an output that carries the activations (an LSTM returns (out, (h, c)))."""
    if isinstance(output, torch.Tensor):
        return output if output.is_floating_point() else None
    if isinstance(output, (tuple, list)):
        for item in output:
            found = _first_float_tensor(item)
            if found is not None:
                return found
    return None


def _judge(outputs: list[tuple[str, nn.Module, torch.Tensor]]) -> list[LayerStats]:
    stats, previous_std = [], None
    for name, module, out in outputs:
        finite = bool(torch.isfinite(out).all())
        mean = float(out.mean()) if out.numel() else 0.0
        std = float(out.std(correction=0)) if out.numel() else 0.0
        near_zero = float((out.abs() < NEAR_ZERO).to(torch.float64).mean()) if out.numel() else 0.0
        reason = _vanishing_reason(std, near_zero, out.numel())
        vanishing = bool(reason)
        exploding_reason = _exploding_reason(finite, std, previous_std, module)
        stats.append(LayerStats(name, type(module).__name__, tuple(out.shape), mean, std,
                                near_zero, vanishing, bool(exploding_reason),
                                reason or exploding_reason))
        previous_std = std if finite else None
    return stats


def _vanishing_reason(std: float, near_zero: float, numel: int) -> str:
    if numel < 2:
        return ""  # one number has no spread to judge
    if near_zero > DEAD_FRACTION:
        return f"dead: {near_zero:.0%} of its outputs are zero"
    if std < VANISHING_STD:
        return f"vanishing: output std {std:.2g} (below {VANISHING_STD:g})"
    return ""


def _exploding_reason(finite: bool, std: float, previous_std: float | None,
                      module: nn.Module) -> str:
    if not finite:
        return "exploding: its outputs hold NaN or Inf"
    if std > EXPLODING_STD:
        return f"exploding: output std {std:.3g} (above {EXPLODING_STD:g})"
    grew = previous_std is not None and previous_std > 0 and std > GROWTH * previous_std
    if grew and std > GROWTH_FLOOR and not isinstance(module, NORMS):
        return (f"exploding: output std grew {std / previous_std:.0f}x over the layer before "
                f"({previous_std:.2g} -> {std:.2g})")
    return ""


def layer_json(stats: LayerStats) -> dict:
    """One layer's statistics as JSON values (see the module docstring)."""
    return {"name": stats.name, "type": stats.type, "shape": [int(d) for d in stats.shape],
            "mean": _finite_or_none(stats.mean), "std": _finite_or_none(stats.std),
            "near_zero": _finite_or_none(stats.near_zero) or 0.0,
            "vanishing": stats.vanishing, "exploding": stats.exploding, "reason": stats.reason}


def report_json(stats: list[LayerStats]) -> list[dict]:
    return [layer_json(s) for s in stats]


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def format_report(stats: list[LayerStats]) -> str:
    """A table, one layer a line, the flagged ones saying why; ends with a one-line summary."""
    if not stats:
        return "init check: no layer produced a floating-point output"
    name_width = max(5, *(len(s.name) for s in stats))
    type_width = max(4, *(len(s.type) for s in stats))
    lines = [f"{'layer':<{name_width}}  {'type':<{type_width}}  {'shape':<18} "
             f"{'mean':>10} {'std':>10} {'zero':>6}  flag"]
    for s in stats:
        shape = "(" + ", ".join(str(d) for d in s.shape) + ")"
        lines.append(f"{s.name:<{name_width}}  {s.type:<{type_width}}  {shape:<18} "
                     f"{_number(s.mean):>10} {_number(s.std):>10} {s.near_zero:>6.0%}  "
                     f"{s.reason}".rstrip())
    flagged = [s.name for s in stats if s.flagged]
    lines.append(f"init check: {len(flagged)} of {len(stats)} layers flagged"
                 + (f" ({', '.join(flagged)})" if flagged else ""))
    return "\n".join(lines)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.2e}"
