"""The acid test of import (tests/import_models/acid.py) on models written the way people write
them: the generated code loads the original state_dict with strict=True and gives the same
outputs, with randomised norms, at two batch sizes and in training mode; and every class is
drawn, except where a case says which are kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

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
from tests.import_models.acid import acid


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
    kept: tuple[str, ...] = ()  # the classes kept as source: none, unless the case is about it


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
                  "class NoisyInTraining(nn.Module):", "self.clamp = ClampIfLarge("),
                 kept=("ClampIfLarge", "NoisyInTraining")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_import_generate_load_and_compare(name, tmp_path):
    case = CASES[name]
    verdict = acid(case.build, case.inputs, tmp_path, any_batch=case.any_batch)
    for text in case.expect:
        assert text in verdict.source, f"{text!r} not in\n{verdict.source}"
    # A pass that keeps a class verbatim is not a fully drawn one: each case says which.
    assert verdict.kept == case.kept
