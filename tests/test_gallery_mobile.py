"""The gallery's DenseNet-121, MobileNetV2 and EfficientNet-B0: each validates clean, has its
published parameter count, builds torchvision's exact module tree, renders, runs its ImageNet
network on one image with every shape as inferred, and trains its 32x32 network."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from PySide6.QtGui import QImage

from builder.cli import main
from graph_schema import load_project, validate
from graph_schema.inference import Inference
from graph_schema.summary import summarize
from tests.codegen_support import check_model, generate_and_import, network_classes

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Example:
    file: str
    imagenet: str
    published: int  # torchvision's num_params for the paper's ImageNet configuration
    # sha256 of torchvision 0.28's state_dict, one "key [shape]" line per entry, sorted: the
    # drawn model saves its weights under the same names and shapes, so pretrained weights
    # load into the generated code with strict=True.
    torchvision_digest: str
    small: str
    small_params: int  # the 32x32, 10-class network


EXAMPLES = [
    Example("densenet121.json", "densenet121", 7_978_856,
            "d9126905d0ec5cf693d4f6632265cb5bed0fe1ac92f10f1a6dc842c5f6046dc7",
            "densenet_bc100_cifar", 769_162),
    Example("mobilenet_v2.json", "mobilenet_v2", 3_504_872,
            "b37e2a9130e6341bc6158c07707da3e63bbde46fdbffb1ff4d42ea45ff281e7e",
            "mobilenet_v2_cifar", 2_236_682),
    Example("efficientnet_b0.json", "efficientnet_b0", 5_288_548,
            "c82a02375566e02aebb36f2b298626ffdf184ad3699993b7420b365d05c7c854",
            "efficientnet_b0_cifar", 4_020_358),
]
# Fewer samples than the documented n=64 (the val and test passes run on all of theirs).
SYNTHETIC = "synthetic:shape=3,32,32,classes=10,n=24"


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda e: e.imagenet)
def example(request):
    return request.param


@pytest.fixture(scope="module")
def project(example):
    return load_project(ROOT / "examples" / example.file)


@pytest.fixture(scope="module")
def classes_of(tmp_path_factory):
    """classes_of(file) -> {network name: generated class}, from code that passed ruff with
    its default settings; generated once per file."""
    cache = {}

    def classes(file: str):
        if file not in cache:
            project = load_project(ROOT / "examples" / file)
            source, module, _ = generate_and_import(project, tmp_path_factory.mktemp("gen"))
            cache[file] = network_classes(project, source, module)
        return cache[file]
    return classes


@pytest.fixture(scope="module")
def generated(example, classes_of):
    return classes_of(example.file)


def build(model_class, **kwargs) -> torch.nn.Module:
    """The module with torch's own initialisation (a tenth of a second for DenseNet-121;
    building on the meta device saves nothing here)."""
    torch.manual_seed(0)
    return model_class(**kwargs)


def digest(model: torch.nn.Module) -> str:
    text = "\n".join(f"{key} {list(value.shape)}"
                     for key, value in sorted(model.state_dict().items()))
    return hashlib.sha256(text.encode()).hexdigest()


def test_validates_with_no_errors_and_no_warnings(project):
    assert [d.message for d in validate(project)] == []


def test_summary_gives_the_published_count_and_the_notes_cite_it(example, project, capsys):
    path = str(ROOT / "examples" / example.file)
    for network, count in ((example.imagenet, example.published),
                           (example.small, example.small_params)):
        assert main(["summary", path, "--network", network]) == 0
        assert f"Total params: {count:,}\n" in capsys.readouterr().out
    assert f"{example.published:,}" in project.notes
    assert f"{example.small_params:,}" in project.notes
    assert "torchvision" in project.notes and "Table" in project.notes


def test_summary_groups_features_and_classifier(example, project):
    top = [row.name for row in summarize(project, project.network(example.imagenet)).rows
           if row.depth == 0]
    assert top[0] == "features" and top[-1] == "classifier"


def test_generated_code_is_torchvisions_module_tree(example, generated):
    model = build(generated[example.imagenet])
    assert sum(p.numel() for p in model.parameters()) == example.published
    assert digest(model) == example.torchvision_digest


def test_the_imagenet_network_runs_one_image_with_the_inferred_shapes(example, project,
                                                                      generated):
    """Every layer's output, nested blocks included, against inference (one 224x224 image:
    a fraction of a second even for DenseNet-121; meta tensors would be slower)."""
    _, (logits,) = check_model(project, project.network(example.imagenet),
                               generated[example.imagenet], sizes={"N": 1})
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()


def test_the_small_network_runs_with_the_inferred_shapes(example, project, generated):
    _, (logits,) = check_model(project, project.network(example.small),
                               generated[example.small], sizes={"N": 1})
    assert logits.shape == (1, 10) and torch.isfinite(logits).all()


def test_num_classes_is_a_constructor_argument(example, generated):
    model = build(generated[example.imagenet], num_classes=10)
    linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linear] == [10]


def test_the_small_network_trains(example, tmp_path, capsys):
    code = main(["train", str(ROOT / "examples" / example.file), "--network", example.small,
                 "--data", SYNTHETIC, "--fast-dev-run", "--batch-size", "2",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "epoch 1/1  step 1" in err and "nan" not in err


def test_both_networks_render(example, qapp, tmp_path, capsys):
    for network in (example.imagenet, example.small):
        out = tmp_path / f"{network}.png"
        assert main(["render", str(ROOT / "examples" / example.file), "--network", network,
                     "-o", str(out)]) == 0
        assert QImage(str(out)).height() > 600  # the whole chain, top to bottom
    capsys.readouterr()


def test_every_block_tab_opens_with_shapes_and_no_errors(project, qapp):
    """A block's own tab shows the shapes of its first placement with the block's default
    arguments: the defaults must be that placement's, or the tab would show mismatches."""
    from builder.gui.project_document import ProjectDocument, block_key

    doc = ProjectDocument(project)
    assert [d.message for d in doc.diagnostics()] == []
    assert all(doc.analysis(block_key(b.name)).block_inputs for b in project.blocks)


def test_no_node_lacks_a_position(project):
    from graph_schema.layout import lacks_positions

    assert not any(lacks_positions(g) for g in [*project.networks, *project.blocks])


# -- what each paper's figure says ------------------------------------------------------------

def block_output_channels(project, network: str, block_name: str) -> list[int]:
    """Channels out of every placement of ``block_name`` inside the network's features."""
    features = project.network(network).node_map()["features"]
    inner = Inference(project.block(features.type[len("block:"):]), project,
                      input_shapes={"x": ["N", 3, 224, 224] if network == "densenet121"
                                    else ["N", 3, 32, 32]})
    return [inner.states[n.id].outputs[0][1] for n in inner.network.nodes
            if n.type == f"block:{block_name}"]


def test_densenet_growth_rate_is_a_block_argument():
    project = load_project(ROOT / "examples" / "densenet121.json")
    layer = project.block("DenseLayer")
    assert set(layer.arguments) == {"growth_rate", "bottleneck_channels"}
    # DenseBlock16 placed with k=32 (ImageNet: 512 in) and with k=12 (CIFAR: 108 and 150 in).
    assert block_output_channels(project, "densenet121", "DenseBlock16") == [512 + 16 * 32]
    assert block_output_channels(project, "densenet_bc100_cifar", "DenseBlock16") == \
        [24 + 16 * 12, 108 + 16 * 12, 150 + 16 * 12]


def test_mobilenet_v2_has_17_bottlenecks_10_with_a_shortcut(classes_of):
    model = build(classes_of("mobilenet_v2.json")["mobilenet_v2"])
    kinds = [type(m).__name__ for m in model.features]
    assert len(kinds) == 19 and kinds.count("InvertedResidual") == 10
    assert sum(k.startswith("InvertedResidual") for k in kinds) == 17


def test_efficientnet_b0_has_se_in_all_16_blocks_and_dropout_0_2(classes_of):
    model = build(classes_of("efficientnet_b0.json")["efficientnet_b0"])
    names = [type(m).__name__ for m in model.modules()]
    assert sum(n in ("MBConv1", "MBConv6", "MBConv6NoShortcut") for n in names) == 16
    assert names.count("SqueezeExcitation") == 16
    (dropout,) = [m for m in model.classifier.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropout.p == 0.2
    project = load_project(ROOT / "examples" / "efficientnet_b0.json")
    assert "stochastic depth" in project.notes.lower()
