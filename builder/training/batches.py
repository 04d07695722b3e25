"""Batches in an order derived from seed + epoch alone, so a resumed run can skip exactly what it
already saw, on one process or many.

A dataset of tensors (every DATA form but `python:`) is indexed directly, on the GPU when it fits
there: no DataLoader round trip per batch. Other datasets go through a DataLoader that is given
the same batches of indices.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset, TensorDataset

from builder.training.inputs import Inputs, select, to_device

# Keep a dataset on the GPU only while it takes at most this share of the free memory.
GPU_SHARE = 0.25


def epoch_indices(size: int, epoch: int, seed: int, rank: int, world: int,
                  shuffle: bool = True) -> list[int]:
    """This rank's sample indices for `epoch`: DistributedSampler's seed + epoch permutation
    (for one process too, so the order does not change with the world size)."""
    sampler = DistributedSampler(range(size), num_replicas=world, rank=rank, shuffle=shuffle,
                                 seed=seed, drop_last=False)
    sampler.set_epoch(epoch)
    return list(sampler)


def shard(size: int, rank: int, world: int) -> list[int]:
    """Validation indices for this rank: each sample exactly once over all ranks (no padding,
    so the reduced metric is the exact dataset figure)."""
    return list(range(rank, size, world))


def batches_of(indices: list[int], batch_size: int) -> list[list[int]]:
    return [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]


class BatchSource:
    """Turns batches of indices into (x, y) on the training device."""

    def __init__(self, dataset: Dataset, device: torch.device, num_workers: int = 0):
        self.device = device
        self.num_workers = num_workers
        self.dataset = dataset
        self.tensors = _tensors_of(dataset)
        if self.tensors is not None and _fits_on(device, self.tensors):
            self.tensors = tuple(to_device(t, device) for t in self.tensors)

    def __len__(self) -> int:
        return len(self.dataset)

    def iterate(self, batches: list[list[int]]) -> Iterator[tuple[Inputs, torch.Tensor]]:
        """(x, y) per batch; x is a tuple of tensors for a model with several inputs."""
        if self.tensors is not None:
            x, y = self.tensors
            for batch in batches:
                index = torch.as_tensor(batch, device=y.device)
                yield to_device(select(x, index), self.device), to_device(y[index], self.device)
            return
        loader = DataLoader(self.dataset, batch_sampler=batches, num_workers=self.num_workers,
                            pin_memory=self.device.type == "cuda")
        for x, y in loader:
            x = tuple(x) if isinstance(x, list) else x  # default_collate makes tuples lists
            yield to_device(x, self.device), to_device(y, self.device)


def _tensors_of(dataset: Dataset) -> tuple[Inputs, torch.Tensor] | None:
    """(x, y) of a TensorDataset, or of a Subset (of a Subset...) of one; None otherwise. x is a
    tuple when the dataset holds several inputs before its labels."""
    index = None
    while isinstance(dataset, Subset):
        inner = torch.as_tensor(dataset.indices)
        index = inner if index is None else inner[index]
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset) or len(dataset.tensors) < 2:
        return None
    if len(dataset.tensors) > 2 and getattr(dataset, "n_inputs", 1) != len(dataset.tensors) - 1:
        return None  # not (inputs..., labels): the dataset's own __getitem__ must be used
    *inputs, y = dataset.tensors
    x = inputs[0] if len(inputs) == 1 else tuple(inputs)
    return (x, y) if index is None else (select(x, index), y[index])


def _fits_on(device: torch.device, tensors: tuple) -> bool:
    if device.type != "cuda":
        return False
    free, _total = torch.cuda.mem_get_info(device)
    flat = [t for part in tensors for t in (part if isinstance(part, tuple) else (part,))]
    return sum(t.numel() * t.element_size() for t in flat) <= GPU_SHARE * free
