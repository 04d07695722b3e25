"""The import handlers for attention and index ops a transformer's graph uses:
``F.scaled_dot_product_attention``, ``torch.gather``, and the matrix products with a bias
added, ``torch.addmm`` (GPT-2's Conv1D) and ``torch.baddbmm``.

scaled_dot_product_attention does not know the mode: a class that passes
``dropout_p=self.dropout if self.training else 0.0`` is traced (recorded or exported) with
the evaluation value, and ``follows_training`` marks it, with its value in training. The
catalog op says the same with ``training_only``; any other pair of values keeps the class.
"""

from __future__ import annotations

from typing import Any

from torch import fx

from codegen.importer.context import Context
from codegen.importer.import_errors import Untraceable
from codegen.importer.op_handlers import OpDraft, label

_SDPA = (("query", None), ("key", None), ("value", None), ("attn_mask", None),
         ("dropout_p", 0.0), ("is_causal", False), ("scale", None), ("enable_gqa", False))
_SDPA_PARAMS = ("dropout_p", "is_causal", "scale", "enable_gqa")
_SDPA_DEFAULTS = {**dict(_SDPA), "training_only": False}


def _bound(node: fx.Node, names: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    known = {name for name, _ in names}
    if len(node.args) > len(names) or set(node.kwargs) - known:
        raise Untraceable(f"{label(node)} is called with arguments TorchCanvas does not draw")
    bound = dict(names)
    bound.update(zip((name for name, _ in names), node.args))
    bound.update(node.kwargs)
    return bound


def scaled_dot_product_attention_op(ctx: Context, node: fx.Node) -> OpDraft:
    """query, key and value are ports 0-2; attn_mask is port 3 only where there is one."""
    bound = _bound(node, _SDPA)
    params = {name: ctx.constant(bound[name], label(node)) for name in _SDPA_PARAMS}
    training = _dropout_in_training(ctx, node, params["dropout_p"])
    if training is not None:  # dropout_p=self.p if self.training else 0.0
        params["dropout_p"], params["training_only"] = training, True
    params = {name: value for name, value in params.items() if value != _SDPA_DEFAULTS[name]}
    inputs = [bound["query"], bound["key"], bound["value"]]
    if ctx.value(bound["attn_mask"]) is not None:
        inputs.append(bound["attn_mask"])
    return OpDraft("op.scaled_dot_product_attention", params, inputs)


def _dropout_in_training(ctx: Context, node: fx.Node, evaluation: float) -> float | None:
    """The dropout_p of training where the graph's follows the mode and is 0 in evaluation
    (as attention code writes it; the op's ``training_only`` says so), else None."""
    traced = ctx.visit.traced
    if "dropout_p" not in traced.follows_training.get(node.name, set()):
        return None
    training = getattr(traced, "training_values", {}).get(node.name, {}).get("dropout_p")
    if training == evaluation:
        return None
    if evaluation != 0.0 or not isinstance(training, (int, float)):
        raise Untraceable(f"{label(node)} uses dropout_p={training} in training and "
                          f"{evaluation} in evaluation, and the catalog's op drops out either "
                          f"in both modes or in training alone")
    return float(training)


def gather_op(ctx: Context, node: fx.Node) -> OpDraft:
    bound = _bound(node, (("input", None), ("dim", None), ("index", None),
                          ("sparse_grad", False)))
    if ctx.constant(bound["sparse_grad"], label(node)):
        raise Untraceable(f"{label(node)} with sparse_grad=True")
    return OpDraft("op.gather", {"dim": ctx.constant(bound["dim"], label(node))},
                   [bound["input"], bound["index"]])


def added_product_op(type_name: str, inputs: tuple[str, str, str]):
    """``torch.addmm(bias, a, b, beta=1, alpha=1)`` and ``torch.baddbmm`` alike."""
    names = tuple((name, None) for name in inputs) + (("beta", 1), ("alpha", 1))

    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        bound = _bound(node, names)
        params = {}
        for name in ("beta", "alpha"):
            value = ctx.constant(bound[name], label(node))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Untraceable(f"{label(node)} with {name}={value!r}")
            if value != 1:
                params[name] = float(value)
        return OpDraft(type_name, params, [bound[name] for name in inputs])
    return handle
