"""lr-find: the range test leaves the model exactly as it found it, suggests a learning rate a user
could train digits with, stops when the loss diverges, and draws a PNG."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from torch import nn

from builder.training.data import load_dataset, parse_data, split
from builder.training.lr_find import lr_range_test, plot_lr_find, suggest
from builder.training.problem import Problem
from builder.training.task import resolve_task


def digits_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))


def adam(params, lr):
    return torch.optim.Adam(params, lr=lr)


def problem_for(model, data, make_optimizer=adam):
    train, task = data
    return Problem(model, task, train, torch.device("cpu"), make_optimizer, 1e-3, 32, 0)


def test_the_sweep_restores_the_model_bitwise(digits):
    model = digits_cnn().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    result = lr_range_test(problem_for(model, digits), steps=30)
    assert len(result.lrs) > 10  # it did train
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BN statistics
    assert not model.training
    assert all(p.grad is None for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), rng)


def test_on_digits_the_suggestion_lies_in_the_sweep_and_in_a_sensible_range(digits):
    result = lr_range_test(problem_for(digits_cnn(), digits))
    assert result.lrs[0] == pytest.approx(1e-7)
    assert result.lrs[0] <= result.suggested_lr <= result.lrs[-1]
    assert 1e-4 <= result.suggested_lr <= 1e-1
    assert len(result.lrs) == len(result.losses) == len(result.smoothed)
    assert min(result.smoothed) < 0.9 * result.smoothed[0]


def test_a_diverging_loss_stops_the_sweep_early():
    dataset = load_dataset(parse_data("synthetic:shape=8,targets=1,n=200"), ["N", 8])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    train = split(dataset, seed=0)[0]
    sgd = lambda params, lr: torch.optim.SGD(params, lr=lr)  # noqa: E731
    result = lr_range_test(problem_for(model, (train, resolve_task(None, None, dataset)), sgd),
                           start_lr=1e-4, end_lr=100, steps=60)
    assert result.stopped_early
    assert len(result.lrs) < 60 and result.lrs[-1] < 100
    assert result.smoothed[-1] > 4 * min(result.smoothed)  # what stopped it: 4x the best


def test_a_loss_that_only_rises_gives_no_suggestion():
    lrs = [10 ** (i / 10) for i in range(20)]
    assert suggest(lrs, [1.0 + i for i in range(20)]) is None
    assert suggest(lrs, [3.0 - 0.1 * i for i in range(20)]) is not None


@pytest.mark.parametrize("arguments, words", [
    ({"start_lr": 1.0, "end_lr": 0.1}, "start lr < end lr"),
    ({"steps": 1}, "at least 2 steps"),
    ({"smoothing": 0.0}, "smoothing"),
])
def test_bad_sweep_settings_are_one_line_errors(digits, arguments, words):
    with pytest.raises(ValueError, match=words) as info:
        lr_range_test(problem_for(digits_cnn(), digits), **arguments)
    assert "\n" not in str(info.value)


def test_the_plot_is_a_png_written_without_leftovers(digits, tmp_path):
    result = lr_range_test(problem_for(digits_cnn(), digits), steps=40)
    path = tmp_path / "lr_find.png"
    plot_lr_find(result, path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 300
    assert [p.name for p in tmp_path.iterdir()] == ["lr_find.png"]
