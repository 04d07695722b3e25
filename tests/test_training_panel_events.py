"""What the app's Train panel reads from the runner's child processes: the --json-progress lines
of `train`, `sanity` and `lr-find` (every field the panel uses), the files a classification run
leaves for it (init_check.json, confusion.json, misclassified.json and its pictures), and the
`error` line a failed run ends with. The runs are real `python -m builder` processes, as the panel
starts them, on digits with a tiny model; a few checks of what does not happen run in this
process."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import Dataset, Subset

from builder.cli import main
from builder.training.evaluation import class_names, picture_of

ROOT = Path(__file__).resolve().parent.parent
DIGITS_CNN = ROOT / "examples" / "digits_cnn.json"
LAYER_FIELDS = {
    "name": str,
    "type": str,
    "shape": list,
    "near_zero": float,
    "vanishing": bool,
    "exploding": bool,
    "reason": str,
}
ONE_EPOCH = ["--max-epochs", "1", "--limit-train-batches", "3"]


def runner(*args, cwd: Path = ROOT) -> tuple[int, list[dict], str]:
    """Exit status, the stdout lines as JSON (each must parse), stderr."""
    code, out, err = child(*args, cwd=cwd)
    events = [json.loads(line) for line in out.splitlines()]
    for event in events:
        assert isinstance(event["event"], str) and isinstance(event["time"], float), event
    return code, events, err


def child(*args, cwd: Path = ROOT) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's builder, from any folder
    done = subprocess.run(
        [sys.executable, "-m", "builder", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.returncode, done.stdout, done.stderr


def only(events: list[dict], kind: str) -> dict:
    (found,) = [e for e in events if e["event"] == kind]
    return found


def node(node_id: str, kind: str, name: str, y: float, **params) -> dict:
    return {
        "id": node_id,
        "type": kind,
        "name": name,
        "params": params,
        "position": {"x": 0.0, "y": y},
    }


def digits_mlp(folder: Path, softmax: bool = False) -> Path:
    """A project: image (N, 1, 8, 8) -> flatten -> fc1 (32) -> relu -> classifier (10)
    [-> softmax] -> logits, with digits_cnn's training section (sklearn:digits, Adam 1e-3)."""
    project = json.loads(DIGITS_CNN.read_text())
    chain = [
        node("in", "io.Input", "image", 0, shape=["N", 1, 8, 8], dtype="float32"),
        node("flat", "nn.Flatten", "flatten", 100),
        node("fc1", "nn.Linear", "fc1", 200, out_features=32),
        node("act", "nn.ReLU", "relu", 300),
        node("head", "nn.Linear", "classifier", 400, out_features=10),
    ]
    if softmax:
        chain.append(node("soft", "nn.Softmax", "softmax", 500, dim=1))
    chain.append(node("out", "io.Output", "logits", 600))
    network = project["networks"][0]
    network["nodes"] = chain
    network["edges"] = [
        {"source": a["id"], "target": b["id"], "source_port": 0, "target_port": 0}
        for a, b in zip(chain, chain[1:])
    ]
    path = folder / ("softmax_mlp.json" if softmax else "digits_mlp.json")
    path.write_text(json.dumps(project))
    return path


def check_layers(layers: list[dict], names: set[str]) -> None:
    assert names <= {layer["name"] for layer in layers}, layers
    for layer in layers:
        for field, kind in LAYER_FIELDS.items():
            assert isinstance(layer[field], kind), (field, layer)
        assert all(isinstance(d, int) for d in layer["shape"]) and layer["shape"][0] > 1
        assert isinstance(layer["mean"], float) and isinstance(layer["std"], float)
        assert 0.0 <= layer["near_zero"] <= 1.0


# --- train -------------------------------------------------------------------------------------


def test_check_init_with_fast_dev_run_emits_the_layers_and_keeps_nothing(tmp_path):
    """The panel's 'Check init' button: the project names its dataset, so no --data."""
    code, events, err = runner(
        "train", DIGITS_CNN, "--check-init", "--fast-dev-run", "--json-progress", cwd=tmp_path
    )
    assert code == 0, err
    layers = only(events, "init_check")["layers"]
    check_layers(layers, {"conv1", "bn1", "relu2", "classifier"})
    assert [layer["type"] for layer in layers][:2] == ["Conv2d", "BatchNorm2d"]
    assert only(events, "start")["run_dir"] is None
    assert events[-1]["event"] == "end"
    assert list(tmp_path.iterdir()) == []  # no runs/ folder, so no init_check.json either


def test_a_classification_run_leaves_its_init_check_confusion_and_mistakes(tmp_path):
    out = tmp_path / "run"
    code, events, err = runner(
        "train", digits_mlp(tmp_path), *ONE_EPOCH, "--check-init", "--json-progress", "--out", out
    )
    assert code == 0, err
    kinds = [e["event"] for e in events]
    assert (
        kinds.index("init_check")
        < kinds.index("start")
        < kinds.index("epoch")
        < kinds.index("evaluation")
        < kinds.index("end")
        == len(kinds) - 1
    )
    start = only(events, "start")
    assert (
        start["run_dir"] == str(out)
        and start["device"] == "cpu"
        and start["world_size"] == 1
        and start["batches_per_epoch"] == 3
    )

    saved = json.loads((out / "init_check.json").read_text())
    assert saved == {"layers": only(events, "init_check")["layers"]}
    check_layers(saved["layers"], {"fc1", "relu", "classifier"})

    evaluation = only(events, "evaluation")
    assert evaluation["confusion"] == "confusion.json" and evaluation["weights"] == "final"
    confusion = json.loads((out / evaluation["confusion"]).read_text())
    assert confusion["split"] == "val" and confusion["weights"] == "final"
    assert confusion["classes"] == [str(i) for i in range(10)]
    matrix = confusion["matrix"]
    assert len(matrix) == 10 and all(len(row) == 10 for row in matrix)
    assert sum(map(sum, matrix)) == start["val_samples"]
    right = sum(matrix[i][i] for i in range(10))
    accuracy = only(events, "epoch")["val_acc"]  # the same final weights, the same split
    assert right == round(accuracy * start["val_samples"])

    samples = json.loads((out / evaluation["misclassified"]).read_text())["samples"]
    assert len(samples) == min(16, start["val_samples"] - right) > 0
    confidences = [s["confidence"] for s in samples]
    assert confidences == sorted(confidences, reverse=True)
    for k, sample in enumerate(samples):
        assert sample["label"] != sample["predicted"]
        assert matrix[sample["label"]][sample["predicted"]] > 0
        assert 0 <= sample["index"] < start["val_samples"] and 0 < sample["confidence"] <= 1
        assert sample["image"] == f"misclassified/{k}.png"
        with Image.open(out / sample["image"]) as image:
            assert image.size == (64, 64) and image.mode == "L"  # 8x8 digits, 8x nearest


def test_a_regression_run_has_no_confusion_matrix(tmp_path, capsys):
    model = tmp_path / "line.py"
    model.write_text(
        textwrap.dedent("""
        from torch import nn


        class Line(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 1)

            def forward(self, x):
                return self.fc(x)
        """)
    )
    out = tmp_path / "run"
    code = main(
        [
            "train",
            f"{model}:Line",
            "--data",
            "synthetic:shape=8,targets=1,n=200",
            "--max-epochs",
            "1",
            "--json-progress",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "evaluation" not in [e["event"] for e in events] and events[-1]["event"] == "end"
    assert not (out / "confusion.json").exists() and not (out / "misclassified.json").exists()


def test_a_nan_run_ends_with_its_error_line(tmp_path):
    model = tmp_path / "poisoned.py"
    model.write_text(
        textwrap.dedent("""
        from torch import nn


        class Poisoned(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 10)
                self.calls = 0

            def forward(self, x):
                self.calls += 1  # the first call is the runner's check before training
                out = self.fc(x.flatten(1))
                return out * float("nan") if self.calls >= 4 else out
        """)
    )
    code, events, err = runner(
        "train",
        f"{model}:Poisoned",
        "--data",
        "digits",
        "--json-progress",
        "--out",
        tmp_path / "run",
    )
    assert code == 1
    error = events[-1]
    assert error["event"] == "error" and error["code"] == 1
    assert error["message"].startswith("the loss became nan at step 3; training stopped")
    assert f"torchcanvas: {error['message']}" in err and "Traceback" not in err
    assert "end" not in [e["event"] for e in events]


@pytest.mark.parametrize("command", ["train", "sanity", "lr-find"])
def test_a_bad_dataset_ends_with_an_error_line_and_exit_2(command, tmp_path, capsys):
    """In this process (the child's path to its error line is the NaN test's)."""
    code = main([command, str(DIGITS_CNN), "--data", f"npz:{tmp_path}/none.npz", "--json-progress"])
    out, err = capsys.readouterr()
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 2
    assert events[-1] == {
        "event": "error",
        "time": events[-1]["time"],
        "message": f"{tmp_path}/none.npz: no such file",
        "code": 2,
    }
    assert err.strip().endswith(f"torchcanvas: {tmp_path}/none.npz: no such file")


# --- sanity ------------------------------------------------------------------------------------


def test_sanity_json_progress_fills_the_ladder_rung_by_rung(tmp_path):
    code, events, err = runner("sanity", digits_mlp(tmp_path), "--json-progress")
    assert code == 0, err
    names = ["init", "1 sample", "10 samples", "full"]
    assert [(e["event"], e["name"]) for e in events[:-1]] == [
        pair for name in names for pair in (("rung_started", name), ("rung", name))
    ]
    for rung in (e for e in events if e["event"] == "rung"):
        assert rung["passed"] is True and isinstance(rung["loss"], float)
        assert isinstance(rung["threshold"], float) and isinstance(rung["steps"], int)
        assert rung["notes"] == []
    ladder = events[-1]
    assert ladder["event"] == "ladder" and ladder["passed"] is True and ladder["lr"] == 1e-3
    assert ladder["causes"] == [] and ladder["cause_nodes"] == []
    assert "verdict: pass" in err  # the text for people goes to stderr


def test_sanity_names_the_softmax_node_before_cross_entropy(tmp_path):
    code, events, err = runner(
        "sanity", digits_mlp(tmp_path, softmax=True), "--json-progress", "--check-init"
    )
    assert code == 1, err
    assert events[0]["event"] == "init_check"
    check_layers(events[0]["layers"], {"fc1", "classifier", "softmax"})
    init = next(e for e in events if e["event"] == "rung" and e["name"] == "init")
    assert not init["passed"] and any("probabilities" in note for note in init["notes"])
    ladder = events[-1]
    assert ladder["event"] == "ladder" and ladder["passed"] is False
    linked = [pair for pair in ladder["cause_nodes"] if pair["node"] == "softmax"]
    assert linked and linked[0]["cause"] in ladder["causes"]
    assert linked[0]["cause"].startswith("softmax before the loss")
    assert "verdict: FAIL" in err


def test_sanity_json_carries_the_init_check(tmp_path):
    code, out, err = child("sanity", digits_mlp(tmp_path), "--json", "--check-init")
    assert code == 0, err
    report = json.loads(out)  # one JSON document alone: the table for people is on stderr
    check_layers(report["init_check"], {"fc1", "relu", "classifier"})
    assert [r["name"] for r in report["rungs"]] == ["init", "1 sample", "10 samples", "full"]
    assert report["cause_nodes"] == [] and "activations at initialisation" in err


# --- lr-find -----------------------------------------------------------------------------------


def test_lr_find_json_progress_streams_the_sweep(tmp_path):
    out = tmp_path / "lr"
    code, events, err = runner(
        "lr-find", digits_mlp(tmp_path), "--num-steps", "40", "--json-progress", "--out", out
    )
    assert code == 0, err
    steps, result = events[:-1], events[-1]
    assert {e["event"] for e in steps} == {"lr_step"} and result["event"] == "lr_find"
    assert [e["step"] for e in steps] == list(range(len(steps)))
    assert len(steps) == 40 or result["stopped_early"]
    assert [e["lr"] for e in steps][: len(result["lrs"])] == result["lrs"]
    assert [e["loss"] for e in steps][: len(result["losses"])] == result["losses"]
    assert len(result["smoothed"]) == len(result["lrs"])
    assert result["folder"] == str(out) and isinstance(result["stopped_early"], bool)
    assert min(result["lrs"]) <= result["suggested_lr"] <= max(result["lrs"])
    saved = json.loads((out / "lr_find.json").read_text())
    assert saved["suggested_lr"] == result["suggested_lr"] and saved["lrs"] == result["lrs"]
    assert "suggested lr: " in err


# --- the pieces, in this process ---------------------------------------------------------------


class Named(Dataset):
    classes = ["cat", "dog"]

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return torch.zeros(2), index % 2


def test_class_names_come_from_the_data_through_its_wrappers():
    assert class_names(Subset(Named(), [0, 1]), 3) == ["cat", "dog", "2"]
    assert class_names(Subset(Subset(Named(), [0]), [0]), 2) == ["cat", "dog"]
    assert class_names(Subset(torch.utils.data.TensorDataset(torch.zeros(2)), [0]), 2) == ["0", "1"]


def test_a_folder_dataset_names_its_classes_after_its_subfolders(tmp_path):
    from builder.training.data import load_dataset, parse_data

    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        Image.new("L", (4, 4), 200).save(tmp_path / name / "a.png")
    dataset = load_dataset(parse_data(f"folder:{tmp_path}"), ["N", 1, 4, 4])
    assert class_names(Subset(dataset, [0]), 2) == ["cats", "dogs"]


@pytest.mark.parametrize(
    "shape, size, mode",
    [
        ((1, 8, 8), (64, 64), "L"),
        ((3, 20, 30), (120, 80), "RGB"),
        ((16, 16), (64, 64), "L"),
        ((3, 100, 100), (100, 100), "RGB"),
    ],
)
def test_image_like_inputs_become_pictures_at_least_64_pixels(shape, size, mode):
    picture = picture_of(torch.rand(shape))
    assert picture.size == size and picture.mode == mode


@pytest.mark.parametrize(
    "x",
    [
        torch.rand(64),
        torch.rand(2, 8, 8),
        torch.arange(64).view(8, 8),
        (torch.rand(1, 8, 8), torch.rand(1, 8, 8)),
    ],
)
def test_other_inputs_have_no_picture(x):
    assert picture_of(x) is None


def test_a_picture_spans_the_samples_own_value_range():
    x = torch.tensor([[-3.0, 0.0], [1.0, 5.0]])
    pixels = np.asarray(picture_of(x))
    assert pixels.min() == 0 and pixels.max() == 255
