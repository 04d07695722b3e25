"""The flags of `torchcanvas train` (and of `sanity` and `lr-find`, which share most of them).

Names follow Lightning's Trainer, because users already know them. Every default is None here:
what a flag does not say, the project's `training` section or the runner's defaults decide
(builder/training/config.py).
"""

from __future__ import annotations

import argparse
import json

# Only torch-free modules here: `torchcanvas validate` must start without importing torch.
from builder.training.config import (
    ACCELERATORS,
    DATA_FORMS,
    LOSSES,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULERS,
    TASKS,
)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="FILE|SPEC",
                        help="a project file, or path/to/file.py:Name / package.module:Name")
    parser.add_argument("--data", metavar="DATA",
                        help=f"the dataset: {DATA_FORMS} (default: the project's dataset, when it "
                             f"is one of these)")
    parser.add_argument("--kwargs", type=_json_object, metavar="JSON",
                        help="keyword arguments for a SPEC's class, as a JSON object")
    parser.add_argument("--network", help="which network of the project to train")
    parser.add_argument("--input-shape", type=_shape, metavar="C,H,W",
                        help="the model's input without the batch dim (default: the project's "
                             "io.Input; for a SPEC, the data's own shape)")
    parser.add_argument("--task", choices=TASKS)
    parser.add_argument("--loss", choices=LOSSES)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--accelerator", choices=ACCELERATORS)
    parser.add_argument("--precision", choices=PRECISIONS)
    parser.add_argument("--trust-kept-source", action="store_true", default=None,
                        help="train kept source this machine has not signed (review it first)")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--max-epochs", type=int)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--scheduler", choices=SCHEDULERS)
    parser.add_argument("--devices", type=int, help="processes on this machine (GPUs, or CPU "
                        "processes with --accelerator cpu); more than 1 launches torchrun")
    parser.add_argument("--num-nodes", type=int, help="machines taking part (with "
                        "--node-rank and --rdzv-endpoint)")
    parser.add_argument("--node-rank", type=int)
    parser.add_argument("--rdzv-endpoint", metavar="HOST:PORT",
                        help="where the machines meet (node rank 0's address)")
    parser.add_argument("--dist-timeout", type=float, metavar="SECONDS",
                        help="how long ranks wait for each other (default 300)")
    parser.add_argument("--compile", action="store_true", default=None,
                        help="torch.compile the model")
    parser.add_argument("--deterministic", action="store_true", default=None)
    parser.add_argument("--gradient-clip-val", type=float)
    parser.add_argument("--accumulate-grad-batches", type=int)
    parser.add_argument("--fast-dev-run", type=int, nargs="?", const=1, metavar="N",
                        help="N batches (default 1) of training and validation; nothing saved")
    parser.add_argument("--overfit-batches", type=int, metavar="N",
                        help="train and validate on the same N batches")
    parser.add_argument("--limit-train-batches", type=_limit, metavar="N|FRACTION")
    parser.add_argument("--limit-val-batches", type=_limit, metavar="N|FRACTION")
    parser.add_argument("--early-stopping-patience", type=int, metavar="P",
                        help="stop after P epochs without a better validation loss (0: never; "
                             "default 5)")
    parser.add_argument("--ckpt-path", metavar="PATH|last",
                        help="resume: `last` continues the run in --out")
    parser.add_argument("--checkpoint-every-n-steps", type=int, metavar="K")
    parser.add_argument("--log-every-n-steps", type=int, metavar="K")
    parser.add_argument("--num-workers", type=int, help="DataLoader workers for python: data")
    parser.add_argument("--out", metavar="RUN_DIR", help="the run folder (default: under runs/)")
    parser.add_argument("--json-progress", action="store_true", default=None,
                        help="one JSON object per line on stdout, for programs to follow")
    parser.add_argument("--check-init", action="store_true", default=None,
                        help="report per-layer activations at initialisation first")


FLAG_FIELDS = ("data", "kwargs", "network", "input_shape", "task", "loss", "batch_size", "lr",
               "optimizer", "weight_decay", "seed", "accelerator", "precision",
               "trust_kept_source", "max_epochs", "max_steps", "scheduler", "devices",
               "num_nodes", "node_rank", "rdzv_endpoint", "dist_timeout", "compile",
               "deterministic", "gradient_clip_val", "accumulate_grad_batches", "fast_dev_run",
               "overfit_batches", "limit_train_batches", "limit_val_batches",
               "early_stopping_patience", "ckpt_path", "checkpoint_every_n_steps",
               "log_every_n_steps", "num_workers", "out", "json_progress", "check_init")


def flags_of(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name, None) for name in FLAG_FIELDS}


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err.msg})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, such as '{\"width\": 64}'")
    return value


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected sizes separated by commas, e.g. 1,8,8") \
            from None
    if not dims or len(dims) > 8 or any(d < 1 for d in dims):
        raise argparse.ArgumentTypeError("sizes must be positive, at most 8 of them")
    return dims


def _limit(text: str) -> float | int:
    """Lightning's meaning: `0.25` is a quarter of the batches, `10` is ten batches."""
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of batches or a fraction") \
            from None
