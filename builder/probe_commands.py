"""`torchcanvas sanity` and `torchcanvas lr-find`: check a model before the long run.

sanity: the ladder (loss at init, overfit 1 sample, 10 samples, a short full run); exit 0 when
every rung passes, 1 when one fails (with the likely causes), 2 for unusable input.
lr-find: the learning-rate range test; prints `suggested lr: ...` and writes lr_find.png and
lr_find.json in its run folder.
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


def add_probe_parsers(sub) -> None:
    p = sub.add_parser("sanity", help="the sanity ladder: init loss, overfit 1 and 10 samples, "
                       "a short full run")
    add_model_arguments(p)
    p.add_argument("--check-init", action="store_true", default=None,
                   help="also print per-layer activations at initialisation")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.set_defaults(run=cmd_sanity)

    p = sub.add_parser("lr-find", help="the learning-rate range test and a suggested lr")
    add_model_arguments(p)
    p.add_argument("--start-lr", type=float, default=1e-7)
    p.add_argument("--end-lr", type=float, default=10.0)
    p.add_argument("--num-steps", type=int, default=100, help="steps of the sweep")
    p.add_argument("--out", metavar="RUN_DIR", help="where lr_find.png goes (default: under "
                   "runs/)")
    p.set_defaults(run=cmd_lr_find)


def cmd_sanity(args: argparse.Namespace) -> int:
    from builder.training.prepare import prepare_problem
    from builder.training.sanity import format_ladder, run_ladder

    with reported() as outcome:
        config = resolve_config(args)
        problem, label = prepare_problem(config)
        if config.check_init:
            from builder.training.init_check import activation_report, format_report
            from builder.training.problem import first_batch

            x, _ = first_batch(problem, min(64, len(problem.train)))
            print("activations at initialisation:\n" + format_report(
                activation_report(problem.model, x)))
        report = run_ladder(problem)
        if args.json:
            json.dump(_ladder_json(label, report), sys.stdout, indent=2)
            print()
        else:
            print(f"model {label}, data {config.data}, {config.optimizer}")
            print(format_ladder(report))
        outcome.code = EXIT_OK if report.passed else EXIT_FAILED
    return outcome.code


def _ladder_json(label: str, report) -> dict:
    return {"model": label, "passed": report.passed, "lr": report.lr, "causes": report.causes,
            "rungs": [{"name": r.name, "passed": r.passed, "loss": r.loss,
                       "threshold": r.threshold, "steps": r.steps} for r in report.rungs]}


def cmd_lr_find(args: argparse.Namespace) -> int:
    from builder.training.lr_find import _check_arguments, lr_range_test, plot_lr_find
    from builder.training.prepare import prepare_problem
    from builder.training.run_folder import new_run_dir, write_json

    with reported() as outcome:
        try:
            _check_arguments(args.start_lr, args.end_lr, args.num_steps, 0.05, 4)
        except ValueError as err:
            raise UsageProblem(str(err)) from None
        config = resolve_config(args)
        problem, label = prepare_problem(config)
        result = lr_range_test(problem, start_lr=args.start_lr, end_lr=args.end_lr,
                               steps=args.num_steps)
        folder = Path(args.out) if args.out else new_run_dir(f"lr-find-{Path(label).stem}")
        folder.mkdir(parents=True, exist_ok=True)
        plot_lr_find(result, folder / "lr_find.png")
        write_json(folder / "lr_find.json", {
            "model": label, "data": config.data, "optimizer": config.optimizer,
            "suggested_lr": result.suggested_lr, "stopped_early": result.stopped_early,
            "lrs": result.lrs, "losses": result.losses, "smoothed": result.smoothed,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        if result.suggested_lr is None:
            print("suggested lr: none (the loss never fell during the sweep; check the model "
                  "with `torchcanvas sanity`)")
        else:
            print(f"suggested lr: {result.suggested_lr:.2e}")
        print(f"wrote {folder / 'lr_find.png'}", file=sys.stderr)
    return outcome.code
