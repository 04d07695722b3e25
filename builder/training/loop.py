"""One plain training loop for any nn.Module: the kind a user could write and take away.

Forward under autocast, backward through the grad scaler, an optimiser step every
`accumulate_grad_batches` batches, validation each epoch, early stopping on the validation loss,
and a checkpoint at step boundaries holding everything a bitwise-equal resume needs. The same
code runs in one process and in each torchrun worker (DDP wraps the model; ranks agree on when
to stop).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset

from builder.training import inputs, speed
from builder.training.batches import BatchSource, batches_of, epoch_indices, shard
from builder.training.checkpoint import (
    copy_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from builder.training.config import TrainConfig, limit_batches
from builder.training.distributed import World, any_across, barrier, sum_across
from builder.training.errors import model_failure
from builder.training.optim import current_lr, make_optimizer, make_scheduler
from builder.training.task import Task

STOP_CHECK_EVERY = 10  # steps between the ranks' checks for Ctrl+C / SIGTERM


class Diverged(Exception):
    """The loss became NaN or infinite."""

    def __init__(self, step: int, loss: float):
        super().__init__(
            f"the loss became {loss} at step {step}; training stopped (the last checkpoint "
            f"is kept). Likely causes: a learning rate too high (try --lr a tenth of this, or "
            f"`torchcanvas lr-find`), inputs without normalisation, a log or division of zero "
            f"in the model; --gradient-clip-val 1.0 can help")
        self.step = step


class Interrupted(Exception):
    """Ctrl+C or SIGTERM: a checkpoint was saved, the run can resume with --ckpt-path last."""


@dataclass
class Progress:
    """The loop's position; saved in every checkpoint."""

    epoch: int = 0  # epochs completed
    step: int = 0  # optimiser steps taken
    batch: int = 0  # batches of the current epoch already trained (at a step boundary)
    epoch_loss_sum: float = 0.0  # the current epoch's training loss so far (for its mean)
    epoch_samples: int = 0
    best: float | None = None  # best monitored loss, for best.pt and early stopping
    best_epoch: int | None = None
    bad_epochs: int = 0
    stopped: str = ""


@dataclass
class Parts:
    """What the loop trains: built by the runner, restored from a checkpoint before fit()."""

    model: nn.Module
    task: Task
    train: Dataset
    val: Dataset | None
    run_dir: Path | None  # None: write nothing (fast_dev_run)
    log: object  # builder.training.logs.RunLog
    stop_requested: Callable[[], bool] = lambda: False
    extra_state: dict = dataclasses.field(default_factory=dict)  # saved with checkpoints


class Trainer:
    def __init__(self, config: TrainConfig, parts: Parts, world: World):
        self.config, self.parts, self.world = config, parts, world
        self.task, self.log = parts.task, parts.log
        self.device = world.device
        self.module = speed.prepare_model(parts.model, self.device)
        self.channels_last = self.device.type == "cuda" and speed.uses_convolutions(self.module)
        self.train_source = BatchSource(parts.train, self.device, config.num_workers)
        self.val_source = BatchSource(parts.val, self.device) if parts.val is not None else None
        self.batches_per_epoch = self._batches_per_epoch()
        self.model = self._wrap(self.module)
        self.optimizer = make_optimizer(config.optimizer, self.module.parameters(), config.lr,
                                        config.weight_decay, self.device)
        self.scheduler = make_scheduler(config.scheduler, self.optimizer, config.lr,
                                        self._total_steps(), self._steps_per_epoch())
        self.scaler = speed.grad_scaler(self.device, config.precision)
        self.progress = Progress()
        self._pending: list[torch.Tensor] = []
        self._pending_last = math.nan  # the latest checked loss, for the step log
        if config.compile:
            self.model = torch.compile(self.model)

    # --- setup ---------------------------------------------------------------------------------

    def _batches_per_epoch(self) -> int:
        config = self.config
        per_rank = math.ceil(len(self.parts.train) / self.world.size)
        available = math.ceil(per_rank / config.batch_size)
        if config.fast_dev_run:
            return min(available, config.fast_dev_run)
        if config.overfit_batches:
            return min(available, config.overfit_batches)
        return limit_batches(config.limit_train_batches, available)

    def _steps_per_epoch(self) -> int:
        return math.ceil(self.batches_per_epoch / self.config.accumulate_grad_batches)

    def _total_steps(self) -> int:
        epochs_total = self._steps_per_epoch() * self._max_epochs()
        return min(epochs_total, self.config.max_steps or epochs_total)

    def _max_epochs(self) -> int:
        return 1 if self.config.fast_dev_run else self.config.max_epochs

    def _wrap(self, module: nn.Module) -> nn.Module:
        if not self.world.distributed:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids,
                                       find_unused_parameters=self._has_unused_parameters())

    def _has_unused_parameters(self) -> bool:
        """One forward and backward on a batch: DDP needs find_unused_parameters (which costs
        a graph walk every step) only when some parameter gets no gradient."""
        state, weights = rng_state(), copy.deepcopy(self.module.state_dict())
        x, y = next(self.train_source.iterate([list(range(min(2, len(self.parts.train))))]))
        try:
            self.task.loss_fn(inputs.call(self.module, x), y).backward()
            return any(p.requires_grad and p.grad is None for p in self.module.parameters())
        finally:  # the probe leaves no trace: not in batch-norm statistics, not in the RNG
            self.module.zero_grad(set_to_none=True)
            self.module.load_state_dict(weights)
            set_rng_state(state)

    def restore(self, checkpoint: dict) -> None:
        """Continue from `checkpoint` (saved by `_save`): weights, optimiser, schedule, scaler,
        position and this rank's RNG state."""
        self.module.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None and checkpoint.get("scheduler"):
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.scaler.load_state_dict(checkpoint["scaler"])
        self.progress = Progress(**checkpoint["progress"])
        states = checkpoint["rng"]
        set_rng_state(states[self.world.rank] if self.world.rank < len(states) else states[0])

    # --- the loop ------------------------------------------------------------------------------

    def fit(self) -> Progress:
        progress = self.progress
        while progress.epoch < self._max_epochs() and not progress.stopped:
            reached_max_steps = self._train_epoch()
            self._end_epoch()
            if reached_max_steps:
                progress.stopped = progress.stopped or "max_steps"
        progress.stopped = progress.stopped or "max_epochs"
        return progress

    def _train_epoch(self) -> bool:
        """Train the rest of this epoch; True when --max-steps was reached inside it."""
        config, progress = self.config, self.progress
        batches = self._epoch_batches(progress.epoch)
        self.log.start_epoch(progress.epoch + 1, len(batches), progress.batch)
        self.model.train()
        self.timer = speed.EpochTimer(self.device)
        self._epoch_loss = torch.zeros((), dtype=torch.float64, device=self.device)
        accumulate = config.accumulate_grad_batches
        group_start = progress.batch
        todo = batches[progress.batch:]
        for index, (x, y) in enumerate(self.train_source.iterate(todo), start=progress.batch):
            group_end = min(group_start + accumulate, len(batches))
            stepping = index + 1 == group_end
            self._forward_backward(x, y, group_end - group_start, stepping)
            self.log.batch_done()
            if not stepping:
                continue
            self._step()
            progress.batch, group_start = index + 1, index + 1
            if self._after_step():
                return True
        return False

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        size, config, world = len(self.parts.train), self.config, self.world
        shuffle = not (config.overfit_batches or config.fast_dev_run)
        order = epoch_indices(size, epoch, config.seed, world.rank, world.size, shuffle)
        return batches_of(order, config.batch_size)[:self.batches_per_epoch]

    def _forward_backward(self, x: inputs.Inputs, y: torch.Tensor, group: int,
                          stepping: bool) -> None:
        x = speed.to_input_format(x, self.channels_last)
        # DDP all-reduces gradients on every backward unless told this one only accumulates.
        quiet = self.model.no_sync() if self.world.distributed and not stepping \
            else contextlib.nullcontext()
        try:
            with quiet:
                with speed.autocast(self.device, self.config.precision):
                    output = inputs.call(self.model, x)
                    loss = self.task.loss_fn(output, y)
                self.scaler.scale(loss / group if group > 1 else loss).backward()
        except Exception as err:
            raise model_failure(f"at step {self.progress.step + 1}", err) from None
        detached = loss.detach().float()
        self._pending.append(detached)
        samples = inputs.batch_len(x)
        self._epoch_loss.add_(detached, alpha=samples)  # one op; float64 like the sum
        self.timer.batch_done(samples)
        self.progress.epoch_samples += samples

    def _step(self) -> None:
        if self.device.type == "cpu":
            self._check_finite(self.progress.step + 1)  # free on CPU: before NaN hits weights
        if self.config.gradient_clip_val is not None:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.module.parameters(), self.config.gradient_clip_val)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        if self.scheduler is not None:
            self.scheduler.step()
        self.progress.step += 1

    def _after_step(self) -> bool:
        """Log, checkpoint and stop at a step boundary; True when --max-steps is reached."""
        config, progress = self.config, self.progress
        if progress.step % config.log_every_n_steps == 0:
            self._check_finite(progress.step)  # one host sync per log line on a GPU
            self.log.step(progress.step, progress.epoch + 1, float(self._pending_last),
                          current_lr(self.optimizer))
        every = config.checkpoint_every_n_steps
        if every and progress.step % every == 0:
            self._save(best=False)
        # Ranks agree on stopping through a collective; one every step would hold them in
        # lockstep, so they ask every STOP_CHECK_EVERY steps (they share the step count).
        if (not self.world.distributed or progress.step % STOP_CHECK_EVERY == 0) and \
                any_across(self.world, self.parts.stop_requested()):
            self._save(best=False)
            raise Interrupted()
        return config.max_steps is not None and progress.step >= config.max_steps

    def _check_finite(self, current_step: int) -> None:
        """Raise Diverged if a loss since the last check was not finite; `current_step` is the
        step the latest batch belongs to."""
        if not self._pending:
            return
        if len(self._pending) == 1:  # every step on CPU: one .item(), not stack + nonzero
            value = self._pending.pop().item()
            self._pending_last = value
            if not math.isfinite(value):
                raise Diverged(max(current_step, 1), value)
            return
        losses = torch.stack(self._pending)
        self._pending_last = losses[-1].item()
        self._pending = []
        bad = (~torch.isfinite(losses)).nonzero()
        if len(bad):
            first = int(bad[0])
            behind = (len(losses) - 1 - first) // self.config.accumulate_grad_batches
            step = current_step - behind
            raise Diverged(max(step, 1), float(losses[first]))

    # --- epoch end -----------------------------------------------------------------------------

    def _end_epoch(self) -> None:
        progress = self.progress
        self._check_finite(progress.step)
        totals = sum_across(self.world, torch.stack([
            self._epoch_loss.double().cpu() + progress.epoch_loss_sum,
            torch.tensor(float(progress.epoch_samples), dtype=torch.float64)]))
        train_loss = float(totals[0] / max(totals[1], 1))
        samples_per_s = float(sum_across(self.world, torch.tensor(
            [self.timer.samples_per_s(progress.epoch_samples)]))[0])
        scores = self.evaluate(self.parts.val) if self.parts.val is not None else {}
        progress.epoch += 1
        progress.batch, progress.epoch_loss_sum, progress.epoch_samples = 0, 0.0, 0
        row = {"epoch": progress.epoch, "step": progress.step, "train_loss": train_loss,
               "val_loss": scores.get("loss", math.nan),
               self.task.metric: scores.get("metric", math.nan),
               "lr": current_lr(self.optimizer), "seconds": self.timer.seconds(),
               "samples_per_s": samples_per_s}
        self.log.epoch(row)
        if not math.isfinite(train_loss):
            raise Diverged(progress.step, train_loss)
        improved = self._early_stopping(scores.get("loss", train_loss))
        self._save(best=improved)

    def _early_stopping(self, monitored: float) -> bool:
        progress, patience = self.progress, self.config.early_stopping_patience
        if progress.best is None or monitored < progress.best:
            progress.best, progress.best_epoch, progress.bad_epochs = monitored, \
                progress.epoch, 0
            return True
        progress.bad_epochs += 1
        if patience and progress.bad_epochs >= patience:
            progress.stopped = "early_stopping"
            self.log.info(f"early stopping: the validation loss has not improved for "
                          f"{patience} epochs (best {progress.best:.4g} at epoch "
                          f"{progress.best_epoch})")
        return False

    @torch.no_grad()
    def evaluate(self, dataset: Dataset) -> dict[str, float]:
        """Mean loss and the task's metric over `dataset`, exact across ranks. The unwrapped
        module is used: ranks hold shards of different lengths, and DDP's forward would wait
        for the others."""
        source = self.val_source if dataset is self.parts.val else BatchSource(dataset,
                                                                                 self.device)
        indices = shard(len(dataset), self.world.rank, self.world.size)
        if self.config.overfit_batches and dataset is self.parts.val:
            indices = [i for batch in self._epoch_batches(0) for i in batch]
        batches = batches_of(indices, self.config.batch_size)
        if self.config.fast_dev_run:
            batches = batches[:self.config.fast_dev_run]
        else:
            batches = batches[:limit_batches(self.config.limit_val_batches, len(batches))]
        was_training = self.module.training
        self.module.eval()
        sums = torch.zeros(3, dtype=torch.float64, device=self.device)
        for x, y in source.iterate(batches):
            with speed.autocast(self.device, self.config.precision):
                output = inputs.call(self.module, speed.to_input_format(x, self.channels_last))
                loss = self.task.loss_fn(output, y)
            samples = inputs.batch_len(x)
            sums += torch.stack([loss.double() * samples,
                                 self.task.metric_sum(output, y), torch.tensor(
                                     float(samples), dtype=torch.float64, device=self.device)])
        self.module.train(was_training)
        loss_sum, metric_sum, count = sum_across(self.world, sums.cpu()).tolist()
        if not count:
            return {}
        return {"loss": loss_sum / count, "metric": metric_sum / count}

    # --- checkpoints ---------------------------------------------------------------------------

    def _save(self, best: bool) -> None:
        """last.pt (and best.pt) from rank 0, every rank's RNG state included; then a barrier
        so that no rank runs ahead of a checkpoint that is still being written."""
        if self.parts.run_dir is None:
            return
        states = [rng_state()]
        if self.world.distributed:
            states = [None] * self.world.size
            dist.all_gather_object(states, rng_state())
        if self.world.is_main:
            progress = dataclasses.replace(self.progress)
            if progress.batch:  # mid-epoch: keep the partial epoch's loss for its mean
                progress.epoch_loss_sum += float(self._epoch_loss)
                self._epoch_loss.zero_()
                self.progress.epoch_loss_sum = progress.epoch_loss_sum
            state = {"model": self.module.state_dict(),
                     "optimizer": self.optimizer.state_dict(),
                     "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                     "scaler": self.scaler.state_dict(),
                     "progress": dataclasses.asdict(progress), "rng": states,
                     **self.parts.extra_state}
            folder = self.parts.run_dir / "checkpoints"
            save_checkpoint(folder / "last.pt", state)
            if best:  # the same bytes: copied, not serialised a second time
                copy_checkpoint(folder / "last.pt", folder / "best.pt")
            self.log.event("checkpoint", step=progress.step, epoch=progress.epoch, best=best)
        elif self.progress.batch:
            # Other ranks keep their own epoch loss in step with rank 0's bookkeeping.
            self.progress.epoch_loss_sum += float(self._epoch_loss)
            self._epoch_loss.zero_()
        barrier(self.world)
