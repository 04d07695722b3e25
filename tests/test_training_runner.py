"""`torchcanvas train`: what a user notices — it learns, it resumes exactly, it stops cleanly,
and bad input gets one line and the documented exit code.

Most runs here go through `builder.cli.main` in this process (a second torch import per test
would dominate the suite's time); what needs a real process (a kill, a signal) starts one.
"""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from builder.cli import main

ROOT = Path(__file__).resolve().parent.parent
DIGITS_CNN = str(ROOT / "examples" / "digits_cnn.json")
FAST = ["--max-epochs", "1", "--limit-train-batches", "3", "--limit-val-batches", "2"]


def rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def weights(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)["model"]


def write_model(folder: Path, body: str, name: str = "model.py") -> Path:
    path = folder / name
    path.write_text("import torch\nfrom torch import nn\n\n" + textwrap.dedent(body))
    return path


def model_that_turns(folder: Path, name: str, turn: str) -> str:
    """A SPEC for a linear digits classifier whose forward, from its fourth call on (the first
    is the runner's check before training, so: from step 3), does `turn` to `out`."""
    path = write_model(folder, f"""
        class {name}(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 10)
                self.calls = 0

            def forward(self, x):
                self.calls += 1
                out = self.fc(x.flatten(1))
                if self.calls >= 4:
                    {turn}
                return out
        """, name=f"{name.lower()}.py")
    return f"{path}:{name}"


def train(*args) -> int:
    return main(["train", *map(str, args)])


# --- it learns, and the run folder holds what it says --------------------------------------


def test_digits_cnn_reaches_95_percent_within_15_epochs(tmp_path):
    out = tmp_path / "run"
    assert train(DIGITS_CNN, "--data", "digits", "--max-epochs", "15", "--out", out) == 0
    accuracies = [float(r["val_acc"]) for r in rows(out)]
    assert len(accuracies) <= 15
    assert max(accuracies) >= 0.95, accuracies
    for name in ("config.json", "model.py", "metrics.csv", "train.log", "curves.png",
                 "summary.json", "checkpoints/last.pt", "checkpoints/best.pt"):
        assert (out / name).is_file(), name
    assert list((out / "tensorboard").iterdir())
    config = json.loads((out / "config.json").read_text())
    # The project's training section decided what the flags did not.
    assert (config["batch_size"], config["optimizer"], config["lr"]) == (64, "adam", 1e-3)
    assert config["world_size"] == 1 and config["torch"] == torch.__version__
    source = (out / "model.py").read_text()
    assert "class DigitsCnn(nn.Module)" in source
    import hashlib

    assert config["model"]["source_sha256"] == hashlib.sha256(source.encode()).hexdigest()


def test_flags_override_the_project_and_are_recorded(tmp_path):
    out = tmp_path / "run"
    assert train(DIGITS_CNN, "--data", "digits", "--lr", "0.003", "--optimizer", "sgd",
                 "--batch-size", "16", "--scheduler", "cosine", *FAST, "--out", out) == 0
    config = json.loads((out / "config.json").read_text())
    assert (config["lr"], config["optimizer"], config["batch_size"]) == (0.003, "sgd", 16)
    assert rows(out)[0]["step"] == "3"  # --limit-train-batches 3: three steps


def test_a_spec_trains_and_its_source_is_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path, """
        class Mlp(nn.Module):
            def __init__(self, width=32):
                super().__init__()
                self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, width), nn.ReLU(),
                                         nn.Linear(width, 10))

            def forward(self, x):
                return self.net(x)
        """)
    assert train("model.py:Mlp", "--kwargs", '{"width": 16}', "--data", "digits", *FAST,
                 "--out", "run") == 0
    assert "class Mlp" in (tmp_path / "run" / "model.py").read_text()
    assert weights(tmp_path / "run")["net.1.weight"].shape == (16, 64)


def test_regression_reports_mean_absolute_error(tmp_path):
    spec = write_model(tmp_path, """
        class Line(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 1)

            def forward(self, x):
                return self.fc(x)
        """)
    out = tmp_path / "run"
    assert train(f"{spec}:Line", "--data", "synthetic:shape=8,targets=1,n=400",
                 "--max-epochs", "3", "--lr", "0.05", "--out", out) == 0
    table = rows(out)
    assert "val_mae" in table[0]
    assert float(table[-1]["val_mae"]) < float(table[0]["val_mae"])


def test_json_progress_lines_are_json(tmp_path, capsys):
    assert train(DIGITS_CNN, "--data", "digits", *FAST, "--json-progress",
                 "--log-every-n-steps", "1", "--out", tmp_path / "run") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds.count("step") == 3 and kinds.count("epoch") == 1 and kinds[-1] == "end"
    assert all(isinstance(e["time"], float) for e in events)


def test_fast_dev_run_keeps_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert train(DIGITS_CNN, "--data", "digits", "--fast-dev-run") == 0
    assert not (tmp_path / "runs").exists()
    assert "epoch 1/1  step 1" in capsys.readouterr().err


def test_default_run_folder_is_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert train(DIGITS_CNN, "--data", "digits", *FAST) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("digits_cnn-") and (run / "checkpoints" / "last.pt").is_file()


# --- stopping cleanly ------------------------------------------------------------------------


def test_a_nan_loss_stops_the_run_naming_the_step(tmp_path, capsys):
    spec = model_that_turns(tmp_path, "Poisoned", 'out = out * float("nan")')
    out = tmp_path / "run"
    code = train(spec, "--data", "digits", "--checkpoint-every-n-steps", "1",
                 "--out", out)
    err = capsys.readouterr().err
    assert code == 1
    assert "the loss became nan at step 3" in err and "learning rate" in err
    assert "Traceback" not in err
    # The checkpoint holds the last good weights, not NaN.
    assert all(torch.isfinite(t).all() for t in weights(out).values())


def test_kill_mid_epoch_then_resume_is_bitwise_equal_to_a_straight_run(tmp_path):
    """Dropout and gradient accumulation, so that RNG state and the position inside an
    accumulation group both matter; the kill is a real SIGKILL of a real process."""
    flags = [DIGITS_CNN, "--data", "digits", "--max-epochs", "2", "--batch-size", "32",
             "--accumulate-grad-batches", "2", "--checkpoint-every-n-steps", "3",
             "--early-stopping-patience", "0", "--json-progress"]
    command = [sys.executable, "-m", "builder", "train", *flags]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    done = subprocess.run([*command, "--out", str(straight)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr

    child = subprocess.Popen([*command, "--out", str(killed)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    for line in child.stdout:  # kill right after the third mid-epoch checkpoint (step 9)
        event = json.loads(line)
        if event["event"] == "checkpoint" and event["step"] == 9:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    saved = torch.load(killed / "checkpoints" / "last.pt", weights_only=False)["progress"]
    # Mid-epoch (45 batches of 32): the kill may land a checkpoint or two after step 9.
    assert saved["epoch"] == 0 and 18 <= saved["batch"] < 45 and saved["batch"] % 6 == 0

    resumed = subprocess.run([*command, "--out", str(killed), "--ckpt-path", "last"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed at epoch 1, step {saved['step']}" in resumed.stderr
    a, b = weights(straight), weights(killed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [r["train_loss"] for r in rows(straight)] == [r["train_loss"] for r in rows(killed)]


def test_sigterm_saves_a_checkpoint_and_exits_143(tmp_path):
    out = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, "-m", "builder", "train", DIGITS_CNN, "--data", "digits",
         "--max-epochs", "50", "--json-progress", "--log-every-n-steps", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in child.stdout:
        if json.loads(line)["event"] == "step":
            child.send_signal(signal.SIGTERM)
            break
    _, err = child.communicate(timeout=60)
    assert child.returncode == 143, err
    assert "continue with --ckpt-path last" in err and "Traceback" not in err
    step = torch.load(out / "checkpoints" / "last.pt", weights_only=False)["progress"]["step"]
    assert step >= 1


# --- bad input: one line, the documented exit code --------------------------------------------


BROKEN = str(ROOT / "examples" / "broken" / "linear_without_flatten.json")


@pytest.mark.parametrize("args, code, words", [
    ([DIGITS_CNN, "--data", "nosuch"], 2, "unknown form 'nosuch'"),
    ([DIGITS_CNN, "--data", "npz:/no/such.npz"], 2, "no such file"),
    ([DIGITS_CNN, "--data", "digits", "--lr", "-1"], 2, "--lr must be more than 0"),
    ([DIGITS_CNN, "--data", "digits", "--batch-size", "0"], 2, "--batch-size must be at least"),
    ([DIGITS_CNN, "--data", "digits", "--limit-train-batches", "1.5"], 2, "fraction"),
    ([DIGITS_CNN, "--data", "digits", "--precision", "16-mixed", "--accelerator", "cpu"], 2,
     "16-mixed needs a GPU"),
    ([DIGITS_CNN, "--data", "digits", "--num-nodes", "2"], 2, "--rdzv-endpoint"),
    ([DIGITS_CNN, "--data", "digits", "--ckpt-path", "last"], 2, "needs --out"),
    (["nosuch.py:Model", "--data", "digits"], 2, "no such file"),
    (["no_such_module_xyz:Model", "--data", "digits"], 2, "cannot import module"),
    ([str(ROOT / "examples" / "nosuch.json"), "--data", "digits"], 2, "nosuch.json"),
    ([BROKEN, "--data", "digits"], 1, "fix them first"),
    ([DIGITS_CNN, "--data", "digits", "--loss", "mse"], 1, "needs float targets"),
    ([DIGITS_CNN, "--data", "synthetic:shape=3,32,32,classes=10,n=50"], 2,
     "data samples have shape (N, 3, 32, 32) but the model input is (N, 1, 8, 8)"),
])
def test_bad_input_is_one_line_and_an_exit_code(args, code, words, capsys, tmp_path,
                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert train(*args) == code
    err = capsys.readouterr().err
    assert words in err, err
    assert "Traceback" not in err
    assert err.startswith("torchcanvas: ")


def test_a_loss_that_does_not_fit_the_output_names_the_shapes_and_a_fix(tmp_path, capsys):
    spec = write_model(tmp_path, """
        class Column(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 10)

            def forward(self, x):
                return self.fc(x.flatten(1)).unsqueeze(-1)
        """)
    assert train(f"{spec}:Column", "--data", "digits", *FAST, "--out", tmp_path / "r") == 1
    err = capsys.readouterr().err
    assert "(N, classes), but it is (2, 10, 1)" in err and "Flatten" in err


def test_a_run_folder_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(DIGITS_CNN, "--data", "digits", *FAST, "--out", out) == 0
    before = (out / "metrics.csv").read_text()
    assert train(DIGITS_CNN, "--data", "digits", *FAST, "--out", out) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (out / "metrics.csv").read_text() == before


def test_a_damaged_checkpoint_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert train(DIGITS_CNN, "--data", "digits", *FAST, "--ckpt-path", bad,
                 "--out", tmp_path / "r") == 2
    assert "not a readable checkpoint" in capsys.readouterr().err


def test_the_model_raising_mid_run_is_one_line(tmp_path, capsys):
    spec = model_that_turns(tmp_path, "Flaky", 'raise ValueError("this layer is not finished")')
    assert train(spec, "--data", "digits", *FAST, "--out", tmp_path / "r") == 1
    err = capsys.readouterr().err
    assert "the model raised at step 3: ValueError: this layer is not finished (flaky.py:" in err


def test_rerunning_with_ckpt_last_after_the_end_changes_nothing(tmp_path):
    out = tmp_path / "run"
    assert train(DIGITS_CNN, "--data", "digits", *FAST, "--out", out) == 0
    before = weights(out)
    assert train(DIGITS_CNN, "--data", "digits", *FAST, "--out", out, "--ckpt-path", "last") == 0
    after = weights(out)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert len(rows(out)) == 1


def test_time_and_throughput_are_recorded(tmp_path):
    out = tmp_path / "run"
    start = time.perf_counter()
    assert train(DIGITS_CNN, "--data", "digits", *FAST, "--out", out) == 0
    row = rows(out)[0]
    assert 0 < float(row["seconds"]) < time.perf_counter() - start
    assert float(row["samples_per_s"]) > 0 and math.isfinite(float(row["train_loss"]))
    assert os.path.getsize(out / "curves.png") > 1000


def test_input_shape_reshapes_the_data_for_a_spec(tmp_path):
    spec = write_model(tmp_path, """
        class Flat(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 10)

            def forward(self, x):
                return self.fc(x)
        """)
    # Digits come as (1, 8, 8); a model of flat vectors asks for 64 values.
    assert train(f"{spec}:Flat", "--data", "digits", "--input-shape", "64", *FAST,
                 "--out", tmp_path / "r") == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["input_shape"] == [64]


def test_check_init_reports_each_layer_by_name(tmp_path, capsys):
    assert train(DIGITS_CNN, "--data", "digits", "--check-init", *FAST,
                 "--out", tmp_path / "r") == 0
    err = capsys.readouterr().err
    assert "activations at initialisation" in err
    for name in ("conv1", "bn2", "classifier"):
        assert name in err


# --- models written by others ----------------------------------------------------------------

HF_VIT = """
from transformers import ViTConfig, ViTForImageClassification


def tiny_vit():
    # A Hugging Face ViT built from a config (nothing downloaded), sized for 1x8x8 digits.
    config = ViTConfig(image_size=8, patch_size=4, num_channels=1, hidden_size=32,
                       num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                       num_labels=10)
    return ViTForImageClassification(config)
"""


def test_a_hugging_face_model_trains_through_its_logits(tmp_path, capsys):
    pytest.importorskip("transformers")
    (tmp_path / "hf_vit.py").write_text(HF_VIT)
    spec = f"{tmp_path / 'hf_vit.py'}:tiny_vit"
    out = tmp_path / "run"
    assert train(spec, "--data", "digits", "--max-epochs", "2", "--lr", "0.003",
                 "--out", out) == 0
    table = rows(out)
    assert float(table[-1]["val_loss"]) < float(table[0]["val_loss"])
    assert float(table[-1]["val_acc"]) > 0.3  # chance is 0.1
    assert "ViTForImageClassification" in json.loads((out / "config.json").read_text())[
        "model"]["name"]
    assert main(["sanity", spec, "--data", "digits"]) in (0, 1)  # runs to a verdict
    assert "verdict:" in capsys.readouterr().out
