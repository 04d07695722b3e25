"""Dense layers and the layers that sit around them: Linear, Bilinear, Identity, Flatten,
Unflatten, Embedding."""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    bool_param,
    channels_param,
    concrete,
    expect_dim,
    expect_min_rank,
    first,
    flatten_fix,
    norm_axis,
    numel,
    set_param_fix,
)
from graph_schema.catalog.ops_shape import divide_size
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import format_shape, product


def _features_fix(shape, in_features):
    """Flatten when the features are spread over several axes, else correct in_features."""
    if len(shape) > 2 and product(shape[1:]) == in_features:
        return flatten_fix()
    return set_param_fix("in_features", shape[-1])


def _linear_rule(p, inputs):
    shape = first(inputs)
    expect_min_rank(shape, 1)
    expect_dim(shape, -1, p["in_features"], "in_features",
               fix=_features_fix(shape, p["in_features"]))
    return [(*shape[:-1], p["out_features"])]


def _infer_last(name, port=0):
    def infer(_p, inputs):
        shape = inputs[port]
        if not shape:
            return {}
        return {name: concrete(shape[-1], name, shape, port)}
    return infer


def _bilinear_rule(p, inputs):
    a, b = inputs[0], inputs[1]
    expect_min_rank(a, 1, 0)
    expect_min_rank(b, 1, 1)
    expect_dim(a, -1, p["in1_features"], "in1_features", port=0)
    expect_dim(b, -1, p["in2_features"], "in2_features", port=1)
    if a[:-1] != b[:-1]:
        raise ShapeError(f"expected leading dimensions {format_shape(a[:-1])} like input1, "
                         f"received {format_shape(b)}", port=1)
    return [(*a[:-1], p["out_features"])]


def _bilinear_infer(p, inputs):
    return {**_infer_last("in1_features", 0)(p, inputs),
            **_infer_last("in2_features", 1)(p, inputs)}


def _flatten_rule(p, inputs):
    shape = first(inputs)
    rank = max(len(shape), 1)  # torch reads a scalar's dims as a 1-D tensor's: 0 and -1 only
    start = norm_axis(p["start_dim"], rank, shape=shape)
    end = norm_axis(p["end_dim"], rank, shape=shape)
    if start > end:
        raise ShapeError(f"start_dim={p['start_dim']} comes after end_dim={p['end_dim']} for "
                         f"input {format_shape(shape)}", port=None, code="bad-param")
    if not shape:
        return [(1,)]
    return [(*shape[:start], product(shape[start:end + 1]), *shape[end + 1:])]


def _unflatten_rule(p, inputs):
    shape = first(inputs)
    expect_min_rank(shape, 1)
    axis = norm_axis(p["dim"], len(shape), shape=shape)
    sizes = list(p["unflattened_size"])
    names = [s for s in sizes if isinstance(s, str)]
    if names:
        # nn.Unflatten is built with its sizes: there is no input yet to read a name from.
        raise ShapeError(f"unflattened_size takes sizes and at most one -1, not dimension "
                         f"names ({', '.join(names)}); op.reshape can keep a named dimension",
                         port=None, code="bad-param")
    known = product(s for s in sizes if s != -1)
    if -1 in sizes:
        # A symbolic size may still divide at run time (as reshape's -1 assumes).
        missing = divide_size(shape[axis], known)
        if missing is None:
            raise ShapeError(f"dimension {axis} of size {shape[axis]} cannot be split into "
                             f"{tuple(sizes)}, received {format_shape(shape)}")
        sizes[sizes.index(-1)] = missing
    elif product(sizes) != shape[axis] and isinstance(shape[axis], int):
        raise ShapeError(f"expected dimension {axis} to have size {product(sizes)} "
                         f"(the product of unflattened_size), received {format_shape(shape)}")
    return [(*shape[:axis], *sizes, *shape[axis + 1:])]


def _embedding_rule(p, inputs):
    index, count = p["padding_idx"], p["num_embeddings"]
    if index is not None and not -count <= index < count:
        raise ShapeError(f"padding_idx={index} must be a row of the table: from {-count} to "
                         f"{count - 1} for num_embeddings={count}", port=None,
                         code="bad-param", fix=set_param_fix("padding_idx", None))
    return [(*first(inputs), p["embedding_dim"])]


register(
    LayerSpec(
        type="nn.Linear",
        family="linear",
        rule=_linear_rule,
        params=(channels_param("in_features", inferable=True), channels_param("out_features"),
                bool_param("bias", True)),
        infer=_infer_last("in_features"),
        torch_class="Linear",
        count_params=lambda p: p["in_features"] * p["out_features"]
        + (p["out_features"] if p["bias"] else 0),
        macs=lambda p, _i, o: numel(o[0]) * p["in_features"],
        summary_params=("out_features",),
        name_hint="fc",
        tags=frozenset({"biased"}),
        description="Fully connected layer over the last dimension.",
    ),
    LayerSpec(
        type="nn.Bilinear",
        family="linear",
        rule=_bilinear_rule,
        params=(channels_param("in1_features", inferable=True),
                channels_param("in2_features", inferable=True),
                channels_param("out_features"), bool_param("bias", True)),
        inputs=(PortSpec("input1"), PortSpec("input2")),
        infer=_bilinear_infer,
        torch_class="Bilinear",
        count_params=lambda p: p["in1_features"] * p["in2_features"] * p["out_features"]
        + (p["out_features"] if p["bias"] else 0),
        macs=lambda p, _i, o: numel(o[0]) * p["in1_features"] * p["in2_features"],
        summary_params=("out_features",),
        name_hint="bilinear",
        description="y = x1ᵀ A x2 + b over the last dimensions of two inputs.",
    ),
    LayerSpec(
        type="nn.Identity",
        family="linear",
        rule=lambda _p, inputs: [first(inputs)],
        torch_class="Identity",
        tags=frozenset({"transparent"}),
        description="Passes its input through unchanged (a placeholder or an empty shortcut).",
    ),
    LayerSpec(
        type="nn.Flatten",
        family="reshape",
        rule=_flatten_rule,
        params=(ParamSpec("start_dim", "int", default=1),
                ParamSpec("end_dim", "int", default=-1)),
        torch_class="Flatten",
        summary_params=("start_dim",),
        description="Merges dimensions start_dim..end_dim into one.",
    ),
    LayerSpec(
        type="nn.Unflatten",
        family="reshape",
        rule=_unflatten_rule,
        params=(ParamSpec("dim", "int", default=1),
                ParamSpec("unflattened_size", "shape", required=True)),
        torch_class="Unflatten",
        summary_params=("unflattened_size",),
        description="Splits one dimension into several.",
    ),
    LayerSpec(
        type="nn.Embedding",
        family="embedding",
        rule=_embedding_rule,
        params=(channels_param("num_embeddings"), channels_param("embedding_dim"),
                ParamSpec("padding_idx", "int", optional=True, minimum=-(2**31)),
                ParamSpec("max_norm", "float", optional=True, minimum=0.0),
                ParamSpec("norm_type", "float", default=2.0),
                bool_param("scale_grad_by_freq", False),
                bool_param("sparse", False)),
        torch_class="Embedding",
        count_params=lambda p: p["num_embeddings"] * p["embedding_dim"],
        summary_params=("num_embeddings", "embedding_dim"),
        description="Looks up a learned vector for each integer index.",
    ),
)
