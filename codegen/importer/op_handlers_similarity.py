"""The import handler for ``F.cosine_similarity(x1, x2, dim=1, eps=1e-8)`` (which is
``torch.cosine_similarity``): both tensors become edges, dim and eps params."""

from __future__ import annotations

from torch import fx

from codegen.importer.context import Context
from codegen.importer.import_errors import Untraceable
from codegen.importer.op_handlers import OpDraft, label

_ARGUMENTS = (("x1", None), ("x2", None), ("dim", 1), ("eps", 1e-8))


def cosine_similarity_op(ctx: Context, node: fx.Node) -> OpDraft:
    if len(node.args) > len(_ARGUMENTS) or set(node.kwargs) - {name for name, _ in _ARGUMENTS}:
        raise Untraceable(f"{label(node)} is called with arguments TorchCanvas does not draw")
    bound = dict(_ARGUMENTS)
    bound.update(zip((name for name, _ in _ARGUMENTS), node.args))
    bound.update(node.kwargs)
    params = {name: ctx.constant(bound[name], label(node)) for name in ("dim", "eps")}
    return OpDraft("op.cosine_similarity", params, [bound["x1"], bound["x2"]])
