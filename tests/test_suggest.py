"""graph_schema.suggest: quick-add's order (what was typed, what fits, what is common) and
the numbers typed after a layer's name."""

from __future__ import annotations

import pytest

from graph_schema.catalog import all_specs, get_spec
from graph_schema.document import Network, Node, Position
from graph_schema.inference import Inference
from graph_schema.suggest import (
    COMMON_TYPES,
    FITS,
    MISFITS,
    Wanted,
    fit,
    numbered_params,
    ranked,
    split_numbers,
)

ENTRIES = [(s.family, s.type, s.description) for s in all_specs()]


def shape(*dims):
    """A tensor shape as inference makes it (symbolic N included)."""
    network = Network(name="t", nodes=[Node(id="a", type="io.Input", name="a",
                                            params={"shape": list(dims)},
                                            position=Position(x=0, y=0))])
    return Inference(network).output_shape("a")


def first(query: str, *dims, count: int = 1) -> list[str]:
    wanted = Wanted(shape=shape(*dims), fed=True) if dims else Wanted()
    return [t for _, t, _ in ranked(ENTRIES, query, wanted)][:count]


def test_every_common_type_is_in_the_catalog():
    assert all(get_spec(t) is not None for t in COMMON_TYPES)


def test_a_4d_tensor_gets_2d_pools_first_not_avgpool1d():
    assert first("pool", "N", 6, 28, 28, count=2) == ["nn.MaxPool2d", "nn.AvgPool2d"]
    assert first("avgpool", "N", 6, 28, 28) == ["nn.AvgPool2d"]


def test_a_3d_tensor_gets_1d_layers_first():
    assert first("conv", "N", 16, 100) == ["nn.Conv1d"]
    assert first("pool", "N", 16, 100, count=2) == ["nn.MaxPool1d", "nn.AvgPool1d"]
    assert first("batchnorm", "N", 16, 100) == ["nn.BatchNorm1d"]


def test_a_2d_tensor_gets_linear_and_batchnorm1d():
    assert first("lin", "N", 400) == ["nn.Linear"]
    assert first("norm", "N", 400) == ["nn.BatchNorm1d"]
    # Conv2d cannot take a 2-D tensor at all: it comes after the convolutions that can.
    convs = first("conv", "N", 400, count=6)
    assert convs.index("nn.Conv2d") > convs.index("nn.Conv1d")


def test_the_exact_name_wins_over_fit():
    assert first("conv1d", "N", 6, 28, 28) == ["nn.Conv1d"]


def test_the_unfiltered_list_starts_with_the_common_layers_then_goes_by_name():
    names = first("", count=len(ENTRIES))
    assert names[:5] == ["nn.Conv2d", "nn.ReLU", "nn.BatchNorm2d", "nn.MaxPool2d", "nn.Linear"]
    rest = names[len(COMMON_TYPES):]
    nn_rest = [n for n in rest if n.startswith("nn.")]
    assert nn_rest == sorted(nn_rest, key=lambda t: t.split(".", 1)[1].lower())
    lengths = [len(n) for n in names[:20]]
    assert lengths != sorted(lengths)  # no longer sorted by name length


def test_after_a_4d_tensor_the_unfiltered_list_starts_with_what_takes_it():
    assert first("", "N", 1, 28, 28, count=4) == ["nn.Conv2d", "nn.ReLU", "nn.BatchNorm2d",
                                                  "nn.MaxPool2d"]
    assert "nn.Conv1d" not in first("", "N", 1, 28, 28, count=20)


def test_a_layer_that_cannot_be_fed_is_not_offered_after_a_node():
    assert "io.Input" not in first("input", "N", 4, count=50)
    assert "io.Input" in first("input")
    feeding = [t for _, t, _ in ranked(ENTRIES, "output", Wanted(feeding=True))]
    assert "io.Output" not in feeding


@pytest.mark.parametrize("type_name, dims, verdict", [
    ("nn.Conv2d", ("N", 3, 8, 8), FITS),
    ("nn.Conv2d", ("N", 8), MISFITS),
    ("nn.AvgPool1d", ("N", 3, 8, 8), MISFITS),
    ("nn.Linear", ("N", 8), FITS),
    ("nn.BatchNorm1d", ("N", 8), FITS),
])
def test_fit_runs_the_layers_own_rule(type_name, dims, verdict):
    assert fit(type_name, shape(*dims)) == verdict


def test_numbers_after_the_name_are_the_key_parameters():
    assert split_numbers("conv2d 6 5") == ("conv2d", [6, 5])
    assert split_numbers("dropout 0.25") == ("dropout", [0.25])
    assert split_numbers("conv 2d") == ("conv 2d", [])  # "2d" is part of the name
    assert split_numbers("7") == ("7", [])  # a number alone is a search
    assert numbered_params(get_spec("nn.Conv2d"), [6, 5]) == {"out_channels": 6,
                                                               "kernel_size": 5}
    assert numbered_params(get_spec("nn.Linear"), [120]) == {"out_features": 120}


def test_numbers_a_layer_cannot_take_are_refused_with_what_it_takes():
    with pytest.raises(ValueError, match="Linear takes out_features"):
        numbered_params(get_spec("nn.Linear"), [120, 3])
    with pytest.raises(ValueError, match="Tanh takes no numbers"):
        numbered_params(get_spec("nn.Tanh"), [1])
    with pytest.raises(ValueError, match="out_channels must be a whole number"):
        numbered_params(get_spec("nn.Conv2d"), [1.5])
