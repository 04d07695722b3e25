"""Models that take token ids, or two inputs: the synthetic forms made for them, their errors,
and the runner, the sanity ladder and a user's own Dataset feeding model(a, b)."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest
import torch

from builder.cli import main
from builder.training.data import DataError, load_dataset, parse_data
from builder.training.inputs import ModelInput, model_inputs_of
from graph_schema import save_project
from tests.graphs import edges, node, project

VOCAB = 37


def siamese_project(length: int = 12, vocab: int = VOCAB):
    """Two token sequences, one shared embedding, mean-pooled, joined, a 2-way linear head."""
    nodes = [
        node("a", "io.Input", "first", shape=["N", length], dtype="int64"),
        node("b", "io.Input", "second", shape=["N", length], dtype="int64"),
        node("e1", "nn.Embedding", "embedding", num_embeddings=vocab, embedding_dim=8),
        node("e2", "nn.Embedding", "embedding_again"),  # reuses e1: no params of its own
        node("m1", "op.mean", "pool_first", dim=1),
        node("m2", "op.mean", "pool_second", dim=1),
        node("d", "op.sub", "difference"),
        node("p", "op.mul", "product"),
        node("c", "op.cat", "joined", dim=1),
        node("fc", "nn.Linear", "head", in_features=16, out_features=2),
        node("out", "io.Output", "logits"),
    ]
    nodes[3].reuses = "e1"
    wires = edges(("a", "e1"), ("b", "e2"), ("e1", "m1"), ("e2", "m2"),
                  ("m1", "d", 0, 0), ("m2", "d", 0, 1), ("m1", "p", 0, 0), ("m2", "p", 0, 1),
                  ("d", "c", 0, 0), ("p", "c", 0, 1), ("c", "fc"), ("fc", "out"))
    return project(nodes, wires, name="siamese")


@pytest.fixture
def siamese_file(tmp_path) -> Path:
    path = tmp_path / "siamese.json"
    save_project(siamese_project(), path)
    return path


def inputs_of(proj) -> list[ModelInput]:
    return model_inputs_of(proj, proj.networks[0])


# --- the data --------------------------------------------------------------------------------


def test_token_pairs_take_the_models_lengths_and_its_embeddings_size():
    dataset = load_dataset(parse_data("synthetic:pairs,n=400"), inputs_of(siamese_project()))
    (first, second), label = dataset[0]
    assert first.dtype == second.dtype == torch.int64 and first.shape == second.shape == (12,)
    a, b, y = dataset.tensors
    assert int(a.max()) < VOCAB and int(b.max()) < VOCAB and int(a.min()) >= 0
    assert 0.4 < y.float().mean() < 0.6
    same = (a == b).float().mean(dim=1)  # a match keeps most ids in place, a non-match few
    assert same[y == 1].mean() > 0.6 > 0.2 > same[y == 0].mean()
    assert dataset.num_classes == 2


def test_token_pairs_are_the_same_for_the_same_seed_and_differ_for_another():
    inputs = inputs_of(siamese_project())
    one, again, other = (load_dataset(parse_data(f"synthetic:pairs,n=50,seed={seed}"), inputs)
                         for seed in (1, 1, 2))
    assert all(torch.equal(x, y) for x, y in zip(one.tensors, again.tensors))
    assert not torch.equal(one.tensors[0], other.tensors[0])


def test_float_pairs_for_a_siamese_image_model():
    shape = ModelInput(("N", 1, 8, 8), name="left"), ModelInput(("N", 1, 8, 8), name="right")
    dataset = load_dataset(parse_data("synthetic:pairs,n=200"), list(shape))
    a, b, y = dataset.tensors
    distance = (a - b).flatten(1).norm(dim=1)
    assert distance[y == 1].mean() < 0.5 * distance[y == 0].mean()


def test_token_classes_are_told_by_their_marker_ids():
    model_input = ModelInput(("N", 64), "int64", vocab=100, name="tokens")
    dataset = load_dataset(parse_data("synthetic:classes=4,n=400"), [model_input])
    x, y = dataset.tensors
    assert x.dtype == torch.int64 and x.shape == (400, 64) and int(x.max()) < 100
    counts = torch.stack([torch.bincount(row, minlength=100) for row in x]).float()
    # Per class, some ids are far more frequent than they are in the other classes.
    for c in range(4):
        ratio = counts[y == c].mean(0) / (counts[y != c].mean(0) + 1e-3)
        assert ratio.max() > 3


@pytest.mark.parametrize(("text", "model", "words"), [
    ("synthetic:pairs", [ModelInput(("N", 8), name="x")], "gives 2 input(s) a sample, but the "
     "model takes 1 (x)"),
    ("digits", None, "gives 1 input(s) a sample, but the model takes 2 (first, second); use "
     "synthetic:pairs"),
    ("synthetic:shape=12,classes=2", None, "gives 1 input(s) a sample"),
    ("synthetic:pairs,classes=3", None, "pairs have two classes"),
    ("synthetic:vocab=10,targets=1", None, "token ids (vocab=) are for classification"),
    ("synthetic:vocab=50", [ModelInput(("N", 8), name="x")], "vocab= makes token ids, but the "
     "model's input 'x' is float32"),
    ("synthetic:vocab=3,classes=4", [ModelInput(("N", 8), "int64", name="t")],
     "vocab=3 is too small for 4 classes"),
    ("synthetic:classes=2", [ModelInput(("N", 8), "int64", name="t")], "no nn.Embedding says "
     "how many; give vocab="),
    ("synthetic:shape=2,4", [ModelInput(("N", 2, 4), "int64", vocab=9, name="t")],
     "token ids are sequences (N, LENGTH), not (N, 2, 4)"),
])
def test_what_cannot_fit_the_inputs_is_one_line(text, model, words):
    with pytest.raises(DataError, match=None) as raised:
        load_dataset(parse_data(text), model or inputs_of(siamese_project()))
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_float_samples_are_refused_for_token_ids():
    with pytest.raises(DataError) as raised:
        load_dataset(parse_data("digits"), [ModelInput(("N", 64), "int64", 20, "tokens")])
    assert "gives float samples, but the model's input 'tokens' takes token ids" \
        in str(raised.value)


def test_a_bare_input_shape_serves_both_inputs_of_a_pair():
    dataset = load_dataset(parse_data("synthetic:pairs,vocab=20,n=30"), ("N", 6))
    (a, b), _ = dataset[3]
    assert a.shape == b.shape == (6,) and a.dtype == torch.int64


# --- training ----------------------------------------------------------------------------------


def test_a_two_input_project_trains_and_learns_to_match(siamese_file, tmp_path):
    assert main(["train", str(siamese_file), "--data", "synthetic:pairs,n=600", "--max-epochs",
                 "6", "--lr", "0.03", "--batch-size", "32", "--out",
                 str(tmp_path / "pairs")]) == 0
    run = tmp_path / "pairs"
    with open(run / "metrics.csv", newline="") as handle:
        epochs = [row for row in csv.DictReader(handle) if row.get("val_loss")]
    assert float(epochs[-1]["val_loss"]) < float(epochs[0]["val_loss"])
    assert json.loads((run / "summary.json").read_text())["test_acc"] > 0.75


def test_the_sanity_ladder_runs_on_a_two_input_model(siamese_file, capsys):
    code = main(["sanity", str(siamese_file), "--data", "synthetic:pairs,n=200", "--lr", "0.05"])
    out = capsys.readouterr().out
    assert code == 0, out
    for rung in ("init", "1 sample", "10 samples", "full"):
        assert any(line.split()[:len(rung.split()) + 1] == [*rung.split(), "pass"]
                   for line in out.splitlines()), (rung, out)


def test_a_users_dataset_of_pairs_goes_through_the_data_loader(tmp_path):
    (tmp_path / "pairs_data.py").write_text(textwrap.dedent("""
        import torch

        class Pairs(torch.utils.data.Dataset):
            def __len__(self):
                return 64

            def __getitem__(self, i):
                g = torch.Generator().manual_seed(i)
                a = torch.randint(0, 30, (12,), generator=g)
                b = a.clone() if i % 2 else torch.randint(0, 30, (12,), generator=g)
                return (a.tolist(), b.numpy()), i % 2

        def make():
            return Pairs()
        """))
    proj = siamese_project()
    dataset = load_dataset(parse_data(f"python:{tmp_path / 'pairs_data.py'}:make"),
                           inputs_of(proj))
    (a, b), y = dataset[1]
    assert a.dtype == b.dtype == torch.int64 and torch.equal(a, b) and int(y) == 1
    save_project(proj, tmp_path / "siamese.json")
    assert main(["train", str(tmp_path / "siamese.json"), "--data",
                 f"python:{tmp_path / 'pairs_data.py'}:make", "--fast-dev-run", "2"]) == 0
