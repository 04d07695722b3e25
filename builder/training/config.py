"""The resolved settings of one run: the flags over the project's `training` section over the
runner's defaults. What is resolved here is written to the run folder's config.json, so a run can
be repeated exactly from that file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("adamw", "adam", "sgd", "rmsprop")
SCHEDULERS = ("onecycle", "cosine", "step", "none")
PRECISIONS = ("32-true", "16-mixed", "bf16-mixed")
ACCELERATORS = ("auto", "cpu", "gpu")
TASKS = ("classification", "regression", "gan")
# The loss names of the project's training section (graph_schema.document.LOSSES); task.py maps
# each to its torch function. Kept here too so that the command line parses without torch.
LOSSES = ("cross_entropy", "nll", "mse", "l1", "smooth_l1", "bce", "bce_with_logits")
DATA_FORMS = ("digits, synthetic:..., synthetic:pairs,..., npz:PATH, csv:PATH[:target=COL], "
              "folder:PATH, python:MODULE:FACTORY")
DEFAULT_SPLIT = (0.8, 0.1, 0.1)
DEFAULT_PATIENCE = 5


class ConfigError(Exception):
    """A flag or a combination of flags that cannot be used (exit 2)."""


@dataclass
class TrainConfig:
    target: str
    data: str
    kwargs: dict = field(default_factory=dict)
    network: str | None = None
    task: str | None = None
    loss: str | None = None
    input_shape: tuple | None = None
    max_epochs: int = 10
    max_steps: int | None = None
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float = 0.0
    scheduler: str = "none"
    precision: str = "32-true"
    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None
    dist_timeout: float = 300.0
    compile: bool = False
    seed: int = 0
    deterministic: bool = False
    gradient_clip_val: float | None = None
    accumulate_grad_batches: int = 1
    fast_dev_run: int = 0
    overfit_batches: int = 0
    limit_train_batches: float | None = None
    limit_val_batches: float | None = None
    early_stopping_patience: int = DEFAULT_PATIENCE
    ckpt_path: str | None = None
    checkpoint_every_n_steps: int | None = None
    log_every_n_steps: int = 50
    out: str | None = None
    json_progress: bool = False
    check_init: bool = False
    trust_kept_source: bool = False
    split: tuple = DEFAULT_SPLIT
    num_workers: int = 0
    # The one GPU the project's `device` names ("cuda:1"), or None: any (by local rank).
    cuda_device: int | None = None

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["split"] = list(self.split)
        values["input_shape"] = list(self.input_shape) if self.input_shape else None
        return values


# Where a flag is not given, these fields of the project's `training` section decide.
PROJECT_FIELDS = {"lr": "learning_rate", "optimizer": "optimizer", "weight_decay": "weight_decay",
                  "batch_size": "batch_size", "max_epochs": "epochs", "seed": "seed",
                  "loss": "loss", "precision": "precision", "devices": "processes"}


def resolve(flags: dict[str, Any], training=None) -> TrainConfig:
    """`flags`: the command line's values, None where not given; `training`: the project's
    Training section, or None for a model given as a SPEC."""
    values = {k: v for k, v in flags.items() if v is not None}
    if training is not None:
        for name, project_field in PROJECT_FIELDS.items():
            values.setdefault(name, getattr(training, project_field))
        if training.task in ("classification", "regression"):
            values.setdefault("task", training.task)
        if "accelerator" not in values:  # --accelerator wins over the project's device
            values["accelerator"], values["cuda_device"] = device_choice(training.device)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in values.items() if k in known})
    check(config)
    return config


def device_choice(device: str) -> tuple[str, int | None]:
    """The project's `device` ("auto", "cpu", "cuda", "cuda:1") as (accelerator, GPU index)."""
    if device in ("auto", "cpu"):
        return device, None
    _, _, index = device.partition(":")
    return "gpu", int(index) if index else None


def chosen_gpu_environment(config: TrainConfig, environ: dict[str, str]) -> str | None:
    """The CUDA_VISIBLE_DEVICES that leaves only the project's chosen GPU visible (so it is
    cuda:0 inside the run), or None to leave the environment alone. Indices count the GPUs
    visible already, as `torchcanvas devices` lists them."""
    if config.cuda_device is None:
        return None
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return str(config.cuda_device)
    ids = [part.strip() for part in visible.split(",") if part.strip()]
    if config.cuda_device >= len(ids):
        raise ConfigError(f"device cuda:{config.cuda_device}: only {len(ids)} GPU(s) are "
                          f"visible here (CUDA_VISIBLE_DEVICES={visible})")
    return ids[config.cuda_device]


def is_spec(target: str) -> bool:
    """`x.py:Name` or `pkg.mod:Name` (a SPEC) rather than a project file."""
    location, sep, name = target.rpartition(":")
    return bool(sep and name and location) and not target.endswith(".json")


def check(config: TrainConfig) -> None:
    """Raise ConfigError for values no run can use; one line naming the flag."""
    _choice("--optimizer", config.optimizer, OPTIMIZERS)
    _choice("--scheduler", config.scheduler, SCHEDULERS)
    _choice("--precision", config.precision, PRECISIONS)
    _choice("--accelerator", config.accelerator, ACCELERATORS)
    for flag, value, low in (("--max-epochs", config.max_epochs, 1),
                             ("--batch-size", config.batch_size, 1),
                             ("--devices", config.devices, 1),
                             ("--num-nodes", config.num_nodes, 1),
                             ("--accumulate-grad-batches", config.accumulate_grad_batches, 1),
                             ("--log-every-n-steps", config.log_every_n_steps, 1),
                             ("--node-rank", config.node_rank, 0),
                             ("--fast-dev-run", config.fast_dev_run, 0),
                             ("--overfit-batches", config.overfit_batches, 0),
                             ("--early-stopping-patience", config.early_stopping_patience, 0),
                             ("--seed", config.seed, 0),
                             ("--num-workers", config.num_workers, 0)):
        if value < low:
            raise ConfigError(f"{flag} must be at least {low}, got {value}")
    for flag, value in (("--max-steps", config.max_steps),
                        ("--checkpoint-every-n-steps", config.checkpoint_every_n_steps)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be at least 1, got {value}")
    if not 0 < config.lr <= 100:
        raise ConfigError(f"--lr must be more than 0 and at most 100, got {config.lr:g}")
    if config.weight_decay < 0:
        raise ConfigError(f"--weight-decay must not be negative, got {config.weight_decay:g}")
    if config.gradient_clip_val is not None and config.gradient_clip_val <= 0:
        raise ConfigError(f"--gradient-clip-val must be positive, got {config.gradient_clip_val:g}")
    for flag, value in (("--limit-train-batches", config.limit_train_batches),
                        ("--limit-val-batches", config.limit_val_batches)):
        _check_limit(flag, value)
    if config.node_rank >= config.num_nodes:
        raise ConfigError(f"--node-rank {config.node_rank} must be below --num-nodes "
                          f"{config.num_nodes}")
    if config.num_nodes > 1 and not config.rdzv_endpoint:
        raise ConfigError("--num-nodes > 1 needs --rdzv-endpoint HOST:PORT (the machine of "
                          "node rank 0)")
    if config.dist_timeout <= 0:
        raise ConfigError("--dist-timeout must be positive")
    if config.cuda_device is not None and config.devices > 1:
        raise ConfigError(f"the project's device cuda:{config.cuda_device} is one GPU, but "
                          f"{config.devices} processes were asked for; choose device auto or "
                          f"cuda to use several GPUs")
    if config.batch_size > 1_000_000:
        raise ConfigError(f"--batch-size {config.batch_size} is more than any dataset here holds")


def _check_limit(flag: str, value: float | None) -> None:
    """Lightning's meaning: a float in (0, 1] is a fraction of the batches, an integer a count."""
    if value is None:
        return
    if value <= 0 or (value > 1 and value != int(value)):
        raise ConfigError(f"{flag} must be a fraction in (0, 1] or a whole number of batches, "
                          f"got {value:g}")


def _choice(flag: str, value: str, choices: tuple) -> None:
    if value not in choices:
        raise ConfigError(f"{flag} {value!r}: expected one of {', '.join(choices)}")


def limit_batches(limit: float | None, available: int) -> int:
    if limit is None:
        return available
    if limit <= 1 and limit != int(limit):
        return max(1, int(available * limit))
    if limit == 1.0 and isinstance(limit, float):
        return available
    return min(available, int(limit))
