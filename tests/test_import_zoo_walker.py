"""Import of models written the way model zoos write them (issue 13, the walker's side): each
goes through the strict acid test (tests/import_models/acid.py): import -> generate ->
load_state_dict(strict=True) -> the same outputs, on cloned inputs, with norms randomised, at
two batch sizes in evaluation and once in training."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest
import torch

from codegen import GenerationError, generate_source
from codegen.importer import ModelImportError, import_model_with_report, recording
from graph_schema import load_project, validate
from tests.codegen_support import class_names, generate_and_import, import_path
from tests.import_models import zoo_walker as zoo
from tests.import_models.acid import acid, flat


def vectors(width: int) -> Callable[[int], tuple]:
    return lambda batch: (torch.randn(batch, width),)


def images(*shape: int) -> Callable[[int], tuple]:
    return lambda batch: (torch.randn(batch, *shape),)


# -- class 2: kept classes bring their module's helpers --------------------------------------
def test_a_kept_class_brings_its_autograd_function(tmp_path):
    verdict = acid(zoo.GradientNet, vectors(4), tmp_path)
    source, model, generated = verdict.source, verdict.model, verdict.generated
    assert set(verdict.kept) == {"GradientGate", "ScaleGradient"}
    gate = verdict.project.block("GradientGate")
    assert gate.opaque.requires == ["ScaleGradient"]
    helper = verdict.project.block("ScaleGradient")
    assert helper.opaque.signature and "uses it" in helper.opaque.reason
    assert source.index("class ScaleGradient(torch.autograd.Function):") < \
        source.index("class GradientGate(nn.Module):")
    # The Function really runs: its backward scales the gradient by 0.25 in both models.
    x = torch.randn(3, 4)
    for net in (model, generated):
        net.zero_grad()
        net(x).sum().backward()
    assert torch.allclose(model.gate.fc.weight.grad, generated.gate.fc.weight.grad)


def test_a_kept_class_brings_its_helper_functions_and_theirs(tmp_path):
    verdict = acid(zoo.HelperNet, images(3, 4, 4), tmp_path)
    source = verdict.source
    assert set(verdict.kept) == {"HelperBlock", "ScaleGradient", "conv1x1_block",
                                    "_norm_act"}
    assert verdict.project.block("conv1x1_block").opaque.requires == ["_norm_act"]
    assert "# Kept verbatim from the imported model: function conv1x1_block" in source
    assert "def _norm_act(channels):" in source


def test_a_helper_that_needs_a_module_kept_source_may_not_import_is_refused():
    with recording():
        model = zoo.JitterNet()
    with pytest.raises(ModelImportError, match=r"class Jitter, which kept source uses, cannot "
                       r"be kept: it uses 'random' \(the module random\)"):
        import_model_with_report(model, (torch.randn(2, 4),))


def test_a_helper_from_elsewhere_is_trusted_only_when_told(tmp_path):
    with recording():
        model = zoo.GradientNet()
    project = import_model_with_report(model, (torch.randn(2, 4),)).project
    helper = project.block("ScaleGradient")
    helper.opaque = helper.opaque.model_copy(update={"signature": ""})  # as from another machine
    untrusted = [d for d in validate(project) if d.is_error]
    assert untrusted and all("ScaleGradient" in d.message for d in untrusted)
    with pytest.raises(GenerationError):
        generate_source(project)
    assert "class ScaleGradient(torch.autograd.Function):" in \
        generate_source(project, trust_kept_source=True)


# -- class 2: drawn, not kept ---------------------------------------------------------------
def test_tuples_inside_tuples_are_drawn(tmp_path):
    verdict = acid(zoo.UsesBranches, vectors(4), tmp_path)
    assert not verdict.kept
    assert len(verdict.project.block("Branches").outputs()) == 3  # a, b and c, depth first
    generated = acid(zoo.Branches, vectors(4), tmp_path).generated
    assert len(flat(generated(torch.randn(2, 4)))) == 3  # the root's tuples, flattened


def test_a_root_returning_tuples_inside_tuples_says_it_returns_them_flat():
    imported = import_model_with_report(zoo.Branches(), (torch.randn(2, 4),))
    assert any("one flat tuple" in w for w in imported.warnings)


def test_calls_into_the_modules_of_a_child_are_drawn_inside_it(tmp_path):
    verdict = acid(zoo.FeatureTaps, images(3, 8, 8), tmp_path)
    source = verdict.source
    assert not verdict.kept
    backbone = verdict.project.block("Backbone")
    assert "FeatureTaps calls inside its 'backbone'" in backbone.notes
    called = {node.name: node.called for node in backbone.nodes}
    assert called["layer2"] and not called["fc"]  # fc is held, never called
    assert "self.heads = nn.ModuleList(" in source
    assert "= self.backbone(x)" in source and "= self.extra(" in source


def test_a_value_taken_out_of_a_holder_and_handed_back_keeps_the_caller(tmp_path):
    verdict = acid(zoo.HoldsBackAndForth, vectors(4), tmp_path)
    reason = verdict.project.block("BackAndForth").opaque.reason
    assert "hands it back to 'pair.second'" in reason


# -- class 4: plain lists for the model's own code --------------------------------------------
def test_lists_handed_to_the_models_own_code_are_plain_lists(tmp_path):
    verdict = acid(zoo.ListUser, vectors(4), tmp_path)
    assert not verdict.kept
    assert "torch.cat([" in verdict.source


def test_a_kept_class_that_takes_a_list_keeps_its_caller(tmp_path):
    verdict = acid(zoo.HoldsPassesList, vectors(4), tmp_path)
    assert set(verdict.kept) == {"PassesList", "KeptJoin"}
    assert "as a list of tensors" in verdict.project.block("PassesList").opaque.reason


# -- class 6 ------------------------------------------------------------------------------------
def test_graphs_that_depend_on_an_instances_values_are_traced_per_value(tmp_path):
    verdict = acid(zoo.Windows, vectors(8), tmp_path)
    source = verdict.source
    assert not verdict.kept
    assert "0:4]" in source and "2:6]" in source


def test_fixed_arguments_are_read_as_the_call_gave_them(tmp_path):
    verdict = acid(zoo.Flags, vectors(4), tmp_path)
    reasons = {b.name: b.opaque.reason for b in verdict.project.blocks if b.opaque}
    assert set(reasons) == {"CallsTwiceDifferently", "Signed", "PassesFlag", "KeptFlag"}
    assert "calls 'signed' twice with different fixed arguments" in \
        reasons["CallsTwiceDifferently"]
    assert "with negate=True" in reasons["PassesFlag"]
    drawn = [b for b in verdict.project.blocks if b.opaque is None]
    assert [n.type for b in drawn if b.name.startswith("Signed") for n in b.nodes
            if n.type.startswith("op.")] == ["op.neg"]  # CallsOnceWithFlag's call: negate


def test_in_place_ops_change_what_later_uses_read(tmp_path):
    verdict = acid(zoo.InPlaces, vectors(4), tmp_path)
    reasons = {b.name: b.opaque.reason for b in verdict.project.blocks if b.opaque}
    assert set(reasons) == {"ViewThenChange", "Counter", "ReadsAgain", "ChangesInput"}
    assert "another name for the same memory" in reasons["ViewThenChange"]
    assert "changes the tensor it holds, 'seen'" in reasons["Counter"]
    assert "changes its input 'x' in place" in reasons["ReadsAgain"]


def test_tracing_leaves_a_buffer_changed_in_place_as_it_was():
    with recording():
        model = zoo.InPlaces()
    import_model_with_report(model, (torch.randn(2, 4),))
    assert model.counter.seen.item() == 0


def test_an_encoder_without_nested_tensors_is_drawn(tmp_path):
    verdict = acid(zoo.Encoder, lambda b: (torch.randn(b, 5, 8),), tmp_path)
    source = verdict.source
    assert not verdict.kept
    assert "nn.TransformerEncoder(" in source


def test_tuples_handed_along_sequentials_are_drawn(tmp_path):
    verdict = acid(zoo.DualSequential, vectors(4), tmp_path)
    source = verdict.source
    assert not verdict.kept
    assert "self.body = nn.ModuleList(" in source  # body.0.*, as the nn.Sequential had
    assert "= self.named(" in source
    verdict = acid(zoo.TwoWayNet, vectors(4), tmp_path)
    assert not verdict.kept


def test_constructor_arguments_match_as_tuples_or_lists(tmp_path):
    verdict = acid(zoo.KernelForms, images(3, 4, 4), tmp_path)
    assert set(verdict.kept) == {"KeptConv"}


# -- the same through `torchcanvas import` (the worker process) ------------------------------
HELPERS = textwrap.dedent('''
    import torch


    class Halve(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x / 2

        @staticmethod
        def backward(ctx, grad):
            return grad / 2
''')

MODEL = textwrap.dedent('''
    import torch
    from torch import nn

    from zoo_cli_helpers import Halve


    class Gate(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = nn.Linear(width, width)

        def forward(self, xs):
            y = self.fc(torch.cat(xs, dim=1))
            if y.abs().max() > 1e6:
                y = y.clamp(-1e6, 1e6)
            return Halve.apply(y)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate = Gate(8)

        def forward(self, x):
            return self.gate([x, x * 2]) + 1


    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.net = Net()

        def forward(self, x):
            return self.net(self.a(x))
''')


def test_the_import_command_brings_a_helper_from_a_file_beside_the_model(tmp_path):
    (tmp_path / "zoo_cli_helpers.py").write_text(HELPERS, encoding="utf-8")
    (tmp_path / "zoo_cli_model.py").write_text(MODEL, encoding="utf-8")
    out = tmp_path / "outer.json"
    result = subprocess.run([sys.executable, "-m", "builder", "import",
                             f"{tmp_path / 'zoo_cli_model.py'}:Outer", "--input", "2,4",
                             "-o", str(out)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    project = load_project(out)
    assert {b.name for b in project.blocks if b.opaque} == {"Net", "Gate", "Halve"}
    assert "as a list of tensors" in project.block("Net").opaque.reason
    sys.path.insert(0, str(tmp_path))  # the model's file imports its neighbour
    try:
        original = import_path(tmp_path / "zoo_cli_model.py")
    finally:
        sys.path.remove(str(tmp_path))
    torch.manual_seed(0)
    model = original.Outer()
    source, module, _ = generate_and_import(project, tmp_path)
    generated = getattr(module, class_names(source)[-1])()
    generated.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.allclose(model(x), generated(x))
