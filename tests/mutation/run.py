"""`make mutate`: plant each bug of mutants.py in a copy of the checkout, run the tests, and
report which bugs the suite caught (killed) and which it let through (survived).

Each mutant first runs against the test files most likely to catch it (its ``tests``), which
is quick; one that survives there runs again against the whole suite, so "survived" always
means that no test at all noticed. The checkout itself is never touched: every mutant gets a
fresh copy of the tracked and untracked (not ignored) files in a temporary folder.

    python -m tests.mutation.run [--only ID ...] [--list] [--full | --quick] [--timeout S]

``--quick`` stops after the first round: a survivor there escaped only its own test files.

Exit code: 0 when every mutant was killed, 1 when one survived, 2 when a mutant no longer
matches the code it plants a bug in (the code changed: update mutants.py).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.mutation.mutants import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parents[2]
FAILED_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)


@dataclass
class Outcome:
    mutant: Mutant
    verdict: str  # "killed", "survived" or "stale"
    caught_by: str = ""
    seconds: float = 0.0


def checkout_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_checkout(files: list[str], into: Path) -> None:
    for name in files:
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def plant(mutant: Mutant, root: Path) -> bool:
    """Apply the bug; False when the code it replaces is not there exactly once."""
    path = root / mutant.file
    text = path.read_text(encoding="utf-8")
    if text.count(mutant.old) != 1:
        return False
    path.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
    return True


def run_tests(root: Path, tests: list[str], timeout: float) -> tuple[bool, str]:
    """(whether a test failed, the first test that did)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return True, f"(timed out after {timeout:g} s)"
    if done.returncode == 0:
        return False, ""
    if done.returncode in (4, 5):  # a usage error or no tests: the selection is wrong
        raise SystemExit(f"make mutate: pytest could not run {' '.join(tests)}:\n"
                         f"{done.stdout[-1000:]}{done.stderr[-1000:]}")
    match = FAILED_LINE.search(done.stdout)
    return True, match.group(2) if match else f"(pytest exit {done.returncode})"


def try_mutant(mutant: Mutant, files: list[str], rounds: str, timeout: float) -> Outcome:
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="torchcanvas-mutant-") as folder:
        root = Path(folder)
        copy_checkout(files, root)
        if not plant(mutant, root):
            return Outcome(mutant, "stale")
        selections = {"full": [["tests"]], "quick": [list(mutant.tests)],
                      "both": [list(mutant.tests), ["tests"]]}[rounds]
        for tests in selections:
            caught, by = run_tests(root, tests, timeout)
            if caught:
                return Outcome(mutant, "killed", by, time.monotonic() - start)
    return Outcome(mutant, "survived", "", time.monotonic() - start)


def report(outcome: Outcome) -> str:
    mark = {"killed": "killed  ", "survived": "SURVIVED", "stale": "STALE   "}[outcome.verdict]
    tail = f" by {outcome.caught_by}" if outcome.caught_by else ""
    return f"{mark} {outcome.mutant.id:<28} {outcome.seconds:6.1f} s  " \
           f"{outcome.mutant.description}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="just these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--full", action="store_true",
                        help="run the whole suite for every mutant (slow)")
    parser.add_argument("--quick", action="store_true",
                        help="run only each mutant's own test files (fast; a survivor may "
                             "still be caught elsewhere)")
    parser.add_argument("--timeout", type=float, default=1800, metavar="SECONDS",
                        help="per test run (default 1800)")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or m.id in args.only]
    if args.list or not chosen:
        for mutant in chosen or MUTANTS:
            print(f"{mutant.id:<28} {mutant.file}: {mutant.description}")
        return 0 if chosen else 2
    files = checkout_files()
    outcomes = []
    for mutant in chosen:
        rounds = "full" if args.full else "quick" if args.quick else "both"
        outcomes.append(try_mutant(mutant, files, rounds, args.timeout))
        print(report(outcomes[-1]), flush=True)
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("killed", "survived", "stale")}
    print(f"{counts['killed']} killed, {counts['survived']} survived, {counts['stale']} stale "
          f"of {len(outcomes)} mutants")
    return 2 if counts["stale"] else 1 if counts["survived"] else 0


if __name__ == "__main__":
    sys.exit(main())
