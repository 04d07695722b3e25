"""`torchcanvas` on the command line: validate, summarize and list layers.

Exit codes: 0 success (warnings allowed), 1 the project has errors, 2 the input could not be
used at all (unreadable file, not a project, bad arguments). Never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from builder.compare_command import add_compare_parser
from builder.import_command import add_import_arguments, cmd_import
from builder.outputs import add_force_argument, output_problem
from builder.panel_commands import add_panel_parsers
from builder.probe_commands import add_probe_parsers
from builder.render_command import add_render_parser
from builder.train_command import add_train_parser
from builder.trust_command import add_trust_parser
from graph_schema import ProjectError, load_project, validate
from graph_schema.catalog import FAMILIES, all_specs
from graph_schema.catalog.registry import defined_in
from graph_schema.diagnostics import Diagnostic
from graph_schema.files import atomic_write_text
from graph_schema.summary import render_table, summarize
from graph_schema.trust import TrustError, untrusted_blocks

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """Arguments that name something the file does not have."""


def _print_diagnostics(path: str, diagnostics: list[Diagnostic], stream) -> None:
    for diagnostic in sorted(diagnostics, key=lambda d: (not d.is_error,)):
        print(diagnostic.format(path), file=stream)


def cmd_validate(args) -> int:
    try:
        project = load_project(args.file)
    except ProjectError as err:
        if args.json:  # a reader of --json gets JSON, whatever happened
            json.dump({"file": args.file, "valid": False, "usable": False,
                       "error": err.reason}, sys.stdout, indent=2)
            print()
        raise
    diagnostics = validate(project)
    errors = [d for d in diagnostics if d.is_error]
    if args.json:
        json.dump({"file": args.file, "valid": not errors, "usable": True,
                   "errors": len(errors), "warnings": len(diagnostics) - len(errors),
                   "diagnostics": [d.to_json() for d in diagnostics]}, sys.stdout, indent=2)
        print()
    else:
        _print_diagnostics(args.file, diagnostics, sys.stdout)
        warnings = len(diagnostics) - len(errors)
        verdict = "invalid" if errors else "valid"
        print(f"{args.file}: {verdict} ({len(errors)} error{'s' * (len(errors) != 1)}, "
              f"{warnings} warning{'s' * (warnings != 1)})")
    return EXIT_INVALID if errors else EXIT_OK


def cmd_summary(args) -> int:
    project = load_project(args.file)
    networks = _chosen_networks(project, args.network)
    for index, network in enumerate(networks):
        if index:
            print()
        print(render_table(summarize(project, network)))
    errors = [d for d in validate(project) if d.is_error]
    if errors:
        print(f"\n{len(errors)} error(s); the summary is incomplete:", file=sys.stderr)
        _print_diagnostics(args.file, errors, sys.stderr)
    return EXIT_INVALID if errors else EXIT_OK


def _chosen_networks(project, name):
    if name is None:
        return list(project.networks)
    names = [n.name for n in project.networks]
    if name not in names:
        raise UsageError(f"no network named {name!r}; the project has {', '.join(names)}")
    return [project.network(name)]


def _layer_json(spec) -> dict:
    return {
        "type": spec.type,
        "family": spec.family,
        "description": spec.description,
        "torch_class": spec.torch_class,
        "defined_in": defined_in(spec.type),
        "inputs": [{"name": p.name, "optional": p.optional, "variadic": p.variadic}
                   for p in spec.inputs],
        "outputs": list(spec.outputs),
        "params": [{"name": p.name, "kind": p.kind, "default": p.default,
                    "required": p.required, "optional": p.optional,
                    "inferable": p.inferable, "choices": list(p.choices),
                    "minimum": p.minimum, "maximum": p.maximum} for p in spec.params],
    }


def cmd_layers(args) -> int:
    specs = all_specs()
    if args.json:
        json.dump([_layer_json(s) for s in specs], sys.stdout, indent=2)
        print()
        return EXIT_OK
    for family, label in FAMILIES.items():
        members = [s for s in specs if s.family == family]
        if not members:
            continue
        print(f"{label} ({len(members)})")
        for spec in members:
            params = ", ".join(_param_text(p) for p in spec.params)
            print(f"  {spec.type:<28} {params}")
    print(f"{len(specs)} layer types")
    return EXIT_OK


def _param_text(param) -> str:
    if param.inferable:
        return f"{param.name}=<inferred>"
    if param.required:
        return f"{param.name}=<required>"
    return f"{param.name}={param.default!r}"


def cmd_generate(args) -> int:
    from codegen import GenerationError, generate_source
    from codegen.train_script import generate_train_script

    if args.train_script and not args.output:
        raise UsageError("--train-script needs -o OUT.py: the script imports the model from it")
    if args.train_script and Path(args.train_script).resolve() == Path(args.output).resolve():
        raise UsageError("--train-script and -o name the same file")
    for output in filter(None, (args.output, args.train_script)):
        _check_output(output, args.file, args.force)
    project = load_project(args.file)
    try:
        source = generate_source(project, network=args.network, class_name=args.class_name,
                                 trust_kept_source=args.trust_kept_source)
        script = None
        if args.train_script:
            module = Path(args.output).stem
            script = generate_train_script(project, module, args.network, args.class_name)
    except GenerationError as err:
        if not err.diagnostics:
            raise UsageError(str(err)) from None
        print(f"{args.file}: cannot generate code: {err}", file=sys.stderr)
        _print_diagnostics(args.file, err.diagnostics, sys.stderr)
        return EXIT_INVALID
    _say_trusted(args, project)
    if args.output is None:
        sys.stdout.write(source)
        return EXIT_OK
    _write(args.output, source)
    print(f"wrote {args.output}", file=sys.stderr)
    if script is not None:
        _write(args.train_script, script)
        print(f"wrote {args.train_script}", file=sys.stderr)
    return EXIT_OK


def _check_output(output: str, input_file: str, force: bool) -> None:
    problem = output_problem(output, [input_file], force)
    if problem:
        raise UsageError(problem)


def _say_trusted(args, project) -> None:
    """--trust-kept-source let unsigned source through: say so, naming it."""
    if not args.trust_kept_source:
        return
    untrusted = [b.name for b in untrusted_blocks(project)]
    if untrusted:
        print(f"torchcanvas: {args.file}: --trust-kept-source: emitting the kept source of "
              f"{len(untrusted)} untrusted block(s) unsigned: {', '.join(untrusted)}",
              file=sys.stderr)


def _write(path: str, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None


def cmd_app(args) -> int:
    from builder.demo import why_headless

    reason = why_headless()
    if reason is not None:
        raise UsageError(f"cannot open the desktop app: {reason}")
    from builder.gui.app import run_app

    return run_app([args.file] if args.file else [])


def cmd_demo(args) -> int:
    from builder.demo import run_demo

    return run_demo(args.file)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torchcanvas",
        description="Draw PyTorch networks, see every tensor shape, get the code.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a project: shapes, connections, names")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="machine-readable diagnostics")
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("summary", help="layer table with output shapes, parameters and MACs")
    p.add_argument("file")
    p.add_argument("--network", help="only this network of the project")
    p.set_defaults(run=cmd_summary)

    p = sub.add_parser("layers", help="list the layer catalog")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_layers)

    p = sub.add_parser("generate", help="write the network as a standalone PyTorch module")
    p.add_argument("file")
    p.add_argument("-o", "--output", metavar="OUT.py", help="write here instead of stdout")
    p.add_argument("--network", help="only this network (default: all, one class each)")
    p.add_argument("--class-name", help="name of the generated class (one network only)")
    p.add_argument("--train-script", metavar="TRAIN.py",
                   help="also write a plain PyTorch training script for the model")
    add_force_argument(p, "OUT.py / TRAIN.py")
    p.add_argument("--trust-kept-source", action="store_true",
                   help="emit kept source that this machine has not signed (review it first; "
                        "`torchcanvas trust FILE` signs it for good)")
    p.set_defaults(run=cmd_generate)

    p = sub.add_parser("app", help="open the desktop app (on a project, if one is given)")
    p.add_argument("file", nargs="?")
    p.set_defaults(run=cmd_app)

    p = sub.add_parser("import", help="import a PyTorch model as an editable diagram")
    add_import_arguments(p)
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("demo", help="open the app on a project, or show a headless demo")
    p.add_argument("file")
    p.set_defaults(run=cmd_demo)

    add_render_parser(sub)
    add_trust_parser(sub)
    add_train_parser(sub)
    add_compare_parser(sub)
    add_probe_parsers(sub)
    add_panel_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 and a usage line on bad arguments
    args.argv = list(sys.argv[1:] if argv is None else argv)  # torchrun workers get these again
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except ProjectError as err:
        print(f"torchcanvas: {err}", file=sys.stderr)
        return EXIT_UNUSABLE
    except (UsageError, TrustError) as err:
        print(f"torchcanvas: {err}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`); nothing more to say.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
