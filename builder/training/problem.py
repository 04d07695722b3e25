"""A Problem: one model, its task and data, and how to optimise it, handed to the
paper-implementer's tools (the sanity ladder, the LR range test, the initialisation check).

The CLI builds it (from a project FILE or a SPEC); the tools only read it. Each tool restores what
it changes (weights, training mode, every torch RNG), so running one before a seeded training run
does not change that run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, default_collate

from builder.training.inputs import Inputs, to_device
from builder.training.task import Task

OptimizerFactory = Callable[[Iterable[nn.Parameter], float], torch.optim.Optimizer]
Batch = tuple[Inputs, torch.Tensor]


@dataclass(frozen=True)
class Problem:
    model: nn.Module  # already on `device`, freshly initialised
    task: Task
    train: Dataset  # yields (x, y); x shaped for the model (a tuple for several inputs)
    device: torch.device
    make_optimizer: OptimizerFactory  # (params, lr) -> optimiser
    lr: float
    batch_size: int
    seed: int
    diagnostics: Sequence = ()  # graph_schema Diagnostics of the project (empty for a SPEC)
    node_names: Mapping[str, str] = field(default_factory=dict)  # module path -> node name

    def node_name(self, module_path: str) -> str:
        """The drawn node's name for a module path of `named_modules()` (the path itself when
        the model was not drawn)."""
        return self.node_names.get(module_path, module_path) or "(model)"


def first_batch(problem: Problem, n: int) -> Batch:
    """`n` training samples (all of them when there are fewer), on the problem's device. The same
    samples every call: a permutation of its own seeded generator picks them, so that a small
    batch is a fair mix of the set (a split may keep the set in class order)."""
    size = len(problem.train)
    order = torch.randperm(size, generator=torch.Generator().manual_seed(problem.seed))
    samples = [problem.train[i] for i in order[:n].tolist()]
    x, y = default_collate(samples)
    return _on(problem.device, x, y)


def shuffled_batches(problem: Problem) -> Iterator[Batch]:
    """Batches of `batch_size` over the whole training set, epoch after epoch, without end: a
    seeded order of its own, so the global RNG neither decides nor feels it."""
    generator = torch.Generator().manual_seed(problem.seed)
    loader = DataLoader(problem.train, batch_size=problem.batch_size, shuffle=True,
                        generator=generator)
    while True:
        for x, y in loader:
            yield _on(problem.device, x, y)


def _on(device: torch.device, x, y: torch.Tensor) -> Batch:
    """A collated batch on `device`; several inputs (collated as a list) become a tuple."""
    return to_device(tuple(x) if isinstance(x, list) else x, device), y.to(device)


@contextlib.contextmanager
def preserved_rng(device: torch.device) -> Iterator[None]:
    """Every torch RNG that a forward on `device` may draw from (dropout) as it was, afterwards."""
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        yield


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every parameter and buffer, to put back with `model.load_state_dict`."""
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


@contextlib.contextmanager
def restored(model: nn.Module) -> Iterator[dict[str, torch.Tensor]]:
    """Run a block that trains `model`, then put back its weights, buffers, gradients and
    training mode exactly (bitwise) as they were. Yields the initial state for restarts."""
    initial = snapshot(model)
    grads = {p: (None if p.grad is None else p.grad.detach().clone()) for p in model.parameters()}
    was_training = model.training
    try:
        yield initial
    finally:
        model.load_state_dict(initial)
        for param, grad in grads.items():
            param.grad = grad
        model.train(was_training)
