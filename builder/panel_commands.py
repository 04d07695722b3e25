"""`torchcanvas devices` and `torchcanvas data-preview`: what the app's Train panel shows, asked of
a child process so that the app itself never imports torch.

    torchcanvas devices --json
        {"devices": [{"id": "cpu", "name": "CPU (16 cores)", "memory_gb": null},
                     {"id": "cuda:0", "name": "NVIDIA H200", "memory_gb": 139.8}],
         "default": "cuda:0"}

    torchcanvas data-preview DATA [--project FILE [--network NAME] | --input-shape C,H,W]
                             [--count N] [--seed S] [--out DIR] --json
        {"data": "digits", "shape": [1, 8, 8], "classes": ["0", ..., "9"],
         "sizes": {"train": 1439, "val": 179, "test": 179},
         "samples": [{"label": "3", "image": "DIR/sample-0.png", "text": "1×8×8"}, ...]}

The data is loaded as the runner loads it: fitted to the project's io.Input (or --input-shape),
split by the seed into the runner's train/val/test. Samples are the first of the training split.
`image` is a PNG (written under --out) for a sample that is a picture, else null; `text` always
describes the sample. A DATA that cannot be used is one line on stderr and exit 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_UNUSABLE = 0, 2
MAX_PREVIEW = 64
IMAGE_CHANNELS = (1, 3, 4)


def add_panel_parsers(sub) -> None:
    p = sub.add_parser("devices", help="the devices a run can use: the CPU and each CUDA GPU")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_devices)

    from builder.training.config import DATA_FORMS

    p = sub.add_parser(
        "data-preview",
        help="a dataset's shape, classes, split sizes and a few "
        "samples, as the runner would load it",
    )
    p.add_argument("data", metavar="DATA", help=f"the dataset: {DATA_FORMS}")
    shaped = p.add_mutually_exclusive_group()
    shaped.add_argument(
        "--project", metavar="FILE", help="fit the data to this project's io.Input, as `train` does"
    )
    shaped.add_argument(
        "--input-shape", metavar="C,H,W", help="fit the data to this shape (without the batch dim)"
    )
    p.add_argument("--network", help="the project's network whose input to fit")
    p.add_argument("--count", type=int, default=8, help=f"samples to show (1..{MAX_PREVIEW})")
    p.add_argument("--seed", type=int, help="the split's seed (default: the project's, else 0)")
    p.add_argument("--out", metavar="DIR", help="where the sample pictures go (none without)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_data_preview)


# --- devices -----------------------------------------------------------------------------------


def list_devices() -> dict:
    import torch

    devices = [{"id": "cpu", "name": f"CPU ({_cpu_count()} cores)", "memory_gb": None}]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append(
                {
                    "id": f"cuda:{index}",
                    "name": props.name,
                    "memory_gb": round(props.total_memory / 2**30, 1),
                }
            )
    return {"devices": devices, "default": devices[1]["id"] if len(devices) > 1 else "cpu"}


def _cpu_count() -> int:
    """The cores this process may run on (a container's limit, not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cmd_devices(args) -> int:
    listing = list_devices()
    if args.json:
        json.dump(listing, sys.stdout)
        print()
        return EXIT_OK
    for device in listing["devices"]:
        memory = f"  {device['memory_gb']:g} GB" if device["memory_gb"] is not None else ""
        default = "  (default)" if device["id"] == listing["default"] else ""
        print(f"{device['id']:<8} {device['name']}{memory}{default}")
    return EXIT_OK


# --- data-preview ------------------------------------------------------------------------------


class PreviewProblem(Exception):
    """Arguments or data the preview cannot use (exit 2, one line)."""


def cmd_data_preview(args) -> int:
    from builder.training.data import DataError
    from graph_schema import ProjectError

    try:
        preview = data_preview(args)
    except (DataError, PreviewProblem, ProjectError) as err:
        print(f"torchcanvas: {_one_line(str(err))}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.json:
        json.dump(preview, sys.stdout)
        print()
        return EXIT_OK
    sizes = preview["sizes"]
    print(
        f"{preview['data']}: samples {_shape_text(preview['shape'])}; "
        f"{sizes['train']}/{sizes['val']}/{sizes['test']} train/val/test"
    )
    if preview["classes"] is not None:
        print(f"classes ({len(preview['classes'])}): {', '.join(preview['classes'])}")
    for sample in preview["samples"]:
        picture = f"  {sample['image']}" if sample["image"] else ""
        print(f"  {sample['label']}: {sample['text']}{picture}")
    return EXIT_OK


def data_preview(args) -> dict:
    from builder.training.config import DEFAULT_SPLIT
    from builder.training.data import load_dataset, parse_data, split

    if not 1 <= args.count <= MAX_PREVIEW:
        raise PreviewProblem(f"--count must be between 1 and {MAX_PREVIEW}, got {args.count}")
    if args.network and not args.project:
        raise PreviewProblem("--network needs --project FILE")
    spec = parse_data(args.data)
    model_input, seed = _model_input(args)
    dataset = load_dataset(spec, model_input)
    train, val, test = split(dataset, seed, DEFAULT_SPLIT)
    classes = _classes(spec, dataset)
    out = Path(args.out) if args.out else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise PreviewProblem(f"--out {out}: {err.strerror or err}") from None
    samples = [
        _sample(train[index], index, classes, out) for index in range(min(args.count, len(train)))
    ]
    first = train[0][0]
    shape = [list(part.shape) for part in first] if isinstance(first, tuple) else list(first.shape)
    return {
        "data": args.data,
        "shape": shape,
        "classes": classes,
        "sizes": {"train": len(train), "val": len(val), "test": len(test)},
        "samples": samples,
    }


def _model_input(args) -> tuple[object, int]:
    """What the data is fitted to, and the split's seed."""
    seed = args.seed
    if args.project:
        from builder.training.inputs import model_inputs_of
        from graph_schema import load_project

        project = load_project(args.project)
        try:
            network = project.network(args.network)
        except KeyError:
            names = ", ".join(n.name for n in project.networks)
            raise PreviewProblem(
                f"{args.project}: no network named {args.network!r}; the project has {names}"
            ) from None
        return model_inputs_of(
            project, network
        ) or None, project.training.seed if seed is None else seed
    if args.input_shape:
        try:
            dims = tuple(int(part) for part in args.input_shape.split(","))
        except ValueError:
            raise PreviewProblem(
                f"--input-shape {args.input_shape!r}: expected sizes "
                f"separated by commas, e.g. 1,8,8"
            ) from None
        if not dims or any(d < 1 for d in dims):
            raise PreviewProblem(f"--input-shape {args.input_shape!r}: sizes must be positive")
        return ("N", *dims), 0 if seed is None else seed
    return None, 0 if seed is None else seed


def _classes(spec, dataset) -> list[str] | None:
    """Class names where the data has them (digits, a folder's subfolders), else the class
    indices; None for regression targets."""
    from builder.training.task import resolve_task

    task = resolve_task(None, None, dataset)
    if task.kind != "classification" or not task.num_classes:
        return None
    if spec.kind == "folder":
        names = sorted(
            p.name for p in spec.path.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
        if len(names) == task.num_classes:
            return names
    return [str(index) for index in range(task.num_classes)]


def _sample(sample, index: int, classes: list[str] | None, out: Path | None) -> dict:
    x, y = sample
    image = None
    if out is not None and _is_picture(x):
        image = str(out / f"sample-{index}.png")
        _write_png(x, image)
    return {"label": _label(y, classes), "image": image, "text": _describe(x)}


def _label(y, classes: list[str] | None) -> str:
    if classes is not None and y.ndim == 0 and not y.is_floating_point():
        value = int(y)
        return classes[value] if 0 <= value < len(classes) else str(value)
    values = y.flatten().tolist()
    if len(values) == 1:
        return _number(values[0])
    return "[" + ", ".join(_number(v) for v in values[:4]) + (", …]" if len(values) > 4 else "]")


def _describe(x) -> str:
    if isinstance(x, tuple):
        return " | ".join(_describe(part) for part in x)
    if _is_picture(x):
        return "×".join(str(d) for d in x.shape)
    values = x.flatten().tolist()
    head = ", ".join(_number(v) for v in values[:6]) + (", …" if len(values) > 6 else "")
    kind = "ids" if not x.is_floating_point() else "values"
    return f"[{head}] ({_shape_text(list(x.shape))} {kind})"


def _is_picture(x) -> bool:
    if isinstance(x, tuple) or not x.is_floating_point():
        return False
    shape = tuple(x.shape)
    if len(shape) == 3:
        return shape[0] in IMAGE_CHANNELS and min(shape[1:]) >= 4
    return len(shape) == 2 and min(shape) >= 4


def _write_png(x, path: str) -> None:
    """The sample as a picture: values in [0, 1] as they are, others scaled to their range."""
    import numpy as np
    from PIL import Image

    pixels = x.detach().float().numpy()
    if pixels.ndim == 3:
        pixels = pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0)
    low, high = float(pixels.min()), float(pixels.max())
    if low < 0 or high > 1:
        pixels = (pixels - low) / (high - low) if high > low else pixels * 0
    Image.fromarray((np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)).save(path)


def _number(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3g}"


def _shape_text(shape) -> str:
    if shape and isinstance(shape[0], list):
        return " and ".join(_shape_text(part) for part in shape)
    return "×".join(str(d) for d in shape)


def _one_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else "the data cannot be used"
