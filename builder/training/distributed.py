"""Many processes with PyTorch's own tools: torchrun launches, DistributedDataParallel trains.

`launch` starts `python -m torch.distributed.run` as a child process, so the parent's environment
stays clean and a failed rank ends the whole launch (torchrun stops the others). Inside a worker,
`World` reads what torchrun set (RANK, LOCAL_RANK, WORLD_SIZE) and the same code runs as in a
single process. Nothing about launching lives in the training loop.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist

# The worker's own one-line error goes here, so the launcher can repeat it after torchrun's noise.
ERROR_DIR_VARIABLE = "TORCHCANVAS_ERROR_DIR"


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1
    device: torch.device = torch.device("cpu")

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
    if not under_torchrun():
        return World(device=pick_device(accelerator))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    size = int(os.environ["WORLD_SIZE"])
    device = pick_device(accelerator, local_rank)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s),
                            device_id=device if device.type == "cuda" else None)
    return World(rank, local_rank, size, device)


def end_world(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def sum_across(world: World, values: torch.Tensor) -> torch.Tensor:
    """Element-wise sum over every rank (float64 on CPU for gloo; on the device for nccl)."""
    if not world.distributed:
        return values
    device = world.device if world.device.type == "cuda" else torch.device("cpu")
    total = values.detach().to(device=device, dtype=torch.float64)
    dist.all_reduce(total)
    return total.cpu()


def any_across(world: World, flag: bool) -> bool:
    """True on every rank when it is true on one (so all ranks stop at the same step)."""
    if not world.distributed:
        return flag
    return bool(sum_across(world, torch.tensor([float(flag)])).item() > 0)


def share_text(world: World, text: str) -> str:
    """Rank 0's `text` on every rank (for a run folder name chosen by rank 0)."""
    if not world.distributed:
        return text
    box = [text]
    dist.broadcast_object_list(box, src=0)
    return box[0]


# --- launching ---------------------------------------------------------------------------------


def torchrun_command(worker_args: list[str], devices: int, num_nodes: int, node_rank: int,
                     rdzv_endpoint: str | None) -> list[str]:
    command = [sys.executable, "-m", "torch.distributed.run", "--max-restarts", "0",
               "--nproc-per-node", str(devices)]
    if num_nodes == 1:
        command.append("--standalone")  # c10d rendezvous on a free local port: no collisions
    else:
        command += ["--nnodes", str(num_nodes), "--node-rank", str(node_rank),
                    "--rdzv-backend", "c10d", "--rdzv-endpoint", rdzv_endpoint or "",
                    "--rdzv-id", f"torchcanvas-{rdzv_endpoint}"]
    return command + ["-m", "builder", *worker_args]


def launch(command: list[str], cpu: bool, error_dir: str) -> int:
    """Run torchrun; its exit status. SIGINT/SIGTERM are passed on so workers checkpoint."""
    env = dict(os.environ, **{ERROR_DIR_VARIABLE: error_dir})
    env.setdefault("OMP_NUM_THREADS", "1")  # torchrun's own default, said once, quietly
    if cpu:
        # gloo must pick an interface both ranks can reach; loopback for a machine-local run.
        env.setdefault("GLOO_SOCKET_IFNAME", "lo" if sys.platform.startswith("linux") else "lo0")
    child = subprocess.Popen(command, env=env)
    forwarded = {}

    def forward(signum, _frame):
        child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        forwarded[signum] = signal.signal(signum, forward)
    try:
        return child.wait()
    finally:
        for signum, handler in forwarded.items():
            signal.signal(signum, handler)


def write_rank_error(world_rank: int | None, message: str) -> None:
    """Leave this worker's one-line error where the launcher will find it."""
    folder = os.environ.get(ERROR_DIR_VARIABLE)
    if not folder:
        return
    rank = world_rank if world_rank is not None else os.environ.get("RANK", "?")
    try:
        with open(os.path.join(folder, f"rank{rank}.txt"), "w", encoding="utf-8") as handle:
            handle.write(message)
    except OSError:
        pass  # the launcher then reports torchrun's own status
