"""Hugging Face transformers, tiny and built from config (no download), through the strict
acid test (tests/import_models/acid.py): their blocks take ``**kwargs`` and branch on config
flags, which torch.fx cannot trace, so the walker falls back to torch.export (walk.py).

What is compared is one transformer layer of each family (``BertLayer``, ``GPT2Block``,
``ViTLayer``), and the whole ``BertModel``, ``GPT2Model`` and ``ViTModel``, every class drawn:
their roots build attention masks from torch.arange, comparisons, and (GPT-2) a running count
of packed sequences picked by index tensors; BERT's encoder returns a ModelOutput that its
root reads by name, and BERT's attention is a child named ``self``; GPT-2's Conv1D is a
linear layer written with torch.addmm. Attention dropout is 0 in most of these configs
and 0.1 in two (a ViT layer, and BERT as its default config builds it):
``F.scaled_dot_product_attention`` is passed ``dropout_p=p if self.training else 0``, which
the catalog's op says with ``training_only``; the hidden dropouts (``nn.Dropout`` layers)
keep their p, and train mode is compared (same seed, same masks).
"""

from __future__ import annotations

import time

import pytest
import torch

from tests.import_models.acid import acid

transformers = pytest.importorskip("transformers")

HIDDEN, LENGTH = 64, 8


def _sdpa(config):
    # a layer built alone reads the attention function from its config: the one BertModel,
    # GPT2Model and ViTModel choose by default
    config._attn_implementation = "sdpa"
    return config


def _gpt2_config():
    return _sdpa(transformers.GPT2Config(
        n_embd=HIDDEN, n_layer=2, n_head=2, n_inner=128, vocab_size=100, n_positions=64,
        attn_pdrop=0.0, use_cache=False))


def _vit_config():
    return _sdpa(transformers.ViTConfig(
        hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
        image_size=32, patch_size=8, num_channels=3, attention_probs_dropout_prob=0.0))


def _bert_config():
    return _sdpa(transformers.BertConfig(
        hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
        vocab_size=100, max_position_embeddings=64, attention_probs_dropout_prob=0.0))


def _gpt2_block():
    from transformers.models.gpt2.modeling_gpt2 import GPT2Block
    return GPT2Block(_gpt2_config())


def _vit_layer():
    from transformers.models.vit.modeling_vit import ViTLayer
    return ViTLayer(_vit_config())


def _hidden_states(batch: int) -> tuple:
    return (torch.randn(batch, LENGTH, HIDDEN),)


def _bert_layer():
    from transformers.models.bert.modeling_bert import BertLayer
    return BertLayer(_bert_config())


def _vit_layer_with_attention_dropout():
    from transformers.models.vit.modeling_vit import ViTLayer
    config = _vit_config()
    config.attention_probs_dropout_prob = 0.1
    return ViTLayer(config)


# with attention dropout, as the default configs have it: dropout_p follows the mode
# (op.scaled_dot_product_attention's training_only), and train mode is compared too
LAYERS = {"bert": _bert_layer, "gpt2": _gpt2_block, "vit": _vit_layer,
          "vit-attention-dropout": _vit_layer_with_attention_dropout}


@pytest.mark.parametrize("family", sorted(LAYERS))
def test_a_transformer_layer_round_trips_with_its_attention_drawn(family, tmp_path):
    started = time.perf_counter()
    verdict = acid(LAYERS[family], _hidden_states, tmp_path)
    print(f"{family}: {verdict.drawn.line()} ({time.perf_counter() - started:.1f} s)")
    assert verdict.kept == () and verdict.drawn.drawn_share == 1.0
    assert "F.scaled_dot_product_attention(" in verdict.source


def _bert_model():
    return transformers.BertModel(_bert_config())


def _gpt2_model():
    return transformers.GPT2Model(_gpt2_config())


def _vit_model():
    return transformers.ViTModel(_vit_config())


def _token_ids(batch: int) -> tuple:
    return (torch.randint(0, 100, (batch, LENGTH)),)


def _images(batch: int) -> tuple:
    return (torch.randn(batch, 3, 32, 32),)


# family -> (build, inputs, calls the generated code must make)
MODELS = {
    # BertAttention's child named self; the encoder's ModelOutput read by name (recorded:
    # run for real, transformers leaves the mask out when there is no padding)
    "bert": (_bert_model, _token_ids, ("self.self = ",)),
    # GPT-2's root reads a tensor's values (whether sequences are packed), which a run on
    # meta tensors cannot: torch.export traces it, and the causal mask of packed sequences
    # is drawn (diff, cumsum, picks by index tensors, casts); Conv1D is torch.addmm
    "gpt2": (_gpt2_model, _token_ids, ("torch.diff(", "torch.cumsum(", ".to(torch.bool)",
                                       "torch.addmm(")),
    "vit": (_vit_model, _images, ("self.patch_embeddings",)),
}


@pytest.mark.parametrize("family", sorted(MODELS))
def test_a_whole_model_round_trips_with_every_class_drawn(family, tmp_path):
    build, inputs, calls = MODELS[family]
    started = time.perf_counter()
    verdict = acid(build, inputs, tmp_path)
    print(f"{family}: {verdict.drawn.line()} ({time.perf_counter() - started:.1f} s)")
    assert verdict.kept == () and verdict.drawn.drawn_share == 1.0
    for call in (*calls, "F.scaled_dot_product_attention("):
        assert call in verdict.source, call


def test_bert_as_its_default_config_builds_it(tmp_path):
    """BertConfig's defaults but for the sizes: attention dropout 0.1, which follows the
    mode in the generated code as in BERT's (dropout_p=0.1 if self.training else 0.0)."""
    def build():
        return transformers.BertModel(transformers.BertConfig(
            hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=128, vocab_size=100))

    verdict = acid(build, _token_ids, tmp_path)
    assert verdict.kept == () and verdict.drawn.drawn_share == 1.0
    assert "dropout_p=0.1 if self.training else 0.0" in verdict.source
