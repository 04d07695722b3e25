"""`generate --train-script`: the plain PyTorch script runs, in a child process, next to the
generated model, for a one-input network on the digits it loads itself and for a two-input
network (BiMPM) on a data file in the documented format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from builder.cli import main

ROOT = Path(__file__).resolve().parent.parent


def generate(tmp_path: Path, example: str) -> Path:
    script = tmp_path / "train.py"
    assert main(["generate", str(ROOT / "examples" / f"{example}.json"), "-o",
                 str(tmp_path / "model.py"), "--train-script", str(script)]) == 0
    for checker in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        # In the script's own folder, where `model` is the first-party module next to it.
        ruff = subprocess.run([sys.executable, "-m", "ruff", *checker, script.name],
                              cwd=script.parent, capture_output=True, text=True)
        assert ruff.returncode == 0, ruff.stdout
    return script


def run(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), "--epochs", "1", *args],
                          cwd=script.parent, capture_output=True, text=True, timeout=300)


def test_a_one_input_script_trains_on_the_digits_it_loads(tmp_path):
    done = run(generate(tmp_path, "digits_cnn"))
    assert done.returncode == 0, done.stderr
    assert "epoch 1: train loss" in done.stdout and "accuracy" in done.stdout
    weights = torch.load(tmp_path / "model.pt", weights_only=True)
    assert any(name.endswith("weight") for name in weights)


@pytest.mark.parametrize("count", [2, 1])
def test_a_two_input_script_reads_one_tensor_per_input(tmp_path, count):
    script = generate(tmp_path, "bimpm")
    text = script.read_text()
    assert '"inputs": [p_tokens, q_tokens]' in text and "model(*inputs)" in text
    tokens = [torch.randint(0, 1000, (12, 16)) for _ in range(count)]
    torch.save({"inputs": tokens, "targets": torch.randint(0, 2, (12,))}, tmp_path / "d.pt")
    done = run(script, "--data", "d.pt", "--batch-size", "6")
    if count == 2:
        assert done.returncode == 0, done.stderr
        assert "epoch 1: train loss" in done.stdout
    else:
        assert done.returncode != 0 and "d.pt: the model takes 2 inputs" in done.stderr
