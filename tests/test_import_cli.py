"""`torchcanvas import`: a project written for a good SPEC; for bad input one clear line,
exit 1 (2 for unusable arguments), never a traceback; a model that hangs is stopped."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from builder.cli import main
from builder.import_command import parse_input
from graph_schema import load_project, validate

MODELS = textwrap.dedent('''
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self, hidden):
            super().__init__()
            self.fc = nn.Linear(4, hidden)
            self.out = nn.Linear(hidden, 2)

        def forward(self, x):
            return self.out(torch.relu(self.fc(x)))


    class Hangs(nn.Module):
        def forward(self, x):
            while True:
                x = x + 1


    class Raises(nn.Module):
        def forward(self, x):
            raise ValueError("this model refuses to run")


    def make_net():
        return Net(hidden=3)


    broken = 1 / 0 if __name__ == "never" else None
''')


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "models.py"
    path.write_text(MODELS, encoding="utf-8")
    return path


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "builder", "import", *args],
                          capture_output=True, text=True, timeout=timeout)


def assert_one_clear_line(result, code: int, *fragments: str) -> None:
    """The verdict is the last line of stderr (earlier lines are progress), with no
    traceback anywhere."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("torchcanvas import: "), last
    for fragment in fragments:
        assert fragment in last, last


def test_import_writes_a_valid_project(models, tmp_path):
    out = tmp_path / "net.json"
    result = run_cli(f"{models}:Net", "--input", "2,4", "--kwargs", '{"hidden": 5}',
                     "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "torchcanvas import: running the model" in result.stderr  # progress lines
    project = load_project(out)
    assert not [d for d in validate(project) if d.is_error]
    fc = next(n for n in project.networks[0].nodes if n.name == "fc")
    assert fc.params == {"in_features": 4, "out_features": 5}
    assert project.networks[0].inputs()[0].params["shape"] == ["N", 4]


def test_a_function_returning_the_model(models, tmp_path):
    out = tmp_path / "made.json"
    result = run_cli(f"{models}:make_net", "--input", "1,4", "-o", str(out), "--name", "mine")
    assert result.returncode == 0, result.stderr
    assert load_project(out).name == "mine"


@pytest.mark.parametrize("spec, extra, fragments", [
    (":Net", [], ["missing 1 required positional argument: 'hidden'", "--kwargs"]),
    (":Net", ["--kwargs", '{"hidden": 3}', "--input", "2,7"],
     ["forward failed on inputs (2, 4), (2, 7)"]),
    (":Raises", [], ["forward failed", "ValueError: this model refuses to run"]),
    (":Missing", [], ["has no 'Missing'"]),
])
def test_model_problems_are_one_line_and_exit_1(models, tmp_path, spec, extra, fragments):
    out = tmp_path / "never.json"
    result = run_cli(f"{models}{spec}", "--input", "2,4", *extra, "-o", str(out))
    assert_one_clear_line(result, 1, *fragments)
    assert not out.exists()


def test_a_model_that_hangs_is_stopped(models, tmp_path):
    out = tmp_path / "never.json"
    result = run_cli(f"{models}:Hangs", "--input", "2,4", "--timeout", "2", "-o", str(out),
                     timeout=60)
    assert_one_clear_line(result, 1, "no result after 2 s", "--timeout")
    assert not out.exists()


def test_a_file_that_is_not_there(tmp_path):
    result = run_cli(f"{tmp_path}/nothing.py:Net", "--input", "2", "-o",
                     str(tmp_path / "o.json"))
    assert_one_clear_line(result, 1, "no such file")


@pytest.mark.parametrize("argv, fragment", [
    (["models.py", "--input", "2,4"], "must be path/to/file.py:Name"),
    (["models.py:Net"], "at least one example input"),
    (["models.py:Net", "--input", "2,four"], "sizes separated by commas"),
    (["models.py:Net", "--input", "2,4:complex"], "unknown dtype"),
    (["models.py:Net", "--input", "0,4"], "must be positive"),
    (["models.py:Net", "--input", "100000,100000"], "more than an example input needs"),
    (["models.py:Net", "--input", "2,4", "--kwargs", "[1]"], "must be a JSON object"),
    (["models.py:Net", "--input", "2,4", "--kwargs", "{oops"], "not valid JSON"),
    (["models.py:Net", "--input", "2,4", "--timeout", "-1"], "--timeout"),
])
def test_unusable_arguments_exit_2_without_starting_a_worker(argv, fragment, tmp_path, capsys):
    code = main(["import", *argv, "-o", str(tmp_path / "o.json")])
    assert code == 2
    assert fragment in capsys.readouterr().err


def test_output_folder_must_exist(tmp_path, capsys):
    code = main(["import", "m.py:Net", "--input", "2", "-o", str(tmp_path / "no" / "o.json")])
    assert code == 2 and "folder does not exist" in capsys.readouterr().err


def test_parse_input():
    assert parse_input("2,3,224,224") == {"shape": [2, 3, 224, 224], "dtype": "float32"}
    assert parse_input("2,16:int64") == {"shape": [2, 16], "dtype": "int64"}


def test_cancel_stops_the_import_and_writes_nothing(models, tmp_path):
    """The app's Cancel is a SIGTERM to `torchcanvas import`; its worker goes with it."""
    out = tmp_path / "never.json"
    process = subprocess.Popen([sys.executable, "-m", "builder", "import", f"{models}:Hangs",
                                "--input", "2,4", "-o", str(out)],
                               stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if "running the model" in line:
            break
    process.terminate()
    assert process.wait(timeout=30) == 143
    assert not out.exists()
