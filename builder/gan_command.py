"""`torchcanvas train PROJECT --task gan`: a project with networks `generator` and
`discriminator`, trained as in Goodfellow et al. 2014 (builder/training/gan.py).

The run folder is the same as for any run (config.json, model.py, metrics.csv, TensorBoard,
train.log, curves.png, checkpoints/last.pt), plus `samples/epoch_NNN.png` each epoch.
"""

from __future__ import annotations

import sys
from pathlib import Path

from builder.train_stop import EXIT_OK, EXIT_SIGNAL, StopFlag, UsageProblem

NETWORKS = ("generator", "discriminator")


def train_gan(config) -> int:
    import torch

    from builder.training.checkpoint import load_checkpoint
    from builder.training.data import load_dataset, parse_data, split
    from builder.training.distributed import pick_device
    from builder.training.gan import COLUMNS, GanSettings, fit_gan
    from builder.training.logs import RunLog
    from builder.training.models import build_models, read_source
    from builder.training.run_folder import choose_run_dir, write_json

    if config.devices > 1 or config.num_nodes > 1:
        raise UsageProblem("--task gan trains on one device; leave out --devices/--num-nodes")
    _refuse_unsupported(config)
    source = read_source(config.target, config.kwargs, config.trust_kept_source)
    missing = [n for n in NETWORKS if n not in source.class_names]
    if source.project is None or missing:
        raise UsageProblem(f"--task gan needs a project with networks named 'generator' and "
                           f"'discriminator'; {config.target} lacks {', '.join(missing) or 'them'}")
    device = pick_device(config.accelerator)
    real_shape = source.input_shapes.get("discriminator")
    dataset = load_dataset(parse_data(config.data), real_shape)
    train, _val, _test = split(dataset, config.seed, (1.0, 0.0, 0.0))
    run_dir = choose_run_dir(config, source)
    resume = load_checkpoint(run_dir / "checkpoints" / "last.pt") \
        if config.ckpt_path == "last" else \
        load_checkpoint(Path(config.ckpt_path)) if config.ckpt_path else None
    torch.manual_seed(config.seed)
    models = build_models(source, run_dir / "model.py", list(NETWORKS))
    settings = GanSettings(max_epochs=config.max_epochs, max_steps=config.max_steps,
                           batch_size=config.batch_size, lr=config.lr, seed=config.seed,
                           limit_train_batches=_count(config.limit_train_batches),
                           checkpoint_every_n_steps=config.checkpoint_every_n_steps,
                           log_every_n_steps=config.log_every_n_steps,
                           probabilities=ends_in_sigmoid(source.project.network("discriminator")))
    log = RunLog(run_dir, json_progress=config.json_progress, columns=COLUMNS,
                 resume_epochs_done=resume["position"]["epoch"] if resume and "position" in
                 resume else None, total_epochs=config.max_epochs)
    stop = StopFlag()
    try:
        if resume is None:
            write_json(run_dir / "config.json", _record(config, source, models, device))
        with stop.installed():
            result = fit_gan(models["generator"], models["discriminator"], train,
                             source.input_shapes["generator"][1:], settings, run_dir, log,
                             device, stop.is_set, resume)
        log.info(f"done after {result.epochs} epoch(s), {result.steps} steps; samples in "
                 f"{run_dir / 'samples'}")
    finally:
        log.close()
    if result.stopped:
        print("torchcanvas: interrupted: saved a checkpoint; continue with --ckpt-path last",
              file=sys.stderr)
        return EXIT_SIGNAL.get(stop.signum, 130)
    return EXIT_OK


def ends_in_sigmoid(network) -> bool:
    """Whether the network's (first) output comes straight from a Sigmoid: a discriminator
    giving D(x) as in Goodfellow et al. 2014, a probability rather than a logit."""
    outputs, nodes = network.outputs(), network.node_map()
    feeding = [nodes.get(edge.source) for edge in network.edges
               if outputs and edge.target == outputs[0].id]
    return any(node is not None and node.type in ("nn.Sigmoid", "op.sigmoid")
               for node in feeding)


# Flags of `train` that the GAN loop does not have; said, rather than silently ignored.
UNSUPPORTED = {"fast_dev_run": 0, "overfit_batches": 0, "accumulate_grad_batches": 1,
               "gradient_clip_val": None, "compile": False, "precision": "32-true",
               "scheduler": "none", "check_init": False, "limit_val_batches": None}


def _refuse_unsupported(config) -> None:
    used = [f"--{name.replace('_', '-')}" for name, off in UNSUPPORTED.items()
            if getattr(config, name) != off]
    if used:
        raise UsageProblem(f"--task gan does not support {', '.join(used)}")


def _count(limit) -> int | None:
    return None if limit is None or (isinstance(limit, float) and limit <= 1) else int(limit)


def _record(config, source, models, device) -> dict:
    import time

    import torch

    return {**config.to_json(), "task": {"kind": "gan", "loss": "bce_with_logits",
                                         "metric": "d_loss", "higher_is_better": False},
            "model": {"name": "Generator+Discriminator", "source": source.label,
                      "params": sum(p.numel() for m in models.values()
                                    for p in m.parameters()),
                      "source_sha256": source.sha256},
            "world_size": 1, "device": str(device), "torch": torch.__version__,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
