"""Generated code for the ops transformer models need: each op is written the way torch
spells it (keyword-only arguments by name, an unconnected optional input left out), the file
is ruff-clean, runs with the shapes inference promised, and computes what the torch call
computes. Also the two GELU forms Hugging Face writes out by hand, drawn from these ops, and
position ids counted up to the sequence length at run time.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F

from graph_schema.dims import Sym
from graph_schema.inference import Inference
from tests.codegen_samples import NOT_SWEPT
from tests.codegen_support import check_model, generate_and_import
from tests.graphs import edges, node, project

F32, BOOL, I64 = "float32", "bool", "int64"
SDPA = "op.scaled_dot_product_attention"


def one_op(type_name: str, params: dict, inputs: list[tuple]):
    """x -> op -> y; ``inputs`` are (name, shape, dtype, port): a port may be skipped."""
    nodes = [node(f"in_{name}", "io.Input", name, shape=list(shape), dtype=dtype)
             for name, shape, dtype, _ in inputs]
    nodes += [node("op", type_name, "result", **params), node("out", "io.Output", "y")]
    wiring = [(f"in_{name}", "op", 0, port) for name, _, _, port in inputs]
    return project(nodes, edges(*wiring, ("op", "out")))


def sample(shape, dtype: str, generator: torch.Generator) -> torch.Tensor:
    """Random values; a bool mask keeps its first position True (a row that attends to
    nothing would make softmax NaN), an index stays within the size-2 dimensions it picks."""
    if dtype == BOOL:
        mask = torch.rand(shape, generator=generator) < 0.5
        mask[..., 0] = True
        return mask
    if dtype == I64:
        return torch.randint(0, 2, shape, generator=generator)
    return torch.randn(shape, generator=generator)


def _compact(code: str) -> str:
    """Code without layout: a call split one argument a line reads as the same call."""
    return re.sub(r"\s+", "", code).replace(",)", ")")


# name: (type, params, inputs (name, shape, dtype, port), the call the source must hold,
#        the same computation in torch on the inputs in port order)
GENERATED = {
    "attention with a mask": (
        SDPA, {"scale": 0.5},
        [("q", ("N", 2, 4, 8), F32, 0), ("k", ("N", 2, 5, 8), F32, 1),
         ("v", ("N", 2, 5, 6), F32, 2), ("mask", ("N", 1, 1, 5), BOOL, 3)],
        "F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0, "
        "is_causal=False, scale=0.5)",
        lambda q, k, v, mask: F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                             scale=0.5)),
    "causal attention": (
        SDPA, {"is_causal": True},
        [("q", ("N", 4, 8), F32, 0), ("k", ("N", 4, 8), F32, 1), ("v", ("N", 4, 8), F32, 2)],
        "F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=True)",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
    "grouped-query attention": (
        SDPA, {"enable_gqa": True},
        [("q", ("N", 4, 3, 8), F32, 0), ("k", ("N", 2, 5, 8), F32, 1),
         ("v", ("N", 2, 5, 8), F32, 2)],
        "enable_gqa=True",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)),
    "bmm": (
        "op.bmm", {}, [("a", ("N", 4, 3), F32, 0), ("b", ("N", 3, 5), F32, 1)],
        "torch.bmm(a, b)", torch.bmm),
    "baddbmm": (
        "op.baddbmm", {"beta": 0.5, "alpha": 2.0},
        [("bias", (4, 1), F32, 0), ("a", ("N", 4, 3), F32, 1), ("b", ("N", 3, 5), F32, 2)],
        "torch.baddbmm(bias, a, b, beta=0.5, alpha=2.0)",
        lambda bias, a, b: torch.baddbmm(bias, a, b, beta=0.5, alpha=2.0)),
    "einsum": (
        "op.einsum", {"equation": "...ij,...jk->...ik"},
        [("a", ("N", 3, 2, 4), F32, 0), ("b", (4, 5), F32, 1)],
        'torch.einsum("...ij,...jk->...ik", a, b)',
        lambda a, b: torch.einsum("...ij,...jk->...ik", a, b)),
    "masked_fill": (
        "op.masked_fill", {"value": -1e4},
        [("scores", ("N", 3, 5), F32, 0), ("mask", ("N", 1, 5), BOOL, 1)],
        "scores.masked_fill(mask, -10000.0)",
        lambda scores, mask: scores.masked_fill(mask, -1e4)),
    "where": (
        "op.where", {},
        [("keep", ("N", 1, 5), BOOL, 0), ("a", ("N", 3, 5), F32, 1), ("b", (5,), F32, 2)],
        "torch.where(keep, a, b)", torch.where),
    "gather": (
        "op.gather", {"dim": -1},
        [("values", ("N", 5, 6), F32, 0), ("index", ("N", 5, 1), I64, 1)],
        "torch.gather(values, -1, index=index)",
        lambda values, index: torch.gather(values, -1, index)),
    "clamp": (
        "op.clamp", {"min": 0.0}, [("x", ("N", 6), F32, 0)],
        "torch.clamp(x, min=0.0)", lambda x: torch.clamp(x, min=0.0)),
    "clamp below a tensor": (  # min left unconnected: only max= is written
        "op.clamp_tensors", {}, [("x", ("N", 6), F32, 0), ("high", (6,), F32, 2)],
        "torch.clamp(x, max=high)", lambda x, high: torch.clamp(x, max=high)),
    "erf": ("op.erf", {}, [("x", ("N", 6), F32, 0)], "torch.erf(x)", torch.erf),
    "expand_as": (
        "op.expand_as", {}, [("token", (1, 1, 8), F32, 0), ("x", ("N", 5, 8), F32, 1)],
        "token.expand_as(x)", lambda token, x: token.expand_as(x)),
    # the comparisons and logic that build masks (graph_schema/catalog/ops_compare.py)
    **{name: (f"op.{name}", {}, [("a", ("N", 5), F32, 0), ("b", (5,), F32, 1)],
              f"torch.{name}(a, b)", getattr(torch, name))
       for name in ("eq", "ne", "lt", "le", "gt", "ge")},
    **{f"{name} a number": (f"op.{name}_scalar", {"value": 0.5}, [("x", ("N", 5), F32, 0)],
                            f"torch.{name}(x, 0.5)",
                            lambda x, name=name: getattr(torch, name)(x, 0.5))
       for name in ("eq", "ne", "lt", "le", "gt", "ge")},
    **{name: (f"op.logical_{name}", {}, [("a", ("N", 5), BOOL, 0), ("b", (5,), BOOL, 1)],
              f"torch.logical_{name}(a, b)", getattr(torch, f"logical_{name}"))
       for name in ("and", "or")},
    "not": ("op.logical_not", {}, [("mask", ("N", 5), BOOL, 0)], "torch.logical_not(mask)",
            torch.logical_not),
    # GPT-2's projections and mask (ops_attention, ops_mask)
    "addmm": (
        "op.addmm", {}, [("bias", (5,), F32, 0), ("a", ("N", 3), F32, 1), ("w", (3, 5), F32, 2)],
        "torch.addmm(bias, a, w)", torch.addmm),
    "index": (
        "op.index", {}, [("x", ("N", 2, 6), F32, 0), ("rows", (3, 1), I64, 1),
                         ("cols", (4,), I64, 2)],
        "x[rows, cols]", lambda x, rows, cols: x[rows, cols]),
    "to": ("op.to", {"dtype": "float64"}, [("x", ("N", 4), F32, 0)], "x.to(torch.float64)",
           lambda x: x.to(torch.float64)),
    "new_ones": (
        "op.new_ones", {"size": [2, 3], "dtype": "bool"}, [("x", ("N", 4), F32, 0)],
        "x.new_ones((2, 3), dtype=torch.bool)",
        lambda x: x.new_ones((2, 3), dtype=torch.bool)),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_call_runs_and_computes_what_torch_computes(name, tmp_path):
    type_name, params, inputs, call, reference = GENERATED[name]
    drawn = one_op(type_name, params, inputs)
    source, module, _ = generate_and_import(drawn, tmp_path)  # ruff-checked as well
    assert _compact(call) in _compact(source), source
    model, _ = check_model(drawn, drawn.networks[0], module.Main)  # every shape as inferred
    generator = torch.Generator().manual_seed(0)
    tensors = [sample([3 if d == "N" else d for d in shape], dtype, generator)
               for _, shape, dtype, _ in inputs]
    with torch.no_grad():
        torch.testing.assert_close(model(*tensors), reference(*tensors))


def test_attention_dropout_in_training_only_follows_the_mode(tmp_path):
    """``dropout_p=0.5 if self.training else 0.0``, as attention modules write it."""
    drawn = one_op(SDPA, {"dropout_p": 0.5, "training_only": True},
                   [("q", ("N", 4, 8), F32, 0), ("k", ("N", 4, 8), F32, 1),
                    ("v", ("N", 4, 8), F32, 2)])
    source, module, _ = generate_and_import(drawn, tmp_path)
    assert "dropout_p=0.5 if self.training else 0.0" in source
    model = module.Main()
    q, k, v = (torch.randn(3, 4, 8) for _ in range(3))
    with torch.no_grad():
        assert torch.equal(model.eval()(q, k, v), F.scaled_dot_product_attention(q, k, v))
        torch.manual_seed(0)
        trained = model.train()(q, k, v)
        torch.manual_seed(0)
        assert torch.equal(trained, F.scaled_dot_product_attention(q, k, v, dropout_p=0.5))


def test_every_op_random_graphs_leave_out_is_generated_here():
    generated = {type_name for type_name, *_ in GENERATED.values()}
    assert set(NOT_SWEPT) <= generated, sorted(set(NOT_SWEPT) - generated)


# -- position ids ---------------------------------------------------------------------------------
def _position_embedding():
    """BERT's and GPT-2's embeddings: token embeddings plus the embedding of each position,
    counted up to the sequence length of the tokens."""
    return project(
        [node("tok", "io.Input", "tokens", shape=["N", "L"], dtype=I64),
         node("emb", "nn.Embedding", "embed", num_embeddings=50, embedding_dim=8),
         node("pos", "op.arange", "positions", end="L"),
         node("one", "op.unsqueeze", "position_ids", dim=0),
         node("pemb", "nn.Embedding", "position_embed", num_embeddings=16, embedding_dim=8),
         node("add", "op.add", "summed"), node("out", "io.Output", "y")],
        edges(("tok", "emb"), ("tok", "pos"), ("pos", "one"), ("one", "pemb"),
              ("emb", "add", 0, 0), ("pemb", "add", 0, 1), ("add", "out")))


def test_position_ids_count_up_to_the_length_of_each_batch(tmp_path):
    drawn = _position_embedding()
    (shape,) = Inference(drawn.networks[0], drawn).states["add"].outputs
    source, module, _ = generate_and_import(drawn, tmp_path)
    assert "torch.arange(0, tokens.size(1), device=tokens.device)" in source
    model = module.Main().eval()
    for length in (5, 9):  # one model, two lengths: the size is read at run time
        tokens = torch.randint(0, 50, (2, length))
        with torch.no_grad():
            result = model(tokens)
        assert tuple(result.shape) == tuple(
            d.substitute({"N": 2, "L": length}) if isinstance(d, Sym) else d for d in shape)
        expected = model.embed(tokens) + model.position_embed(torch.arange(length))[None]
        torch.testing.assert_close(result, expected)


def test_positions_are_made_on_the_device_of_their_input(tmp_path):
    drawn = one_op("op.arange", {"start": 1, "end": "L", "step": 2},
                   [("x", ("N", "L"), F32, 0)])
    source, module, _ = generate_and_import(drawn, tmp_path)
    assert "torch.arange(1, x.size(1), step=2, device=x.device)" in source
    model = module.Main()
    torch.testing.assert_close(model(torch.zeros(2, 8)), torch.arange(1, 8, 2))
    assert model(torch.zeros(2, 8, device="meta")).device.type == "meta"


# -- the GELU forms Hugging Face writes out by hand --------------------------------------------
def _chain_of_ops(steps: list[tuple]):
    """x through ops in order; a step (type, params, "x") also takes x as its second input."""
    nodes = [node("x", "io.Input", "x", shape=["N", 16])]
    wiring, previous = [], "x"
    for i, (type_name, params, *second) in enumerate(steps):
        nodes.append(node(f"s{i}", type_name, f"step_{i}", **params))
        wiring.append((previous, f"s{i}", 0, 0))
        if second:
            wiring.append(("x", f"s{i}", 0, 1))
        previous = f"s{i}"
    nodes.append(node("out", "io.Output", "y"))
    return project(nodes, edges(*wiring, (previous, "out")))


GELU_FORMS = {
    # x * 0.5 * (1 + erf(x / sqrt(2))): transformers' GELUActivation without F.gelu
    "none": [("op.div_scalar", {"value": math.sqrt(2.0)}), ("op.erf", {}),
             ("op.add_scalar", {"value": 1.0}), ("op.mul", {}, "x"),
             ("op.scale", {"factor": 0.5})],
    # 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))): NewGELUActivation
    "tanh": [("op.pow", {"exponent": 3.0}), ("op.scale", {"factor": 0.044715}),
             ("op.add", {}, "x"), ("op.scale", {"factor": math.sqrt(2.0 / math.pi)}),
             ("op.tanh", {}), ("op.add_scalar", {"value": 1.0}), ("op.mul", {}, "x"),
             ("op.scale", {"factor": 0.5})],
}


@pytest.mark.parametrize("approximate", sorted(GELU_FORMS))
def test_gelu_written_out_computes_torchs_gelu(approximate, tmp_path):
    drawn = _chain_of_ops(GELU_FORMS[approximate])
    _, module, _ = generate_and_import(drawn, tmp_path)
    x = torch.linspace(-4, 4, 32).reshape(2, 16)
    torch.testing.assert_close(module.Main()(x), F.gelu(x, approximate=approximate))
