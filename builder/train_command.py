"""`torchcanvas train FILE|SPEC --data DATA [flags]`: the bundled runner on the command line.

Exit codes: 0 trained; 1 the run failed (the project has errors, the loss does not fit the
model, the loss diverged, the model's code raised, a rank failed); 2 unusable input (a bad flag,
data that will not load, a SPEC that does not resolve, a checkpoint that cannot be read);
130 / 143 interrupted by Ctrl+C / SIGTERM after saving a checkpoint.

With --json-progress, a run that exits 1 or 2 ends its stdout with `{"event": "error",
"message": str, "code": int}` (the stderr line's message and the exit status); the other events
are listed in builder/training/logs.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

from builder.train_options import add_train_arguments, flags_of
from builder.train_stop import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SIGNAL,
    EXIT_UNUSABLE,
    StopFlag,
    UsageProblem,
)
from builder.training.logs import emit_error, write_line
from graph_schema import ProjectError


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train a project or a PyTorch model on a dataset",
                       description=__doc__.split("\n\n")[0])
    add_train_arguments(p)
    p.set_defaults(run=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from builder.training.distributed import under_torchrun

    argv = list(getattr(args, "argv", None) or sys.argv[1:])
    with reported(json_progress=bool(getattr(args, "json_progress", None))) as outcome:
        config = resolve_config(args)
        if config.task == "gan":
            from builder.gan_command import train_gan

            outcome.code = train_gan(config)
        elif (config.devices > 1 or config.num_nodes > 1) and not under_torchrun():
            outcome.code = launch_workers(config, argv)
        else:
            outcome.code = run_worker(config, argv)
    return outcome.code


def resolve_config(args: argparse.Namespace):
    """The run's settings: flags over the project's training section over the defaults."""
    from builder.training.config import is_spec, resolve

    flags = flags_of(args)
    training = None
    if not is_spec(args.target):
        from graph_schema import load_project

        training = load_project(args.target).training
    if flags["data"] is None:
        flags["data"] = _project_data(training)
    config = resolve({"target": args.target, **flags}, training)
    _show_only_chosen_gpu(config)
    return config


def _show_only_chosen_gpu(config) -> None:
    """A project's device `cuda:1`: the run sees that GPU alone, as its cuda:0 (set before
    torch starts CUDA; our torchrun's workers inherit it). Under a user's own torchrun the
    ranks are placed by local rank, as that launch intends."""
    from builder.training.config import chosen_gpu_environment
    from builder.training.distributed import under_torchrun

    if under_torchrun():
        return
    visible = chosen_gpu_environment(config, dict(os.environ))
    if visible is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = visible


def _project_data(training) -> str:
    """The project's dataset, when it names a DATA form (`sklearn:digits` is digits)."""
    from builder.training.data import DataError, parse_data

    text = (training.dataset.strip() if training is not None else "")
    text = "digits" if text.lower() in ("sklearn:digits", "digits") else text
    try:
        if text:
            parse_data(text)
            return text
    except DataError:
        pass
    raise UsageProblem("give the dataset with --data DATA (digits, synthetic:..., npz:PATH, "
                       "csv:PATH, folder:PATH, python:MODULE:FACTORY)")


# --- one process -------------------------------------------------------------------------------


def run_worker(config, argv: list[str]) -> int:
    """Train in this process: the only one, or one of torchrun's workers."""
    from builder.training.distributed import end_world, start_world
    from builder.training.launch import ERROR_DIR_VARIABLE, write_rank_error
    from builder.training.logs import RunLog
    from builder.training.runner import run

    stop = StopFlag()
    world = None
    try:
        world = start_world(config.accelerator, config.dist_timeout)

        def log_factory(run_dir, world, task, resume):
            columns = ("epoch", "step", "train_loss", "val_loss", task.metric, "lr", "seconds",
                       "samples_per_s")
            done = resume["progress"]["epoch"] if resume is not None else None
            return RunLog(run_dir, enabled=world.is_main, json_progress=config.json_progress,
                          columns=columns, resume_epochs_done=done,
                          resume_step=resume["progress"]["step"] if resume is not None else None,
                          total_epochs=1 if config.fast_dev_run else config.max_epochs)

        with stop.installed():
            result = run(config, world, log_factory, stop.is_set, ["torchcanvas", *argv])
        if world.distributed or os.environ.get("TORCHCANVAS_REPORT_WEIGHTS"):
            _say_weights(world, result)
        return EXIT_OK
    except BaseException as err:
        code, message = exit_for(err, stop, config.batch_size)
        if code is None:
            raise
        if os.environ.get(ERROR_DIR_VARIABLE):  # our launcher repeats it once, for all ranks
            write_rank_error(world.rank if world is not None else None, f"{code}\n{message}")
        elif message:
            rank = f"rank {world.rank}: " if world is not None and world.distributed else ""
            write_line(f"torchcanvas: {rank}{message}", sys.stderr)
            if config.json_progress and (world is None or world.is_main):
                say_error_event(f"{rank}{message}", code)
        return code
    finally:
        if world is not None:
            end_world(world)


def _say_weights(world, result) -> None:
    """Every rank's final weights as a hash of the model in memory: equal on every rank and
    node when DDP did its job."""
    from builder.training.distributed import weights_sha256

    model = getattr(result, "model", None)
    if model is None:
        return
    write_line(f"rank {world.rank} of {world.size}: final weights sha256 "
               f"{weights_sha256(model)[:16]}", sys.stderr)


def exit_for(err: BaseException, stop: StopFlag | None = None,
             batch_size: int | None = None) -> tuple[int | None, str]:
    """The exit status and one-line message for an error a user can cause; (None, "") for a
    bug, which must surface as one."""
    from builder.training.checkpoint import CheckpointError
    from builder.training.config import ConfigError
    from builder.training.data import DataError
    from builder.training.errors import ModelFailed
    from builder.training.loop import Diverged, Interrupted
    from builder.training.models import ModelError, ProjectErrors
    from builder.training.run_folder import RunFolderError
    from builder.training.speed import PrecisionError
    from builder.training.task import TaskMismatch

    if isinstance(err, Interrupted):
        signum = stop.signum if stop is not None else signal.SIGINT
        return EXIT_SIGNAL.get(signum, 130), ("interrupted: saved a checkpoint; continue with "
                                              "--ckpt-path last")
    if isinstance(err, KeyboardInterrupt):
        return 130, "interrupted"
    if isinstance(err, ProjectErrors):
        lines = [str(err)] + [d.format(err.path) for d in err.diagnostics[:10]]
        return EXIT_FAILED, "\n".join(lines)
    from builder.training.gan import GanError

    if isinstance(err, (Diverged, TaskMismatch, ModelFailed, GanError)):
        return EXIT_FAILED, str(err)
    if _is_out_of_memory(err):
        return EXIT_FAILED, _out_of_memory_message(batch_size)
    if isinstance(err, (ConfigError, DataError, ModelError, CheckpointError, RunFolderError,
                        PrecisionError, ProjectError, UsageProblem)):
        return EXIT_UNUSABLE, str(err)
    if isinstance(err, RuntimeError) and "CUDA device" in str(err):
        return EXIT_UNUSABLE, str(err)
    return None, ""


def _is_out_of_memory(err: BaseException) -> bool:
    import torch

    return isinstance(err, torch.cuda.OutOfMemoryError)


def _out_of_memory_message(batch_size: int | None) -> str:
    half = f" --batch-size {max(1, batch_size // 2)}" if batch_size else " a smaller --batch-size"
    return (f"CUDA ran out of memory; try{half} (with --accumulate-grad-batches 2 to keep the "
            f"effective batch), or --precision bf16-mixed")


def say_error_event(message: str, code: int) -> None:
    """The --json-progress `error` line for a run ending with exit 1 or 2 (an interrupted run's
    130 / 143 is a stop the user asked for, not an error)."""
    if code in (EXIT_FAILED, EXIT_UNUSABLE):
        emit_error(message, code)


class reported:
    """Turns errors a user can cause, raised while setting up, into one line and a status;
    with `json_progress`, into an `error` line on stdout too."""

    def __init__(self, json_progress: bool = False):
        self.code = EXIT_OK
        self.json_progress = json_progress

    def __enter__(self):
        return self

    def __exit__(self, kind, err, _tb):
        if err is None:
            return False
        code, message = exit_for(err)
        if code is None:
            return False
        write_line(f"torchcanvas: {message}", sys.stderr)
        if self.json_progress:
            say_error_event(message, code)
        self.code = code
        return True


# --- many processes ----------------------------------------------------------------------------


def launch_workers(config, argv: list[str]) -> int:
    """torchrun with --devices processes per machine; each worker runs `train` again."""
    from builder.training.launch import is_loopback, launch, torchrun_command
    from builder.training.run_folder import new_run_dir

    worker_args, out = list(argv), config.out
    if not out:
        # The run folder is named once here, so every worker (and a resume) agrees on it.
        out = str(new_run_dir(config.target))
        worker_args += ["--out", out]
    command = torchrun_command(worker_args, config.devices, config.num_nodes, config.node_rank,
                               config.rdzv_endpoint, config.dist_timeout)
    # Every node on this machine: gloo then talks over loopback (nccl ignores the setting).
    machine_local = config.num_nodes == 1 or is_loopback(config.rdzv_endpoint)
    with tempfile.TemporaryDirectory(prefix="torchcanvas-ranks-") as errors:
        launched = launch(command, error_dir=errors, machine_local=machine_local)
        if launched.status == 0:
            return EXIT_OK
        code, message = _rank_failure(Path(errors), launched, None if config.out else out)
        write_line(f"torchcanvas: {message}", sys.stderr)
        if config.json_progress:
            say_error_event(message, code)
        return code


def _rank_failure(errors: Path, launched, chosen_out: str | None) -> tuple[int, str]:
    """The exit status and one line for a failed launch: the rank that caused it (not the
    ranks that then lost it), else what torchrun saw. `chosen_out`: the run folder the launcher
    named, for resuming."""
    from builder.training.launch import read_rank_errors

    reports = read_rank_errors(errors, EXIT_FAILED)
    if reports and reports[0].code in EXIT_SIGNAL.values():
        resume = f" --out {chosen_out}" if chosen_out else ""
        return reports[0].code, f"{reports[0].message}{resume}"
    if reports:
        waited = " (it waited longer than --dist-timeout for another rank: one is stuck, or much " \
                 "slower)" if "timed out" in reports[0].message.lower() else ""
        return reports[0].code, (f"the distributed run failed: rank {reports[0].rank}: "
                                 f"{reports[0].message}{waited}")
    status = launched.status
    said = launched.torchrun_said or f"torchrun exited with status {status}"
    code = EXIT_SIGNAL.get(-status, EXIT_FAILED) if status < 0 else EXIT_FAILED
    return code, f"the distributed run failed: {said}"
