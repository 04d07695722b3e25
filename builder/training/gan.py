"""The GAN task: Goodfellow et al. 2014's minimax game between a generator and a discriminator.

Both players are trained with binary cross-entropy on the discriminator's logits, the
formulation the paper's Algorithm 1 reduces to (a discriminator that ends in a Sigmoid, the
paper's D(x), gives probabilities instead: `GanSettings.probabilities`, and the same losses
are taken on them):

- discriminator step: real images labelled 1, `generator(z).detach()` labelled 0, so this step
  never reaches the generator's weights;
- generator step: the non-saturating loss the paper recommends (section 3): label 1 on
  D(G(z)), i.e. maximise log D(G(z)) rather than minimise log(1 - D(G(z))), which gives the
  generator strong gradients early on, when the discriminator rejects its samples easily.

Adam(2e-4, betas (0.5, 0.999)) for both, as DCGAN (Radford et al. 2015) found stable.

Real images arrive in [0, 1] from the data layer. When the generator's output goes below 0
(a Tanh, or no squashing at all) they are rescaled to [-1, 1] so that real and fake live in the
same range; a generator ending in a Sigmoid keeps [0, 1]. The check is one forward of the
fixed sample noise before training, stored in the checkpoint so a resumed run keeps it.

Each epoch writes `samples/epoch_NNN.png` (the same fixed noise every epoch, so the grids show
one set of digits improving) and `checkpoints/last.pt`. Data order and noise come from their
own seeded generators, so a resumed run on CPU continues exactly where the first one stopped.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from builder.training.checkpoint import CheckpointError, rng_state, save_checkpoint, set_rng_state

COLUMNS = ("epoch", "step", "d_loss", "g_loss", "d_real", "d_fake", "lr", "seconds",
            "samples_per_s")
# Offsets that keep the three random streams (data order, training noise, sample noise) apart
# even though all three derive from the one seed the user gives.
NOISE_SEED_OFFSET = 1_000_003
FIXED_NOISE_SEED_OFFSET = 2_000_003
GRID_PAD = 2  # pixels between and around the samples of a grid
GRID_CELL = 64  # samples smaller than this are upscaled (nearest) to about this size
FINISHED, STOPPED, OUT_OF_STEPS = "finished", "stopped", "out of steps"


class GanError(Exception):
    """The GAN cannot be trained as set up (shapes that disagree, an unusable checkpoint)."""


class GanDiverged(GanError):
    """A loss became NaN or infinite: training stopped at `step`."""

    def __init__(self, step: int, which: str):
        super().__init__(f"GAN training diverged at step {step}: the {which} loss is not finite; "
                         f"try a lower --lr, check that real images are normalised, or add "
                         f"BatchNorm to the {which}")
        self.step, self.which = step, which


@dataclass
class GanSettings:
    max_epochs: int = 20
    max_steps: int | None = None
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    seed: int = 0
    limit_train_batches: int | None = None
    checkpoint_every_n_steps: int | None = None
    log_every_n_steps: int = 50
    sample_count: int = 64
    # The discriminator's output is a probability (it ends in a Sigmoid, as in the paper), not
    # a logit: binary cross-entropy is then taken on probabilities.
    probabilities: bool = False


@dataclass
class GanResult:
    epochs: int  # epochs completed
    steps: int  # optimisation steps taken (one D and one G update each), resumed ones included
    last_row: dict[str, float] | None
    samples: list[Path] = field(default_factory=list)  # grids written by this call
    checkpoint: Path | None = None
    stopped: bool = False  # should_stop() asked to stop (the caller decides the exit code)


@dataclass
class _Position:
    """Where the loop is, and the running sums of the epoch in progress (saved mid-epoch so a
    resumed epoch reports the same row as an uninterrupted one)."""

    epoch: int = 0  # 0-based index of the epoch in progress
    batch: int = 0  # batches of that epoch already done
    step: int = 0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("d_loss", "g_loss", "d_real", "d_fake", "batches", "samples"), 0.0))
    seconds: float = 0.0  # time spent in the epoch in progress before a resume


@dataclass
class _Game:
    generator: nn.Module
    discriminator: nn.Module
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    noise_shape: tuple[int, ...]
    noise_rng: torch.Generator  # on the CPU: its state is plain bytes, saved in the checkpoint
    fixed_noise: torch.Tensor
    symmetric: bool  # real images rescaled to [-1, 1]
    probabilities: bool  # the discriminator gives D(x) itself, not its logit
    device: torch.device
    run_dir: Path


def fit_gan(generator: nn.Module, discriminator: nn.Module, real: Dataset,
            noise_shape: tuple[int, ...], settings: GanSettings, run_dir: Path, log,
            device: torch.device, should_stop: Callable[[], bool] = lambda: False,
            resume: dict[str, Any] | None = None) -> GanResult:
    """Train `generator` against `discriminator` on the images of `real` ((x, y) pairs or bare
    tensors, x in [0, 1]). `noise_shape` is one noise sample's shape, without the batch dim
    (the generator's io.Input, e.g. (64,)). `resume` is a checkpoint dict from
    `load_checkpoint(run_dir / "checkpoints" / "last.pt")`. `log` is a RunLog; it is not closed.
    Raises GanDiverged on a NaN/Inf loss and GanError on shapes or a checkpoint that don't fit.
    """
    run_dir = Path(run_dir)
    noise_shape = tuple(d for d in noise_shape if not isinstance(d, str))  # tolerate a leading N
    game = _setup(generator, discriminator, real, noise_shape, settings, device, run_dir, resume)
    position = _restore(game, resume) if resume else _Position()
    log.info(_describe(game, real, settings, position))
    result = GanResult(position.epoch, position.step, None)
    while position.epoch < settings.max_epochs and not _out_of_steps(position, settings):
        status = _run_epoch(game, real, settings, position, log, should_stop)
        if status == STOPPED:  # asked to stop (Ctrl+C, SIGTERM): save where we are, no row
            result.checkpoint, result.stopped = _save(game, position, settings, log), True
            break
        epoch_number = position.epoch + 1
        result.last_row = _row(epoch_number, position, settings)
        log.epoch(result.last_row)
        result.samples.append(_write_samples(game, epoch_number, log))
        if status == FINISHED:
            position = _Position(epoch=epoch_number, step=position.step)
        result.checkpoint = _save(game, position, settings, log)
        if status == FINISHED and should_stop():
            result.stopped = True
            break
    result.epochs, result.steps = position.epoch, position.step
    return result


# --- setting up --------------------------------------------------------------------------------


def _setup(generator: nn.Module, discriminator: nn.Module, real: Dataset,
           noise_shape: tuple[int, ...], settings: GanSettings, device: torch.device,
           run_dir: Path, resume: dict | None) -> _Game:
    if len(real) == 0:
        raise GanError("the real image dataset is empty")
    generator.to(device).train()
    discriminator.to(device).train()
    make = lambda module: torch.optim.Adam(module.parameters(), lr=settings.lr,  # noqa: E731
                                           betas=tuple(settings.betas))
    fixed = torch.randn(settings.sample_count, *noise_shape,
                        generator=torch.Generator().manual_seed(
                            settings.seed + FIXED_NOISE_SEED_OFFSET))
    game = _Game(generator, discriminator, make(generator), make(discriminator), noise_shape,
                 torch.Generator().manual_seed(settings.seed + NOISE_SEED_OFFSET), fixed,
                 symmetric=True, probabilities=settings.probabilities, device=device,
                 run_dir=run_dir)
    fake = _check_shapes(game, _images(real[0]))
    game.symmetric = bool(resume["symmetric"]) if resume else bool(fake.min() < 0)
    return game


def _check_shapes(game: _Game, sample: torch.Tensor) -> torch.Tensor:
    """One generated batch from the fixed noise (eval mode: no batch statistics, no RNG used),
    checked against the real images' shape."""
    with torch.no_grad(), _evaluating(game.generator):
        fake = game.generator(game.fixed_noise[:2].to(game.device))
    if tuple(fake.shape[1:]) != tuple(sample.shape):
        raise GanError(f"the generator makes images of shape {_fmt(fake.shape[1:])} but the "
                       f"real images (the discriminator's input) are {_fmt(sample.shape)}")
    return fake


def _restore(game: _Game, state: dict[str, Any]) -> _Position:
    if state.get("kind") != "gan":
        raise CheckpointError("the checkpoint is not from a GAN run (--task gan)")
    try:
        game.generator.load_state_dict(state["generator"])
        game.discriminator.load_state_dict(state["discriminator"])
        game.g_optimizer.load_state_dict(state["g_optimizer"])
        game.d_optimizer.load_state_dict(state["d_optimizer"])
    except (RuntimeError, ValueError, KeyError) as err:
        line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise CheckpointError(f"the checkpoint does not fit these networks "
                              f"({line[:200]})") from None
    game.noise_rng.set_state(state["noise_rng"])
    game.fixed_noise = state["fixed_noise"]
    set_rng_state(state["rng"])
    pos = state["position"]
    return _Position(epoch=pos["epoch"], batch=pos["batch"], step=pos["step"],
                     sums=dict(pos["sums"]), seconds=pos["seconds"])


def _describe(game: _Game, real: Dataset, settings: GanSettings, position: _Position) -> str:
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    start = (f", resuming at epoch {position.epoch + 1} step {position.step}"
             if position.step else "")
    return (f"GAN: generator {count(game.generator):,} params, discriminator "
            f"{count(game.discriminator):,} params, {len(real)} real images scaled to "
            f"{'[-1, 1]' if game.symmetric else '[0, 1]'}, Adam lr {settings.lr:g} betas "
            f"{tuple(settings.betas)}{start}")


# --- the loop ----------------------------------------------------------------------------------


def _run_epoch(game: _Game, real: Dataset, settings: GanSettings, position: _Position, log,
               should_stop: Callable[[], bool]) -> str:
    """Train the rest of the epoch in progress: FINISHED, or STOPPED / OUT_OF_STEPS part way,
    with `position` saying where."""
    batches = _epoch_batches(len(real), settings, position.epoch)
    log.start_epoch(position.epoch + 1, len(batches), done_batches=position.batch)
    started = time.perf_counter() - position.seconds
    # Batches are gathered here rather than by a DataLoader: its iterator draws a seed from
    # the global RNG, which would make a run resumed mid-epoch differ from a straight one.
    while position.batch < len(batches):
        stats = _step(game, _gather(real, batches[position.batch]), position.step + 1)
        position.step += 1
        position.batch += 1
        _accumulate(position.sums, stats)
        position.seconds = time.perf_counter() - started
        log.batch_done()
        if position.step % max(1, settings.log_every_n_steps) == 0:
            # RunLog has one loss curve per step: the generator's, the objective that is
            # minimised; both losses are in every epoch row.
            log.step(position.step, position.epoch + 1, stats["g_loss"], settings.lr)
        if position.batch == len(batches):
            break
        every = settings.checkpoint_every_n_steps
        if every and position.step % every == 0:
            _save(game, position, settings, log)
        if should_stop():
            return STOPPED
        if _out_of_steps(position, settings):
            return OUT_OF_STEPS
    return FINISHED


def _epoch_batches(size: int, settings: GanSettings, epoch: int) -> list[list[int]]:
    """The epoch's batches of indices, from a permutation seeded by seed + epoch (never the
    global RNG), so a resumed epoch sees the same order. A last partial batch is dropped: a
    batch of one breaks BatchNorm, and every step then weighs the same."""
    order = torch.randperm(size, generator=torch.Generator().manual_seed(settings.seed + epoch))
    batch = min(settings.batch_size, size)
    batches = [order[i:i + batch].tolist() for i in range(0, size - batch + 1, batch)]
    if settings.limit_train_batches is not None:
        batches = batches[:max(1, settings.limit_train_batches)]
    return batches


def _step(game: _Game, real: torch.Tensor, step: int) -> dict[str, float]:
    """One discriminator update, then one generator update, on the same fake batch."""
    real = real.to(game.device).float()
    if game.symmetric:
        real = real * 2 - 1
    noise = torch.randn(len(real), *game.noise_shape, generator=game.noise_rng)
    fake = game.generator(noise.to(game.device))

    game.d_optimizer.zero_grad(set_to_none=True)
    real_logits = game.discriminator(real)
    fake_logits = game.discriminator(fake.detach())  # the D step must not train G
    d_loss = _bce(real_logits, 1.0, game.probabilities) + \
        _bce(fake_logits, 0.0, game.probabilities)
    d_loss.backward()
    game.d_optimizer.step()

    game.g_optimizer.zero_grad(set_to_none=True)
    g_loss = _bce(game.discriminator(fake), 1.0, game.probabilities)  # -log D(G(z))
    g_loss.backward()
    game.g_optimizer.step()

    score = (lambda out: out.detach()) if game.probabilities else \
        (lambda out: torch.sigmoid(out.detach()))  # D(x), a probability either way
    values = torch.stack([d_loss.detach(), g_loss.detach(), score(real_logits).mean(),
                          score(fake_logits).mean()]).tolist()
    stats = dict(zip(("d_loss", "g_loss", "d_real", "d_fake"), values, strict=True))
    for which, key in (("discriminator", "d_loss"), ("generator", "g_loss")):
        if not math.isfinite(stats[key]):
            raise GanDiverged(step, which)
    stats["samples"] = float(len(real))
    return stats


def _bce(output: torch.Tensor, label: float, probabilities: bool = False) -> torch.Tensor:
    target = torch.full_like(output, label)
    if probabilities:
        # torch clamps log(p) at -100, so a saturated discriminator gives a large finite loss.
        return F.binary_cross_entropy(output, target)
    return F.binary_cross_entropy_with_logits(output, target)


def _accumulate(sums: dict[str, float], stats: dict[str, float]) -> None:
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        sums[key] += stats[key]
    sums["batches"] += 1
    sums["samples"] += stats["samples"]


def _row(epoch: int, position: _Position, settings: GanSettings) -> dict[str, float]:
    sums, seconds = position.sums, max(position.seconds, 1e-9)
    mean = lambda key: sums[key] / max(sums["batches"], 1)  # noqa: E731
    return {"epoch": epoch, "step": position.step, "d_loss": mean("d_loss"),
            "g_loss": mean("g_loss"), "d_real": mean("d_real"), "d_fake": mean("d_fake"),
            "lr": settings.lr, "seconds": position.seconds,
            "samples_per_s": sums["samples"] / seconds}


def _out_of_steps(position: _Position, settings: GanSettings) -> bool:
    return settings.max_steps is not None and position.step >= settings.max_steps


# --- what the run leaves behind ----------------------------------------------------------------


def _save(game: _Game, position: _Position, settings: GanSettings, log) -> Path:
    path = game.run_dir / "checkpoints" / "last.pt"
    save_checkpoint(path, {
        "kind": "gan",
        "generator": game.generator.state_dict(),
        "discriminator": game.discriminator.state_dict(),
        "g_optimizer": game.g_optimizer.state_dict(),
        "d_optimizer": game.d_optimizer.state_dict(),
        "position": {"epoch": position.epoch, "batch": position.batch, "step": position.step,
                     "sums": dict(position.sums), "seconds": position.seconds},
        "rng": rng_state(),
        "noise_rng": game.noise_rng.get_state(),
        "fixed_noise": game.fixed_noise,
        "symmetric": game.symmetric,
        "settings": {**asdict(settings), "betas": list(settings.betas)},
    })
    log.event("checkpoint", path=str(path), epoch=position.epoch, step=position.step)
    return path


def _write_samples(game: _Game, epoch: int, log) -> Path:
    with torch.no_grad(), _evaluating(game.generator):
        fake = game.generator(game.fixed_noise.to(game.device)).float().cpu()
    images = (fake + 1) / 2 if game.symmetric else fake
    path = game.run_dir / "samples" / f"epoch_{epoch:03d}.png"
    save_png(sample_grid(images), path)
    log.event("samples", path=str(path), epoch=epoch)
    return path


def sample_grid(images: torch.Tensor, pad: int = GRID_PAD) -> Image.Image:
    """(count, C, H, W) images in [0, 1] as one near-square grid, each upscaled (nearest) to
    about GRID_CELL pixels so 16x16 digits are visible; grey padding between and around."""
    count, channels, height, width = images.shape
    scale = max(1, round(GRID_CELL / max(height, width)))
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    cell_h, cell_w = height * scale, width * scale
    colour = channels == 3
    pixels = images.clamp(0, 1).mul(255).round().to(torch.uint8)
    pixels = pixels if colour else pixels[:, :1]  # other channel counts: show the first
    pixels = pixels.repeat_interleave(scale, 2).repeat_interleave(scale, 3)
    grid = np.full((rows * (cell_h + pad) + pad, columns * (cell_w + pad) + pad,
                    3 if colour else 1), 128, dtype=np.uint8)
    for index, image in enumerate(pixels.permute(0, 2, 3, 1).numpy()):
        top = pad + (index // columns) * (cell_h + pad)
        left = pad + (index % columns) * (cell_w + pad)
        grid[top:top + cell_h, left:left + cell_w] = image
    return Image.fromarray(grid if colour else grid[:, :, 0], "RGB" if colour else "L")


def save_png(image: Image.Image, path: Path) -> None:
    """Write atomically, so a viewer (or the app) never reads half a PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        image.save(temp, format="PNG")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


# --- small helpers -----------------------------------------------------------------------------


def _gather(real: Dataset, indices: list[int]) -> torch.Tensor:
    """The images at `indices`: one indexing of the tensor when `real` is a TensorDataset (the
    data layer's, or a Subset of one), else sample by sample."""
    base, where = real, torch.tensor(indices)
    if isinstance(base, Subset) and isinstance(base.dataset, TensorDataset):
        base, where = base.dataset, torch.tensor(base.indices)[where]
    if isinstance(base, TensorDataset):
        return base.tensors[0][where]
    return torch.stack([torch.as_tensor(_images(real[i])) for i in indices])


def _images(batch: Any) -> torch.Tensor:
    """The images of a sample or batch: (x, y) pairs from the data layer, or bare tensors."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


class _evaluating:  # noqa: N801 - used like torch.no_grad
    """Eval mode inside the block (BatchNorm uses running stats, dropout is off and draws no
    random numbers), then back to the mode the module was in."""

    def __init__(self, module: nn.Module):
        self.module, self.was_training = module, module.training

    def __enter__(self) -> None:
        self.module.eval()

    def __exit__(self, *exc) -> None:
        self.module.train(self.was_training)


def _fmt(shape) -> str:
    return "(N, " + ", ".join(str(d) for d in shape) + ")"
