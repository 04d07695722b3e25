"""The acid test of import: import a model written the way people write them, generate code
from the diagram, load the original state_dict with strict=True, get the same outputs, in
evaluation and in training mode (same seed, same dropout masks, same batch statistics)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

from codegen import import_model
from codegen.importer import recording
from graph_schema import project_from_json, validate
from graph_schema.files import project_to_json
from tests.codegen_support import class_names, generate_and_import
from tests.import_models import (
    densenet,
    functional,
    holders,
    kept,
    mobilenet,
    recurrent,
    resnet,
    se,
    siamese,
    transformer,
    unet,
)


def images(*shape):
    return lambda batch: (torch.randn(batch, *shape),)


def tokens(length, vocab):
    return lambda batch: (torch.randint(0, vocab, (batch, length)),)


@dataclass
class Case:
    build: Callable
    inputs: Callable[[int], tuple]
    expect: tuple[str, ...] = ()  # text the generated code must contain
    any_batch: bool = True  # the diagram's batch is symbolic all the way


CASES = {
    "resnet": Case(resnet.ResNet, images(3, 16, 16),
                   ("self.shortcut = nn.Sequential()", "class BasicBlock(nn.Module)",
                    "self.layer1 = nn.Sequential(")),
    "densenet": Case(densenet.DenseNet, images(3, 8, 8),
                     ("self.layers = nn.ModuleList(", "self.layers[2](", "torch.cat(")),
    "se": Case(se.SEConvNet, images(3, 8, 8), ("torch.sigmoid(", ".view((h.size(0), -1, 1, 1))",
                                                "class SEBlock(nn.Module)")),
    "mobilenet": Case(mobilenet.MobileNetV2, images(3, 16, 16),
                      ("class InvertedResidual(nn.Module)", "nn.ReLU6(inplace=True)")),
    "transformer": Case(transformer.TokenTransformer, tokens(6, 50),
                        ("nn.TransformerEncoder(", "self.cls_token = nn.Parameter(",
                         "persistent=False", "self.cls_token.expand(embed.size(0), -1, -1)")),
    "bilstm": Case(recurrent.BiLSTMClassifier, tokens(7, 30),
                   ("nn.LSTM(8, 12, batch_first=True, bidirectional=True)",)),
    "unet": Case(unet.UNet, images(3, 16, 16),
                 ("nn.ConvTranspose2d(", "F.pad(", "torch.cat([x2, x], dim=1)")),
    "siamese": Case(siamese.Siamese, lambda b: (torch.randn(b, 1, 8, 8),
                                                torch.randn(b, 1, 8, 8)),
                    ("self.encoder(left)", "self.encoder(right)", "torch.abs(")),
    "functional": Case(functional.FunctionalNet, images(1, 28, 28),
                       ("F.max_pool2d(", "x.view((x.size(0), -1))", "nn.Dropout(p=0.25)",
                        "F.log_softmax(")),
    "holders": Case(holders.TiedLanguageModel, tokens(5, 20),
                    ("self.decoder.weight = self.embed.weight", "self.spare_head = ",
                     "for layer in self.blocks:", "persistent=False")),
    "kept": Case(kept.KeptParts, images(4),
                 ("# Kept verbatim from the imported model: class ClampIfLarge",
                  "class NoisyInTraining(nn.Module):", "self.clamp = ClampIfLarge(")),
}


def outputs(result) -> list[torch.Tensor]:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def assert_same(model, generated, inputs, train: bool) -> None:
    model.train(train)
    generated.train(train)
    torch.manual_seed(7)
    expected = outputs(model(*inputs))
    torch.manual_seed(7)
    got = outputs(generated(*inputs))
    assert len(expected) == len(got)
    for a, b in zip(expected, got):
        assert a.shape == b.shape
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), (a - b).abs().max()


@pytest.mark.parametrize("name", sorted(CASES))
def test_import_generate_load_and_compare(name, tmp_path):
    case = CASES[name]
    torch.manual_seed(0)
    with recording():
        model = case.build()
    inputs = case.inputs(2)
    project = import_model(model, inputs)
    assert not [d for d in validate(project) if d.is_error]
    reopened = project_from_json(project_to_json(project))
    source, module, _ = generate_and_import(reopened, tmp_path)
    for text in case.expect:
        assert text in source, f"{text!r} not in\n{source}"
    generated = getattr(module, class_names(source)[-1])()
    generated.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        assert_same(model, generated, inputs, train=False)
        assert_same(model, generated, inputs, train=True)
        if case.any_batch:
            assert_same(model, generated, case.inputs(3), train=False)
