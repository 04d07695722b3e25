"""The Runs list and Compare, on run folders made by real `torchcanvas train` child processes:
what each row says, the status each run's files give, folders that are not runs, selecting
two runs to compare (the table and the overlaid curves), and the actions that leave the app.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtTest import QTest

from builder.gui.train.compare_view import CompareView
from builder.gui.train.runs_view import HEADERS, RunsView
from builder.training.compare import duration

ROOT = Path(__file__).resolve().parents[2]
TINY = f"{ROOT / 'tests' / 'training_models' / 'tiny_mlp.py'}:TinyMLP"
FAST = ["--data", "digits", "--limit-train-batches", "3", "--limit-val-batches", "2"]
STATUS = HEADERS.index("status")
TURNS_NAN = """
    import torch
    from torch import nn


    class TurnsNaN(nn.Module):
        # The runner's check before training is call 1: the loss is NaN from step 3 on, in the
        # first epoch, before any checkpoint.
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 10)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            out = self.fc(x.flatten(1))
            return out * float("nan") if self.calls >= 4 else out
    """


def train(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "builder", "train", *args],
        cwd=ROOT,
        text=True,
        stdout=popen.pop("stdout", subprocess.DEVNULL),
        stderr=subprocess.PIPE,
        **popen,
    )


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    """Three real runs, trained at once: finished, finished at --max-steps with another lr,
    and one whose loss turned NaN in its first epoch; and folders that are not (good) runs."""
    runs = tmp_path_factory.mktemp("project") / "runs"
    nan_model = runs.parent / "turns_nan.py"
    runs.mkdir()
    nan_model.write_text(textwrap.dedent(TURNS_NAN))
    children = {
        "a": train(TINY, *FAST, "--max-epochs", "2", "--out", str(runs / "a")),
        "b": train(
            TINY,
            *FAST,
            "--max-epochs",
            "2",
            "--max-steps",
            "4",
            "--lr",
            "0.01",
            "--out",
            str(runs / "b"),
        ),  # fmt: skip
        "nan": train(f"{nan_model}:TurnsNaN", *FAST, "--out", str(runs / "nan")),
    }
    errors = {}
    for name, child in children.items():
        _, errors[name] = child.communicate(timeout=300)
        assert child.returncode == (1 if name == "nan" else 0), errors[name]
    assert "the loss became nan" in errors["nan"]
    old = time.time() - 3 * 86400
    broken = runs / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    half = runs / "half"
    half.mkdir()
    (half / "config.json").write_text(json.dumps({"model": {"name": "X"}}))
    for folder in (broken, half):
        os.utime(folder, (old, old))
    (runs / "notes").mkdir()
    (runs / "notes" / "README.txt").write_text("not a run")
    (runs / "lr-find-tiny").mkdir()
    (runs / "lr-find-tiny" / "lr_find.json").write_text("{}")
    (runs / "stray.txt").write_text("a file, not a folder")
    return runs


@pytest.fixture
def view(qtbot, runs_dir) -> RunsView:
    view = RunsView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.set_folder(runs_dir)
    view.show()
    qtbot.waitExposed(view)
    return view


def metrics(run: Path) -> list[dict]:
    with open(run / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def row_of(view: RunsView, name: str) -> int:
    return [info.name for info in view.infos].index(name)


def cells(view: RunsView, name: str) -> dict[str, str]:
    row = row_of(view, name)
    return {header: view.table.item(row, i).text() for i, header in enumerate(HEADERS)}


def click_row(view: RunsView, name: str, keys=Qt.KeyboardModifier.NoModifier) -> None:
    rect = view.table.visualItemRect(view.table.item(row_of(view, name), 0))
    QTest.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, keys, rect.center())


def click(button) -> None:
    assert button.isEnabled(), button.text()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


# --- the list ----------------------------------------------------------------------------------


def test_each_run_shows_its_date_model_best_time_epochs_and_status(view, runs_dir):
    assert {info.name for info in view.infos} == {"a", "b", "nan", "broken", "half"}
    config = json.loads((runs_dir / "a" / "config.json").read_text())
    rows = metrics(runs_dir / "a")
    best = max(rows, key=lambda r: float(r["val_acc"]))
    seconds = sum(float(r["seconds"]) for r in rows)
    shown = cells(view, "a")
    started = time.strptime(config["started"], "%Y-%m-%dT%H:%M:%S%z")
    assert shown["date"] == time.strftime("%Y-%m-%d %H:%M", started)
    assert shown["model"] == f"TinyMLP {config['model']['source_sha256'][:12]}"
    assert shown["best"] == f"val_acc {float(best['val_acc']):.4f} (epoch {best['epoch']})"
    assert shown["time"] == duration(seconds)
    assert (shown["epochs"], shown["status"]) == ("2/2", "finished")
    assert cells(view, "b")["status"] == "finished (max steps)"
    assert view.folder_label.text() == f"5 run(s) in {runs_dir}"


def test_newest_first(view, runs_dir):
    whens = [info.when for info in view.infos]
    assert whens == sorted(whens, reverse=True)
    for name in ("a", "b", "nan"):
        started = json.loads((runs_dir / name / "config.json").read_text())["started"]
        assert view.infos[row_of(view, name)].date_text() == time.strftime(
            "%Y-%m-%d %H:%M", time.strptime(started, "%Y-%m-%dT%H:%M:%S%z")
        )
    assert [info.name for info in view.infos][-2:] == ["half", "broken"]  # days older


def test_folders_that_are_not_runs_say_why_and_cannot_be_selected(view):
    assert cells(view, "broken")["status"].startswith("unreadable: config.json is not valid JSON (")
    assert cells(view, "half")["status"] == (
        "unreadable: no metrics.csv (the run has not started?)"
    )
    click_row(view, "broken")
    assert view.selected_runs() == []
    click_row(view, "a")
    assert view.selected_runs() == [view.infos[row_of(view, "a")].path]


def test_a_run_that_died_in_its_first_epoch_has_failed(view, runs_dir):
    # Its files alone look like a run still in its first epoch for a while; later they do not.
    view.clock = lambda: time.time() + 600
    view.refresh()
    assert cells(view, "nan")["status"] == "failed (no summary, no checkpoint)"
    view.clock = time.time
    view.set_running([runs_dir / "nan"])  # as the panel says while its process runs
    assert cells(view, "nan")["status"] == "running"
    view.set_running([])  # the panel saw the process end: no waiting for the files to age
    assert cells(view, "nan")["status"] == "failed (no summary, no checkpoint)"
    assert cells(view, "a")["status"] == "finished"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a plain kill on Windows")
def test_a_run_from_a_terminal_is_running_and_after_sigterm_stopped(qtbot, tmp_path):
    runs = tmp_path / "runs"
    child = train(
        TINY, *FAST, "--max-epochs", "100000", "--json-progress", "--out", str(runs / "live"),
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        for line in child.stdout:
            if json.loads(line)["event"] == "epoch":
                break
        view = RunsView()
        qtbot.addWidget(view)
        view.set_folder(runs)
        assert [(i.name, i.status_text) for i in view.infos] == [("live", "running")]
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 143, err
    view.refresh()
    (info,) = view.infos
    assert info.status == "stopped"
    last = [line for line in (runs / "live" / "train.log").read_text().splitlines()
            if "[checkpoint]" in line][-1]  # fmt: skip
    step = last.split("step ")[1].split()[0]
    assert info.status_text == f"stopped, checkpoint at step {step} (can resume)"


def test_no_folder_or_a_missing_one_lists_nothing(qtbot, tmp_path):
    view = RunsView()
    qtbot.addWidget(view)
    assert view.table.rowCount() == 0 and "No runs folder" in view.folder_label.text()
    view.set_folder(tmp_path / "nope")
    assert view.table.rowCount() == 0 and "no runs yet" in view.folder_label.text()
    assert not view.tensorboard_button.isEnabled() and not view.compare_button.isEnabled()


# --- compare -----------------------------------------------------------------------------------


def test_comparing_two_runs_shows_the_table_and_their_curves_overlaid(qtbot, view, runs_dir):
    with qtbot.waitSignal(view.runs_selected) as selected:
        click_row(view, "a")
    assert selected.args == [[runs_dir / "a"]]
    assert not view.compare_button.isEnabled()
    with qtbot.waitSignal(view.runs_selected) as selected:
        click_row(view, "b", Qt.KeyboardModifier.ControlModifier)
    assert set(selected.args[0]) == {runs_dir / "a", runs_dir / "b"}
    view.refresh()  # reading the folder again keeps the selection
    assert set(view.selected_runs()) == {runs_dir / "a", runs_dir / "b"}
    click(view.compare_button)
    compare = view.compare_view
    assert compare.isVisible()
    table = compare.table
    headers = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert headers[3] == "best val_acc (epoch)"
    assert {"lr", "max_steps"} <= set(headers[7:])  # the settings that differ
    labels = [table.item(r, 0).text() for r in range(table.rowCount())]
    by_run = {label: r for r, label in enumerate(labels)}
    lr = headers.index("lr")
    assert table.item(by_run["a"], lr).text() == "0.001"
    assert table.item(by_run["b"], lr).text() == "0.01"
    assert "they differ in" in compare.note.text() and "lr" in compare.note.text()

    def curves() -> dict[str, tuple[list, list]]:
        return {
            item.name(): (list(item.getData()[0]), list(item.getData()[1]))
            for item in compare.curve_items()
        }

    for column in ("val_acc", "val_loss"):
        compare.column_box.setCurrentText(column)
        assert curves() == {
            name: ([float(r["epoch"]) for r in rows], [float(r[column]) for r in rows])
            for name in ("a", "b")
            for rows in [metrics(runs_dir / name)]
        }
    assert len(curves()) == 2


def test_a_run_gone_since_the_list_was_read_is_said_not_compared(qtbot, runs_dir, tmp_path):
    compare = CompareView()
    qtbot.addWidget(compare)
    assert compare.show_runs([runs_dir / "a", runs_dir / "b"])
    assert not compare.show_runs([runs_dir / "a", tmp_path / "gone"])
    assert compare.note.text() == f"Cannot compare: {tmp_path / 'gone'}: no such run folder"
    assert compare.table.rowCount() == 0 and compare.curve_items() == []


# --- the actions that leave the app -------------------------------------------------------------


def test_overlay_and_open_folder(qtbot, view, runs_dir):
    opened: list[QUrl] = []
    view.open_url = lambda url: opened.append(url) or True
    click(view.open_button)  # nothing selected: the runs folder
    click_row(view, "b")
    with qtbot.waitSignal(view.overlay_requested) as overlay:
        click(view.overlay_button)
    assert overlay.args == [runs_dir / "b"]
    click(view.open_button)
    assert [Path(url.toLocalFile()) for url in opened] == [runs_dir, runs_dir / "b"]


def test_tensorboard_starts_detached_on_the_runs_folder_and_says_where(view, runs_dir):
    started = []
    view.start_detached = lambda program, args, folder: started.append((program, args)) or True
    assert view.tensorboard_button.isEnabled()  # tensorboard is installed with the runner
    click(view.tensorboard_button)
    ((program, args),) = started
    assert (program, args[:4]) == (sys.executable, ["-m", "tensorboard.main", "--logdir",
                                                    str(runs_dir)])  # fmt: skip
    port = args[args.index("--port") + 1]
    assert view.tensorboard_url == f"http://localhost:{port}/"
    assert view.tensorboard_url in view.message.text()

    view.find_tensorboard = lambda: None
    view.refresh()
    assert not view.tensorboard_button.isEnabled()
    assert "not installed" in view.tensorboard_button.toolTip()


def test_screenshot(view, runs_dir, tmp_path):
    view.select_runs([runs_dir / "a", runs_dir / "b", runs_dir / "broken"])
    assert set(view.selected_runs()) == {runs_dir / "a", runs_dir / "b"}  # not the unreadable
    click(view.compare_button)
    path = tmp_path / "runs_view.png"
    assert view.grab().save(str(path))
    assert path.stat().st_size > 10_000


# --- layering ----------------------------------------------------------------------------------


def test_the_train_widgets_do_not_import_torch():
    code = (
        "import sys\n"
        "import builder.gui.train.runs_view, builder.gui.train.compare_view\n"
        "import builder.gui.train.ladder_view, builder.gui.train.lr_view\n"
        "print('torch' in sys.modules, sorted(m for m in sys.modules"
        " if m.startswith('builder.training')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    torch_loaded, training = done.stdout.strip().split(" ", 1)
    assert torch_loaded == "False"
    # What they read of the runner: compare, and the two files it reads with (torch-free).
    assert training == str(
        ["builder.training", "builder.training.compare", "builder.training.curves",
         "builder.training.logs"]
    )  # fmt: skip
