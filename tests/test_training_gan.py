"""The GAN task: a generator and a discriminator trained against each other on digits."""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.data import TensorDataset

from builder.training.checkpoint import load_checkpoint
from builder.training.data import load_dataset, parse_data
from builder.training.gan import COLUMNS, GanDiverged, GanError, GanSettings, fit_gan
from builder.training.logs import RunLog
from codegen import generate_source
from codegen.classes import class_name_for
from graph_schema import load_project, validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "digits_gan.json"
CPU = torch.device("cpu")


class QuietLog:
    """RunLog's methods, recording what the loop reports instead of writing files."""

    def __init__(self):
        self.infos, self.rows, self.events, self.steps, self.batches = [], [], [], [], 0

    def info(self, message):
        self.infos.append(message)

    def start_epoch(self, epoch, total_batches, done_batches=0):
        pass

    def batch_done(self):
        self.batches += 1

    def step(self, step, epoch, loss, lr):
        self.steps.append(step)

    def epoch(self, row):
        self.rows.append(dict(row))

    def event(self, kind, **fields):
        self.events.append((kind, fields))

    def close(self):
        pass


def tiny_nets(seed: int = 0, last=nn.Tanh) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Linear(8, 64), last(), nn.Unflatten(1, (1, 8, 8)))
    # Dropout draws from the global RNG, so an exact resume has to restore it too.
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.LeakyReLU(0.2),
                                  nn.Dropout(0.3), nn.Linear(16, 1))
    return generator, discriminator


@pytest.fixture(scope="module")
def digits8():
    return load_dataset(parse_data("digits"), ("N", 1, 8, 8))


def fast(**overrides) -> GanSettings:
    return GanSettings(**{"max_epochs": 2, "batch_size": 32, "limit_train_batches": 3,
                          "sample_count": 10, "log_every_n_steps": 1, **overrides})


def test_a_few_epochs_on_digits_log_finite_losses_and_write_sample_grids(digits8, tmp_path):
    generator, discriminator = tiny_nets()
    log = RunLog(tmp_path, columns=COLUMNS)
    result = fit_gan(generator, discriminator, digits8, (8,), fast(), tmp_path, log, CPU)
    log.close()
    assert (result.epochs, result.steps) == (2, 6)
    with open(tmp_path / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and [int(r["step"]) for r in rows] == [3, 6]
    for row in rows:
        assert all(math.isfinite(float(row[key])) for key in COLUMNS)
        assert 0 < float(row["d_real"]) < 1 and 0 < float(row["d_fake"]) < 1
    assert result.samples == [tmp_path / "samples" / "epoch_001.png",
                              tmp_path / "samples" / "epoch_002.png"]
    # 10 samples: a 4x3 grid of 8x8 digits upscaled x8, 2 px around and between.
    for path in result.samples:
        with Image.open(path) as image:
            assert image.size == (4 * 66 + 2, 3 * 66 + 2) and image.mode == "L"
    assert not list((tmp_path / "samples").glob(".*"))  # no temp files left behind


def test_the_samples_come_from_the_same_noise_every_epoch(digits8, tmp_path):
    generator, discriminator = tiny_nets()
    settings = fast(max_epochs=1)
    fit_gan(generator, discriminator, digits8, (8,), settings, tmp_path, QuietLog(), CPU)
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    with torch.no_grad():
        expected = (generator.eval()(state["fixed_noise"]) + 1) / 2  # Tanh: [-1, 1] -> [0, 1]
    with Image.open(tmp_path / "samples" / "epoch_001.png") as image:
        first_cell = torch.from_numpy(np.array(image))
    pixel = first_cell[2:66:8, 2:66:8].float() / 255  # one pixel per upscaled 8x8 block
    assert torch.allclose(pixel, expected[0, 0], atol=1 / 255 + 1e-6)


def test_resume_continues_the_step_count_and_matches_a_straight_run(digits8, tmp_path):
    straight_g, straight_d = tiny_nets()
    fit_gan(straight_g, straight_d, digits8, (8,), fast(), tmp_path / "straight", QuietLog(),
            CPU)

    calls = iter(range(100))
    stop_after_4 = lambda: next(calls) >= 3  # noqa: E731 - asked after steps 1, 2, 3, 4
    first_g, first_d = tiny_nets()
    run = tmp_path / "resumed"
    stopped = fit_gan(first_g, first_d, digits8, (8,), fast(), run, QuietLog(), CPU,
                      should_stop=stop_after_4)
    assert stopped.stopped and stopped.steps == 4 and stopped.epochs == 1
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["position"]["step"] == 4 and state["position"]["batch"] == 1

    torch.manual_seed(123)  # a fresh process: different initial weights and global RNG
    again_g, again_d = tiny_nets(seed=99)
    log = QuietLog()
    resumed = fit_gan(again_g, again_d, digits8, (8,), fast(), run, log, CPU, resume=state)
    assert (resumed.epochs, resumed.steps) == (2, 6)
    assert log.steps == [5, 6] and "resuming at epoch 2 step 4" in log.infos[0]
    for a, b in ((straight_g, again_g), (straight_d, again_d)):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(x, y), name


def test_a_checkpoint_is_written_every_n_steps_mid_epoch(digits8, tmp_path):
    seen = []
    last = tmp_path / "checkpoints" / "last.pt"

    def note_checkpoint():
        seen.append(load_checkpoint(last)["position"]["step"] if last.exists() else None)
        return False

    generator, discriminator = tiny_nets()
    fit_gan(generator, discriminator, digits8, (8,),
            fast(max_epochs=1, limit_train_batches=5, checkpoint_every_n_steps=2), tmp_path,
            QuietLog(), CPU, should_stop=note_checkpoint)
    # Asked after steps 1-4, and once more after step 5 ends the epoch (saved at its end).
    assert seen == [None, 2, 2, 4, 5]
    position = load_checkpoint(last)["position"]
    assert (position["epoch"], position["batch"], position["step"]) == (1, 0, 5)


def test_both_players_learn_and_the_discriminator_step_does_not_reach_the_generator(
        digits8, tmp_path):
    generator, discriminator = tiny_nets()
    before = [p.detach().clone() for p in (*generator.parameters(), *discriminator.parameters())]
    generator_grads = []
    generator[0].weight.register_hook(lambda grad: generator_grads.append(grad))
    fit_gan(generator, discriminator, digits8, (8,), fast(max_epochs=1, limit_train_batches=1),
            tmp_path, QuietLog(), CPU)
    # One step: the generator's weights get a gradient once (its own step), not twice.
    assert len(generator_grads) == 1
    after = [*generator.parameters(), *discriminator.parameters()]
    changed = [not torch.equal(a, b) for a, b in zip(before, after, strict=True)]
    assert all(changed[:2]) and all(changed[2:])


def test_a_nan_loss_stops_with_the_step_and_what_to_try(tmp_path):
    generator, discriminator = tiny_nets()
    broken = TensorDataset(torch.full((64, 1, 8, 8), math.nan), torch.zeros(64))
    with pytest.raises(GanDiverged) as caught:
        fit_gan(generator, discriminator, broken, (8,), fast(), tmp_path, QuietLog(), CPU)
    message = str(caught.value)
    assert caught.value.step == 1 and "\n" not in message
    assert "step 1" in message and "discriminator" in message and "lr" in message
    assert not (tmp_path / "checkpoints" / "last.pt").exists()


def test_a_generator_that_makes_the_wrong_size_is_one_line(digits8, tmp_path):
    _, discriminator = tiny_nets()
    generator = nn.Sequential(nn.Linear(8, 256), nn.Unflatten(1, (1, 16, 16)))
    with pytest.raises(GanError, match=r"^the generator makes images of shape \(N, 1, 16, 16\) "
                                       r"but the real images .* are \(N, 1, 8, 8\)$"):
        fit_gan(generator, discriminator, digits8, (8,), fast(), tmp_path, QuietLog(), CPU)


class Recording(nn.Module):
    """The discriminator, noting the range of every batch it is shown."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner, self.ranges = inner, []

    def forward(self, x):
        self.ranges.append((x.min().item(), x.max().item()))
        return self.inner(x)


@pytest.mark.parametrize(("last", "low", "said"), [(nn.Tanh, -1.0, "[-1, 1]"),
                                                    (nn.Sigmoid, 0.0, "[0, 1]")])
def test_real_images_are_shown_in_the_generators_range(digits8, tmp_path, last, low, said):
    generator, discriminator = tiny_nets(last=last)
    discriminator = Recording(discriminator)
    log = QuietLog()
    fit_gan(generator, discriminator, digits8, (8,), fast(max_epochs=1, limit_train_batches=1),
            tmp_path, log, CPU)
    assert discriminator.ranges[0] == (low, 1.0)  # the first batch it sees is the real one
    assert f"scaled to {said}" in log.infos[0]


def test_the_example_project_validates_generates_and_trains(tmp_path):
    project = load_project(EXAMPLE)
    assert [d.format() for d in validate(project) if d.is_error] == []
    assert {n.name for n in project.networks} == {"generator", "discriminator"}
    path = tmp_path / "digits_gan_model.py"
    path.write_text(generate_source(project), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("digits_gan_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    generator = getattr(module, class_name_for("generator"))()
    discriminator = getattr(module, class_name_for("discriminator"))()
    noise = tuple(project.network("generator").nodes[0].params["shape"])
    image = tuple(project.network("discriminator").nodes[0].params["shape"])
    real = load_dataset(parse_data("digits"), image)  # 8x8 digits upscaled to 16x16

    log = QuietLog()
    result = fit_gan(generator, discriminator, real, noise,
                     GanSettings(max_steps=2, batch_size=32, sample_count=16), tmp_path, log, CPU)
    assert result.steps == 2 and result.last_row["step"] == 2
    assert "scaled to [-1, 1]" in log.infos[0]  # the generator ends in Tanh
    with Image.open(result.samples[0]) as grid:  # 4x4 samples of 16x16, upscaled x4
        assert grid.size == (4 * 66 + 2, 4 * 66 + 2)
    assert math.isfinite(result.last_row["d_loss"]) and math.isfinite(result.last_row["g_loss"])
