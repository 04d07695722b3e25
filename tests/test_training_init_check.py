"""--check-init: per-layer activation statistics at initialisation, flagging dead, vanishing and
exploding layers by node name, without changing the model or a seeded run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from builder.training.init_check import activation_report, format_report


def mlp(*widths, dropout=0.0) -> nn.Sequential:
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers += [nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


def batch(n=64, features=16) -> torch.Tensor:
    return torch.randn(n, features, generator=torch.Generator().manual_seed(1))


def by_name(stats):
    return {s.name: s for s in stats}


def test_a_sound_network_has_statistics_for_every_layer_and_no_flags():
    model = mlp(16, 32, 10)
    stats = activation_report(model, batch())
    assert [(s.name, s.type, s.shape) for s in stats] == [
        ("0", "Linear", (64, 32)), ("1", "ReLU", (64, 32)), ("2", "Dropout", (64, 32)),
        ("3", "Linear", (64, 10))]
    relu = stats[1]
    assert 0.3 < relu.near_zero < 0.7 and relu.mean > 0  # about half of a ReLU's outputs are 0
    assert not any(s.flagged for s in stats)
    assert format_report(stats).splitlines()[-1] == "init check: 0 of 4 layers flagged"


def test_a_dead_relu_is_flagged_by_its_node_name():
    model = mlp(16, 32, 10)
    with torch.no_grad():
        model[0].bias.fill_(-50.0)
    names = {"0": "fc1", "1": "act1", "2": "drop", "3": "logits"}
    stats = by_name(activation_report(model, batch(), names))
    assert stats["act1"].vanishing and stats["act1"].near_zero == 1.0
    assert stats["act1"].reason == "dead: 100% of its outputs are zero"
    text = format_report(list(stats.values()))
    assert "act1" in text and "dead: 100%" in text
    assert text.splitlines()[-1].endswith("2 of 4 layers flagged (act1, drop)")


def test_tiny_weights_are_flagged_as_vanishing():
    model = mlp(16, 32, 10)
    with torch.no_grad():
        model[3].weight.mul_(1e-4)
        model[3].bias.zero_()
    last = activation_report(model, batch())[-1]
    assert last.vanishing and last.reason.startswith("vanishing: output std")


def test_huge_weights_are_flagged_as_exploding():
    model = mlp(16, 32, 10)
    with torch.no_grad():
        model[0].weight.mul_(500.0)
    first = activation_report(model, batch())[0]
    assert first.exploding and "above 100" in first.reason


def test_a_tenfold_growth_from_one_layer_to_the_next_is_flagged():
    model = mlp(16, 32, 32, 10)
    with torch.no_grad():
        model[3].weight.mul_(40.0)
    stats = activation_report(model, batch())
    grown = [s for s in stats if s.exploding]
    assert [s.name for s in grown] == ["3"]
    assert "grew" in grown[0].reason and grown[0].std < 100


def test_batch_norm_restoring_the_scale_is_not_an_explosion():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                          nn.ReLU())
    with torch.no_grad():
        model[0].weight.mul_(0.1)  # std ~0.03 into the norm, 1 out of it
    stats = activation_report(model, torch.rand(8, 1, 8, 8))
    assert stats[1].std > 30 * stats[0].std
    assert not any(s.exploding for s in stats)


def test_a_module_called_twice_is_reported_twice():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 16)

        def forward(self, x):
            return self.fc(torch.relu(self.fc(x)))

    stats = activation_report(Twice(), batch())
    assert [s.name for s in stats] == ["fc", "fc"]


def test_the_model_and_rng_are_left_exactly_as_they_were():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.Dropout(0.5),
                          nn.Linear(32, 4)).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    activation_report(model, batch())
    assert torch.equal(torch.get_rng_state(), rng)
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # running stats
    assert all(not m._forward_hooks for m in model.modules())


def test_checking_init_does_not_change_a_seeded_training_step():
    def one_step(check: bool) -> torch.Tensor:
        model = mlp(16, 32, 10, dropout=0.5)
        torch.manual_seed(3)
        if check:
            activation_report(model, batch())
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model(batch()).square().mean().backward()
        optimizer.step()
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(one_step(check=True), one_step(check=False))


def test_hooks_are_removed_when_the_forward_raises():
    model = mlp(16, 32, 10)
    with pytest.raises(RuntimeError):
        activation_report(model, torch.randn(4, 7))  # the wrong width
    assert all(not m._forward_hooks for m in model.modules())
