"""The sanity ladder: a sound digits CNN climbs every rung; each broken setup fails and the report
names the cause a user would have to fix (softmax before the loss, the learning rate, a layer that
does not learn, a dead initialisation)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from builder.training.data import load_dataset, parse_data, split
from builder.training.problem import Problem, first_batch
from builder.training.sanity import Steps, format_ladder, run_ladder
from builder.training.task import resolve_task
from graph_schema import validate
from graph_schema.document import Training
from tests.graphs import chain_edges, node, project

RUNGS = ["init", "1 sample", "10 samples", "full"]
# Enough for the failing cases to fail for the reason under test, and quick on two cores.
SHORT = Steps(one_sample=40, ten_samples=40, full=20)


class DigitsCnn(nn.Module):
    """examples/digits_cnn.json, narrower: conv-bn-relu twice, max pool, two linears."""

    def __init__(self, softmax: bool = False, detach_features: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 4 * 4, 64)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(64, 10)
        self.probs = nn.Softmax(dim=1) if softmax else nn.Identity()
        self.detach_features = detach_features

    def forward(self, x):
        x = self.pool(self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))))
        if self.detach_features:
            x = x.detach()  # the bug under test: conv1 and conv2 never learn
        return self.probs(self.fc2(self.relu3(self.fc1(x.flatten(1)))))


def adam(params, lr):
    return torch.optim.Adam(params, lr=lr)


def sgd(params, lr):
    return torch.optim.SGD(params, lr=lr)


def problem_for(model, data, lr=1e-3, make_optimizer=adam, **extra):
    train, task = data
    return Problem(model, task, train, torch.device("cpu"), make_optimizer, lr, 32, 0, **extra)


def fresh(**kwargs) -> DigitsCnn:
    torch.manual_seed(0)
    return DigitsCnn(**kwargs)


def test_a_sound_digits_cnn_passes_every_rung(digits):
    report = run_ladder(problem_for(fresh(), digits))
    assert [rung.name for rung in report.rungs] == RUNGS
    assert report.passed, format_ladder(report)
    assert report.causes == []
    init, one, ten, full = report.rungs
    assert init.threshold == pytest.approx(2.302585)  # ln 10
    assert one.loss < 0.1 and ten.loss < 0.1 and 0 < one.steps <= ten.steps
    assert full.loss < 0.5 * init.threshold
    text = format_ladder(report)
    assert "verdict: pass" in text and "likely causes" not in text


def test_the_ladder_leaves_the_model_and_the_rng_as_they_were(digits):
    model = fresh().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    run_ladder(problem_for(model, digits), steps=SHORT)
    assert torch.equal(torch.get_rng_state(), rng)
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_every_rung_restarts_from_the_same_weights_so_two_ladders_agree(digits):
    first = run_ladder(problem_for(fresh(), digits), steps=SHORT)
    second = run_ladder(problem_for(fresh(), digits), steps=SHORT)
    assert [r.losses for r in first.rungs] == [r.losses for r in second.rungs]


def test_softmax_before_cross_entropy_fails_and_is_named_from_the_output(digits):
    report = run_ladder(problem_for(fresh(softmax=True), digits), steps=SHORT)
    assert not report.passed
    assert not report.rungs[0].passed and "probabilities" in report.rungs[0].note
    assert len(report.causes) == 1, report.causes
    assert report.causes[0].startswith("softmax before the loss")
    assert "raw logits" in report.causes[0]
    assert "softmax before the loss" in format_ladder(report)
    assert report.cause_nodes == [(report.causes[0], "probs")]  # the last layer to run


def test_softmax_before_cross_entropy_is_named_by_the_graphs_lint(digits):
    drawn = project([node("in", "io.Input", "image", shape=["N", 64]),
                     node("fc", "nn.Linear", "fc2", out_features=10),
                     node("s", "nn.Softmax", "probs", dim=1), node("out", "io.Output", "y")],
                    chain_edges("in", "fc", "s", "out"), training=Training(loss="cross_entropy"))
    lints = validate(drawn)
    report = run_ladder(problem_for(fresh(softmax=True), digits, diagnostics=lints), steps=SHORT)
    assert not report.passed
    assert report.causes == ["softmax before the loss: node 'probs' feeds output 'y', but the "
                             "training loss cross_entropy applies log-softmax itself, so the "
                             "network should output raw logits (fix: remove 'probs')"]
    assert report.cause_nodes == [(report.causes[0], "probs")]


@pytest.mark.parametrize("make_optimizer", [adam, sgd], ids=["adam", "sgd"])
def test_a_learning_rate_of_100_fails_naming_the_learning_rate(digits, make_optimizer):
    report = run_ladder(problem_for(fresh(), digits, lr=100, make_optimizer=make_optimizer),
                        steps=SHORT)
    assert not report.passed
    assert not report.rungs[-1].passed
    high = [c for c in report.causes if c.startswith("learning rate too high")]
    assert high, report.causes
    assert "--lr 10" in high[0] and "torchcanvas lr-find" in high[0]


def test_a_tiny_learning_rate_fails_suggesting_a_bigger_one(digits):
    seen = []
    report = run_ladder(problem_for(fresh(), digits, lr=1e-7), steps=SHORT,
                        started=lambda name: seen.append(("started", name)),
                        finished=lambda rung: seen.append(("finished", rung.name)))
    assert seen == [(kind, name) for name in ("init", "1 sample", "10 samples", "full")
                    for kind in ("started", "finished")]
    assert not report.passed
    assert report.cause_nodes == []  # the learning rate is about no one node
    assert any(c.startswith("learning rate may be too low") and "--lr 1e-06" in c
               for c in report.causes), report.causes


def test_a_detached_layer_is_named_by_its_node(digits):
    report = run_ladder(problem_for(fresh(detach_features=True), digits), steps=SHORT)
    assert not report.passed and not report.rungs[0].passed
    named = [c for c in report.causes if "gets no gradient" in c]
    assert [c.split("'")[1] for c in named] == ["conv1", "bn1", "conv2", "bn2"]
    assert "detached" in named[0]
    assert [node for cause, node in report.cause_nodes if cause in named] == \
        ["conv1", "bn1", "conv2", "bn2"]


def test_a_frozen_layer_is_named_by_its_drawn_name_not_its_module_path(digits):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    model[1].weight.requires_grad_(False)
    names = {"0": "flat", "1": "hidden", "2": "act", "3": "logits"}
    train, task = digits
    flat = [(x.flatten(), y) for x, y in (train[i] for i in range(len(train)))]
    report = run_ladder(problem_for(model, (flat, task), node_names=names), steps=SHORT)
    assert not report.rungs[0].passed
    assert report.causes[0].startswith("node 'hidden' is frozen: 1.weight has "
                                       "requires_grad=False")
    assert report.cause_nodes[0] == (report.causes[0], "hidden")


def test_a_dead_relu_initialisation_is_named(digits):
    model = fresh()
    with torch.no_grad():
        model.fc1.bias.fill_(-100.0)  # every unit of relu3 is off for every input
    report = run_ladder(problem_for(model, digits), steps=SHORT)
    assert not report.passed
    # The root cause first, then what it causes: nothing before relu3 gets a gradient.
    assert report.causes[0] == ("node 'relu3' (ReLU) at initialisation: dead: 100% of its "
                                "outputs are zero (see --check-init)"), report.causes
    assert report.cause_nodes[0] == (report.causes[0], "relu3")
    assert any(c.startswith("node 'fc1' gets an all-zero gradient") for c in report.causes)


def test_batch_norm_1d_trains_on_one_sample_in_eval_mode(digits):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(),
                          nn.Linear(32, 10))
    report = run_ladder(problem_for(model, digits))
    assert report.passed, format_ladder(report)
    assert "eval mode" in report.rungs[1].note


def test_a_regression_reports_its_initial_loss_and_passes():
    dataset = load_dataset(parse_data("synthetic:shape=8,targets=1,n=200"), ["N", 8])
    train = split(dataset, seed=0)[0]
    task = resolve_task(None, None, dataset)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    report = run_ladder(problem_for(model, (train, task), lr=1e-2))
    assert report.passed, format_ladder(report)
    init = report.rungs[0]
    assert init.threshold is None and init.loss > 0
    assert "expected" not in format_ladder(report).splitlines()[1]


def test_first_batch_is_the_same_samples_every_time(digits):
    problem = problem_for(fresh(), digits)
    x1, y1 = first_batch(problem, 10)
    x2, y2 = first_batch(problem, 10)
    assert x1.shape == (10, 1, 8, 8) and torch.equal(x1, x2) and torch.equal(y1, y2)
    assert len(set(y1.tolist())) > 3  # a mix of classes, not the first ten of one
