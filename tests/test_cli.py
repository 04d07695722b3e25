"""The command line: exit codes, message format, and no tracebacks for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from builder.cli import main

REPO_ROOT = Path(__file__).resolve().parent.parent

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
BROKEN = sorted((ROOT / "examples" / "broken").glob("*.json"))

# What each broken example must name: the node at fault.
BROKEN_NAMES = {
    "linear_without_flatten.json": "node 'fc1' (nn.Linear), input 0",
    "wrong_in_channels.json": "node 'conv2' (nn.Conv2d), input 0",
    "cat_spatial_mismatch.json": "node 'merge' (op.cat), input 1",
    "cycle.json": "node 'fc1' (nn.Linear)",
    "unconnected_input.json": "node 'conv1' (nn.Conv2d), input 0",
    "unknown_layer_and_bad_names.json": "node 'class' (nn.ReLU)",
    "copy_pasted_head.json": "node 'fc' (nn.Linear)",
    "residual_without_projection.json": "node 'residual' (op.add), input 1",
    "mlp_norm_mistakes.json": "node 'bn' (nn.BatchNorm2d), input 0",
    "lenet_on_28x28.json": "node 'conv3' (nn.Conv2d), input 0",
    "patch_tokens_by_reshape.json": "node 'encoder' (nn.TransformerEncoderLayer)",
}

# Every diagnostic each broken example must raise, errors and warnings, and no other.
BROKEN_CODES = {
    "linear_without_flatten.json": {"shape-mismatch", "linear-on-feature-map"},
    "wrong_in_channels.json": {"shape-mismatch"},
    "cat_spatial_mismatch.json": {"shape-mismatch"},
    "cycle.json": {"cycle", "linear-linear"},
    "unconnected_input.json": {"unconnected-input", "unreachable-output", "unused-input"},
    "unknown_layer_and_bad_names.json": {"bad-name", "duplicate-name", "unknown-type"},
    "copy_pasted_head.json": {"duplicate-name", "dead-node", "unused-input"},
    "residual_without_projection.json": {"shape-mismatch", "bias-before-batchnorm"},
    "mlp_norm_mistakes.json": {"rank-mismatch", "dropout-before-batchnorm",
                               "softmax-before-loss"},
    "lenet_on_28x28.json": {"too-small"},
    "patch_tokens_by_reshape.json": {"missing-param", "reshape-not-permute"},
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_is_valid(capsys, path):
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 0, out
    assert out.strip().endswith("(0 errors, 0 warnings)"), out


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_every_broken_example_is_refused_naming_the_node(capsys, path):
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1
    expected = f"{path}: network 'main', {BROKEN_NAMES[path.name]}: "
    assert expected in out, out


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_every_broken_example_raises_exactly_its_codes(capsys, path):
    code, out, _ = run(capsys, "validate", "--json", str(path))
    report = json.loads(out)
    assert code == 1 and report["valid"] is False
    assert {d["code"] for d in report["diagnostics"]} == BROKEN_CODES[path.name], out


def test_broken_examples_are_all_covered():
    assert {p.name for p in BROKEN} == set(BROKEN_NAMES) == set(BROKEN_CODES)
    assert len(BROKEN) >= 5


def test_validate_json(capsys):
    code, out, _ = run(capsys, "validate", "--json", str(ROOT / "examples/broken/cycle.json"))
    report = json.loads(out)
    assert code == 1 and report["valid"] is False
    assert {d["code"] for d in report["diagnostics"]} >= {"cycle"}
    assert all(d["severity"] in ("error", "warning") for d in report["diagnostics"])


@pytest.mark.parametrize("content", [
    b"{oops", b"\xff\xfe", b"[]", b'{"format_version": 7}', b"",
    b'{"format_version": 2, "networks": [{"name": "n", "nodes": [1]}]}',
])
def test_unusable_files_exit_2_with_one_line(tmp_path, capsys, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, out, err = run(capsys, "validate", str(path))
    assert code == 2
    assert err.startswith(f"torchcanvas: {path}: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_directory_and_missing(tmp_path, capsys):
    assert run(capsys, "validate", str(tmp_path))[0] == 2
    assert run(capsys, "summary", str(tmp_path / "nope.json"))[0] == 2


def test_absurd_values_are_errors_not_crashes(tmp_path, capsys):
    doc = {"format_version": 2, "networks": [{"name": "n", "nodes": [
        {"id": "i", "type": "io.Input", "name": "x", "params": {"shape": ["N", 3, 8, 8]}},
        {"id": "c", "type": "nn.Conv2d", "name": "conv",
         "params": {"out_channels": 10**30, "kernel_size": -3, "stride": 1e400}},
        {"id": "o", "type": "io.Output", "name": "y"}],
        "edges": [{"source": "i", "target": "c"}, {"source": "c", "target": "o"}]}]}
    path = tmp_path / "absurd.json"
    path.write_text(json.dumps(doc).replace("Infinity", "1e400"))
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1, out + err
    assert "out_channels must be at most" in out
    assert "kernel_size must be at least 1" in out
    assert "Traceback" not in out + err


def _lenet5():
    """LeNet-5 (full C3 table) written by hand in torch, as examples/lenet.json draws it."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
                         nn.Linear(84, 10))


def test_summary_table(capsys):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    code, out, _ = run(capsys, "summary", str(ROOT / "examples/lenet.json"))
    assert code == 0
    assert "c1" in out and "(N, 6, 28, 28)" in out
    # Written out: c1 6*(1*5*5+1), c3 16*(6*5*5+1), c5 120*(400+1), f6 84*(120+1), 10*(84+1);
    # MACs per sample: c1 6*28*28*25, c3 16*10*10*150, then 400*120 + 120*84 + 84*10.
    params = 156 + 2_416 + 48_120 + 10_164 + 850
    macs = 117_600 + 240_000 + 48_000 + 10_080 + 840
    assert (params, macs) == (61_706, 416_520)
    assert f"Total params: {params:,}\n" in out
    assert f"MACs per sample: {macs:,}\n" in out
    # ... and the same numbers from torch, for the network written by hand.
    lenet = _lenet5().to("meta")
    assert sum(p.numel() for p in lenet.parameters()) == params
    with FlopCounterMode(display=False) as counter:
        lenet(torch.empty(1, 1, 32, 32, device="meta"))
    assert counter.get_total_flops() == 2 * macs


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_summary_total_params_are_the_generated_modules(capsys, tmp_path, path):
    """The total the summary prints is what torch counts in the module generated from the
    file (torchvision's resnet18 has 11,689,512)."""
    from graph_schema import load_project
    from tests.codegen_support import generate_and_import, network_classes

    code, out, _ = run(capsys, "summary", str(path))
    assert code == 0
    project = load_project(path)
    source, module, _ = generate_and_import(project, tmp_path, lint=False)
    for model_class in network_classes(project, source, module).values():  # a GAN has two
        total = sum(p.numel() for p in model_class().parameters())
        assert f"Total params: {total:,}\n" in out
        if path.name == "resnet18.json":
            assert total == 11_689_512


def test_layers_lists_at_least_100_types(capsys):
    code, out, _ = run(capsys, "layers", "--json")
    layers = json.loads(out)
    assert code == 0 and len(layers) >= 100
    types = {layer["type"] for layer in layers}
    assert {"nn.Conv2d", "nn.LSTM", "op.cat", "nn.MultiheadAttention"} <= types
    conv = next(layer for layer in layers if layer["type"] == "nn.Conv2d")
    in_channels = next(p for p in conv["params"] if p["name"] == "in_channels")
    assert in_channels["inferable"] is True



def test_layers_json_says_which_file_defines_each_type(capsys):
    code, out, _ = run(capsys, "layers", "--json")
    layers = {layer["type"]: layer for layer in json.loads(out)}
    assert code == 0
    assert layers["nn.Conv2d"]["defined_in"] == "graph_schema/catalog/conv.py"
    assert layers["op.cumsum"]["defined_in"] == "graph_schema/catalog/ops_mask.py"
    for layer in layers.values():  # every type names a catalog file that exists
        source = REPO_ROOT / layer["defined_in"]
        assert source.is_file() and source.parent.name == "catalog", layer

def test_python_dash_m_builder_is_the_same_command():
    result = subprocess.run([sys.executable, "-m", "builder", "validate",
                             str(ROOT / "examples/mlp.json")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
