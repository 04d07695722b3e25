"""`torchcanvas trust FILE [--yes]`: review a project's kept source, then sign it.

Kept source (a class import could not draw) becomes code when the project is generated, so
a project from someone else must not bring it in unseen (graph_schema/trust.py). This
command prints every untrusted kept source in full, control characters and bidirectional
overrides made visible (they can make code read differently from what runs), asks, and signs
them with this machine's key in FILE itself: the one command that rewrites its input, which
is what it is for. The write is atomic; nothing is run.

Exit codes: 0 signed (or nothing to sign); 1 declined, or a source that may not be trusted
(its imports are outside the allow-list); 2 the file or the arguments cannot be used.
"""

from __future__ import annotations

import sys
import unicodedata

from graph_schema import load_project, save_project
from graph_schema.diagnostics import one_line
from graph_schema.document import Block
from graph_schema.trust import TrustError, disallowed_imports, trust_blocks, untrusted_blocks

EXIT_OK, EXIT_DECLINED, EXIT_UNUSABLE = 0, 1, 2


def add_trust_parser(sub) -> None:
    p = sub.add_parser("trust", help="review a project's kept source and sign it as trusted")
    p.add_argument("file")
    p.add_argument("--yes", action="store_true",
                   help="sign without asking (after reviewing what it prints)")
    p.set_defaults(run=cmd_trust)


def visible(text: str) -> str:
    """``text`` with every character that can hide or reorder code shown as an escape:
    control characters (except newline and tab) and Unicode format characters such as the
    bidirectional overrides of 'Trojan Source'. One-line fields use ``one_line``, which
    escapes newlines too, so a name cannot forge lines of the review."""
    return "".join(char if char in "\n\t" or (char.isprintable()
                                              and unicodedata.category(char) != "Cf")
                   else f"\\u{{{ord(char):04x}}}" for char in text)


def describe(block: Block) -> list[str]:
    """What the reviewer must see of one kept-source block, line by line."""
    opaque = block.opaque
    lines = [f"== block '{one_line(block.name)}': class {one_line(opaque.class_name)}"
             + (f" from {one_line(opaque.origin)}" if opaque.origin.strip() else "")]
    if opaque.reason.strip():
        lines.append(f"   kept because {one_line(' '.join(opaque.reason.split()))}")
    for item in opaque.imports:
        what = f"from {item.module} import {item.attribute}" if item.attribute else \
            f"import {item.module}"
        alias = item.attribute or item.module
        lines.append(f"   needs: {what}" + (f" as {item.alias}" if item.alias != alias else ""))
    source = visible(opaque.source.strip("\n")).split("\n")
    width = len(str(len(source)))
    lines += [f"   {number:>{width}} | {line}" for number, line in enumerate(source, 1)]
    return lines


def cmd_trust(args) -> int:
    project = load_project(args.file)
    pending = untrusted_blocks(project)
    if not pending:
        print(f"{args.file}: nothing to trust (no kept source, or all of it signed here)")
        return EXIT_OK
    refused = [b for b in pending if disallowed_imports(b.opaque)]
    if refused:
        for block in refused:
            modules = ", ".join(sorted(set(disallowed_imports(block.opaque))))
            print(f"torchcanvas: {args.file}: block '{one_line(block.name)}' imports "
                  f"{one_line(modules)}, which "
                  f"kept source may never do; nothing was signed", file=sys.stderr)
        return EXIT_DECLINED
    for block in pending:
        print("\n".join(describe(block)))
        print()
    if not _confirmed(args, len(pending)):
        return EXIT_DECLINED if sys.stdin.isatty() else EXIT_UNUSABLE
    try:
        trusted = trust_blocks(project, [b.name for b in pending])
    except TrustError as err:
        print(f"torchcanvas: {err}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        save_project(trusted, args.file)
    except OSError as err:
        print(f"torchcanvas: cannot write {args.file}: {err.strerror or err}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(f"{args.file}: signed the kept source of {len(pending)} block(s) "
          f"({one_line(', '.join(b.name for b in pending))}) with this machine's key")
    return EXIT_OK


def _confirmed(args, count: int) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(f"torchcanvas: {args.file}: not signed: nobody to ask (no terminal); review the "
              f"source above, then run again with --yes", file=sys.stderr)
        return False
    try:
        answer = input(f"Trust these {count} kept source(s)? Generated code will run them. "
                       f"[y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        print(f"{args.file}: nothing was signed")
        return False
    return True
