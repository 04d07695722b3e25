"""The BiMPM sentence-pair matcher of the gallery (examples/bimpm.json).

It validates without a warning, has the parameter count its notes give (checked against the
same model written by hand with torch.nn, whose state_dict the generated module loads
strictly and whose outputs it reproduces), renders, generates code whose every shape is the
inferred one, shares its embedding, context encoder, matching and aggregation modules
between the two sentences (one module, called twice), and trains a few steps with the runner
on synthetic pairs.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from builder.cli import main
from builder.training.data import load_dataset, parse_data
from builder.training.inputs import model_inputs_of
from graph_schema import load_project, validate
from graph_schema.summary import summarize
from tests.codegen_support import check_model, generate_and_import, network_classes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "bimpm.json"
PARAMETERS = 149_902  # the count written in the project's notes
LENGTH, VOCAB = 16, 1000


@pytest.fixture(scope="module")
def project():
    return load_project(EXAMPLE)


@pytest.fixture(scope="module")
def generated(project, tmp_path_factory):
    """(source, the generated BiMPM class), generated, ruff-checked and imported once."""
    source, module, _ = generate_and_import(project, tmp_path_factory.mktemp("bimpm"))
    return source, network_classes(project, source, module)["bimpm"]


def token_pairs(batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.randint(0, VOCAB, (batch, LENGTH), generator=generator)
                 for _ in range(2))


# -- the drawing -------------------------------------------------------------------------------
def test_validates_without_errors_or_warnings(project):
    assert validate(project) == []


def test_parameter_count_is_the_one_in_the_notes(project, capsys):
    assert summarize(project, project.network("bimpm")).total_params == PARAMETERS
    assert f"{PARAMETERS:,}" in project.notes
    assert main(["summary", str(EXAMPLE)]) == 0
    assert f"Total params: {PARAMETERS:,}" in capsys.readouterr().out


def test_renders(qapp, tmp_path):
    out = tmp_path / "bimpm.png"
    assert main(["render", str(EXAMPLE), "-o", str(out)]) == 0
    assert out.stat().st_size > 1000


def test_two_token_inputs_and_the_training_section(project):
    inputs = project.network("bimpm").inputs()
    assert [(n.name, n.params) for n in inputs] == [
        ("p_tokens", {"shape": ["N", LENGTH], "dtype": "int64"}),
        ("q_tokens", {"shape": ["N", LENGTH], "dtype": "int64"})]
    training = project.training
    assert (training.task, training.loss, training.optimizer) == \
        ("classification", "cross_entropy", "adamw")
    assert training.dataset == "synthetic:pairs,vocab=1000,n=2000"


def test_the_matching_block_is_drawn_once_and_shared_both_ways(project):
    """Placed for the forward and the backward direction (each its own W), and called again
    for Q against P by nodes that reuse those placements."""
    (block,) = project.blocks
    nodes = {n.name: n for n in project.network("bimpm").nodes}
    placed = sorted(name for name, n in nodes.items() if n.type == f"block:{block.name}")
    assert placed == ["backward_matching", "forward_matching", "q_backward_matching",
                      "q_forward_matching"]
    for name in ("forward_matching", "backward_matching", "word_embedding", "context_lstm",
                 "aggregation_lstm"):
        assert nodes[name].reuses is None
        assert nodes[f"q_{name}"].reuses == nodes[name].id
    weights = [n for n in block.nodes if n.type == "attr.Parameter"]
    assert sorted(w.params["shape"] for w in weights) == [[10, 50], [10, 50]]
    drawn = {n.type for n in block.nodes}
    assert {"op.mul", "op.cosine_similarity", "op.amax", "op.cat"} <= drawn


# -- against torch -----------------------------------------------------------------------------
class Matching(nn.Module):
    """Full and max-pooling matching of one direction, written the other way round: each
    weighted vector normalised, then the cosines as dot products."""

    def __init__(self, perspectives: int = 10, hidden: int = 50):
        super().__init__()
        self.full_weight = nn.Parameter(torch.randn(perspectives, hidden))
        self.max_weight = nn.Parameter(torch.randn(perspectives, hidden))

    @staticmethod
    def weighted(states, weight):  # (N, L, d) -> (N, L, l, d), each vector of unit length
        return F.normalize(states[:, :, None, :] * weight, dim=-1)

    def forward(self, context, other, other_last):
        full = (self.weighted(context, self.full_weight)
                * self.weighted(other_last, self.full_weight)).sum(-1)
        pairs = torch.einsum("nild,njld->nijl", self.weighted(context, self.max_weight),
                             self.weighted(other, self.max_weight))
        return torch.cat([full, pairs.max(dim=2).values], dim=-1)


class BiMPM(nn.Module):
    def __init__(self, vocab=VOCAB, embed=50, hidden=50, perspectives=10, head=100, classes=2):
        super().__init__()
        self.word_embedding = nn.Embedding(vocab, embed)
        self.context_lstm = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.forward_matching = Matching(perspectives, hidden)
        self.backward_matching = Matching(perspectives, hidden)
        self.aggregation_lstm = nn.LSTM(4 * perspectives, hidden, batch_first=True,
                                        bidirectional=True)
        self.hidden = nn.Linear(4 * hidden, head)
        self.classifier = nn.Linear(head, classes)

    def encode(self, tokens):
        states, _ = self.context_lstm(self.word_embedding(tokens))
        return states.chunk(2, dim=-1)  # forward, backward

    def match(self, one, other):
        (forward, backward), (other_forward, other_backward) = one, other
        return torch.cat([self.forward_matching(forward, other_forward, other_forward[:, -1:]),
                          self.backward_matching(backward, other_backward,
                                                 other_backward[:, :1])], dim=-1)

    def forward(self, p, q):
        p, q = self.encode(p), self.encode(q)
        _, (p_last, _) = self.aggregation_lstm(self.match(p, q))
        _, (q_last, _) = self.aggregation_lstm(self.match(q, p))
        vector = torch.cat([p_last[0], p_last[1], q_last[0], q_last[1]], dim=-1)
        return self.classifier(torch.tanh(self.hidden(vector)))


def test_the_same_model_written_with_torch_has_the_same_weights(generated):
    shapes = lambda model: {k: tuple(v.shape) for k, v in model.state_dict().items()}  # noqa: E731
    assert shapes(generated[1]()) == shapes(BiMPM())
    assert sum(p.numel() for p in BiMPM().parameters()) == PARAMETERS


def test_computes_what_the_hand_written_one_computes(generated):
    torch.manual_seed(0)
    reference = BiMPM().eval()
    ours = generated[1]().eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(ours(*token_pairs(3)), reference(*token_pairs(3)))


# -- generated code ----------------------------------------------------------------------------
def test_generated_forward_gives_the_inferred_shapes(project, generated):
    model, (logits,) = check_model(project, project.network("bimpm"), generated[1])
    assert logits.shape == (2, 2)


def test_shared_modules_are_one_module_called_twice(generated):
    source, model_class = generated
    model = model_class()
    shared = ("word_embedding", "context_lstm", "forward_matching", "backward_matching",
              "aggregation_lstm")
    calls = Counter()

    def count_call(module, _args, _output):
        calls[module] += 1

    for name in shared:
        getattr(model, name).register_forward_hook(count_call)
        assert source.count(f"self.{name} = ") == 1 and source.count(f"self.{name}(") == 2
    model(*token_pairs(2))
    assert {name: calls[getattr(model, name)] for name in shared} == dict.fromkeys(shared, 2)
    built = [type(m).__name__ for m in model.modules()]
    assert (built.count("Embedding"), built.count("LSTM"),
            built.count("MultiPerspectiveMatching")) == (1, 2, 2)
    assert not any(key.startswith("q_") for key in model.state_dict())


# -- training ----------------------------------------------------------------------------------
def test_trains_a_few_steps_with_the_runner_on_synthetic_pairs(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", str(EXAMPLE), "--data", "synthetic:pairs,n=64", "--max-steps", "3",
                 "--batch-size", "8", "--out", str(run)])
    assert code == 0, capsys.readouterr().err
    with open(run / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and int(rows[-1]["step"]) == 3
    assert all(math.isfinite(float(row[key])) for row in rows for key in ("train_loss",
                                                                             "val_loss"))
    assert 0 <= float(rows[-1]["val_acc"]) <= 1
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["stopped"], summary["steps"]) == ("max_steps", 3)
    assert (run / "checkpoints" / "last.pt").stat().st_size > 0
    assert "def forward(self, p_tokens: torch.Tensor, q_tokens: torch.Tensor)" in \
        (run / "model.py").read_text()


def test_the_projects_own_dataset_is_one_the_runner_reads(project):
    """Without --data the runner trains on the training section's dataset: token-id pairs
    shaped for the two inputs, two classes."""
    dataset = load_dataset(parse_data(project.training.dataset),
                           model_inputs_of(project, project.network("bimpm")))
    assert (len(dataset), dataset.task, dataset.num_classes) == (2000, "classification", 2)
    (p, q), label = dataset[0]
    assert (p.shape, q.shape, p.dtype) == ((LENGTH,), (LENGTH,), torch.int64)
    samples = [dataset[i] for i in range(len(dataset))]
    assert {int(label) for _, label in samples} == {0, 1}
    ids = torch.stack([torch.stack(pair) for pair, _ in samples])
    assert 0 <= int(ids.min()) and int(ids.max()) < VOCAB  # what the shared embedding takes
