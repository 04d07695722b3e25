"""The lints find the types they look at by tag on the catalog's specs: every type the lints
listed by name before carries its tag (and no other type does), and each tag-based lint
fires for every type tagged for it, so a type tagged later is covered without a lint edit."""

from __future__ import annotations

import pytest

from graph_schema.catalog import TAGS, LayerSpec, all_specs
from graph_schema.document import Training
from tests.diagnosis import the
from tests.graphs import chain_edges, node, project

# The type sets graph_schema/lints.py held before the tags: the lints' behaviour is kept when
# exactly these types carry each tag.
OLD_SETS = {
    "softmax": {"nn.Softmax", "nn.LogSoftmax", "op.softmax", "op.log_softmax"},
    "biased": {"nn.Linear", "nn.Conv1d", "nn.Conv2d", "nn.Conv3d", "nn.ConvTranspose1d",
               "nn.ConvTranspose2d", "nn.ConvTranspose3d"},
    "batch-norm": {"nn.BatchNorm1d", "nn.BatchNorm2d", "nn.BatchNorm3d"},
    "dropout": {"nn.Dropout", "nn.Dropout1d", "nn.Dropout2d", "nn.Dropout3d",
                "nn.AlphaDropout", "nn.FeatureAlphaDropout"},
    "transparent": {"nn.Dropout", "nn.Dropout1d", "nn.Dropout2d", "nn.Dropout3d",
                    "nn.AlphaDropout", "nn.FeatureAlphaDropout", "nn.Identity"},
    "reshape": {"op.reshape", "op.view"},
}


def tagged(tag: str) -> list[str]:
    return sorted(spec.type for spec in all_specs() if tag in spec.tags)


def chain(shape, *middle, loss="mse"):
    nodes = [node("in", "io.Input", "x", shape=list(shape)), *middle,
             node("out", "io.Output", "y")]
    return project(nodes, chain_edges("in", *(n.id for n in middle), "out"),
                   training=Training(loss=loss))


@pytest.mark.parametrize("tag", sorted(OLD_SETS))
def test_exactly_the_types_the_lints_listed_carry_the_tag(tag):
    assert set(tagged(tag)) == OLD_SETS[tag]


def test_every_tag_is_known_and_an_unknown_one_is_refused():
    assert set(OLD_SETS) == set(TAGS)
    with pytest.raises(ValueError, match="unknown tags"):
        LayerSpec(type="nn.Mystery", family="op", rule=lambda _p, i: [i[0]],
                  tags=frozenset({"droput"}))


@pytest.mark.parametrize("type_name", tagged("softmax"))
def test_a_softmax_before_cross_entropy_is_flagged(type_name):
    probs = node("s", type_name, "probs", dim=1)
    d = the(chain(["N", 8], probs, loss="cross_entropy"), "softmax-before-loss")
    assert d.node_id == "s"


@pytest.mark.parametrize("type_name", tagged("transparent"))
def test_a_transparent_layer_between_two_linears_is_no_activation(type_name):
    broken = chain(["N", 8], node("a", "nn.Linear", "fc1", out_features=16),
                   node("t", type_name, "between"), node("b", "nn.Linear", "fc2",
                                                          out_features=4))
    assert the(broken, "linear-linear").node_id == "b"


# The batch norm for an input of each rank, an input shape of that rank, and the rank each
# dropout needs (the others take any).
NORM_OF_RANK = {2: "nn.BatchNorm1d", 3: "nn.BatchNorm1d", 4: "nn.BatchNorm2d",
                5: "nn.BatchNorm3d"}
SHAPE_OF_RANK = {2: ["N", 8], 3: ["N", 3, 16], 4: ["N", 3, 16, 16], 5: ["N", 3, 8, 8, 8]}
DROPOUT_RANK = {"nn.Dropout2d": 4, "nn.Dropout3d": 5}


def biased_layer(type_name: str):
    """A layer with a bias, and the rank of its input."""
    if type_name == "nn.Linear":
        return node("l", type_name, "layer", out_features=4), 2
    dims = int(type_name[-2])  # nn.Conv2d, nn.ConvTranspose3d
    return node("l", type_name, "layer", out_channels=4, kernel_size=3), dims + 2


@pytest.mark.parametrize("type_name", tagged("biased"))
def test_a_bias_right_before_batch_norm_is_flagged(type_name):
    layer, rank = biased_layer(type_name)
    broken = chain(SHAPE_OF_RANK[rank], layer, node("b", NORM_OF_RANK[rank], "bn"))
    assert the(broken, "bias-before-batchnorm").node_id == "l"


@pytest.mark.parametrize("type_name", tagged("dropout"))
def test_dropout_right_before_batch_norm_is_flagged(type_name):
    rank = DROPOUT_RANK.get(type_name, 3)
    broken = chain(SHAPE_OF_RANK[rank], node("d", type_name, "drop"),
                   node("b", NORM_OF_RANK[rank], "bn"))
    assert the(broken, "dropout-before-batchnorm").node_id == "b"


@pytest.mark.parametrize("norm", tagged("batch-norm"))
def test_every_batch_norm_after_dropout_is_flagged(norm):
    rank = max(r for r, n in NORM_OF_RANK.items() if n == norm)
    broken = chain(SHAPE_OF_RANK[rank], node("d", "nn.Dropout", "drop"), node("b", norm, "bn"))
    assert the(broken, "dropout-before-batchnorm").node_id == "b"


@pytest.mark.parametrize("type_name", tagged("reshape"))
def test_a_reshape_to_the_same_sizes_in_another_order_is_flagged(type_name):
    broken = chain(["N", 64, 49], node("r", type_name, "tokens", shape=["N", 49, 64]))
    assert the(broken, "reshape-not-permute").node_id == "r"
