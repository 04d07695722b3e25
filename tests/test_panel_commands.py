"""`torchcanvas devices` and `torchcanvas data-preview` (what the Train panel asks its child
processes), run as real commands; and the project's precision, device and processes reaching the
runner, flags still winning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from builder.training.config import ConfigError, chosen_gpu_environment, resolve
from graph_schema import load_project, save_project
from graph_schema.document import Edge, Network, Node, Project, Training
from graph_schema.files import project_from_json, project_to_json

ROOT = Path(__file__).resolve().parent.parent


def torchcanvas(*args, cwd=None) -> subprocess.CompletedProcess:
    """The command run from ``cwd`` (relative DATA paths are read from there), on this
    checkout's code wherever it runs."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "builder", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def flat_project(width: int = 64, **training) -> Project:
    nodes = [
        Node(id="x", type="io.Input", name="x", params={"shape": ["N", width]}),
        Node(id="fc", type="nn.Linear", name="fc", params={"out_features": 10}),
        Node(id="y", type="io.Output", name="y"),
    ]
    return Project(
        networks=[
            Network(
                name="flat",
                nodes=nodes,
                edges=[Edge(source="x", target="fc"), Edge(source="fc", target="y")],
            )
        ],
        training=Training(**training),
    )


# --- devices -----------------------------------------------------------------------------------


def test_devices_lists_the_cpu_and_each_gpu_with_its_memory():
    done = torchcanvas("devices", "--json")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    cpu, *gpus = listing["devices"]
    assert cpu["id"] == "cpu" and cpu["memory_gb"] is None
    assert cpu["name"].startswith("CPU (") and cpu["name"].endswith(" cores)")
    assert [g["id"] for g in gpus] == [f"cuda:{i}" for i in range(len(gpus))]
    assert all(g["name"] and g["memory_gb"] > 0 for g in gpus)
    assert listing["default"] == ("cuda:0" if gpus else "cpu")
    text = torchcanvas("devices")
    assert text.returncode == 0 and text.stdout.splitlines()[0].startswith("cpu ")
    assert f"{listing['default']}" in next(
        line for line in text.stdout.splitlines() if line.endswith("(default)")
    )


# --- data-preview ------------------------------------------------------------------------------


def test_data_preview_of_digits_gives_sizes_classes_and_pictures(tmp_path):
    done = torchcanvas("data-preview", "digits", "--count", "3", "--out", tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    preview = json.loads(done.stdout)
    assert preview["data"] == "digits" and preview["shape"] == [1, 8, 8]
    assert preview["classes"] == [str(d) for d in range(10)]
    assert preview["sizes"] == {"train": 1439, "val": 179, "test": 179}
    assert len(preview["samples"]) == 3
    for sample in preview["samples"]:
        assert sample["label"] in preview["classes"] and sample["text"] == "1×8×8"
        with Image.open(sample["image"]) as image:
            assert image.size == (8, 8)


def test_data_preview_fits_the_projects_input_and_names_folder_classes(tmp_path):
    project = tmp_path / "flat.json"
    save_project(flat_project(seed=3), project)
    done = torchcanvas("data-preview", "digits", "--project", project, "--count", "2", "--json")
    assert done.returncode == 0, done.stderr
    preview = json.loads(done.stdout)
    assert preview["shape"] == [64]  # flattened for the Linear, as `train` would
    assert all(s["image"] is None and s["text"].endswith("(64 values)") for s in preview["samples"])

    for name, shade in (("cat", 40), ("dog", 220)):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for index in range(5):
            Image.new("RGB", (12, 10), (shade, shade, shade)).save(
                tmp_path / "pets" / name / f"{index}.png"
            )
    done = torchcanvas(
        "data-preview",
        "folder:pets",
        "--input-shape",
        "3,8,8",
        "--count",
        "10",
        "--out",
        tmp_path / "shown",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    preview = json.loads(done.stdout)
    assert preview["classes"] == ["cat", "dog"] and preview["shape"] == [3, 8, 8]
    assert sum(preview["sizes"].values()) == 10
    assert {s["label"] for s in preview["samples"]} <= {"cat", "dog"}
    assert all(Path(s["image"]).is_file() for s in preview["samples"])


def test_data_preview_of_regression_targets_has_no_classes():
    done = torchcanvas("data-preview", "synthetic:shape=8,targets=2,n=50", "--count", "2", "--json")
    assert done.returncode == 0, done.stderr
    preview = json.loads(done.stdout)
    assert preview["classes"] is None and preview["shape"] == [8]
    assert preview["sizes"] == {"train": 40, "val": 5, "test": 5}
    sample = preview["samples"][0]
    assert sample["label"].startswith("[") and sample["image"] is None
    assert sample["text"].endswith("(8 values)")


@pytest.mark.parametrize(
    "data, said",
    [
        ("npz:missing.npz", "torchcanvas: missing.npz: no such file"),
        ("imagenet", "torchcanvas: --data 'imagenet': unknown form 'imagenet' (expected digits, "),
    ],
)
def test_a_dataset_that_cannot_be_used_is_one_line_and_exit_2(data, said):
    done = torchcanvas("data-preview", data, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(said)


# --- the project's run settings ----------------------------------------------------------------


def test_old_files_load_with_the_runners_defaults_and_save_the_same():
    project = load_project(ROOT / "examples" / "mlp.json")  # written before these fields
    training = project.training
    assert (training.precision, training.device, training.processes) == ("32-true", "auto", 1)
    text = project_to_json(project)
    assert project_to_json(project_from_json(text)) == text


def test_the_projects_precision_device_and_processes_reach_the_run_and_flags_win():
    training = Training(precision="bf16-mixed", device="cpu", processes=2)
    config = resolve({"target": "p.json", "data": "digits"}, training)
    assert (config.precision, config.accelerator, config.devices, config.cuda_device) == (
        "bf16-mixed",
        "cpu",
        2,
        None,
    )
    flags = resolve(
        {
            "target": "p.json",
            "data": "digits",
            "precision": "32-true",
            "accelerator": "gpu",
            "devices": 1,
        },
        training,
    )
    assert (flags.precision, flags.accelerator, flags.devices) == ("32-true", "gpu", 1)
    one_gpu = resolve({"target": "p.json", "data": "digits"}, Training(device="cuda:1"))
    assert (one_gpu.accelerator, one_gpu.cuda_device) == ("gpu", 1)
    assert (
        resolve({"target": "p.json", "data": "digits"}, Training(device="cuda")).accelerator
        == "gpu"
    )
    with pytest.raises(ConfigError, match="cuda:1 is one GPU, but 2 processes"):
        resolve({"target": "p.json", "data": "digits"}, Training(device="cuda:1", processes=2))


def test_a_chosen_gpu_is_the_only_one_the_run_sees():
    config = resolve({"target": "p.json", "data": "digits"}, Training(device="cuda:1"))
    assert chosen_gpu_environment(config, {}) == "1"
    assert chosen_gpu_environment(config, {"CUDA_VISIBLE_DEVICES": "4, 6"}) == "6"
    with pytest.raises(ConfigError, match="only 1 GPU"):
        chosen_gpu_environment(config, {"CUDA_VISIBLE_DEVICES": "4"})
    auto = resolve({"target": "p.json", "data": "digits"}, Training())
    assert chosen_gpu_environment(auto, {}) is None


def test_train_honours_the_projects_precision_and_device(tmp_path):
    """16-mixed needs a GPU: on the project's device `cpu` the runner refuses it (exit 2),
    which it can only do when it read both from the project."""
    project = tmp_path / "flat.json"
    save_project(flat_project(dataset="digits", precision="16-mixed", device="cpu"), project)
    done = torchcanvas("train", project, "--out", tmp_path / "run")
    assert done.returncode == 2
    assert (
        done.stderr.strip().splitlines()[-1]
        == "torchcanvas: --precision 16-mixed needs a GPU; use bf16-mixed or 32-true on CPU"
    )
    flags_win = torchcanvas(
        "train",
        project,
        "--precision",
        "32-true",
        "--max-steps",
        "2",
        "--limit-val-batches",
        "1",
        "--out",
        tmp_path / "run2",
    )
    assert flags_win.returncode == 0, flags_win.stderr
    recorded = json.loads((tmp_path / "run2" / "config.json").read_text())
    assert (recorded["precision"], recorded["accelerator"], recorded["device"]) == (
        "32-true",
        "cpu",
        "cpu",
    )
