"""The Train panel's status line and run folders, from events and paths alone (no child)."""

from __future__ import annotations

import datetime

from builder.gui.train.child import last_message
from builder.gui.train.runs import RunRequest, new_run_dir, run_stem, runs_folder
from builder.gui.train.status import RunStatus, duration_text

SETUP = {
    "event": "info",
    "time": 100.0,
    "message": "task classification, loss cross_entropy, adam lr 0.001, batch 32, world "
    "size 2 on cuda:0",
}


def test_the_status_follows_a_run_from_setup_to_the_end():
    status = RunStatus(total_epochs=3, batch_size=32, device_names={"cuda:0": "NVIDIA H200"})
    assert status.text() == "Building the model and loading the data…"
    status.feed(SETUP)
    assert status.text() == "Training epoch 1/3 on cuda:0 (NVIDIA H200), world size 2…"
    status.feed({"event": "step", "time": 101.0, "step": 10, "epoch": 1, "loss": 2.5})
    status.feed({"event": "step", "time": 102.0, "step": 20, "epoch": 1, "loss": None})
    # 10 steps of 32 samples on 2 processes in one second
    assert status.text() == (
        "Epoch 1/3 · step 20 · loss nan · 640 samples/s · cuda:0 (NVIDIA H200), world size 2"
    )
    status.feed(
        {
            "event": "epoch",
            "time": 110.0,
            "epoch": 1,
            "step": 30,
            "train_loss": 1.25,
            "val_loss": 1.5,
            "val_acc": 0.5,
            "seconds": 10.0,
            "samples_per_s": 900.0,
        }
    )
    status.feed(
        {
            "event": "epoch",
            "time": 130.0,
            "epoch": 2,
            "step": 60,
            "train_loss": 0.5,
            "seconds": 18.0,
            "samples_per_s": 1000.0,
        }
    )
    assert status.epoch_seconds == [10.0, 20.0]  # the first from its own time, then wall time
    assert status.time_left(now=135.0) == 10.0  # one epoch of 15 s left, 5 s into it
    assert status.text(now=135.0) == (
        "Epoch 3/3 · step 60 · loss 0.500 · 1,000 samples/s · "
        "cuda:0 (NVIDIA H200), world size 2 · about 10 s left"
    )
    status.feed(
        {
            "event": "end",
            "epochs": 3,
            "steps": 90,
            "stopped": "max_epochs",
            "test": {"loss": 0.25, "metric": 0.9},
        }
    )
    assert status.text() == (
        "Finished: 3 epochs, 90 steps (reached the epoch limit) · test loss 0.250, acc 0.900"
    )
    status.stopping()
    assert status.text() == "Stopping: saving a checkpoint…"


def test_a_start_event_and_a_resumed_run_are_understood_and_unknown_events_ignored():
    status = RunStatus(total_epochs=4)
    status.feed({"event": "start", "device": "cpu", "world_size": 1, "max_epochs": 5})
    status.feed({"event": "lr_find_point", "lr": 0.1})
    status.feed({"event": "info", "message": "resumed at epoch 3, step 40"})
    assert (status.total_epochs, status.epoch, status.step, status.epochs_done) == (5, 3, 40, 2)
    assert status.text().startswith("Epoch 3/5 · step 40 · cpu, world size 1")


def test_durations_read_naturally():
    assert [duration_text(s) for s in (0.2, 42, 150, 3600, 5400)] == [
        "1 s",
        "42 s",
        "2 min",
        "1 h",
        "1 h 30 min",
    ]


def test_run_folders_and_the_command_line(tmp_path):
    project = tmp_path / "My Net.json"
    assert runs_folder(project) == tmp_path / "runs"
    assert run_stem(project, "ignored") == "My-Net"
    assert run_stem(None, "résumé/net") == "r-sum-net"
    now = datetime.datetime(2026, 12, 3, 10, 42, 7)
    first = new_run_dir(tmp_path / "runs", "My-Net", now)
    assert first == tmp_path / "runs" / "My-Net-20261203-104207"
    first.mkdir(parents=True)
    assert new_run_dir(tmp_path / "runs", "My-Net", now).name == "My-Net-20261203-104207-2"
    request = RunRequest(first, trust_kept_source=True, resume=True, extra=["--max-steps", "5"])
    assert request.arguments() == [
        "train",
        str(first / "project.json"),
        "--json-progress",
        "--out",
        str(first),
        "--ckpt-path",
        "last",
        "--trust-kept-source",
        "--max-steps",
        "5",
    ]
    assert RunRequest(first).arguments()[-2:] == ["--out", str(first)]
    assert not request.resumable()  # no checkpoint yet


def test_the_runners_one_line_error_is_found_in_stderr():
    stderr = (
        "epoch 1/2  step 5  train_loss 2.1\nWarning: something\n"
        "torchcanvas: project.json: 1 error\nproject.json: node 'fc': bad\n"
    )
    assert last_message(stderr, "x") == "project.json: 1 error\nproject.json: node 'fc': bad"
    assert last_message("Traceback ...\nRuntimeError: boom\n", "x") == "RuntimeError: boom"
    assert last_message("", "the run failed (exit 3)") == "the run failed (exit 3)"


def test_an_unsaved_projects_runs_go_under_the_users_data_folder(tmp_path):
    # tests/gui/conftest.py points XDG_DATA_HOME at tmp_path / "data"
    folder = runs_folder(None)
    assert folder.name == "runs" and folder.is_relative_to(tmp_path / "data")
