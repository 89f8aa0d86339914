#!/usr/bin/env python3
"""Counts what a ctest run ran and skipped, with each skip's reason.

    python3 scripts/test_summary.py BUILD_DIR [--require-run PATTERN] [--max-skipped N]

Reads BUILD_DIR/Testing/Temporary/LastTest.log (written by ctest). Prints
"N run, M skipped" and one line per skipped test with the reason GoogleTest gave. With
--require-run, fails (exit 1) unless at least one test whose name contains PATTERN ran;
with --max-skipped, fails when more tests than that skipped.
"""
import argparse
import pathlib
import re
import sys


def parse(log_text):
    """Yields (name, skipped, reason) for each test in a LastTest.log."""
    for block in re.split(r"\n-{50,}\n\n", log_text):
        name = re.search(r"^\d+/\d+ Test: (\S+)", block, re.M)
        if not name:
            continue
        skipped = "[  SKIPPED ]" in block
        reason = ""
        if skipped:
            m = re.search(r": Skipped\n(.*?)\n\[  SKIPPED \]", block, re.S)
            reason = " ".join(m.group(1).split()) if m else "(no reason given)"
        yield name.group(1), skipped, reason


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--require-run", action="append", default=[])
    parser.add_argument("--max-skipped", type=int)
    args = parser.parse_args()
    log = pathlib.Path(args.build_dir) / "Testing" / "Temporary" / "LastTest.log"
    if not log.is_file():
        sys.exit(f"test_summary.py: {log} does not exist; run ctest in {args.build_dir} first")
    tests = list(parse(log.read_text(errors="replace")))
    ran = [name for name, skipped, _ in tests if not skipped]
    skips = [(name, reason) for name, skipped, reason in tests if skipped]
    print(f"{len(ran)} run, {len(skips)} skipped ({args.build_dir})")
    for name, reason in skips:
        print(f"  skipped {name}: {reason}")
    status = 0
    for pattern in args.require_run:
        count = sum(pattern in name for name in ran)
        print(f"  {count} run matching '{pattern}'")
        if count == 0:
            print(f"test_summary.py: no test matching '{pattern}' ran", file=sys.stderr)
            status = 1
    if args.max_skipped is not None and len(skips) > args.max_skipped:
        print(f"test_summary.py: {len(skips)} tests skipped, more than {args.max_skipped}",
              file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
