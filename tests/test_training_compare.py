"""`torchcanvas compare RUN_DIR...`: the table, the note about differing setups, the plot, and
the one-line refusals."""

import argparse
import io
import json

import pytest
from PIL import Image

from builder.compare_command import add_compare_parser
from builder.training.logs import RunLog

COLUMNS = ("epoch", "step", "train_loss", "val_loss", "val_acc", "lr", "seconds",
           "samples_per_s")


def compare(*argv) -> int:
    parser = argparse.ArgumentParser(prog="torchcanvas")
    add_compare_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["compare", *map(str, argv)])
    return args.run(args)


def config(name="DigitsCNN", params=12_345, metric="val_acc", **setup):
    return {"model": {"name": name, "params": params, "source_sha256": "ab" * 32},
            "task": {"kind": "classification", "loss": "cross_entropy", "metric": metric,
                     "higher_is_better": metric == "val_acc"},
            "data": "digits", "world_size": 1, "batch_size": 32, "lr": 1e-3,
            "optimizer": "adamw", "seed": 0, "torch_version": "2.3.0", **setup}


def make_run(folder, cfg, scores, metric="val_acc", seconds=30.0, rate=1000.0):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(cfg))
    lines = [f"epoch,step,train_loss,val_loss,{metric},lr,seconds,samples_per_s"]
    lines += [f"{e},{10 * e},0.5,{1 / e},{score},0.001,{seconds},{rate + 100 * e}"
              for e, score in enumerate(scores, 1)]
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cnn = make_run(tmp_path / "runs" / "cnn", config(), [0.90, 0.97, 0.95], seconds=21.7)
    mlp = make_run(tmp_path / "runs" / "mlp", config("MLP", 8_010), [0.80, 0.85],
                   seconds=12.5, rate=2000.0)
    return cnn, mlp


def test_the_table_shows_each_runs_best_score_time_and_speed(two_runs, capsys, tmp_path):
    assert compare(*two_runs) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split("  ")[0] == "run" and "best val_acc (epoch)" in lines[0]
    assert lines[1].split() == ["cnn", "DigitsCNN", "12,345", "0.9700", "(2)", "3", "1m",
                                "05s", "1,200"]
    assert lines[2].split() == ["mlp", "MLP", "8,010", "0.8500", "(2)", "2", "25.0", "s",
                                "2,150"]
    assert len(lines) == 3  # same setup: no note
    assert err == "wrote compare.png\n"
    with Image.open(tmp_path / "compare.png") as image:
        assert image.format == "PNG" and image.width > 0


def test_runs_under_different_setups_are_named_with_their_values(tmp_path, capsys):
    a = make_run(tmp_path / "a", config(), [0.9])
    b = make_run(tmp_path / "b", config(lr=0.01, batch_size=64, torch_version="2.4"), [0.9])
    assert compare(a, b, "--no-plot") == 0
    out = capsys.readouterr().out
    note = out[out.index("note:"):].splitlines()
    assert note == [
        "note: these runs were not trained under the same setup; they differ in batch_size, lr:",
        "  batch_size: a 32, b 64",
        "  lr: a 0.001, b 0.01",
    ]
    assert not (tmp_path / "compare.png").exists()


def test_json_holds_the_table_and_the_differences(tmp_path, capsys):
    a = make_run(tmp_path / "a", config(metric="val_mae"), [0.9, 0.3, 0.5], metric="val_mae")
    b = make_run(tmp_path / "b", {**config(), "data": "synthetic:shape=8,classes=3"}, [])
    plot = tmp_path / "out.png"
    assert compare(a, b, "--json", "--plot", plot) == 0
    result = json.loads(capsys.readouterr().out)
    first, second = result["runs"]
    assert (first["run"], first["metric"], first["best"], first["best_epoch"]) == \
        ("a", "val_mae", 0.3, 2)  # lower is better for an error
    assert (first["epochs"], first["seconds"], first["samples_per_s"]) == (3, 90.0, 1200.0)
    assert (second["epochs"], second["best"], second["seconds"]) == (0, None, None)
    assert result["differences"]["data"] == {"a": "digits", "b": "synthetic:shape=8,classes=3"}
    assert result["plot"] == str(plot) and plot.stat().st_size > 0


def test_a_run_made_by_runlog_compares(tmp_path, capsys):
    run_dir = tmp_path / "logged"
    with RunLog(run_dir, columns=COLUMNS, stream=io.StringIO()) as log:
        for epoch, acc in ((1, 0.5), (2, float("nan")), (3, 0.75)):
            log.epoch({"epoch": epoch, "step": 4 * epoch, "train_loss": 1.0, "val_loss": 1.0,
                       "val_acc": acc, "lr": 1e-3, "seconds": 2.0, "samples_per_s": 300.0})
    (run_dir / "config.json").write_text(json.dumps(config()))
    other = make_run(tmp_path / "other", config(), [0.6])
    assert compare(run_dir, other, "--json", "--plot", tmp_path / "c.png") == 0
    logged = json.loads(capsys.readouterr().out)["runs"][0]
    assert (logged["best"], logged["best_epoch"], logged["epochs"]) == (0.75, 3, 3)
    assert (logged["seconds"], logged["samples_per_s"]) == (6.0, 300.0)


def test_different_metrics_are_named_in_the_best_column(tmp_path, capsys):
    a = make_run(tmp_path / "a", config(), [0.9])
    b = make_run(tmp_path / "b", config(metric="val_mae"), [0.4], metric="val_mae")
    assert compare(a, b, "--no-plot") == 0
    lines = capsys.readouterr().out.splitlines()
    assert "best metric (epoch)" in lines[0]
    assert "val_acc 0.9000 (1)" in lines[1] and "val_mae 0.4000 (1)" in lines[2]


def test_two_folders_of_one_name_keep_their_paths(tmp_path, capsys):
    a = make_run(tmp_path / "x" / "run", config(), [0.9])
    b = make_run(tmp_path / "y" / "run", config(), [0.8])
    assert compare(a, b, "--json", "--no-plot") == 0
    labels = [r["run"] for r in json.loads(capsys.readouterr().out)["runs"]]
    assert labels == [str(a), str(b)]


@pytest.mark.parametrize("damage, says", [
    ("absent", "no such run folder"),
    ("no config", "no config.json"),
    ("bad config", "config.json is not valid JSON"),
    ("list config", "config.json does not hold a JSON object"),
    ("no metrics", "no metrics.csv"),
])
def test_an_unusable_run_folder_is_one_line_and_exit_2(tmp_path, capsys, damage, says):
    good = make_run(tmp_path / "good", config(), [0.9])
    bad = tmp_path / "bad"
    if damage != "absent":
        make_run(bad, config(), [0.9])
    if damage == "no config":
        (bad / "config.json").unlink()
    elif damage == "bad config":
        (bad / "config.json").write_text("{not json")
    elif damage == "list config":
        (bad / "config.json").write_text("[1, 2]")
    elif damage == "no metrics":
        (bad / "metrics.csv").unlink()
    assert compare(good, bad, "--plot", tmp_path / "c.png") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"torchcanvas: {bad}: {says}") and err.count("\n") == 1
    assert not (tmp_path / "c.png").exists()


def test_an_existing_plot_needs_force_and_a_runs_own_files_never_are_replaced(two_runs, capsys):
    cnn, mlp = two_runs
    (cnn / "curves.png").write_bytes(b"the run's own picture")
    for target, force, code, says in (
            ("compare.png", False, 0, None),
            ("compare.png", False, 2, "compare.png exists; pass --force"),
            ("compare.png", True, 0, None),
            (cnn / "curves.png", True, 2, "is the input file"),
            ("plot.jpg", False, 2, "plot.jpg: the plot is a PNG image")):
        argv = [cnn, mlp, "--plot", target] + ["--force"] * force
        assert compare(*argv) == code
        err = capsys.readouterr().err
        if says:
            assert says in err and err.startswith("torchcanvas: ")
    assert (cnn / "curves.png").read_bytes() == b"the run's own picture"


def test_the_cli_runs_compare(two_runs, capsys):
    from builder.cli import build_parser, main

    commands = build_parser()._subparsers._group_actions[0].choices
    if "compare" not in commands:
        pytest.skip("builder/cli.py does not register `compare` yet")
    assert main(["compare", *map(str, two_runs), "--no-plot"]) == 0
    assert capsys.readouterr().out.startswith("run ")
    assert main(["compare", "no/such/run", "--no-plot"]) == 2
    assert capsys.readouterr().err == "torchcanvas: no/such/run: no such run folder\n"
