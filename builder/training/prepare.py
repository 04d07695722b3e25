"""A Problem for the paper-implementer's tools (sanity, lr-find) from the same inputs `train`
takes: the model built the same way, the same data split, the same optimiser."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import torch

from builder.training import speed
from builder.training.config import TrainConfig
from builder.training.data import load_dataset, parse_data, split
from builder.training.distributed import pick_device
from builder.training.optim import make_optimizer
from builder.training.problem import Problem
from builder.training.runner import (
    _build,
    _check_loss_fits,
    chosen_network,
    input_shape_for,
    prepare_source,
)
from builder.training.task import resolve_task


def prepare_problem(config: TrainConfig) -> tuple[Problem, str]:
    """The Problem, and the model's label for messages."""
    device = pick_device(config.accelerator)
    speed.configure_backends(device, config.deterministic)
    source = prepare_source(config)
    network = chosen_network(config, source)
    dataset = load_dataset(parse_data(config.data), input_shape_for(config, source, network))
    train, _val, _test = split(dataset, config.seed, config.split)
    scratch = Path(tempfile.mkdtemp(prefix="torchcanvas-probe-"))
    try:
        torch.manual_seed(config.seed)
        model = _build(source, scratch, network, write=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    task = resolve_task(config.task, config.loss, dataset)
    _check_loss_fits(model, task, train)

    def optimizer(params, lr):
        return make_optimizer(config.optimizer, params, lr, config.weight_decay, device)

    problem = Problem(model.to(device), task, train, device, optimizer, config.lr,
                      config.batch_size, config.seed, tuple(source.diagnostics))
    return problem, source.label
