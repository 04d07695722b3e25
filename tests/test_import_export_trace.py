"""The second tracer: torch.export for the classes torch.fx cannot trace.

Each class's graph must be drawn at the class's own level (every call of a child one
``call_module`` node, in the order and number the forward makes them), hold only the torch
vocabulary op_table reads (no ATen op left), and, run as a GraphModule on the real
submodules, give exactly what the class gives.
"""

from __future__ import annotations

import dataclasses
import inspect
import operator

import pytest
import torch
import torch.nn.functional as F
import torch.utils._pytree as pytree
from torch import fx, nn

from codegen.importer.export_trace import export_key, trace_class_by_export
from codegen.importer.import_errors import Untraceable
from codegen.importer.tracer import bind_arguments, concrete_arguments, trace_class
from tests.import_models import export_cases as cases


# -- what a graph must do ------------------------------------------------------------------
class Calls:
    """One forward of ``root``: each module's first call, and which modules the first call
    of each module's forward called itself (paths relative to it, in call order)."""

    def __init__(self, root: nn.Module, inputs: tuple):
        self.first: dict[nn.Module, tuple[tuple, dict]] = {}
        self.callees: dict[nn.Module, list[str]] = {}
        self._paths = {module: path for path, module in root.named_modules()}
        self._running: list[nn.Module] = []
        self._done: set[nn.Module] = set()
        handles = [h for m in root.modules() for h in (
            m.register_forward_pre_hook(self._entered, with_kwargs=True),
            m.register_forward_hook(self._left, with_kwargs=True))]
        try:
            with torch.no_grad():
                root(*inputs)
        finally:
            for handle in handles:
                handle.remove()

    def _entered(self, module, args, kwargs) -> None:
        if self._running and self._running[-1] not in self._done:
            caller = self._running[-1]
            relative = self._paths[module].removeprefix(self._paths[caller]).lstrip(".")
            self.callees.setdefault(caller, []).append(relative)
        self.first.setdefault(module, (args, kwargs))
        self._running.append(module)

    def _left(self, module, args, kwargs, result) -> None:
        self._running.pop()
        self._done.add(module)


def placeholder_inputs(graph: fx.Graph, module: nn.Module, args: tuple, kwargs: dict) -> list:
    """The value of each placeholder, found the way the walker finds it: by the
    parameter's name, or by the place a tensor inside an argument says it has."""
    bound = inspect.signature(module.forward).bind(*args, **kwargs)
    bound.apply_defaults()
    values = []
    for node in graph.nodes:
        if node.op != "placeholder":
            continue
        name, path = getattr(node, "torchcanvas_leaf", (node.target, ()))
        value = bound.arguments[name]
        for key in path:
            value = value[key]
        values.append(value)
    return values


def run_graph(module: nn.Module, graph: fx.Graph, args: tuple, kwargs: dict):
    with torch.no_grad():
        return fx.GraphModule(module, graph)(*placeholder_inputs(graph, module, args, kwargs))


def leaves(value):
    """Every tensor and constant of a result, with dataclasses opened as pytree cannot."""
    if dataclasses.is_dataclass(value) and type(value) not in pytree.SUPPORTED_NODES:
        return [type(value), *leaves([getattr(value, f.name) for f in
                                      dataclasses.fields(value)])]
    flat, spec = pytree.tree_flatten(value)
    if len(flat) == 1 and flat[0] is value:
        return [value]
    return [spec, *[item for leaf in flat for item in leaves(leaf)]]


def assert_same(result, expected) -> None:
    assert type(result) is type(expected)
    got, wanted = leaves(result), leaves(expected)
    assert len(got) == len(wanted)
    for a, b in zip(got, wanted):
        if isinstance(b, torch.Tensor):
            assert torch.equal(a, b)
        else:
            assert a == b


def torch_vocabulary(graph: fx.Graph) -> None:
    for node in graph.nodes:
        assert not isinstance(node.target, (torch._ops.OpOverload, torch._ops.OpOverloadPacket,
                                            torch._ops.HigherOrderOperator)), node.format_node()


def module_calls(graph: fx.Graph) -> list[str]:
    return [node.target for node in graph.nodes if node.op == "call_module"]


def check_class(root: nn.Module, inputs: tuple, path: str = "", batch: int | None = None,
                meta: bool = False, again: tuple | None = None, tracer=trace_class_by_export):
    """Trace the module at ``path`` with the call the root's forward made (on meta copies
    of its tensors, as the walker makes it, if ``meta``), check the graph against that
    module, on that call and on the call the root makes with ``again``; give the Traced.
    ``tracer``: this file's, or the recorder's (tests/test_import_record_trace.py)."""
    calls = Calls(root, inputs)
    module = root.get_submodule(path)
    args, kwargs = calls.first[module]
    traced_args, traced_kwargs = pytree.tree_map_only(
        torch.Tensor, lambda t: t.to("meta") if meta else t, (args, kwargs))
    traced = tracer(module, traced_args, traced_kwargs, batch=batch)
    torch_vocabulary(traced.graph)
    assert module_calls(traced.graph) == calls.callees.get(module, [])
    for call_args, call_kwargs in [(args, kwargs)] + (
            [Calls(root, again).first[module]] if again else []):
        with torch.no_grad():
            expected = module(*call_args, **call_kwargs)
        assert_same(run_graph(module, traced.graph, call_args, call_kwargs), expected)
    return traced


def fx_refuses(module: nn.Module, args: tuple, kwargs: dict | None = None) -> bool:
    try:
        trace_class(module, concrete_arguments(bind_arguments(module, args, kwargs or {})))
    except Untraceable:
        return True
    return False


def targets(graph: fx.Graph) -> set:
    return {node.target for node in graph.nodes if node.op in ("call_function", "call_method")}


# -- what torch.fx cannot trace ----------------------------------------------------------
@pytest.mark.parametrize("use_norm", [True, False])
def test_a_config_flag_and_a_kwargs_flag_choose_the_graph(use_norm):
    model = cases.ConfigBranch(cases.Config(use_norm=use_norm)).eval()
    x = torch.randn(2, 8)
    traced = trace_class_by_export(model, (x,), {"scale": 3.0})
    assert module_calls(traced.graph) == (["fc", "norm"] if use_norm else ["fc"])
    assert operator.mul in targets(traced.graph)
    assert_same(run_graph(model, traced.graph, (x,), {"scale": 3.0}), model(x, scale=3.0))
    plain = trace_class_by_export(model, (x,), {})
    assert operator.mul not in targets(plain.graph)


def test_the_rank_and_a_size_of_the_input_choose_the_graph():
    model = cases.RankBranch().eval()
    flat, three_d, narrow = torch.randn(2, 8), torch.randn(2, 5, 8), torch.randn(2, 4)
    assert fx_refuses(model, (three_d,))
    graphs = {}
    for name, x in [("flat", flat), ("3d", three_d), ("narrow", narrow)]:
        traced = trace_class_by_export(model, (x,), {})
        torch_vocabulary(traced.graph)
        assert_same(run_graph(model, traced.graph, (x,), {}), model(x))
        graphs[name] = traced.graph
    assert torch.mean in targets(graphs["3d"]) and torch.mean not in targets(graphs["flat"])
    assert module_calls(graphs["narrow"]) == ["widen", "fc"]
    # export specialises on the call's shapes: the walker's cache must tell them apart
    keys = {export_key(model, (x,), {}) for x in (flat, three_d, narrow, torch.randn(2, 8))}
    assert len(keys) == 3


def test_sizes_stay_reads_that_follow_the_batch():
    model = cases.RankBranch().eval()
    traced = trace_class_by_export(model, (torch.randn(2, 5, 8),), {})
    assert "size" in targets(traced.graph)  # x.view(x.size(0), 2, -1), not view(2, 2, -1)
    bigger = torch.randn(7, 5, 8)
    assert_same(run_graph(model, traced.graph, (bigger,), {}), model(bigger))


def test_a_batch_of_one_stays_the_batch_when_the_caller_says_it_is_one():
    model = cases.RankBranch().eval()
    traced = trace_class_by_export(model, (torch.randn(1, 5, 8),), {}, batch=1)
    bigger = torch.randn(4, 5, 8)
    assert_same(run_graph(model, traced.graph, (bigger,), {}), model(bigger))


@pytest.mark.parametrize("strided", [False, True])
def test_tensor_code_between_layers_comes_back_as_the_torch_calls_it_was(strided):
    model = cases.ManyOps().eval()
    x = torch.randn(3, 4, 8)
    traced = trace_class_by_export(model, (x,), {"strided": strided}, batch=3)
    torch_vocabulary(traced.graph)
    assert_same(run_graph(model, traced.graph, (x,), {"strided": strided}),
                model(x, strided=strided))
    used = targets(traced.graph)
    assert {torch.einsum, torch.bmm, torch.baddbmm, torch.where, torch.gather, torch.arange,
            torch.clamp, F.layer_norm, F.linear, F.embedding, F.conv2d, F.max_pool2d,
            F.avg_pool2d, F.pad, F.interpolate, operator.getitem, "masked_fill", "expand",
            "transpose"} <= used
    assert {torch.split, torch.chunk, torch.stack, torch.cat} <= used
    steps = [n for n in traced.graph.nodes if n.target is operator.getitem and
             isinstance(n.args[1], tuple) and slice(None, None, 2) in n.args[1]]
    assert bool(steps) is strided  # x[:, :, ::2]
    bigger = torch.randn(5, 4, 8)  # sizes equal to the batch were kept reads of it
    assert_same(run_graph(model, traced.graph, (bigger,), {"strided": strided}),
                model(bigger, strided=strided))


def test_a_tensor_passed_through_kwargs_is_a_placeholder_that_says_where_it_sits():
    model = cases.PassesKwargs().eval()
    x, mask = torch.randn(2, 8), torch.rand(2, 8) > 0.5
    gated = check_class(model, (x, mask), "gated")
    placeholders = [n for n in gated.graph.nodes if n.op == "placeholder"]
    assert [(n.target, getattr(n, "torchcanvas_leaf", None)) for n in placeholders] == [
        ("x", None), ("kwargs_mask", ("kwargs", ("mask",)))]
    assert "masked_fill" in targets(gated.graph)
    parent = check_class(model, (x, mask))
    call = next(n for n in parent.graph.nodes if n.op == "call_module")
    assert call.kwargs["scale"] == 2.0 and call.kwargs["mask"].op == "placeholder"


def test_a_dataclass_result_comes_back_as_that_dataclass():
    model = cases.ReturnsPair().eval()
    traced = check_class(model, (torch.randn(3, 8),))
    result = run_graph(model, traced.graph, (torch.randn(3, 8),), {})
    assert isinstance(result, cases.Pair)


def test_a_dict_of_nested_tuples_made_from_a_childs_dataclass():
    model = cases.ReturnsNested().eval()
    traced = check_class(model, (torch.randn(3, 8),))
    picks = [n.args[1] for n in traced.graph.nodes if n.target is getattr]
    assert sorted(picks) == ["first", "second"]  # out.first, out.second: one node each
    output = next(n for n in traced.graph.nodes if n.op == "output")
    assert set(output.args[0]) == {"logits", "parts"}  # drawn as it is, not flattened


def test_grandchildren_module_list_items_and_a_child_called_twice():
    traced = check_class(cases.CallsInside().eval(), (torch.randn(2, 8),))
    assert module_calls(traced.graph) == ["blocks.block1", "layers.0", "layers.1", "shared",
                                          "shared"]
    assert torch.tensor in targets(traced.graph)  # the numbers the forward made tensors of


def test_meta_inputs_as_the_walker_passes_them():
    model = cases.RankBranch().eval()
    traced = trace_class_by_export(model, (torch.empty(2, 5, 8, device="meta"),), {})
    x = torch.randn(2, 5, 8)
    assert_same(run_graph(model, traced.graph, (x,), {}), model(x))


def test_nothing_is_left_on_the_modules():
    model = cases.CallsInside().eval()
    before = {name: (set(vars(m)), dict(m._forward_hooks), dict(m._forward_pre_hooks))
              for name, m in model.named_modules()}
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    trace_class_by_export(model, (torch.randn(2, 8),), {})
    after = {name: (set(vars(m)), dict(m._forward_hooks), dict(m._forward_pre_hooks))
             for name, m in model.named_modules()}
    assert after == before
    assert model.state_dict().keys() == weights.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in weights.items())


def test_what_export_cannot_trace_either_says_why_in_one_line():
    with pytest.raises(Untraceable) as caught:
        trace_class_by_export(cases.DataDependent(), (torch.randn(2, 8),), {})
    assert caught.value.reason.startswith("torch.export cannot trace it either (")
    assert "\n" not in caught.value.reason


# -- training and evaluation ---------------------------------------------------------------
def test_functional_dropout_follows_the_mode():
    model = cases.FunctionalDropout().eval()
    traced = trace_class_by_export(model, (torch.randn(2, 8),), {})
    dropout = next(n for n in traced.graph.nodes if n.target is F.dropout)
    assert dropout.kwargs["training"] is False
    assert traced.follows_training == {dropout.name: {"training"}}
    assert not model.training  # the mode is put back


def test_attention_dropout_follows_the_mode_with_its_training_value():
    model = cases.Attention().eval()
    traced = check_class(model, (torch.randn(2, 5, 8),))
    attention = next(n for n in traced.graph.nodes
                     if n.target is F.scaled_dot_product_attention)
    assert attention.kwargs["dropout_p"] == 0.0
    assert traced.follows_training == {attention.name: {"dropout_p"}}
    assert traced.training_values == {attention.name: {"dropout_p": 0.25}}


def test_a_forward_that_branches_on_the_mode_is_refused():
    with pytest.raises(Untraceable, match="different things in training"):
        trace_class_by_export(cases.TrainingOnly().eval(), (torch.randn(2, 8),), {})


# -- transformers, tiny, built from config ---------------------------------------------------
def _bert():
    from transformers import BertConfig, BertModel

    config = BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, vocab_size=100, max_position_embeddings=64)
    return BertModel(config), lambda n: (torch.randint(0, 100, (n, 8)),)


def _gpt2():
    from transformers import GPT2Config, GPT2Model

    # use_cache=False: a cache is state the blocks are handed, not a tensor to draw
    config = GPT2Config(n_embd=64, n_layer=2, n_head=2, vocab_size=100, n_positions=64,
                        use_cache=False)
    return GPT2Model(config), lambda n: (torch.randint(0, 100, (n, 8)),)


def _vit():
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=128, image_size=32, patch_size=8, num_channels=3)
    return ViTModel(config), lambda n: (torch.randn(n, 3, 32, 32),)


FAMILIES = {"bert": _bert, "gpt2": _gpt2, "vit": _vit}


@pytest.fixture(scope="module")
def transformers_models():
    pytest.importorskip("transformers")
    torch.manual_seed(0)
    built = {}
    for name, make in FAMILIES.items():
        model, inputs_of = make()
        built[name] = (model.eval(), inputs_of)
    return built


@pytest.mark.parametrize(("family", "path"), [
    ("bert", ""), ("bert", "embeddings"), ("bert", "encoder.layer.0"),
    ("bert", "encoder.layer.0.attention.self"),
    ("gpt2", ""), ("gpt2", "h.0.attn"),
    ("vit", ""), ("vit", "embeddings"), ("vit", "layers.0"),
])
def test_transformers_classes_are_drawn_at_their_own_level(transformers_models, family, path):
    model, inputs_of = transformers_models[family]
    # as the walker traces: on meta tensors, told the batch; then replayed at another batch
    traced = check_class(model, inputs_of(2), path, batch=2, meta=True, again=inputs_of(3))
    assert module_calls(traced.graph)  # its children are blocks of their own
    if path.endswith(("self", "attn")):
        assert F.scaled_dot_product_attention in targets(traced.graph)
        assert {"view", "transpose"} <= targets(traced.graph)
        assert any("dropout_p" in keys for keys in traced.follows_training.values())
