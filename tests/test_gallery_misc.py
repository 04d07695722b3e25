"""Gallery examples beyond image classification: the original GAN, a Transformer encoder
classifier and a U-Net.

Each one validates without a warning, has the parameter count its notes give (checked against
the same model written by hand with torch.nn, whose state_dict keys the generated module must
match), renders, generates code whose every shape is the inferred one, and trains a few steps:
the GAN with the runner (`torchcanvas train --task gan`), the Transformer with the runner on
synthetic token ids, the U-Net with a plain loop, as the runner has no segmentation task yet.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from builder.cli import main
from graph_schema import load_project, validate
from graph_schema.summary import summarize
from tests.codegen_support import check_model, generate_and_import, network_classes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# (project file, network) -> the parameter count written in the project's notes.
COUNTS = {
    ("gan_mnist_fc", "generator"): 2_503_984,
    ("gan_mnist_fc", "discriminator"): 1_231_441,
    ("transformer_classifier", "transformer_classifier"): 8_313_860,
    ("unet", "unet"): 31_030_658,
}
STEMS = sorted({stem for stem, _ in COUNTS})


def project_of(stem: str):
    return load_project(EXAMPLES / f"{stem}.json")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """{stem: (project, {network: generated class})}, generated, linted and imported once."""
    found = {}
    for stem in STEMS:
        project = project_of(stem)
        source, module, _ = generate_and_import(project, tmp_path_factory.mktemp(stem))
        found[stem] = project, network_classes(project, source, module)
    return found


# -- the drawing -------------------------------------------------------------------------------
@pytest.mark.parametrize("stem", STEMS)
def test_validates_without_errors_or_warnings(stem):
    assert validate(project_of(stem)) == []


@pytest.mark.parametrize(("stem", "network"), sorted(COUNTS))
def test_parameter_count_is_the_one_in_the_notes(stem, network, capsys):
    project = project_of(stem)
    count = COUNTS[(stem, network)]
    assert summarize(project, project.network(network)).total_params == count
    assert f"{count:,}" in project.notes
    assert main(["summary", str(EXAMPLES / f"{stem}.json")]) == 0
    assert f"Total params: {count:,}" in capsys.readouterr().out


@pytest.mark.parametrize(("stem", "network"), sorted(COUNTS))
def test_renders(stem, network, qapp, tmp_path, capsys):
    out = tmp_path / f"{network}.png"
    assert main(["render", str(EXAMPLES / f"{stem}.json"), "--network", network,
                 "-o", str(out)]) == 0
    assert out.stat().st_size > 1000


def test_blocks_are_drawn_once_and_placed_many_times(generated):
    placed = {}
    for stem in STEMS:
        project = project_of(stem)
        for graph in [*project.networks, *project.blocks]:
            for node in graph.nodes:
                if node.type.startswith("block:"):
                    placed[node.type[6:]] = placed.get(node.type[6:], 0) + 1
    # DoubleConv is placed once in the U-Net itself and once inside each of Down and Up.
    assert placed == {"Maxout": 2, "DoubleConv": 3, "Down": 4, "Up": 4}
    with torch.device("meta"):
        unet = generated["unet"][1]["unet"]()
    built = [type(m).__name__ for m in unet.modules()]
    assert (built.count("DoubleConv"), built.count("Down"), built.count("Up")) == (9, 4, 4)


# -- against torch -----------------------------------------------------------------------------
class Maxout(nn.Module):
    def __init__(self, in_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, 240 * 5)

    def forward(self, x):
        return self.linear(x).reshape(len(x), 240, 5).amax(dim=2)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.h0, self.h0_relu = nn.Linear(100, 1200), nn.ReLU()
        self.h1, self.h1_relu = nn.Linear(1200, 1200), nn.ReLU()
        self.y, self.tanh = nn.Linear(1200, 784), nn.Tanh()
        self.to_image = nn.Unflatten(1, (1, 28, 28))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten, self.h0_dropout = nn.Flatten(), nn.Dropout(0.2)
        self.h0, self.h1_dropout = Maxout(784), nn.Dropout(0.5)
        self.h1, self.y_dropout = Maxout(240), nn.Dropout(0.5)
        self.y, self.sigmoid = nn.Linear(240, 1), nn.Sigmoid()


class TransformerClassifier(nn.Module):
    def __init__(self, vocab=20000, length=128, width=256, classes=4):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.class_token = nn.Parameter(torch.zeros(1, 1, width))
        self.position_embedding = nn.Parameter(torch.zeros(1, length + 1, width))
        self.embedding_norm = nn.LayerNorm(width)
        self.embedding_dropout = nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(width, 4, 1024, 0.1, "gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)
        self.classifier = nn.Linear(width, classes)

    def forward(self, tokens):
        x = self.token_embedding(tokens)
        x = torch.cat([self.class_token.expand(len(x), -1, -1), x], dim=1)
        x = self.embedding_dropout(self.embedding_norm(x + self.position_embedding))
        return self.classifier(self.encoder(x)[:, 0])


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1, self.relu1 = nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()
        self.conv2, self.relu2 = nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU()


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.pool, self.conv = nn.MaxPool2d(2), DoubleConv(cin, cout)


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up, self.conv = nn.ConvTranspose2d(cin, cout, 2, stride=2), DoubleConv(cin, cout)


class UNet(nn.Module):
    """Ronneberger et al. 2015, Figure 1, with padded convolutions."""

    def __init__(self):
        super().__init__()
        self.inc = DoubleConv(1, 64)
        self.down1, self.down2 = Down(64, 128), Down(128, 256)
        self.down3, self.down4 = Down(256, 512), Down(512, 1024)
        self.up1, self.up2 = Up(1024, 512), Up(512, 256)
        self.up3, self.up4 = Up(256, 128), Up(128, 64)
        self.outc = nn.Conv2d(64, 2, 1)


REFERENCES = {("gan_mnist_fc", "generator"): Generator,
              ("gan_mnist_fc", "discriminator"): Discriminator,
              ("transformer_classifier", "transformer_classifier"): TransformerClassifier,
              ("unet", "unet"): UNet}


@pytest.mark.parametrize(("stem", "network"), sorted(COUNTS))
def test_the_same_model_written_with_torch_has_the_same_weights(stem, network, generated):
    # Meta tensors spare the U-Net's 31M weights; MultiheadAttention is quicker on the CPU.
    with torch.device("meta" if stem == "unet" else "cpu"):
        reference = REFERENCES[(stem, network)]()
        ours = generated[stem][1][network]()
    shapes = lambda model: {k: tuple(v.shape) for k, v in model.state_dict().items()}  # noqa: E731
    assert shapes(ours) == shapes(reference)
    assert sum(p.numel() for p in reference.parameters()) == COUNTS[(stem, network)]


def test_transformer_computes_what_the_hand_written_one_computes(generated):
    torch.manual_seed(0)
    reference = TransformerClassifier().eval()
    ours = generated["transformer_classifier"][1]["transformer_classifier"]().eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    tokens = torch.randint(0, 20000, (2, 128))
    with torch.no_grad():
        torch.testing.assert_close(ours(tokens), reference(tokens))


# -- generated code ----------------------------------------------------------------------------
@pytest.mark.parametrize(("stem", "network"), sorted(COUNTS))
def test_generated_forward_gives_the_inferred_shapes(stem, network, generated):
    project, classes = generated[stem]
    # One image through the U-Net (a 31M-parameter network) is enough.
    check_model(project, project.network(network), classes[network],
                sizes={"N": 1} if stem == "unet" else None)


# -- training ----------------------------------------------------------------------------------
def test_gan_trains_with_the_runner_on_digits_and_writes_samples(tmp_path, capsys):
    code = main(["train", str(EXAMPLES / "gan_mnist_fc.json"), "--task", "gan", "--data",
                 "digits", "--max-epochs", "1", "--limit-train-batches", "2", "--out",
                 str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "samples" / "epoch_001.png").stat().st_size > 0
    with open(tmp_path / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [2]
    assert all(math.isfinite(float(rows[0][k])) for k in ("d_loss", "g_loss"))
    assert 0 <= float(rows[0]["d_real"]) <= 1 and 0 <= float(rows[0]["d_fake"]) <= 1


def fit_a_batch(model: nn.Module, inputs, target, steps: int) -> list[float]:
    """Adam on one batch, `steps` times: the losses, which must fall."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), target)  # (N, C) or per pixel (N, C, H, W)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_transformer_trains_with_the_runner_on_synthetic_token_ids(tmp_path, capsys):
    # Token ids below the nn.Embedding's 20,000, in four classes told by their marker ids.
    code = main(["train", str(EXAMPLES / "transformer_classifier.json"), "--data",
                 "synthetic:classes=4,n=24", "--max-steps", "2", "--batch-size", "4",
                 "--limit-val-batches", "1", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    with open(tmp_path / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows if r.get("train_loss")][-1] == 2
    assert all(math.isfinite(float(r["train_loss"])) for r in rows if r.get("train_loss"))


def test_unet_trains_a_few_steps_per_pixel_at_any_multiple_of_16(generated):
    torch.manual_seed(0)
    model = generated["unet"][1]["unet"]()
    image = torch.rand(1, 1, 32, 32)
    mask = (image[:, 0] > 0.5).long()  # (N, H, W) class indices
    assert model(image).shape == (1, 2, 32, 32)  # output size = input size
    losses = fit_a_batch(model, image, mask, steps=2)
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
