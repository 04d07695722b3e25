"""A chain typed in one quick-add entry, resolved without the app (graph_schema.suggest_chain)."""

from __future__ import annotations

from graph_schema.catalog import all_specs
from graph_schema.suggest import Wanted
from graph_schema.suggest_chain import (
    MAX_LINKS,
    chain_problem,
    describe_chain,
    is_chain,
    resolve_chain,
    split_chain,
)

ENTRIES = [(spec.family, spec.type, spec.description) for spec in all_specs()]
IMAGE = Wanted(shape=("N", 3, 32, 32), fed=True)


def types(links) -> list[str | None]:
    return [link.type_name for link in links]


def test_commas_and_arrows_separate_and_a_trailing_one_is_dropped():
    assert split_chain("conv2d 6 5, tanh > pool 2 -> flatten → linear 10,") == [
        "conv2d 6 5", "tanh", "pool 2", "flatten", "linear 10"]
    assert is_chain("relu,") and not is_chain("conv2d 64 3")


def test_each_piece_is_chosen_for_the_tensor_the_pieces_before_it_put_out():
    # 'pool' and 'norm' after a 4-D tensor are the 2-D ones; after Flatten, 'norm' is 1-D.
    links = resolve_chain(ENTRIES, "conv 8 3, norm, pool 2, flatten, linear 16, norm", IMAGE)
    assert types(links) == ["nn.Conv2d", "nn.BatchNorm2d", "nn.MaxPool2d", "nn.Flatten",
                            "nn.Linear", "nn.BatchNorm1d"]
    assert [link.params for link in links][:3] == [
        {"out_channels": 8, "kernel_size": 3}, {}, {"kernel_size": 2}]
    assert chain_problem(links) == ""
    assert describe_chain(links) == ("Conv2d(8, 3) → BatchNorm2d → MaxPool2d(2) → Flatten → "
                                      "Linear(16) → BatchNorm1d")


def test_the_first_piece_that_names_no_layer_or_takes_no_such_numbers_is_named():
    links = resolve_chain(ENTRIES, "conv2d 8 3, blorp, relu", IMAGE)
    assert types(links) == ["nn.Conv2d", None]  # nothing is resolved after it
    assert chain_problem(links) == "layer 2 ('blorp'): no layer by that name"
    links = resolve_chain(ENTRIES, "relu, linear 3 4", IMAGE)
    assert chain_problem(links) == "layer 2 ('linear 3 4'): Linear takes out_features"


def test_an_absurdly_long_chain_is_refused_not_parsed():
    links = resolve_chain(ENTRIES, ", ".join(["relu"] * (MAX_LINKS + 1)), IMAGE)
    assert chain_problem(links) == f"at most {MAX_LINKS} layers in one chain, not {MAX_LINKS + 1}"


def test_without_a_known_input_the_names_alone_decide():
    assert types(resolve_chain(ENTRIES, "linear 10, relu, dropout")) == [
        "nn.Linear", "nn.ReLU", "nn.Dropout"]
