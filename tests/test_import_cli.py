"""`torchcanvas import`: a project written for a good SPEC; for bad input one clear line,
exit 1 (2 for unusable arguments), never a traceback; a model that hangs is stopped."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from builder.cli import main
from builder.import_command import parse_input
from graph_schema import load_project, validate
from tests.codegen_support import class_names, generate_and_import

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


    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            if x.sum() > 0:  # control flow on a value: torch.fx cannot draw it
                return self.fc(x)
            return -x

    class Gated(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.gate = Gate()

        def forward(self, x):
            return self.gate(torch.relu(self.fc(x)) * 2)

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


@pytest.mark.parametrize(("spec", "line"), [
    ("Net", "1 class drawn, 0 kept as source, 1 op"),
    ("Gated", "1 class drawn, 1 kept as source (Gate), 2 ops"),
])
def test_import_ends_saying_how_much_is_drawn(models, tmp_path, spec, line):
    result = run_cli(f"{models}:{spec}", "--input", "2,4", "--kwargs",
                     '{"hidden": 5}' if spec == "Net" else "{}", "-o", str(tmp_path / "m.json"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == line


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
    (["models.py:Net", "--input", "2,4", "--timeout", "0"],
     "--timeout must be more than 0 and at most 86400 seconds"),
])
def test_unusable_arguments_exit_2_without_starting_a_worker(argv, fragment, tmp_path, capsys):
    code = main(["import", *argv, "-o", str(tmp_path / "o.json")])
    assert code == 2
    assert fragment in capsys.readouterr().err


def test_output_folder_must_exist(tmp_path, capsys):
    code = main(["import", "m.py:Net", "--input", "2", "-o", str(tmp_path / "no" / "o.json")])
    assert code == 2
    assert f"the folder {tmp_path / 'no'} does not exist" in capsys.readouterr().err


def test_output_that_is_a_folder_is_called_a_folder(tmp_path, capsys):
    code = main(["import", "m.py:Net", "--input", "2", "-o", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.strip() == \
        f"torchcanvas: {tmp_path} is a folder; give a file name"


# -- where the project may be written ----------------------------------------------------------
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_the_models_own_file_is_never_the_output(models, capsys, force):
    before = models.read_text(encoding="utf-8")
    assert main(["import", f"{models}:Net", "--input", "2,4", "-o", str(models), *force]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert models.read_text(encoding="utf-8") == before


def test_an_existing_project_is_replaced_only_with_force(models, tmp_path):
    out = tmp_path / "net.json"
    made = run_cli(f"{models}:make_net", "--input", "1,4", "-o", str(out), "--name", "first")
    assert made.returncode == 0, made.stderr
    refused = run_cli(f"{models}:make_net", "--input", "1,4", "-o", str(out))
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(
        "is a TorchCanvas project; pass --force to replace it with the import")
    assert load_project(out).name == "first"
    forced = run_cli(f"{models}:make_net", "--input", "1,4", "-o", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert load_project(out).name == "Net"


def test_another_existing_file_needs_force(tmp_path, capsys):
    out = tmp_path / "notes.json"
    out.write_text("keep me", encoding="utf-8")
    assert main(["import", "m.py:Net", "--input", "2", "-o", str(out)]) == 2
    assert f"{out} exists; pass --force to overwrite it" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "keep me"


# -- messages ----------------------------------------------------------------------------------
def test_a_syntax_error_names_its_line_once(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("class Net(:\n", encoding="utf-8")
    result = run_cli(f"{bad}:Net", "--input", "2", "-o", str(tmp_path / "o.json"))
    assert_one_clear_line(result, 1, "SyntaxError", "(bad.py, line 1)")
    assert result.stderr.count("line 1") == 1


@pytest.mark.parametrize("name, kwargs, shape, node", [
    ("Linear", {"in_features": 4, "out_features": 2}, (1, 4), "linear"),
    ("Conv2d", {"in_channels": 3, "out_channels": 5, "kernel_size": 3}, (2, 3, 8, 8), "conv2d"),
])
def test_a_bare_torch_layer_is_a_one_layer_model(tmp_path, name, kwargs, shape, node):
    """``torch.nn:Linear`` is drawn as Input -> Linear -> Output; a class cannot be the layer
    itself, so its weights load under the node's name."""
    out = tmp_path / "layer.json"
    result = run_cli(f"torch.nn:{name}", "--kwargs", json.dumps(kwargs),
                     "--input", ",".join(map(str, shape)), "-o", str(out))
    assert result.returncode == 0, result.stderr
    project = load_project(out)
    network = project.networks[0]
    assert [n.type for n in network.nodes] == ["io.Input", f"nn.{name}", "io.Output"]
    assert not [d for d in validate(project) if d.is_error]
    source, module, _ = generate_and_import(project, tmp_path)
    generated = getattr(module, class_names(source)[-1])()
    layer = getattr(nn, name)(**kwargs)
    generated.load_state_dict({f"{node}.{k}": v for k, v in layer.state_dict().items()},
                              strict=True)
    x = torch.randn(shape)
    with torch.no_grad():
        assert torch.equal(generated(x), layer(x))


def test_a_torch_layer_the_catalog_lacks_says_so(tmp_path):
    result = run_cli("torch.nn:CosineSimilarity", "--input", "2,3", "--input", "2,3",
                     "-o", str(tmp_path / "o.json"))
    assert_one_clear_line(result, 1, "the model is nn.CosineSimilarity, a torch layer the "
                                     "catalog lacks, so it cannot be drawn")


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
