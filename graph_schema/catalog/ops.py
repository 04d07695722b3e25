"""Tensor ops written inline in forward(): ``a + b``, ``torch.cat``, ``x.permute``, ``x[:, 0]``.

Each type is ``op.<name>`` with an :class:`OpCall` saying how PyTorch spells it, and no module
or parameters of its own. The families live in sibling modules, imported here for their
registrations:

* ops_merge: add, sub, mul, div (broadcasting), matmul, cat, stack
* ops_shape: reshape, view, permute, transpose, flatten, squeeze, unsqueeze, expand, contiguous
* ops_index: getitem, split, chunk
* ops_reduce: mean, sum, amax, amin, max (values and indices), softmax, log_softmax
* ops_pointwise: relu, sigmoid, tanh, gelu, silu, neg, abs, exp, log, sqrt, pow, scale,
  add_scalar
* ops_resize: interpolate, pad
* ops_similarity: cosine_similarity
* ops_attention: scaled_dot_product_attention, bmm, baddbmm
* ops_einsum: einsum
* ops_select: masked_fill, where, gather
* ops_elementwise: clamp, clamp_tensors, erf
* ops_like: arange, expand_as
* ops_compare: eq, ne, lt, le, gt, ge (tensors or a number), logical_and, logical_or,
  logical_not
* ops_mask: to (a cast), cumsum, diff, index (by index tensors), new_ones
"""

from graph_schema.catalog import (  # noqa: F401  (imported for their registrations)
    ops_attention,
    ops_compare,
    ops_einsum,
    ops_elementwise,
    ops_index,
    ops_like,
    ops_mask,
    ops_merge,
    ops_pointwise,
    ops_reduce,
    ops_resize,
    ops_select,
    ops_shape,
    ops_similarity,
)
