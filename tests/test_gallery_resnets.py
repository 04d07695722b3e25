"""The gallery's ImageNet classifiers: VGG-16, ResNet-34, ResNet-50 and SE-ResNet-50.

Each project holds the paper's configuration (224x224, 1000 classes) and a 32x32, 10-class
variant. What a user would check: it validates cleanly, `summary` shows the published parameter
count, it renders, its generated code runs with the inferred shapes, it is the same model as a
hand-written torch reference (the counts, the state_dict, the outputs), and the small variant
trains. ImageNet-size models are only built and run on the meta device, which costs no compute.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from builder.cli import main
from graph_schema import load_project, validate
from graph_schema.inference import Inference
from graph_schema.layout import lacks_positions
from graph_schema.summary import summarize
from tests.codegen_support import (
    ShapeRecorder,
    as_ints,
    check_model,
    concrete_project,
    generate_and_import,
    network_classes,
)

ROOT = Path(__file__).resolve().parent.parent

# stem: (ImageNet network, published count, 32x32 network, its count). The published counts
# are torchvision's documentation (vgg16, resnet34, resnet50); SE-ResNet-50's is worked out in
# its notes and checked against the reference below.
GALLERY = {
    "vgg16": ("vgg16", 138_357_544, "vgg16_cifar", 15_245_130),
    "resnet34": ("resnet34", 21_797_672, "resnet34_cifar", 21_282_122),
    "resnet50": ("resnet50", 25_557_032, "resnet50_cifar", 23_520_842),
    "se_resnet50": ("se_resnet50", 28_088_024, "se_resnet50_cifar", 26_051_834),
}
STEMS = list(GALLERY)


def path_of(stem: str) -> Path:
    return ROOT / "examples" / f"{stem}.json"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """{stem: (project, {network name: generated class})}, generated and imported once."""
    found = {}
    for stem in STEMS:
        project = load_project(path_of(stem))
        source, module, _ = generate_and_import(project, tmp_path_factory.mktemp(stem))
        found[stem] = (project, network_classes(project, source, module))
    return found


# -- hand-written torch references, the way torchvision and the papers write them ------------
class RefSE(nn.Module):
    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)

    def forward(self, x):
        scale = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(scale))))


def ref_downsample(inplanes: int, planes: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(planes))


class RefBasic(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, se=False):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride != 1 or inplanes != planes:
            self.downsample = ref_downsample(inplanes, planes, stride)

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        identity = self.downsample(x) if hasattr(self, "downsample") else x
        return torch.relu(out + identity)


class RefBottleneck(nn.Module):
    """torchvision's v1.5: the stride is on the 3x3 conv; SE (Hu et al.) before the sum."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, se=False):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.se = RefSE(out) if se else nn.Identity()
        if stride != 1 or inplanes != out:
            self.downsample = ref_downsample(inplanes, out, stride)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.se(self.bn3(self.conv3(out)))
        identity = self.downsample(x) if hasattr(self, "downsample") else x
        return torch.relu(out + identity)


class RefResNet(nn.Module):
    def __init__(self, block, layers, se=False, small=False):
        super().__init__()
        if small:  # the CIFAR stem: one 3x3 stride-1 conv, no max pool
            self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.pool = nn.Identity() if small else nn.MaxPool2d(3, stride=2, padding=1)
        inplanes = 64
        for index, (planes, count) in enumerate(zip((64, 128, 256, 512), layers), start=1):
            stride = 1 if index == 1 else 2
            blocks = []
            for i in range(count):
                blocks.append(block(inplanes, planes, stride if i == 0 else 1, se))
                inplanes = planes * block.expansion
            setattr(self, f"layer{index}", nn.Sequential(*blocks))
        self.fc = nn.Linear(inplanes, 10 if small else 1000)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        for index in range(1, 5):
            x = getattr(self, f"layer{index}")(x)
        return self.fc(torch.flatten(x.mean((2, 3)), 1))


class RefVGG16(nn.Module):
    """torchvision's vgg16 (configuration D): a flat features list, 7x7 pool, classifier."""

    def __init__(self, small=False):
        super().__init__()
        layers, channels = [], 3
        for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                      512, 512, 512, "M"):
            if width == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
                channels = width
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1 if small else 7)
        hidden, flat = (512, 512) if small else (4096, 512 * 7 * 7)
        self.classifier = nn.Sequential(
            nn.Linear(flat, hidden), nn.ReLU(), nn.Dropout(),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(),
            nn.Linear(hidden, 10 if small else 1000))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def reference(stem: str, small: bool) -> nn.Module:
    if stem == "vgg16":
        return RefVGG16(small)
    if stem == "resnet34":
        return RefResNet(RefBasic, [3, 4, 6, 3], small=small)
    return RefResNet(RefBottleneck, [3, 4, 6, 3], se=stem == "se_resnet50", small=small)


def shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


# -- the project as a user opens it --------------------------------------------------------
@pytest.mark.parametrize("stem", STEMS)
def test_validates_with_no_errors_or_warnings_and_opens_laid_out(stem, capsys):
    project = load_project(path_of(stem))
    assert [d.message for d in validate(project)] == []
    assert run(capsys, "validate", path_of(stem))[:2] == (
        0, f"{path_of(stem)}: valid (0 errors, 0 warnings)\n")
    assert not any(lacks_positions(graph) for graph in [*project.networks, *project.blocks])
    assert [net.name for net in project.networks] == [GALLERY[stem][0], GALLERY[stem][2]]


@pytest.mark.parametrize("stem", STEMS)
def test_summary_shows_the_published_parameter_count_written_in_the_notes(stem, capsys):
    project = load_project(path_of(stem))
    big, published, small, small_count = GALLERY[stem]
    for network, count in ((big, published), (small, small_count)):
        code, out, _ = run(capsys, "summary", path_of(stem), "--network", network)
        assert code == 0
        assert re.search(r"^Total params: ([\d,]+)$", out, re.M).group(1) == f"{count:,}"
        assert f"{count:,}" in project.notes + project.network(network).notes
    assert "Published parameter count" in project.notes


def test_the_model_top_level_parts_are_named_as_in_the_reference_implementations(capsys):
    _, out, _ = run(capsys, "summary", path_of("vgg16"), "--network", "vgg16")
    top = re.findall(r"^(\w+) +(?:block:|nn\.)", out, re.M)
    assert top == ["features", "avgpool", "flatten", "classifier"]
    _, out, _ = run(capsys, "summary", path_of("resnet50"), "--network", "resnet50")
    top = re.findall(r"^(\w+) +(?:block:|nn\.)", out, re.M)
    assert top == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                   "avgpool", "flatten", "fc"]


def test_the_se_block_is_drawn_once_and_placed_in_every_bottleneck(capsys):
    project = load_project(path_of("se_resnet50"))
    assert sum(block.name == "SqueezeExcitation" for block in project.blocks) == 1
    _, out, _ = run(capsys, "summary", path_of("se_resnet50"), "--network", "se_resnet50")
    assert out.count("block:SqueezeExcitation") == 3 + 4 + 6 + 3


@pytest.mark.parametrize("stem", STEMS)
def test_renders(stem, capsys, qapp, tmp_path):
    from PySide6.QtGui import QImage

    image = tmp_path / f"{stem}.png"
    code, out, _ = run(capsys, "render", path_of(stem), "-o", image)
    assert (code, out) == (0, f"wrote {image}\n")
    assert QImage(str(image)).height() > 1000  # a tall, top-to-bottom diagram


# -- the generated code ----------------------------------------------------------------------
def check_on_meta(project, network, model_class) -> None:
    """check_model on the meta device: every layer's output shape against inference, and the
    parameter count against the summary, for one image, without computing anything."""
    concrete = concrete_project(project, {"N": 1})
    inference = Inference(concrete.network(network.name), concrete)
    with torch.device("meta"):
        model = model_class().eval()
    assert sum(p.numel() for p in model.parameters()) == summarize(project, network).total_params
    recorder = ShapeRecorder()
    recorder.attach(concrete, model, inference)
    (image,) = (torch.empty(as_ints(inference.output_shape(node.id)), device="meta")
                for node in network.inputs())
    try:
        logits = model(image)
    finally:
        recorder.remove()
    recorder.check()
    (output,) = network.outputs()
    assert tuple(logits.shape) == as_ints(inference.input_shapes_of(output.id)[0]) == (1, 1000)


@pytest.mark.parametrize("stem", STEMS)
def test_imagenet_network_generates_the_reference_model(stem, generated):
    """Inferred shapes and the published count, and for the ResNets torchvision's own
    state_dict keys and shapes."""
    project, classes = generated[stem]
    big, published, _, _ = GALLERY[stem]
    check_on_meta(project, project.network(big), classes[big])
    with torch.device("meta"):
        ours, theirs = classes[big](), reference(stem, small=False)
    assert sum(p.numel() for p in theirs.parameters()) == published
    if stem == "vgg16":  # features.0.conv1 here, features.0 in torchvision: same order
        assert list(shapes(ours).values()) == list(shapes(theirs).values())
    else:
        assert shapes(ours) == shapes(theirs)


@pytest.mark.parametrize("stem", STEMS)
def test_small_variant_generates_code_that_computes_what_the_reference_does(stem, generated):
    project, classes = generated[stem]
    small = GALLERY[stem][2]
    torch.manual_seed(0)
    ours, _ = check_model(project, project.network(small), classes[small], sizes={"N": 2})
    theirs = reference(stem, small=True).eval()
    weights = ours.eval().state_dict()
    assert [tuple(v.shape) for v in weights.values()] == list(shapes(theirs).values())
    theirs.load_state_dict(dict(zip(theirs.state_dict(), weights.values())), strict=True)
    image = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(image), theirs(image))


def test_se_resnet50_count_is_resnet50_plus_the_se_blocks():
    """The exact figure behind the paper's 28.1M: 2 C^2/r weights and C/r + C biases per
    SE block, for the 16 bottlenecks' output widths C."""
    widths = [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3
    se = sum(2 * c * c // 16 + c // 16 + c for c in widths)
    weights = sum(2 * c * c // 16 for c in widths)  # the paper's (2/r) sum of N_s C_s^2
    assert (se, weights, 25_557_032 + se) == (2_530_992, 2_514_944, GALLERY["se_resnet50"][1])
    notes = load_project(path_of("se_resnet50")).notes
    assert all(figure in notes for figure in ("28,088,024", "2,530,992", "2,514,944", "28.1M"))


# -- the small variant trains --------------------------------------------------------------
@pytest.mark.parametrize("stem", STEMS)
def test_small_variant_trains_with_the_runner(stem, capsys, tmp_path):
    small, count = GALLERY[stem][2], GALLERY[stem][3]
    code, _, err = run(capsys, "train", path_of(stem), "--network", small,
                       "--data", "synthetic:shape=3,32,32,classes=10,n=64", "--fast-dev-run",
                       "--batch-size", "2", "--out", tmp_path / "run")
    assert code == 0, err
    assert f"{count:,} parameters" in err
    losses = re.search(r"epoch 1/1  step 1  train_loss (\S+)  val_loss (\S+)", err)
    assert losses and all(math.isfinite(float(v)) for v in losses.groups())
