"""Real init-check statistics for GUI tests, from a child process: the GUI never imports torch.

The child generates the code of an example's network, builds the model, spoils the init of
the layers of one type (their weights times ``scale``, their biases zeroed) and prints what
builder.training.init_check.activation_report says, in the runner's ``init_check`` event
form: ``{"event": "init_check", "layers": [LAYER, ...]}``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from graph_schema import load_project
from tests.gui.windows import ROOT

CHILD = r"""
import json, math, sys
import torch
from builder.training.init_check import activation_report
from codegen import generate_source
from codegen.generate import module_paths
from graph_schema import load_project

path, network, spoiled, scale = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
project = load_project(path)
graph = project.network(network)
namespace = {}
exec(compile(generate_source(project, network=network, class_name="Checked"), "<generated>",
             "exec"), namespace)
torch.manual_seed(0)
model = namespace["Checked"]()
with torch.no_grad():
    for module in model.modules():
        if type(module).__name__ == spoiled:
            module.weight.mul_(scale)
            if module.bias is not None:
                module.bias.zero_()
node_names = {node.id: node.name for node in graph.nodes}
names = {p: node_names[i] for i, p in module_paths(project, network)[network].items()}
(image,) = [n for n in graph.nodes if n.type == "io.Input"]
shape = [16 if isinstance(d, str) else d for d in image.params["shape"]]
x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
finite = lambda v: v if math.isfinite(v) else None
layers = [{"name": s.name, "type": s.type, "shape": list(s.shape), "mean": finite(s.mean),
           "std": finite(s.std), "near_zero": s.near_zero, "vanishing": s.vanishing,
           "exploding": s.exploding, "reason": s.reason}
          for s in activation_report(model, x, names)]
print(json.dumps({"event": "init_check", "layers": layers}))
"""


def init_check_event(example: str, spoiled: str, scale: float) -> dict:
    """The init_check event for ``examples/<example>``'s first network with every
    ``spoiled`` module (a class name: "Linear") given weights ``scale`` times its own."""
    project = ROOT / "examples" / example
    network = load_project(project).networks[0].name
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(project), network, spoiled, repr(scale)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])
