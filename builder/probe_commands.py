"""`torchcanvas sanity` and `torchcanvas lr-find`: check a model before the long run.

sanity: the ladder (loss at init, overfit 1 sample, 10 samples, a short full run); exit 0 when
every rung passes, 1 when one fails (with the likely causes), 2 for unusable input.
lr-find: the learning-rate range test; prints `suggested lr: ...` and writes lr_find.png and
lr_find.json in its run folder.

Both take --json-progress: JSON lines on stdout as they go, text for people on stderr (the
lines are described in builder/training/probe_events.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from builder.train_command import (
    EXIT_FAILED,
    EXIT_OK,
    UsageProblem,
    reported,
    resolve_config,
)
from builder.train_options import add_model_arguments

JSON_PROGRESS_HELP = "one JSON object per line on stdout as it runs, for programs to follow"


def add_probe_parsers(sub) -> None:
    p = sub.add_parser("sanity", help="the sanity ladder: init loss, overfit 1 and 10 samples, "
                       "a short full run")
    add_model_arguments(p)
    p.add_argument("--check-init", action="store_true", default=None,
                   help="also print per-layer activations at initialisation")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="the report as JSON")
    output.add_argument("--json-progress", action="store_true", default=None,
                        help=JSON_PROGRESS_HELP)
    p.set_defaults(run=cmd_sanity)

    p = sub.add_parser("lr-find", help="the learning-rate range test and a suggested lr")
    add_model_arguments(p)
    p.add_argument("--start-lr", type=float, default=1e-7)
    p.add_argument("--end-lr", type=float, default=10.0)
    p.add_argument("--num-steps", type=int, default=100, help="steps of the sweep")
    p.add_argument("--out", metavar="RUN_DIR", help="where lr_find.png goes (default: under "
                   "runs/)")
    p.add_argument("--json-progress", action="store_true", default=None, help=JSON_PROGRESS_HELP)
    p.set_defaults(run=cmd_lr_find)


def _outputs(args: argparse.Namespace):
    """(the stream for people's text, the JSON lines or None)."""
    from builder.training.logs import ProgressLines

    if args.json_progress:
        return sys.stderr, ProgressLines()
    return (sys.stderr if getattr(args, "json", False) else sys.stdout), None


def cmd_sanity(args: argparse.Namespace) -> int:
    from builder.training.prepare import prepare_problem
    from builder.training.probe_events import ladder_record, rung_record
    from builder.training.sanity import format_ladder, run_ladder

    text, lines = _outputs(args)
    with reported(json_progress=bool(args.json_progress)) as outcome:
        config = resolve_config(args)
        problem, label = prepare_problem(config)
        init_check = _init_check(problem, text, lines) if config.check_init else None
        if lines is not None:
            report = run_ladder(problem,
                                started=lambda name: lines.emit("rung_started", name=name),
                                finished=lambda rung: lines.emit("rung", **rung_record(rung)))
        else:
            report = run_ladder(problem)
        if args.json:
            record = {"model": label, **ladder_record(report),
                      "rungs": [rung_record(r) for r in report.rungs]}
            if init_check is not None:
                record["init_check"] = init_check
            json.dump(_jsonable(record), sys.stdout, indent=2)
            print()
        else:
            print(f"model {label}, data {config.data}, {config.optimizer}", file=text)
            print(format_ladder(report), file=text)
        if lines is not None:
            lines.emit("ladder", **ladder_record(report))
        outcome.code = EXIT_OK if report.passed else EXIT_FAILED
    return outcome.code


def _init_check(problem, text, lines) -> list[dict]:
    """The activations at initialisation: the table for people, the layers as JSON."""
    from builder.training.init_check import activation_report, format_report, report_json
    from builder.training.problem import first_batch

    x, _ = first_batch(problem, min(64, len(problem.train)))
    stats = activation_report(problem.model, x, problem.node_names)
    print("activations at initialisation:\n" + format_report(stats), file=text)
    layers = report_json(stats)
    if lines is not None:
        lines.emit("init_check", layers=layers)
    return layers


def cmd_lr_find(args: argparse.Namespace) -> int:
    from builder.training.lr_find import _check_arguments, lr_range_test, plot_lr_find
    from builder.training.prepare import prepare_problem
    from builder.training.probe_events import lr_find_record
    from builder.training.run_folder import new_run_dir, write_json

    text, lines = _outputs(args)
    with reported(json_progress=bool(args.json_progress)) as outcome:
        try:
            _check_arguments(args.start_lr, args.end_lr, args.num_steps, 0.05, 4)
        except ValueError as err:
            raise UsageProblem(str(err)) from None
        config = resolve_config(args)
        problem, label = prepare_problem(config)

        def on_step(step: int, lr: float, loss: float) -> None:
            if lines is not None:
                lines.emit("lr_step", step=step, lr=lr, loss=loss)

        result = lr_range_test(problem, start_lr=args.start_lr, end_lr=args.end_lr,
                               steps=args.num_steps, on_step=on_step)
        folder = Path(args.out) if args.out else new_run_dir(f"lr-find-{Path(label).stem}")
        folder.mkdir(parents=True, exist_ok=True)
        plot_lr_find(result, folder / "lr_find.png")
        write_json(folder / "lr_find.json", _jsonable({
            "model": label, "data": config.data, "optimizer": config.optimizer,
            "suggested_lr": result.suggested_lr, "stopped_early": result.stopped_early,
            "lrs": result.lrs, "losses": result.losses, "smoothed": result.smoothed,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        if result.suggested_lr is None:
            print("suggested lr: none (the loss never fell during the sweep; check the model "
                  "with `torchcanvas sanity`)", file=text)
        else:
            print(f"suggested lr: {result.suggested_lr:.2e}", file=text)
        print(f"wrote {folder / 'lr_find.png'}", file=sys.stderr)
        if lines is not None:
            lines.emit("lr_find", **lr_find_record(result, folder))
    return outcome.code


def _jsonable(record: dict) -> dict:
    from builder.training.logs import jsonable

    return jsonable(record)
