"""The line that says what a run is doing, built from its progress events (no Qt here).

    Building the model and loading the data…
    Epoch 3/15 · step 84 · loss 0.412 · 5,120 samples/s · cpu, world size 1 · about 2 min left
    Stopping: saving a checkpoint…
    Finished: 15 epochs, 420 steps (reached the epoch limit) · test loss 0.214, acc 0.953

The events are the runner's (builder/training/logs.py): ``info`` lines, ``step`` every few steps,
``epoch`` at each epoch's end, ``checkpoint``, ``end``; a ``start`` event with ``device`` and
``world_size`` is used when the runner sends one, else they are read from its setup line
("... world size 2 on cuda:0"). Unknown events are ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

SETUP_LINE = re.compile(r"world size (?P<size>\d+) on (?P<device>\S+)")
RESUMED_LINE = re.compile(r"resumed at epoch (?P<epoch>\d+), step (?P<step>\d+)")
STOP_REASONS = {
    "max_epochs": "reached the epoch limit",
    "max_steps": "reached the step limit",
    "early_stopping": "early stopping: the validation loss stopped improving",
}


def duration_text(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _number(value) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "?"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.3f}" if value == 0 or 1e-3 <= abs(value) < 1e4 else f"{value:.2e}"


class RunStatus:
    """Feed it a run's events; ``text()`` is the status line. ``total_epochs``: what the run
    trains to (the project's epochs); ``device_names``: id -> name ("cuda:0" -> "NVIDIA H200")."""

    def __init__(
        self,
        total_epochs: int | None = None,
        batch_size: int | None = None,
        device_names: Mapping[str, str] | None = None,
    ):
        self.total_epochs = total_epochs
        self.batch_size = batch_size
        self.device_names = dict(device_names or {})
        self.phase = "starting"  # starting, training, stopping, ended
        self.device: str | None = None
        self.world_size: int | None = None
        self.epoch = 1  # the epoch being trained, from 1
        self.step: int | None = None
        self.loss: float | None = None
        self.samples_per_s: float | None = None
        self.epochs_done = 0
        self.epoch_seconds: list[float] = []
        self.last_epoch_time: float | None = None
        self.last_event_time: float | None = None
        self._rate_from: tuple[float, int] | None = None  # (time, step) of an earlier step
        self.checkpoint_step: int | None = None
        self.metric = "metric"  # the task's, once an epoch has named it
        self.ended_text = ""

    # -- events ----------------------------------------------------------------------------
    def feed(self, event: Mapping) -> None:
        kind = event.get("event")
        when = event.get("time")
        if isinstance(when, (int, float)):
            self.last_event_time = float(when)
        handler = getattr(self, f"_on_{kind}", None) if isinstance(kind, str) else None
        if handler is not None:
            handler(event)

    def _on_start(self, event: Mapping) -> None:
        self._set_world(event.get("device"), event.get("world_size"))
        total = event.get("max_epochs", event.get("epochs"))
        if isinstance(total, int) and total > 0:
            self.total_epochs = total

    def _on_info(self, event: Mapping) -> None:
        message = str(event.get("message", ""))
        setup = SETUP_LINE.search(message)
        if setup:
            self._set_world(setup["device"], int(setup["size"]))
        resumed = RESUMED_LINE.search(message)
        if resumed:
            self.epoch, self.step = int(resumed["epoch"]), int(resumed["step"])
            self.epochs_done = self.epoch - 1

    def _set_world(self, device, size) -> None:
        if isinstance(device, str) and device:
            self.device = device
        if isinstance(size, int) and size > 0:
            self.world_size = size
        if self.phase == "starting" and self.device is not None:
            self.phase = "training"

    def _on_step(self, event: Mapping) -> None:
        self._training()
        step, when = event.get("step"), event.get("time")
        if isinstance(event.get("epoch"), int):
            self.epoch = event["epoch"]
        if isinstance(step, int):
            if self._rate_from is None and isinstance(when, (int, float)):
                self._rate_from = (float(when), step)
            elif self.samples_per_s is None or not self.epochs_done:
                self._step_rate(step, when)
            self.step = step
        if "loss" in event:  # null: NaN or infinite, which JSON cannot hold
            loss = event["loss"]
            self.loss = float(loss) if isinstance(loss, (int, float)) else math.nan

    def _step_rate(self, step: int, when) -> None:
        """Samples per second from the steps between two step events, until an epoch says."""
        if not isinstance(when, (int, float)) or not self.batch_size or self._rate_from is None:
            return
        then, first = self._rate_from
        if when > then and step > first:
            world = self.world_size or 1
            self.samples_per_s = (step - first) * self.batch_size * world / (when - then)

    def _on_epoch(self, event: Mapping) -> None:
        self._training()
        done = event.get("epoch")
        if isinstance(done, int):
            self.epochs_done = done
            self.epoch = done + 1
        if isinstance(event.get("step"), int):
            self.step = event["step"]
        rate = event.get("samples_per_s")
        if isinstance(rate, (int, float)) and math.isfinite(rate):
            self.samples_per_s = float(rate)
        when = event.get("time")
        if isinstance(when, (int, float)):
            if self.last_epoch_time is not None:
                self.epoch_seconds.append(float(when) - self.last_epoch_time)
            elif isinstance(event.get("seconds"), (int, float)):
                self.epoch_seconds.append(float(event["seconds"]))
            self.last_epoch_time = float(when)
        if isinstance(event.get("train_loss"), (int, float)):
            self.loss = event["train_loss"]
        # The task's metric is the column named val_<metric> beside val_loss (val_acc, val_mae).
        named = (name[4:] for name in event if name.startswith("val_") and name != "val_loss")
        self.metric = next(named, self.metric)

    def _on_checkpoint(self, event: Mapping) -> None:
        if isinstance(event.get("step"), int):
            self.checkpoint_step = event["step"]

    def _on_end(self, event: Mapping) -> None:
        epochs, steps = event.get("epochs"), event.get("steps")
        reason = STOP_REASONS.get(str(event.get("stopped")), str(event.get("stopped") or ""))
        text = f"Finished: {epochs} epoch{'s' * (epochs != 1)}, {steps} steps"
        text += f" ({reason})" if reason else ""
        test = event.get("test")
        if isinstance(test, Mapping) and test:
            loss, metric = _number(test.get("loss")), _number(test.get("metric"))
            text += f" · test loss {loss}, {self.metric} {metric}"
        self.ended_text = text

    def _training(self) -> None:
        if self.phase == "starting":
            self.phase = "training"

    # -- what the panel says ---------------------------------------------------------------
    def stopping(self) -> None:
        self.phase = "stopping"

    def time_left(self, now: float | None = None) -> float | None:
        """Seconds, from the epochs' times; None until an epoch has finished."""
        if not self.epoch_seconds or not self.total_epochs:
            return None
        per_epoch = sum(self.epoch_seconds) / len(self.epoch_seconds)
        remaining = (self.total_epochs - self.epochs_done) * per_epoch
        if now is not None and self.last_epoch_time is not None:
            remaining -= max(0.0, now - self.last_epoch_time)
        return max(0.0, remaining)

    def where(self) -> str:
        if self.device is None:
            return ""
        name = self.device_names.get(self.device)
        device = f"{self.device} ({name})" if name and name != self.device else self.device
        return f"{device}, world size {self.world_size or 1}"

    def text(self, now: float | None = None) -> str:
        if self.phase == "stopping":
            return "Stopping: saving a checkpoint…"
        if self.phase == "starting":
            return "Building the model and loading the data…"
        if self.ended_text:
            return self.ended_text
        if self.step is None:
            where = self.where()
            return f"Training epoch {self._epoch_label()}" + (f" on {where}" if where else "") + "…"
        parts = [f"Epoch {self._epoch_label()}", f"step {self.step}"]
        if self.loss is not None:
            parts.append(f"loss {_number(self.loss)}")
        if self.samples_per_s:
            parts.append(f"{self.samples_per_s:,.0f} samples/s")
        if self.where():
            parts.append(self.where())
        left = self.time_left(now)
        if left is not None:
            parts.append(f"about {duration_text(left)} left")
        return " · ".join(parts)

    def _epoch_label(self) -> str:
        if self.total_epochs:
            return f"{min(self.epoch, self.total_epochs)}/{self.total_epochs}"
        return str(self.epoch)
