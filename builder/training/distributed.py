"""Many processes with PyTorch's own tools: torchrun launches, DistributedDataParallel trains.

Inside a worker, `World` reads what torchrun set (RANK, LOCAL_RANK, WORLD_SIZE) and the same code
runs as in a single process; launching is launch.py's. Nothing about either lives in the loop.

The launcher needs no torch: it imports this module, and torch is imported where a worker needs
it (importing torch costs seconds, paid again by every process of a run).
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

from builder.training.launch import LOOPBACK_INTERFACE


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1
    device: torch.device | None = None  # None: the CPU

    def __post_init__(self):
        if self.device is None:
            import torch

            object.__setattr__(self, "device", torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def under_torchrun() -> bool:
    """True inside a worker that torchrun (ours or the user's own) started."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def pick_device(accelerator: str, local_rank: int = 0) -> torch.device:
    import torch

    if accelerator == "gpu" and not torch.cuda.is_available():
        raise RuntimeError("--accelerator gpu: no CUDA device is available here; use "
                           "--accelerator cpu")
    if accelerator in ("gpu", "auto") and torch.cuda.is_available():
        index = local_rank % torch.cuda.device_count()
        torch.cuda.set_device(index)
        return torch.device("cuda", index)
    return torch.device("cpu")


def start_world(accelerator: str, timeout_s: float) -> World:
    """The process group for a torchrun worker, or a one-process World outside torchrun."""
    import torch.distributed as dist

    if not under_torchrun():
        return World(device=pick_device(accelerator))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    size = int(os.environ["WORLD_SIZE"])
    device = pick_device(accelerator, local_rank)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if backend == "gloo" and os.environ.get("LOCAL_WORLD_SIZE") == str(size):
        # Every rank is on this machine (a user's own `torchrun --standalone`, say): loopback
        # always reaches them, where the interface gloo guesses from the hostname may not.
        os.environ.setdefault("GLOO_SOCKET_IFNAME", LOOPBACK_INTERFACE)
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s),
                            device_id=device if device.type == "cuda" else None)
    return World(rank, local_rank, size, device)


def end_world(world: World) -> None:
    """Leave the process group (also a one-rank group that torchrun made)."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        import torch.distributed as dist

        dist.barrier()


def sum_across(world: World, values: torch.Tensor) -> torch.Tensor:
    """Element-wise sum over every rank (float64 on CPU for gloo; on the device for nccl)."""
    if not world.distributed:
        return values
    import torch
    import torch.distributed as dist

    device = world.device if world.device.type == "cuda" else torch.device("cpu")
    total = values.detach().to(device=device, dtype=torch.float64)
    dist.all_reduce(total)
    return total.cpu()


def any_across(world: World, flag: bool) -> bool:
    """True on every rank when it is true on one (so all ranks stop at the same step)."""
    if not world.distributed:
        return flag
    import torch

    return bool(sum_across(world, torch.tensor([float(flag)])).item() > 0)


def weights_sha256(model: torch.nn.Module) -> str:
    """A hash of the model's weights and buffers as they are in memory, in state_dict order."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        raw = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
        digest.update(raw.numpy().tobytes())
    return digest.hexdigest()


def share_text(world: World, text: str) -> str:
    """Rank 0's `text` on every rank (for a run folder name chosen by rank 0)."""
    if not world.distributed:
        return text
    import torch.distributed as dist

    box = [text]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def share_object(world: World, value):
    """Rank 0's `value` (any picklable object, e.g. a checkpoint) on every rank."""
    if not world.distributed:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
