"""One run, start to end, inside one process (a torchrun worker or the only process): read the
model and data, make the run folder, check the loss fits, train, test, evaluate a classifier on
the validation set (confusion.json, misclassified.json: builder/training/evaluation.py), write
the summary. Its --json-progress events are listed in builder/training/logs.py.

Errors a user can cause surface as the exceptions named in `EXIT_CODES`; the command line turns
them into one line and an exit status.
"""

from __future__ import annotations

import math
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from builder.training import inputs, speed
from builder.training.checkpoint import CheckpointError, load_checkpoint
from builder.training.config import TrainConfig
from builder.training.data import load_dataset, parse_data, split
from builder.training.distributed import World, barrier, share_object, share_text
from builder.training.errors import model_failure
from builder.training.evaluation import evaluates
from builder.training.loop import Parts, Progress, Trainer
from builder.training.models import ModelError, ModelSource, build_models, read_source
from builder.training.run_folder import choose_run_dir, write_json
from builder.training.task import Task, TaskMismatch, check_fit, prediction, resolve_task


@dataclass
class RunResult:
    run_dir: Path | None
    progress: Progress
    test: dict
    model: torch.nn.Module | None = None  # the trained module, in memory


def prepare_source(config: TrainConfig) -> ModelSource:
    return read_source(config.target, config.kwargs, config.trust_kept_source)


def input_shape_for(config: TrainConfig, source: ModelSource, network: str | None):
    """What the model takes: --input-shape (a shape with its batch dim), else the network's
    io.Inputs (a list of ModelInputs), else None (a SPEC: the data keeps its own shape)."""
    if config.input_shape:
        return ("N", *config.input_shape)
    if source.project is None:
        return None
    return source.inputs.get(network) or None


def chosen_network(config: TrainConfig, source: ModelSource) -> str | None:
    if source.project is None:
        return None
    names = list(source.class_names)
    if config.network is None:
        return names[0]
    if config.network not in names:
        raise ModelError(f"{config.target}: no network named {config.network!r}; the project "
                         f"has {', '.join(names)}")
    return config.network


def run(config: TrainConfig, world: World, log_factory, stop_requested,
        command: list[str]) -> RunResult:
    speed.check_precision(world.device, config.precision)
    speed.configure_backends(world.device, config.deterministic)
    source = prepare_source(config)
    network = chosen_network(config, source)
    dataset = load_dataset(parse_data(config.data), input_shape_for(config, source, network))
    train, val, test = split(dataset, config.seed, config.split)
    run_dir = None if config.fast_dev_run else _run_dir(config, source, world)
    # A run that keeps nothing still needs somewhere for model.py and its logs, for a while.
    scratch = Path(tempfile.mkdtemp(prefix="torchcanvas-dev-run-")) if run_dir is None else None
    try:
        return _train(config, world, log_factory, stop_requested, command, source, network,
                      (dataset, train, val, test), run_dir or scratch, scratch is not None)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _train(config, world, log_factory, stop_requested, command, source, network, data,
           folder: Path, scratch: bool) -> RunResult:
    dataset, train, val, test = data
    run_dir = None if scratch else folder
    # Rank 0 reads the checkpoint and hands it on: other machines need no shared filesystem.
    resume = share_object(world, _resume_state(config, run_dir, source) if world.is_main
                          else None)
    torch.manual_seed(config.seed)  # the same initial weights on every rank and every resume
    model = _build(source, folder, network, write=scratch) if world.is_main \
        else _build_private(source, network)
    task = resolve_task(config.task, config.loss, dataset)
    _check_loss_fits(model, task, train)
    log = log_factory(folder, world, task, resume)
    try:
        _say_setup(log, config, source, model, task, world, (train, val, test), run_dir)
        if run_dir is not None and world.is_main and resume is None:
            write_json(run_dir / "config.json",
                       _config_record(config, source, model, task, world, command))
        if config.check_init:
            _check_init(log, model, train, world, run_dir)
        torch.manual_seed(config.seed + world.rank)  # dropout differs per rank, repeatably
        parts = Parts(model, task, train, val if len(val) else None, run_dir, log,
                      stop_requested, {"source_sha256": source.sha256})
        trainer = Trainer(config, parts, world)
        _say_start(log, config, world, trainer, (train, val, test), run_dir, resume)
        if resume is not None:
            trainer.restore(resume)
            log.info(f"resumed at epoch {trainer.progress.epoch + 1}, step "
                     f"{trainer.progress.step}")
        progress = trainer.fit()
        scores = trainer.evaluate(test) if len(test) else {}
        if run_dir is not None and world.is_main and len(val) and evaluates(task):
            _evaluate(log, config, trainer.module, task, val, world, run_dir)
        _finish(log, run_dir, world, progress, task, scores)
        return RunResult(run_dir, progress, scores, model)
    finally:
        log.close()


def _run_dir(config: TrainConfig, source: ModelSource, world: World) -> Path:
    name = ""
    if world.is_main:
        name = str(choose_run_dir(config, source))
    path = Path(share_text(world, name))
    barrier(world)
    return path


def _resume_state(config: TrainConfig, run_dir: Path | None, source: ModelSource):
    if not config.ckpt_path:
        return None
    path = (run_dir / "checkpoints" / "last.pt") if config.ckpt_path == "last" \
        else Path(config.ckpt_path)
    if config.ckpt_path == "last" and not path.is_file():
        raise CheckpointError(f"{run_dir}: no checkpoints/last.pt to resume from")
    state = load_checkpoint(path)
    saved = state.get("source_sha256")
    if saved and saved != source.sha256:
        raise CheckpointError(f"{path}: the checkpoint was trained from different model source "
                              f"(sha256 {saved[:12]}, now {source.sha256[:12]}); resume "
                              f"needs the same model")
    return state


def _build(source: ModelSource, folder: Path, network: str | None, write: bool):
    """The model from `folder`/model.py: the run folder's (rank 0 wrote it and share_text's
    barrier made it visible), or the scratch folder's of a run that keeps nothing."""
    model_py = folder / "model.py"
    if write:
        model_py.write_text(source.source, encoding="utf-8")
    return build_models(source, model_py, [network] if network else None)[network or "model"]


def _build_private(source: ModelSource, network: str | None):
    """The model from a private copy of the source this rank generated itself (the same text
    rank 0 saved), for ranks on machines that cannot see rank 0's run folder."""
    folder = Path(tempfile.mkdtemp(prefix="torchcanvas-rank-"))
    try:
        return _build(source, folder, network, write=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_loss_fits(model, task: Task, train) -> None:
    """One forward in eval mode on two samples, leaving weights and RNG as they were."""
    from builder.training.checkpoint import rng_state, set_rng_state

    state = rng_state()
    samples = [train[i] for i in range(min(2, len(train)))]
    x = inputs.stack(samples)
    y = torch.stack([torch.as_tensor(s[1]) for s in samples])
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = inputs.call(model, x)
    except Exception as err:
        raise model_failure(f"on a first batch of shape {inputs.describe(x)}", err) from None
    finally:
        model.train(was_training)
        set_rng_state(state)
    if prediction(output) is None:
        raise TaskMismatch(f"the model returns a {type(output).__name__}; the runner trains "
                           f"models that return a tensor, a tuple starting with one, or an "
                           f"output with `logits`")
    output = prediction(output)
    check_fit(task, output, y)


def _say_setup(log, config, source, model, task, world, parts, run_dir) -> None:
    train, val, test = parts
    params = sum(p.numel() for p in model.parameters())
    log.info(f"model {source.label}: {params:,} parameters; data {config.data}: "
             f"{len(train)}/{len(val)}/{len(test)} train/val/test samples")
    log.info(f"task {task.kind}, loss {task.loss}, {config.optimizer} lr {config.lr:g}, batch "
             f"{config.batch_size}, world size {world.size} on {world.device}")
    for diagnostic in source.diagnostics:
        log.info(f"warning: {diagnostic.format(source.label)}")
    if run_dir is not None:
        log.info(f"run folder {run_dir}")


def _say_start(log, config, world, trainer, parts, run_dir, resume) -> None:
    train, val, test = parts
    log.event("start", run_dir=str(run_dir) if run_dir is not None else None,
              device=str(world.device), world_size=world.size,
              max_epochs=1 if config.fast_dev_run else config.max_epochs,
              batches_per_epoch=trainer.batches_per_epoch, train_samples=len(train),
              val_samples=len(val), test_samples=len(test), resumed=resume is not None)


def _check_init(log, model, train, world, run_dir: Path | None) -> None:
    """The table for people (the terminal, train.log), the numbers for programs (an
    ``init_check`` event, init_check.json in a kept run folder)."""
    from builder.training.init_check import activation_report, format_report, report_json

    if not world.is_main:
        return
    x = inputs.stack([train[i] for i in range(min(64, len(train)))])
    stats = activation_report(model, x)
    log.info("activations at initialisation:\n" + format_report(stats))
    layers = report_json(stats)
    if run_dir is not None:
        write_json(run_dir / "init_check.json", {"layers": layers})
    log.progress("init_check", layers=layers)


def _evaluate(log, config, module, task, val, world, run_dir: Path) -> None:
    """Rank 0's pass over the validation set for the confusion matrix and the mistakes."""
    from builder.training.evaluation import (
        CONFUSION_FILE,
        MISCLASSIFIED_FILE,
        evaluate_classifier,
        write_evaluation,
    )

    result = evaluate_classifier(module, val, task, world.device, config.batch_size,
                                 config.precision)
    try:
        write_evaluation(run_dir, result, val)
    except OSError as err:  # the run itself is done and saved; say so and end normally
        log.info(f"could not write {CONFUSION_FILE}: {err.strerror or err}")
        return
    wrong = sum(sum(row) for row in result.matrix) - sum(
        row[i] for i, row in enumerate(result.matrix))
    log.info(f"validation: {wrong} of {len(val)} samples misclassified (final weights); "
             f"see {CONFUSION_FILE} and {MISCLASSIFIED_FILE}")
    log.event("evaluation", confusion=CONFUSION_FILE, misclassified=MISCLASSIFIED_FILE,
              weights="final")


def _config_record(config, source, model, task, world, command) -> dict:
    return {
        **config.to_json(),
        "command": command,
        "model": {"name": type(model).__name__, "source": source.label,
                  "params": sum(p.numel() for p in model.parameters()),
                  "source_sha256": source.sha256},
        "task": {"kind": task.kind, "loss": task.loss, "metric": task.metric,
                 "higher_is_better": task.higher_is_better, "num_classes": task.num_classes},
        "world_size": world.size,
        "device": str(world.device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cuda": torch.version.cuda if world.device.type == "cuda" else None,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _finish(log, run_dir, world, progress: Progress, task: Task, scores: dict) -> None:
    if scores:
        log.info(f"test: loss {scores['loss']:.4f}, {task.metric.replace('val_', '')} "
                 f"{scores['metric']:.4f} (final weights)")
    reason = {"max_epochs": "reached --max-epochs", "max_steps": "reached --max-steps",
              "early_stopping": "early stopping"}.get(progress.stopped, progress.stopped)
    best = "" if progress.best is None or not math.isfinite(progress.best) else \
        f"; best monitored loss {progress.best:.4f} at epoch {progress.best_epoch}"
    log.info(f"done after {progress.epoch} epoch(s), {progress.step} steps: {reason}{best}")
    log.event("end", epochs=progress.epoch, steps=progress.step, stopped=progress.stopped,
              test=scores or None)
    if run_dir is not None and world.is_main:
        write_json(run_dir / "summary.json", {
            "epochs": progress.epoch, "steps": progress.step, "stopped": progress.stopped,
            "best_loss": progress.best, "best_epoch": progress.best_epoch,
            "test_loss": scores.get("loss"), f"test_{task.metric[4:]}": scores.get("metric")})

