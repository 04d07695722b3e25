"""The run folder's logs: metrics.csv, TensorBoard events, train.log, curves.png, the terminal
and --json-progress lines, as a run (and a resumed run) leaves them."""

import io
import json
import math
import re

import pytest
from PIL import Image

from builder.training.curves import plot_curves, read_metrics
from builder.training.logs import RunLog

COLUMNS = ("epoch", "step", "train_loss", "val_loss", "val_acc", "lr", "seconds",
           "samples_per_s")


class Terminal(io.StringIO):
    def isatty(self):
        return True


class GoneReader(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def row(epoch, val_loss=0.5, val_acc=0.8, train_loss=0.6):
    return {"epoch": epoch, "step": 10 * epoch, "train_loss": train_loss, "val_loss": val_loss,
            "val_acc": val_acc, "lr": 1e-3, "seconds": 12.34, "samples_per_s": 5120.4}


def run_epochs(log, epochs, **values):
    for epoch in epochs:
        log.start_epoch(epoch, total_batches=10)
        for index in range(10):
            log.batch_done()
            if index % 5 == 4:
                log.step(10 * (epoch - 1) + index + 1, epoch, loss=1.0 / epoch, lr=1e-3)
        log.epoch(row(epoch, **values))


def scalars(run_dir, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    return [(e.step, round(e.value, 6)) for e in events.Scalars(tag)]


def test_a_run_writes_csv_tensorboard_log_curves_and_plain_lines(tmp_path):
    run_dir, stream = tmp_path / "run", io.StringIO()
    log = RunLog(run_dir, columns=COLUMNS, stream=stream, stdout=io.StringIO())
    log.total_epochs = 2
    log.info("training DigitsCNN on digits")
    run_epochs(log, [1])
    log.epoch(row(2, val_loss=math.nan, val_acc=math.inf))
    log.close()

    assert (run_dir / "metrics.csv").read_text().splitlines() == [
        ",".join(COLUMNS),
        "1,10,0.6,0.5,0.8,0.001,12.34,5120.4",
        "2,20,0.6,nan,inf,0.001,12.34,5120.4",
    ]
    lines = stream.getvalue().splitlines()
    assert lines == [
        "training DigitsCNN on digits",
        "epoch 1/2  step 10  train_loss 0.600  val_loss 0.500  val_acc 0.800  lr 1.0e-03  "
        "12.3 s  5,120 samples/s",
        "epoch 2/2  step 20  train_loss 0.600  val_loss nan  val_acc inf  lr 1.0e-03  "
        "12.3 s  5,120 samples/s",
    ]
    log_lines = (run_dir / "train.log").read_text().splitlines()
    assert len(log_lines) == 3
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ", line) for line in log_lines)
    assert log_lines[1].endswith(lines[1])
    assert scalars(run_dir, "train/loss") == [(5, 1.0), (10, 1.0)]
    assert scalars(run_dir, "epoch/val_acc")[0] == (10, 0.8)
    with Image.open(run_dir / "curves.png") as image:
        assert image.format == "PNG" and image.width > 0 and image.height > 0


def test_json_progress_lines_parse_and_carry_event_and_time(tmp_path):
    stdout = io.StringIO()
    log = RunLog(tmp_path / "run", columns=COLUMNS, json_progress=True, stream=io.StringIO(),
                 stdout=stdout)
    log.event("start", world_size=1, model="DigitsCNN")
    run_epochs(log, [1], val_loss=math.nan)
    log.event("end", best=float("-inf"), path=tmp_path)
    log.close()

    records = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert all(isinstance(r["event"], str) and isinstance(r["time"], float) for r in records)
    kinds = [r["event"] for r in records]
    assert kinds == ["start", "step", "step", "epoch", "end"]
    assert records[1] | {"time": 0} == {"event": "step", "time": 0, "step": 5, "epoch": 1,
                                        "loss": 1.0, "lr": 1e-3}
    assert records[3]["val_loss"] is None and records[3]["val_acc"] == 0.8
    assert records[4]["best"] is None and records[4]["path"] == str(tmp_path)
    assert "[start] world_size 1  model DigitsCNN" in (tmp_path / "run" / "train.log").read_text()


def test_resume_keeps_the_epochs_done_and_redoes_the_rest(tmp_path):
    run_dir = tmp_path / "run"
    with RunLog(run_dir, columns=COLUMNS, stream=io.StringIO()) as log:
        log.info("first start")
        run_epochs(log, [1, 2, 3], val_acc=0.5)
    # The first attempt was killed writing epoch 4; the checkpoint resumed is epoch 1's.
    with open(run_dir / "metrics.csv", "a") as handle:
        handle.write("4,40,0.1,0.")  # a row cut short by the kill
    with RunLog(run_dir, columns=COLUMNS, resume_epochs_done=1, stream=io.StringIO()) as log:
        run_epochs(log, [2], val_acc=0.9)

    assert (run_dir / "metrics.csv").read_text().splitlines() == [
        ",".join(COLUMNS),
        "1,10,0.6,0.5,0.5,0.001,12.34,5120.4",
        "2,20,0.6,0.5,0.9,0.001,12.34,5120.4",
    ]
    text = (run_dir / "train.log").read_text()
    assert "first start" in text and "resumed after epoch 1" in text
    # TensorBoard hides what the first attempt logged after the checkpoint.
    assert scalars(run_dir, "epoch/val_acc") == [(10, 0.5), (20, 0.9)]


def test_resume_without_a_metrics_file_starts_one(tmp_path):
    with RunLog(tmp_path / "run", columns=COLUMNS, resume_epochs_done=3, stream=io.StringIO()):
        pass
    assert (tmp_path / "run" / "metrics.csv").read_text() == ",".join(COLUMNS) + "\n"


def test_a_disabled_log_writes_nothing(tmp_path):
    stream, stdout = io.StringIO(), io.StringIO()
    log = RunLog(tmp_path / "run", enabled=False, json_progress=True, columns=COLUMNS,
                 stream=stream, stdout=stdout)
    log.info("rank 1 says hello")
    run_epochs(log, [1])
    log.event("end")
    log.close()
    assert not (tmp_path / "run").exists()
    assert stream.getvalue() == stdout.getvalue() == ""


def test_a_terminal_gets_a_bar_and_still_the_epoch_line(tmp_path):
    terminal = Terminal()
    with RunLog(tmp_path / "run", columns=COLUMNS, stream=terminal, stdout=io.StringIO()) as log:
        log.start_epoch(1, total_batches=10, total_epochs=5)
        log.batch_done(4)
        log.step(4, 1, loss=0.25, lr=1e-3)
        log.info("halfway")
        log.batch_done(6)
        log.epoch(row(1))
    shown = terminal.getvalue()
    assert "epoch 1/5" in shown and "batch" in shown  # tqdm's bar: desc and unit
    assert "halfway\n" in shown
    assert shown.rstrip().endswith("12.3 s  5,120 samples/s")


def test_a_reader_that_goes_away_does_not_stop_the_run(tmp_path):
    with RunLog(tmp_path / "run", columns=COLUMNS, json_progress=True, stream=io.StringIO(),
                stdout=GoneReader()) as log:
        run_epochs(log, [1, 2])
    assert len(read_metrics(tmp_path / "run" / "metrics.csv")) == 2
    assert "reader went away" in (tmp_path / "run" / "train.log").read_text()


def test_a_plotting_problem_is_logged_not_raised(tmp_path):
    run_dir, stream = tmp_path / "run", io.StringIO()
    (run_dir / "curves.png").mkdir(parents=True)  # nothing can be written there
    log = RunLog(run_dir, columns=COLUMNS, stream=stream)
    run_epochs(log, [1])
    log.close()
    assert "could not draw curves.png" in stream.getvalue()
    assert "could not draw curves.png" in (run_dir / "train.log").read_text()


def test_read_metrics_drops_a_cut_last_line_and_broken_rows(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,val_loss\n1,10,0.5\n2,20\n3,30,nan\n4,40,0.2")
    rows = read_metrics(path)
    assert [r["epoch"] for r in rows] == [1, 3]
    assert rows[0] == {"epoch": 1, "step": 10, "val_loss": 0.5}
    assert math.isnan(rows[1]["val_loss"])
    path.write_text("")
    assert read_metrics(path) == []
    with pytest.raises(FileNotFoundError):
        read_metrics(tmp_path / "absent.csv")


def test_plot_curves_writes_a_png_for_a_regression_run_and_an_empty_one(tmp_path):
    rows = [{"epoch": 1, "train_loss": 2.0, "val_loss": 1.5, "val_mae": 0.9},
            {"epoch": 2, "train_loss": 1.0, "val_loss": None, "val_mae": 0.7}]
    for name, data in (("regression.png", rows), ("empty.png", [])):
        plot_curves(data, tmp_path / name, title=name)
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.width > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp litter
