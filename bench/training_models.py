"""Models and data for bench/bench_training.py: the digits CNN generated from
examples/digits_cnn.json, an MLP, and a CIFAR-sized ResNet-18 (3x32x32 inputs, 10 classes), each
with the training tensors it is benchmarked on."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from builder.training.data import load_dataset, parse_data, split

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Workload:
    """One model on one training set: what both loops get, the same for each."""

    name: str
    make_model: object  # () -> nn.Module, fresh weights from the same seed each call
    data: str  # the --data text the tensors came from, for the report
    x: torch.Tensor
    y: torch.Tensor
    dataset: object  # the loaded ArrayDataset (task and num_classes) for resolve_task
    batch_size: int
    epochs: int

    @property
    def steps(self) -> int:
        return self.epochs * -(-len(self.x) // self.batch_size)


def generated_class(project_path: Path, class_name: str) -> type[nn.Module]:
    """The nn.Module class codegen writes for the project (the code a user trains)."""
    from codegen import generate_source
    from graph_schema import load_project

    source = generate_source(load_project(project_path), class_name=class_name)
    folder = Path(tempfile.mkdtemp(prefix="bench-training-model-"))
    try:
        path = folder / "generated_model.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("bench_generated_model", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return getattr(module, class_name)


class MLP(nn.Module):
    def __init__(self, inputs: int = 64, width: int = 256, classes: int = 10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(inputs, width), nn.ReLU(),
            nn.Linear(width, width), nn.ReLU(),
            nn.Linear(width, classes),
        )

    def forward(self, x):
        return self.net(x)


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class CifarResNet18(nn.Module):
    """ResNet-18 as usually trained on CIFAR-10: a 3x3 stem without max pool (32x32 inputs keep
    their resolution into the first stage), four stages of two basic blocks, 11.2M parameters."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True))
        stages = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
        self.stages = nn.Sequential(*[
            nn.Sequential(BasicBlock(i, o, s), BasicBlock(o, o)) for i, o, s in stages])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes))

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


def _seeded(cls, *args):
    def make():
        torch.manual_seed(0)
        return cls(*args)
    return make


def _train_tensors(data: str, input_shape) -> tuple[object, torch.Tensor, torch.Tensor]:
    """The training split (seed 0, as the runner splits) of `data`, as two tensors."""
    dataset = load_dataset(parse_data(data), input_shape)
    train, _val, _test = split(dataset, 0)
    index = torch.as_tensor(train.indices)
    x, y = dataset.tensors
    return dataset, x[index].contiguous(), y[index].contiguous()


def digits_cnn(epochs: int, batch_size: int = 64) -> Workload:
    cls = generated_class(ROOT / "examples/digits_cnn.json", "DigitsCnn")
    dataset, x, y = _train_tensors("digits", ("N", 1, 8, 8))
    return Workload("digits CNN", _seeded(cls), "digits", x, y, dataset, batch_size, epochs)


def mlp(epochs: int, samples: int = 8192, batch_size: int = 128) -> Workload:
    data = f"synthetic:shape=64,classes=10,n={samples}"
    dataset, x, y = _train_tensors(data, ("N", 64))
    return Workload("MLP 64-256-256-10", _seeded(MLP), data, x, y, dataset, batch_size, epochs)


def cifar_resnet18(epochs: int, samples: int = 10240, batch_size: int = 256) -> Workload:
    data = f"synthetic:shape=3,32,32,classes=10,n={samples}"
    dataset, x, y = _train_tensors(data, ("N", 3, 32, 32))
    return Workload("ResNet-18 CIFAR", _seeded(CifarResNet18), data, x, y, dataset,
                    batch_size, epochs)
