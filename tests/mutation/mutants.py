"""Bugs to plant, one at a time: each is a small, plausible mistake in a shape rule, a
diagnostic, a lint, the trust and output rules, or the app's undo, that some test must catch.

``old`` must occur exactly once in ``file``; ``tests`` are the files to try first (the runner
falls back to the whole suite before calling a mutant a survivor).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    id: str
    description: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...] = ("tests",)


CATALOG = ("tests/test_catalog_conv_linear.py", "tests/test_catalog_pool_norm.py",
           "tests/test_catalog_coverage.py", "tests/test_catalog_torch_agreement.py",
           "tests/test_catalog_macs.py", "tests/test_catalog_defaults.py")
VALIDATE = ("tests/test_cli.py", "tests/test_inference.py", "tests/test_diagnostics.py",
            "tests/test_diagnostics_shapes.py", "tests/test_diagnostics_blocks.py",
            "tests/test_lints.py")
GUI = ("tests/gui/test_canvas.py", "tests/gui/test_document.py")

MUTANTS = [
    # -- shape rules and parameters (the first planted bugs) ----------------------
    Mutant("transpose-output-padding", "ConvTranspose accepts output_padding == stride",
           "graph_schema/catalog/conv.py", "if op >= max(s, dil):", "if op > max(s, dil):",
           CATALOG),
    Mutant("grouped-conv-macs", "grouped convolution MACs ignore groups",
           "graph_schema/catalog/conv.py",
           'return numel(outputs[0]) * (p["in_channels"] // p["groups"])',
           'return numel(outputs[0]) * p["in_channels"]', CATALOG),
    Mutant("padding-mode-default", "Conv padding_mode defaults to 'reflect'",
           "graph_schema/catalog/conv.py", 'choice_param("padding_mode", "zeros",',
           'choice_param("padding_mode", "reflect",', CATALOG),
    Mutant("in-features-1d", "in_features is not inferred for a 1-D input",
           "graph_schema/catalog/linear.py",
           "        if not shape:\n            return {}\n        return {name: concrete(",
           "        if len(shape) < 2:\n            return {}\n        return {name: concrete(",
           CATALOG + VALIDATE),
    Mutant("pool-half-kernel", "pooling accepts padding larger than half the kernel",
           "graph_schema/catalog/pool.py", "if any(pad > k // 2 for pad, k in",
           "if any(pad > k for pad, k in", CATALOG),
    # -- diagnostics and lints -------------------------------------------------------------
    Mutant("linear-linear-lint", "the Linear-after-Linear lint never fires",
           "graph_schema/lints.py", "if len(upstream) == 1 and upstream[0].type == LINEAR:",
           "if len(upstream) == 1 and upstream[0].type == LINEAR and False:", VALIDATE),
    Mutant("no-lints", "no lint ever fires", "graph_schema/lints.py",
           "return [diagnostic for lint in LINTS for diagnostic in lint(linter)]",
           "return []", VALIDATE),
    Mutant("duplicate-name", "the duplicate-name diagnostic never fires",
           "graph_schema/validate.py", "elif node.name in owners:",
           "elif node.name in owners and False:", VALIDATE),
    Mutant("dead-node", "the dead-node warning never fires", "graph_schema/validate.py",
           "        elif node.id in fed:\n", "        elif node.id in fed and False:\n",
           VALIDATE),
    Mutant("unused-input", "the unused-input warning never fires", "graph_schema/validate.py",
           '        if node.type == "io.Input":\n            found.append(node_diagnostic('
           'network, node, "unused-input"',
           '        if node.type == "io.Input" and False:\n            found.append('
           'node_diagnostic(network, node, "unused-input"', VALIDATE),
    Mutant("unreachable-output", "the unreachable-output error never fires",
           "graph_schema/validate.py",
           "if node.id not in fed and not inference.states[node.id].diagnostics:",
           "if False:", VALIDATE),
    Mutant("edge-dangling", "dangling connections are never reported",
           "graph_schema/validate.py", "    for edge in inference.dangling:",
           "    for edge in inference.dangling[:0]:", VALIDATE),
    Mutant("block-ports", "a block without ports is not reported", "graph_schema/validate.py",
           "if (not block.inputs() or not block.outputs()) and block.opaque is None:",
           "if False:", VALIDATE),
    Mutant("diagnostic-one-line", "a newline in a name breaks the one-line report",
           "graph_schema/diagnostics.py", "        return one_line(text)",
           "        return text", VALIDATE + ("tests/test_outputs.py",)),
    # -- trust and outputs -------------------------------------------------------------------
    Mutant("trust-everything", "every kept source counts as trusted", "graph_schema/trust.py",
           "return hmac.compare_digest(opaque.signature, signature_of(opaque, secret))",
           "return True", ("tests/test_trust.py",)),
    Mutant("import-anything", "kept source may import any module", "graph_schema/trust.py",
           'return module.split(".")[0] in ALLOWED_IMPORTS', "return True",
           ("tests/test_trust.py", "tests/test_import_document.py")),
    Mutant("overwrite-input", "an output may be the input file", "builder/outputs.py",
           "        if _same_file(path, Path(source)):", "        if False:",
           ("tests/test_outputs.py",)),
    Mutant("non-atomic-save", "saving writes the file in place", "graph_schema/files.py",
           "        os.replace(tmp_name, path)",
           "        path.write_bytes(Path(tmp_name).read_bytes())",
           ("tests/test_atomic_kill.py", "tests/test_files.py")),
    # -- the app's undo ----------------------------------------------------------------------
    Mutant("nudges-not-merged", "arrow-key nudges are one undo step each",
           "builder/gui/commands.py", "        return MOVE_COMMAND_ID", "        return -1", GUI),
    Mutant("move-undo-noop", "undoing a move does nothing", "builder/gui/commands.py",
           "    def undo(self) -> None:\n        self.doc.set_positions(self.key, self.old)",
           "    def undo(self) -> None:\n        pass", GUI),
]
