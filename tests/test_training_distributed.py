"""Distributed training for real: `torchcanvas train --devices 2` through torchrun, gloo on CPU.

Every test runs child processes, as a user would: the launcher, torchrun, the workers. Each
import of torch costs seconds on a small machine, so the tests are few and each checks much.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch.distributed

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(),
                                reason="this torch is built without torch.distributed")

MODELS = Path(__file__).parent / "training_models" / "tiny_mlp.py"
DATA = "synthetic:shape=1,8,8,classes=10,n=400"  # ten well-separated classes: learnt at once
QUICK = ["--data", DATA, "--accelerator", "cpu", "--batch-size", "32", "--lr", "0.01"]
RUN_FILES = {"checkpoints", "config.json", "confusion.json", "curves.png", "metrics.csv",
             "misclassified.json", "model.py", "summary.json", "tensorboard", "train.log"}
WEIGHTS = re.compile(r"^rank (\d+) of (\d+): final weights sha256 ([0-9a-f]{16})$", re.M)
TORCHRUN_NOISE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d|Traceback|ChildFailedError|^=====",
                            re.M)


def environment() -> dict:
    """This environment without what would make a child think it is already a worker, and
    without a loopback setting, so the runner has to choose it itself."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                        "MASTER_PORT", "GLOO_SOCKET_IFNAME", "TORCHCANVAS_ERROR_DIR")}
    return {**env, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def start(args: list[str], cwd: Path, prefix: tuple[str, ...] = ("-m", "builder")):
    return subprocess.Popen([sys.executable, *prefix, "train", *args], cwd=cwd,
                            env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


# A guard against a hang, not a speed test: under a loaded test run a two-node launch that takes
# 20 s alone has taken over 150 s.
HANG_S = 300


def finish(child: subprocess.Popen, timeout: float = HANG_S) -> tuple[int, str, str]:
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        pytest.fail(f"still running after {timeout} s; stderr:\n{err[-3000:]}")
    return child.returncode, out, err


def finish_all(*children: subprocess.Popen, timeout: float = HANG_S) -> list[tuple[int, str, str]]:
    """Wait for children that run at the same time, reading all their pipes at once: a child
    left unread fills its pipe and blocks, and a node blocked before torchrun's exit barrier
    keeps every other node waiting there too."""
    with ThreadPoolExecutor(len(children)) as pool:
        return list(pool.map(lambda child: finish(child, timeout), children))


def weights(stderr: str) -> dict[int, str]:
    """Each rank's final-weights hash, by rank."""
    return {int(rank): digest for rank, _, digest in WEIGHTS.findall(stderr)}


def epoch_rows(run_dir: Path) -> list[dict]:
    with (run_dir / "metrics.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_rank_zero_wrote_once(run_dir: Path, stderr: str, epochs: int) -> None:
    """One set of files and one line per epoch: rank 1 neither writes nor prints."""
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert len(epoch_rows(run_dir)) == epochs
    assert len(list((run_dir / "tensorboard").iterdir())) == 1
    log = (run_dir / "train.log").read_text(encoding="utf-8")
    assert log.count("world size 2") == 1
    assert len(re.findall(r"^epoch \d+/", stderr, re.M)) == epochs
    assert json.loads((run_dir / "config.json").read_text())["world_size"] == 2


def test_our_launch_and_a_users_own_torchrun_at_once_each_train_on_two_ranks(tmp_path):
    # Both at the same time on this machine: each rendezvous finds its own free port. The second
    # is torchrun as a user would type it, whose workers run `train` directly.
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    args = [f"{MODELS}:TinyMLP", *QUICK, "--max-epochs", "2"]
    torchrun = ("-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m",
                "builder")
    children = [start([*args, "--devices", "2", "--out", str(ours)], tmp_path),
                start([*args, "--out", str(theirs)], tmp_path, prefix=torchrun)]
    results = finish_all(*children)
    for run, (code, _out, err) in zip((ours, theirs), results):
        assert code == 0, err
        assert_rank_zero_wrote_once(run, err, epochs=2)
        last = epoch_rows(run)[-1]
        assert float(last["val_loss"]) < math.log(10) - 0.5  # chance is ln(10)
        assert float(last["val_acc"]) > 0.5  # chance is 0.1
        hashes = weights(err)
        assert set(hashes) == {0, 1} and hashes[0] == hashes[1], err  # DDP kept them equal
    assert not TORCHRUN_NOISE.search(results[0][2]), results[0][2]  # ours says nothing of its own
    assert {p.name for p in tmp_path.iterdir()} == {"ours", "theirs"}  # nothing else, anywhere


def test_a_node_whose_partner_never_comes_gives_up_after_dist_timeout_in_one_line(tmp_path):
    started = time.monotonic()
    code, _out, err = finish(start([f"{MODELS}:TinyMLP", *QUICK, "--devices", "1",
                                    "--num-nodes", "2", "--node-rank", "1", "--rdzv-endpoint",
                                    f"127.0.0.1:{free_port()}", "--dist-timeout", "3",
                                    "--out", str(tmp_path / "run")], tmp_path), timeout=90)
    assert code == 1, err
    assert re.fullmatch(r"torchcanvas: the distributed run failed: \w+Error: .*timed out "
                        r"after 3000ms.*\n", err), err  # torchrun's own error, without its C++
    assert time.monotonic() - started < 45


def test_a_rank_that_raises_ends_the_launch_at_once_in_one_line(tmp_path):
    started = time.monotonic()
    code, _out, err = finish(start([f"{MODELS}:FailsOnRankOne", *QUICK, "--max-epochs", "3",
                                    "--devices", "2", "--out", str(tmp_path / "run")],
                                   tmp_path), timeout=90)
    assert time.monotonic() - started < 60  # rank 0 did not sit in a collective
    assert code == 1, err
    failures = [line for line in err.splitlines() if line.startswith("torchcanvas:")]
    assert len(failures) == 1, err
    assert re.fullmatch(r"torchcanvas: the distributed run failed: rank 1: the model raised at "
                        r"step \d+: RuntimeError: rank one gives up \(tiny_mlp\.py:\d+\)",
                        failures[0]), err
    assert not TORCHRUN_NOISE.search(err), err


def test_ctrl_c_checkpoints_and_the_run_continues_on_two_nodes(tmp_path):
    """Interrupted on one machine with two processes, continued as two nodes of one process
    each (simulated here: both on this machine, meeting at 127.0.0.1)."""
    run = tmp_path / "run"
    args = [f"{MODELS}:TinyMLP", *QUICK, "--out", str(run), "--early-stopping-patience", "0"]
    child = start([*args, "--devices", "2", "--max-epochs", "500", "--json-progress"], tmp_path)
    for line in child.stdout:  # interrupt once the first epoch is done
        if line.startswith("{") and json.loads(line).get("event") == "epoch":
            break
    child.send_signal(signal.SIGINT)  # to the launcher alone, as the terminal does now
    code, _out, err = finish(child, timeout=60)
    assert code == 130, err
    assert [line for line in err.splitlines() if line.startswith("torchcanvas:")] == [
        "torchcanvas: interrupted: saved a checkpoint; continue with --ckpt-path last"], err
    assert not TORCHRUN_NOISE.search(err), err
    assert (run / "checkpoints" / "last.pt").is_file()
    done = len(epoch_rows(run))
    assert 1 <= done < 500

    nodes = [*args, "--max-epochs", str(done + 1), "--ckpt-path", "last", "--devices", "1",
             "--num-nodes", "2", "--rdzv-endpoint", f"127.0.0.1:{free_port()}"]
    # Node 1 first: it must wait for node 0, which hosts the rendezvous and runs rank 0.
    second = start([*nodes, "--node-rank", "1"], tmp_path)
    time.sleep(1)
    first = start([*nodes, "--node-rank", "0"], tmp_path)
    (code0, _, err0), (code1, _, err1) = finish_all(first, second)
    assert (code0, code1) == (0, 0), err0 + err1
    assert not TORCHRUN_NOISE.search(err0 + err1), err0 + err1
    assert len(epoch_rows(run)) == done + 1
    assert "resumed at epoch" in (run / "train.log").read_text(encoding="utf-8")
    assert weights(err0).keys() == {0} and weights(err1).keys() == {1}, err0 + err1
    assert weights(err0)[0] == weights(err1)[1]  # DDP kept the nodes equal


TORCHRUN_STDERR = """\
W1202 00:07:03.326000 13439 torch/distributed/elastic/api.py:1028] Sending closing signal SIGTERM
E1202 00:07:03.491000 13439 torch/distributed/elastic/api.py:1002] failed (exitcode: 1) local_rank
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File ".../torch/distributed/launcher/api.py", line 383, in launch_agent
    raise ChildFailedError(
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
builder FAILED
------------------------------------------------------------
Failures:
[1]:
  rank      : 0 (local_rank: 0)
  exitcode  : -15 (pid: 13451)  (SIGTERM)
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-12-02_00:07:03
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 13452)  (SIGKILL)
  traceback : Signal 9 (SIGKILL) received by PID 13452
============================================================
a line of no known kind
"""


def test_torchruns_own_output_becomes_one_line_and_other_lines_pass(capsys):
    from builder.training.launch import TorchrunOutput

    said = TorchrunOutput()
    for line in TORCHRUN_STDERR.splitlines():
        said.take(line)
    assert said.summary() == "rank 1 exited with status -9 (SIGKILL)"  # a worker killed, say
    assert capsys.readouterr().err == "a line of no known kind\n"

    interrupted = TorchrunOutput()
    for line in ["Traceback (most recent call last):", '  File "x", line 1', "torch.distributed."
                 "elastic.multiprocessing.api.SignalException: Process 1 got signal: 2", "",
                 "During handling of the above exception, another exception occurred:", "",
                 "Traceback (most recent call last):", '  File "y", line 2',
                 "torch.distributed.DistStoreError: Timed out after 6 seconds"]:
        interrupted.take(line)
    assert interrupted.summary() == "DistStoreError: Timed out after 6 seconds"
    assert capsys.readouterr().err == ""


def running_with(text: str) -> set[int]:
    """Live processes (not zombies) whose command line mentions ``text`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in command and state != "Z":
            found.add(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_launcher_killed_outright_takes_torchrun_and_its_workers_with_it(tmp_path):
    # The app kills the launcher when a Stop times out: torchrun (in a session of its own) and
    # its workers must not go on training with nobody to report to.
    run = tmp_path / "run"
    child = start([f"{MODELS}:TinyMLP", *QUICK, "--devices", "2", "--max-epochs", "500",
                   "--early-stopping-patience", "0", "--out", str(run), "--json-progress"],
                  tmp_path)
    for line in child.stdout:  # training on both ranks
        if line.startswith("{") and json.loads(line).get("event") == "epoch":
            break
    assert len(running_with(str(run)) - {child.pid}) >= 3  # torchrun and two workers
    child.kill()
    try:  # the pipes close when the last worker, which holds them too, has gone
        child.communicate(timeout=HANG_S)
    except subprocess.TimeoutExpired:
        for pid in running_with(str(run)):
            os.kill(pid, signal.SIGKILL)
        pytest.fail("torchrun or a worker outlived its launcher")
    deadline = time.monotonic() + 30
    while running_with(str(run)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running_with(str(run)) == set()
    # Stopped as a stop is, with a checkpoint: not trained on, unseen, to the 500th epoch.
    assert len(epoch_rows(run)) < 500 and not (run / "summary.json").exists()
    assert (run / "checkpoints" / "last.pt").is_file()
