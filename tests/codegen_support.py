"""Run generated code for real: write it, lint it, import it, build it, and check every shape.

Shared by the code generation tests. The generated module is imported from a file (never
``exec`` of a string) so tracebacks point at real lines, and every submodule that stands for a
node gets a forward hook comparing what torch produced with what inference promised.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import math
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

from codegen import generate_source
from codegen.generate import module_paths
from graph_schema.blocks import infer_block
from graph_schema.catalog import get_spec
from graph_schema.catalog.functional import SizesOrNames
from graph_schema.container_checks import holds_module
from graph_schema.dims import Sym
from graph_schema.document import Block, Network, Project
from graph_schema.inference import Inference
from graph_schema.summary import summarize
from tests.torch_eval import flatten_outputs

RUFF = Path(sys.executable).with_name("ruff")

# Sizes for symbolic dimensions at run time: small, and distinct where layers could confuse
# them (a sequence length equal to the batch would hide a swapped layout).
SIZES = {"N": 2, "B": 2, "batch": 2, "batch_size": 2, "L": 5, "S": 5, "T": 5,
         "H": 8, "W": 8, "D": 6, "C": 3, "E": 4}
DEFAULT_SIZE = 3

_counter = itertools.count()


# -- the source as text ----------------------------------------------------------------------
def imported_modules(source: str) -> set[str]:
    """Top-level names of every module the source imports."""
    found = set()
    for item in ast.walk(ast.parse(source)):
        if isinstance(item, ast.Import):
            found |= {alias.name.split(".")[0] for alias in item.names}
        elif isinstance(item, ast.ImportFrom):
            found.add((item.module or "").split(".")[0])
    return found


def assert_imports_only_torch(source: str) -> None:
    foreign = {m for m in imported_modules(source)
               if m != "torch" and m not in sys.stdlib_module_names}
    assert not foreign, f"generated code imports {sorted(foreign)}"


def ruff_problems(path: Path) -> str:
    """What ``ruff check`` and ``ruff format --check`` say, with ruff's defaults (empty: clean),
    about the code TorchCanvas wrote: a class kept as source is someone else's code, verbatim
    between ``# fmt: off`` and ``# fmt: on``, and not held to it."""
    kept = _kept_lines(path.read_text(encoding="utf-8"))
    out = []
    check = subprocess.run([str(RUFF), "check", "--isolated", "--no-cache", "--quiet",
                            "--output-format", "concise", str(path)],
                           capture_output=True, text=True, timeout=60)
    found = [line for line in check.stdout.splitlines()
             if _line_number(line, path) not in kept]
    if found or check.stderr:
        out.append("ruff check:\n" + "\n".join(found) + check.stderr)
    result = subprocess.run([str(RUFF), "format", "--isolated", "--no-cache", "--check",
                             "--diff", str(path)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        out.append(f"ruff format:\n{result.stdout}{result.stderr}")
    return "\n".join(out)


def _kept_lines(source: str) -> set[int]:
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == "# fmt: off":
            inside = True
        elif line.strip() == "# fmt: on":
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _line_number(line: str, path: Path) -> int | None:
    """The line a concise ruff diagnostic (``path:line:col: CODE message``) is on."""
    rest = line.removeprefix(f"{path}:")
    number = rest.split(":", 1)[0]
    return int(number) if number.isdigit() and rest != line else None


def write_module(source: str, directory: Path, stem: str = "generated") -> Path:
    path = directory / f"{stem}_{next(_counter)}.py"
    path.write_text(source, encoding="utf-8")
    return path


def import_path(path: Path):
    """Import a generated file as a fresh module (never cached between tests)."""
    name = f"torchcanvas_generated_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def class_names(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]


def generate_and_import(project: Project, directory: Path, lint: bool = True, **kw):
    """(source, module, path) for the project; checks imports and, if asked, ruff."""
    source = generate_source(project, **kw)
    assert_imports_only_torch(source)
    path = write_module(source, directory)
    if lint:
        problems = ruff_problems(path)
        assert not problems, problems + "\n" + source
    return source, import_path(path), path


def network_classes(project: Project, source: str, module, network: str | None = None):
    """{network name: generated class}; the network classes come last, in project order."""
    networks = [project.network(network)] if network else project.networks
    names = class_names(source)[-len(networks):]
    return {net.name: getattr(module, name) for net, name in zip(networks, names)}


# -- sizes -------------------------------------------------------------------------------------
def size_of(name: str, sizes: dict[str, int] | None = None) -> int:
    return {**SIZES, **(sizes or {})}.get(name, DEFAULT_SIZE)


def concrete_params(type_name: str, params: dict, sizes: dict[str, int] | None = None) -> dict:
    """``params`` with numbers where they name dimensions: a reshape to ["N", -1] becomes
    [2, -1], an expand_to ["N", -1] becomes [2, -1] (the same shapes at those sizes)."""
    spec = get_spec(type_name)
    if spec is None:  # a block placement: its params are its arguments
        return params
    named = {p.name for p in spec.params if p.kind == "shape" or isinstance(p, SizesOrNames)}
    return {key: [size_of(d, sizes) if isinstance(d, str) else d for d in value]
            if key in named and isinstance(value, list) else value
            for key, value in params.items()}


def concrete_project(project: Project, sizes: dict[str, int] | None = None) -> Project:
    """A copy with numbers where the original has names (N -> 2): in its inputs' shapes and
    in every parameter that names dimensions."""
    copy = project.model_copy(deep=True)
    for graph in [*copy.networks, *copy.blocks]:
        for node in graph.nodes:
            params = concrete_params(node.type, node.params, sizes)
            if params != node.params:
                node.params = params
    return copy


def as_ints(shape) -> tuple[int, ...]:
    assert all(isinstance(d, int) for d in shape), f"symbolic size left in {shape}"
    return tuple(shape)


def agrees(symbolic, concrete, sizes) -> bool:
    """A symbolic shape, with the run-time sizes put in, equals the concrete one (opaque
    atoms such as ``(L - 1)//2`` cannot be evaluated and are taken on trust)."""
    if len(symbolic) != len(concrete):
        return False
    for sym, value in zip(symbolic, concrete):
        if isinstance(sym, Sym):
            sym = sym.substitute({**SIZES, **(sizes or {})})
            if isinstance(sym, Sym):
                continue
        if sym != value:
            return False
    return True


# -- inputs ------------------------------------------------------------------------------------
# Per-sample input elements above which a network counts as ImageNet-sized (3x224x224 is 150,528).
HEAVY_INPUT = 100_000


def is_heavy(network: Network) -> bool:
    """An ImageNet-sized network of the gallery: the tests that train or round-trip every
    example leave it to its small-input variant (the same blocks at 32x32), because one
    backward of VGG-16 at 224x224 costs more than a whole test file should."""
    sizes = []
    for node in network.inputs():
        dims = [d for d in (node.params.get("shape") or [])[1:] if isinstance(d, int)]
        sizes.append(math.prod(dims) if dims else 0)
    return any(size > HEAVY_INPUT for size in sizes)


def make_inputs(project: Project, network: Network, inference: Inference,
                generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """One random tensor per io.Input, in forward()'s argument order; integer inputs hold
    indices every Embedding fed by them accepts."""
    tensors = []
    for node in network.inputs():
        shape = as_ints(inference.output_shape(node.id))
        dtype = getattr(torch, node.params.get("dtype", "float32"))
        if dtype.is_floating_point:
            tensors.append(torch.randn(shape, dtype=dtype, generator=generator))
        elif dtype == torch.bool:
            tensors.append(torch.randint(0, 2, shape, generator=generator).bool())
        else:
            limits = [inference.states[t].params.get("num_embeddings")
                      for t in inference.outgoing[node.id]]
            high = min([v for v in limits if isinstance(v, int)] or [2])
            tensors.append(torch.randint(0, high, shape, dtype=dtype, generator=generator))
    return tensors


# -- the run -----------------------------------------------------------------------------------
class ShapeRecorder:
    """Forward hooks on every node's submodule, nested blocks included."""

    def __init__(self):
        # Per submodule, the output shapes of each call in forward's order: a module that
        # other nodes reuse (a shared embedding) is called once for each of them.
        self.expected: dict[str, list[list[tuple[int, ...]]]] = {}
        self.seen: dict[str, list[list[tuple[int, ...] | None]]] = {}
        self.handles = []
        self._paths: dict[str, dict[str, str]] | None = None
        self._top: tuple[Project, str] | None = None  # the project and network attached

    def module_path(self, module: nn.Module, inference: Inference, node) -> str | None:
        """Where the node's module is inside ``module``: its attribute, or where code
        generation put it (``layers.0`` in a module list, ``0`` in a sequential); for a node
        that calls another node's module again (``reuses``), that node's. None only for a
        tensor op written inline in forward. A layer or block whose module cannot be found
        fails the check, instead of going unchecked."""
        if not holds_module(node):
            return None
        if node.reuses:
            node = inference.nodes[node.reuses]
        if node.name in module._modules:
            return node.name
        if self._paths is None:
            self._paths = module_paths(*self._top)
        graph = inference.network
        key = f"block:{graph.name}" if isinstance(graph, Block) else graph.name
        path = self._paths.get(key, {}).get(node.id)
        assert path is not None, \
            f"node {node.name!r} ({node.type}) has no module in the generated class"
        return path

    def attach(self, project: Project, module: nn.Module, inference: Inference,
               prefix: str = "") -> None:
        self._top = self._top or (project, inference.network.name)
        for node_id in inference.order:
            node = inference.nodes[node_id]
            path = self.module_path(module, inference, node)
            if path is None:
                continue
            sub = module.get_submodule(path)
            if not node.called:
                continue  # built, in the state_dict, and never run: no shapes to compare
            state = inference.states[node_id]
            key = prefix + path
            if key not in self.expected:
                self.expected[key] = []
                self.handles.append(sub.register_forward_hook(self._hook(key)))
            self.expected[key].append([as_ints(s) for s in state.outputs])
            if node.type.startswith("block:"):
                block = project.block(node.type[len("block:"):])
                inner = infer_block(project, block, state.inputs,
                                    {**block.arguments, **state.params})
                self.attach(project, sub, inner, key + ".")

    def _hook(self, key: str):
        def hook(_module, _args, output):
            shapes = [None if t is None else tuple(t.shape) for t in flatten_outputs(output)]
            while shapes and shapes[-1] is None:
                shapes.pop()
            self.seen.setdefault(key, []).append(shapes)
        return hook

    def check(self) -> None:
        missing = sorted(set(self.expected) - set(self.seen))
        assert not missing, f"never called: {missing}"
        calls = {k: (len(self.seen[k]), len(v)) for k, v in self.expected.items()
                 if len(self.seen[k]) != len(v)}
        assert not calls, "; ".join(f"{k} ran {got} times, inferred {want} calls"
                                    for k, (got, want) in calls.items())
        wrong = {k: (self.seen[k], v) for k, v in self.expected.items() if self.seen[k] != v}
        assert not wrong, "torch vs inference: " + "; ".join(
            f"{k}: torch {got}, inferred {want}" for k, (got, want) in wrong.items())

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def check_model(project: Project, network: Network, model_class, sizes=None,
                kwargs=None, train: bool = False, generator=None):
    """Build the generated class, run it on the declared inputs and check every shape and
    the parameter count against inference; returns (model, outputs)."""
    concrete = concrete_project(project, sizes)
    concrete_net = concrete.network(network.name)
    inference = Inference(concrete_net, concrete)
    symbolic = Inference(network, project)
    for node_id, state in symbolic.states.items():
        if state.outputs is not None:
            concrete_outputs = inference.states[node_id].outputs
            assert len(state.outputs) == len(concrete_outputs) and all(
                agrees(s, c, sizes) for s, c in zip(state.outputs, concrete_outputs)), (
                f"{node_id}: {state.outputs} vs {concrete_outputs}")
    model = model_class(**(kwargs or {}))
    assert sum(p.numel() for p in model.parameters()) == \
        summarize(project, network).total_params
    recorder = ShapeRecorder()
    recorder.attach(concrete, model, inference)
    inputs = make_inputs(concrete, concrete_net, inference, generator)
    model.train(train)
    try:
        with torch.no_grad():
            result = model(*inputs)
    finally:
        recorder.remove()
    recorder.check()
    outputs = concrete_net.outputs()
    results = [result] if len(outputs) == 1 else list(result)
    assert len(results) == len(outputs)
    for node, tensor in zip(outputs, results):
        expected = as_ints(inference.input_shapes_of(node.id)[0])
        assert isinstance(tensor, torch.Tensor), f"output {node.name}: {type(tensor)}"
        assert tuple(tensor.shape) == expected, f"output {node.name}: {tuple(tensor.shape)} " \
                                                f"vs {expected}"
    return model, results


def check_project(project: Project, directory: Path, sizes=None, lint: bool = True):
    """Generate, lint, import, and check every network of the project; returns the source."""
    source, module, _ = generate_and_import(project, directory, lint=lint)
    for net in project.networks:
        cls = network_classes(project, source, module)[net.name]
        check_model(project, net, cls, sizes)
    return source
