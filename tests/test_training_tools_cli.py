"""`torchcanvas sanity`, `lr-find`, `compare` and `train --task gan` from the command line: the
verdict and exit code a user acts on, and the files they look at."""

import json
from pathlib import Path

from PIL import Image

from builder.cli import main

ROOT = Path(__file__).resolve().parent.parent
DIGITS_CNN = ROOT / "examples" / "digits_cnn.json"
DIGITS_GAN = ROOT / "examples" / "digits_gan.json"


def with_softmax_before_the_loss(tmp_path: Path) -> Path:
    """digits_cnn with an nn.Softmax between the classifier and the output."""
    project = json.loads(DIGITS_CNN.read_text())
    network = project["networks"][0]
    network["nodes"].append({"id": "soft", "type": "nn.Softmax", "name": "softmax",
                             "params": {"dim": 1}, "position": {"x": 0.0, "y": 1600.0}})
    last = next(e for e in network["edges"] if e["target"] == "n13")
    last["target"] = "soft"
    network["edges"].append({"source": "soft", "target": "n13", "source_port": 0,
                             "target_port": 0})
    path = tmp_path / "softmax_cnn.json"
    path.write_text(json.dumps(project))
    return path


def test_sanity_passes_for_the_digits_cnn(capsys):
    assert main(["sanity", str(DIGITS_CNN), "--data", "digits"]) == 0
    out = capsys.readouterr().out
    for rung in ("init", "1 sample", "10 samples", "full"):
        assert f"{rung}" in out
    assert "verdict: pass" in out


def test_sanity_fails_naming_the_softmax_the_graph_lint_found(tmp_path, capsys):
    assert main(["sanity", str(with_softmax_before_the_loss(tmp_path)), "--data", "digits",
                 "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["passed"]
    assert any("softmax" in cause.lower() for cause in report["causes"]), report["causes"]


def test_sanity_fails_naming_the_learning_rate_at_lr_100(capsys):
    assert main(["sanity", str(DIGITS_CNN), "--data", "digits", "--lr", "100"]) == 1
    out = capsys.readouterr().out
    assert "verdict: FAIL" in out and "learning rate too high" in out


def test_lr_find_suggests_a_rate_and_draws_it(tmp_path, capsys):
    out = tmp_path / "lr"
    assert main(["lr-find", str(DIGITS_CNN), "--data", "digits", "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("suggested lr: ")
    lr = float(line.split(": ")[1])
    record = json.loads((out / "lr_find.json").read_text())
    assert abs(record["suggested_lr"] - lr) <= 0.01 * lr  # printed to 3 digits
    assert min(record["lrs"]) <= record["suggested_lr"] <= max(record["lrs"])
    assert 1e-5 < lr < 1
    with Image.open(out / "lr_find.png") as image:
        assert image.width > 300


def test_lr_find_refuses_an_inverted_range(capsys):
    assert main(["lr-find", str(DIGITS_CNN), "--data", "digits", "--start-lr", "1",
                 "--end-lr", "0.1"]) == 2
    assert capsys.readouterr().err.startswith("torchcanvas: lr-find needs 0 < start lr")


def test_a_gan_project_trains_a_few_steps_and_writes_samples(tmp_path, capsys):
    out = tmp_path / "gan"
    assert main(["train", str(DIGITS_GAN), "--data", "digits", "--task", "gan",
                 "--max-epochs", "2", "--limit-train-batches", "3", "--out", str(out)]) == 0
    samples = sorted((out / "samples").glob("epoch_*.png"))
    assert [p.name for p in samples] == ["epoch_001.png", "epoch_002.png"]
    with Image.open(samples[-1]) as image:
        assert image.width > 200 and image.height > 200
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,step,d_loss,g_loss") and len(rows) == 3
    config = json.loads((out / "config.json").read_text())
    assert config["task"]["kind"] == "gan" and config["lr"] == 0.0002
    assert (out / "checkpoints" / "last.pt").is_file() and (out / "model.py").is_file()


def test_gan_needs_both_networks(capsys):
    assert main(["train", str(DIGITS_CNN), "--data", "digits", "--task", "gan"]) == 2
    assert "networks named 'generator' and 'discriminator'" in capsys.readouterr().err


def test_compare_puts_two_runs_in_one_table(tmp_path, capsys):
    fast = ["--data", "digits", "--max-epochs", "1", "--limit-train-batches", "3"]
    for name, lr in (("a", "0.001"), ("b", "0.01")):
        assert main(["train", str(DIGITS_CNN), *fast, "--lr", lr,
                     "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    plot = tmp_path / "compare.png"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--plot", str(plot),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [run["run"] for run in report["runs"]] == ["a", "b"]
    assert "lr" in json.dumps(report["differences"])
    assert plot.is_file()


def test_gan_says_which_flags_it_does_not_support(capsys):
    assert main(["train", str(DIGITS_GAN), "--data", "digits", "--task", "gan",
                 "--accumulate-grad-batches", "2"]) == 2
    assert "--task gan does not support --accumulate-grad-batches" in capsys.readouterr().err
