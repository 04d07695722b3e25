"""The recorder (codegen/importer/record_trace.py): classes torch.fx cannot trace, traced by
running them once and writing down what their own code calls, every class in one run.

The checks are test_import_export_trace.py's (check_class): each graph at the class's own
level, every call of a child one ``call_module`` node, in the order and number the forward
makes them, and, run as a GraphModule on the real submodules, exactly what the class gives,
on the call it was recorded with and on one with another batch size (sizes read in Python
stay reads). Then what the recorder must refuse, and real transformers classes.
"""

from __future__ import annotations

import operator
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from codegen.importer.import_errors import Untraceable
from codegen.importer.record_trace import TracedInt, trace_class_by_recording
from tests.import_models import export_cases as cases
from tests.import_models.acid import acid
from tests.test_import_export_trace import (
    FAMILIES,
    assert_same,
    check_class,
    fx_refuses,
    module_calls,
    run_graph,
    targets,
)


def check(root, inputs, path="", **kw):
    return check_class(root, inputs, path, tracer=trace_class_by_recording, **kw)


# -- what torch.fx cannot trace ----------------------------------------------------------
@pytest.mark.parametrize("use_norm", [True, False])
def test_a_config_flag_and_a_kwargs_flag_choose_the_graph(use_norm):
    model = cases.ConfigBranch(cases.Config(use_norm=use_norm)).eval()
    x = torch.randn(2, 8)
    traced = trace_class_by_recording(model, (x,), {"scale": 3.0})
    assert module_calls(traced.graph) == (["fc", "norm"] if use_norm else ["fc"])
    assert "mul" in targets(traced.graph)  # x * scale: Tensor.mul, as torch reports it
    assert_same(run_graph(model, traced.graph, (x,), {"scale": 3.0}), model(x, scale=3.0))


@pytest.mark.parametrize("shape", [(2, 8), (2, 5, 8), (2, 4)])
def test_the_rank_and_sizes_choose_the_graph_and_reads_follow_the_batch(shape):
    model = cases.RankBranch().eval()
    x = torch.randn(*shape)
    assert fx_refuses(model, (x,))
    traced = check(model, (x,), again=(torch.randn(7, *shape[1:]),))
    assert "size" in targets(traced.graph)  # x.view(x.size(0), 2, -1), not view(2, 2, -1)
    assert (torch.Tensor.mean in targets(traced.graph) or "mean" in targets(traced.graph)) \
        is (len(shape) == 3)


def test_arithmetic_on_sizes_is_recorded():
    """``(*x.shape[:-1], heads, -1)`` and ``x.size(1) * 2`` stay computations on reads."""
    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x, **kwargs):
            shape = (*x.shape[:-1], 2, -1)
            doubled = x.size(1) * 2
            return self.fc(x).view(shape).transpose(1, 2).reshape(x.size(0), doubled, -1)

    model = Heads().eval()
    traced = check(model, (torch.randn(2, 3, 8),), again=(torch.randn(5, 3, 8),))
    assert operator.mul in targets(traced.graph)  # on ints: recorded by TracedInt


def test_tensor_code_between_layers_runs_as_it_ran():
    model = cases.ManyOps().eval()
    for strided in (False, True):
        x = torch.randn(3, 4, 8)
        traced = trace_class_by_recording(model, (x,), {"strided": strided}, batch=3)
        for y in (x, torch.randn(5, 4, 8)):
            assert_same(run_graph(model, traced.graph, (y,), {"strided": strided}),
                        model(y, strided=strided))


def test_a_tensor_passed_through_kwargs_is_a_placeholder_that_says_where_it_sits():
    model = cases.PassesKwargs().eval()
    x, mask = torch.randn(2, 8), torch.rand(2, 8) > 0.5
    gated = check(model, (x, mask), "gated")
    placeholders = [n for n in gated.graph.nodes if n.op == "placeholder"]
    assert [(n.target, getattr(n, "torchcanvas_leaf", None)) for n in placeholders] == [
        ("x", None), ("kwargs_mask", ("kwargs", ("mask",)))]
    parent = check(model, (x, mask))
    call = next(n for n in parent.graph.nodes if n.op == "call_module")
    assert call.kwargs["scale"] == 2.0 and call.kwargs["mask"].op == "placeholder"


def test_results_that_are_dataclasses_and_dicts_of_them():
    traced = check(cases.ReturnsPair().eval(), (torch.randn(3, 8),))
    assert isinstance(run_graph(cases.ReturnsPair().eval(), traced.graph,
                                (torch.randn(3, 8),), {}), cases.Pair)
    nested = check(cases.ReturnsNested().eval(), (torch.randn(3, 8),))
    picks = sorted(n.args[1] for n in nested.graph.nodes if n.target is getattr)
    assert picks == ["first", "second"]  # out.first, out.second: one node each


def test_grandchildren_module_list_items_and_a_child_called_twice():
    traced = check(cases.CallsInside().eval(), (torch.randn(2, 8),))
    assert module_calls(traced.graph) == ["blocks.block1", "layers.0", "layers.1", "shared",
                                          "shared"]
    assert torch.tensor in targets(traced.graph)  # the numbers the forward made tensors of


def test_nothing_is_left_on_the_modules():
    model = cases.CallsInside().eval()
    before = {name: (set(vars(m)), dict(m._forward_hooks), dict(m._forward_pre_hooks))
              for name, m in model.named_modules()}
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    trace_class_by_recording(model, (torch.randn(2, 8),), {})
    after = {name: (set(vars(m)), dict(m._forward_hooks), dict(m._forward_pre_hooks))
             for name, m in model.named_modules()}
    assert after == before
    assert all(torch.equal(model.state_dict()[k], v) for k, v in weights.items())


# -- training and evaluation ---------------------------------------------------------------
def test_dropout_follows_the_mode():
    traced = trace_class_by_recording(cases.FunctionalDropout().eval(), (torch.randn(2, 8),), {})
    dropout = next(n for n in traced.graph.nodes if n.target is F.dropout)
    assert traced.follows_training == {dropout.name: {"training"}}
    attention = check(cases.Attention().eval(), (torch.randn(2, 5, 8),))
    node = next(n for n in attention.graph.nodes if n.target is F.scaled_dot_product_attention)
    assert attention.training_values == {node.name: {"dropout_p": 0.25}}


def test_a_forward_that_branches_on_the_mode_is_refused():
    with pytest.raises(Untraceable, match="different things in training"):
        trace_class_by_recording(cases.TrainingOnly().eval(), (torch.randn(2, 8),), {})


# -- what a recording cannot hold ----------------------------------------------------------
def test_a_branch_on_a_tensors_values_is_refused_in_one_line():
    with pytest.raises(Untraceable) as caught:
        trace_class_by_recording(cases.DataDependent(), (torch.randn(2, 8),), {})
    assert caught.value.reason == ("its forward reads the values of a tensor (__bool__()), "
                                   "which a graph cannot decide on")
    assert "\n" not in caught.value.reason


def test_assigning_into_a_tensor_is_refused():
    class Writes(nn.Module):
        def forward(self, x, **kwargs):
            x = x.clone()
            x[:, 0] = 0.0
            return x

    with pytest.raises(Untraceable, match=r"assigns into part of a tensor"):
        trace_class_by_recording(Writes(), (torch.randn(2, 3),), {})


def test_sizes_are_ints_that_remember_their_node():
    seen = {}

    class Reads(nn.Module):
        def forward(self, x, **kwargs):
            seen["size"], seen["shape"] = x.size(0), x.shape
            return x.view(x.size(0), -1)

    trace_class_by_recording(Reads(), (torch.randn(2, 3, 4),), {})
    assert isinstance(seen["size"], TracedInt) and seen["size"] == 2
    assert all(isinstance(size, TracedInt) for size in seen["shape"])


def test_an_in_place_change_of_an_input_is_kept_and_round_trips(tmp_path):
    class Doubles(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x, **kwargs):
            x.mul_(2)
            return self.fc(x)

    verdict = acid(Doubles, lambda n: (torch.randn(n, 4),), tmp_path)
    assert verdict.kept == ()


# -- real third-party classes ----------------------------------------------------------------
@pytest.fixture(scope="module")
def transformers_models():
    pytest.importorskip("transformers")
    torch.manual_seed(0)
    return {name: (lambda m, i: (m.eval(), i))(*make()) for name, make in FAMILIES.items()}


@pytest.mark.parametrize(("family", "path"), [
    ("bert", ""), ("bert", "embeddings"), ("bert", "encoder.layer.0"),
    ("bert", "encoder.layer.0.attention.self"), ("gpt2", "h.0"), ("gpt2", "h.0.attn"),
    ("vit", ""), ("vit", "embeddings"), ("vit", "layers.0"),
])
def test_transformers_classes_are_recorded_at_their_own_level(transformers_models, family,
                                                               path):
    model, inputs_of = transformers_models[family]
    # as the walker traces: on meta tensors, told the batch; then run at another batch
    traced = check(model, inputs_of(2), path, batch=2, meta=True, again=inputs_of(3))
    assert module_calls(traced.graph)  # its children are blocks of their own


def test_gpt2s_root_reads_values_so_it_is_left_to_export(transformers_models):
    """GPT2Model asks whether its position ids are packed sequences (a tensor's values):
    the walker then falls back to torch.export, which traces that check symbolically."""
    model, inputs_of = transformers_models["gpt2"]
    with pytest.raises(Untraceable, match=r"reads the values of a tensor \(__bool__\(\)\)"):
        trace_class_by_recording(model, tuple(t.to("meta") for t in inputs_of(2)), {},
                                 batch=2)


def test_one_run_records_every_class_below():
    from codegen.importer.record_trace import record_all
    from tests.test_import_export_trace import Calls

    model = cases.CallsInside().eval()
    x = torch.randn(2, 8)
    found = record_all(model, (x,), {})
    calls = Calls(model, (x,))
    from codegen.importer.export_trace import export_key
    from codegen.importer.leaves import is_user_class
    for module, (args, kwargs) in calls.first.items():
        if is_user_class(module):
            assert not isinstance(found[export_key(module, args, kwargs)], Untraceable)


def test_the_model_is_left_as_it_was():
    """A training run would update batch-norm statistics and draw random numbers."""
    class Normed(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.BatchNorm1d(4)

        def forward(self, x, **kwargs):
            return F.dropout(self.norm(x), 0.5, training=self.training)

    model, x = Normed().eval(), torch.randn(3, 4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    trace_class_by_recording(model, (x,), {})
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    assert not model.training and not model.norm.training


def test_recording_is_much_faster_than_exporting(transformers_models):
    """A sanity check, not a benchmark (bench/bench_import.py measures): a BERT layer is
    recorded in well under the time export takes."""
    from codegen.importer.export_trace import trace_class_by_export
    from tests.test_import_export_trace import Calls

    model, inputs_of = transformers_models["bert"]
    layer = model.encoder.layer[0]
    args, kwargs = Calls(model, inputs_of(2)).first[layer]
    started = time.perf_counter()
    trace_class_by_recording(layer, args, kwargs, batch=2)
    recorded = time.perf_counter() - started
    started = time.perf_counter()
    trace_class_by_export(layer, args, kwargs, batch=2)
    exported = time.perf_counter() - started
    assert recorded * 3 < exported, (recorded, exported)
