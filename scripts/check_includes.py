#!/usr/bin/env python3
"""The dependency rule of docs/architecture.md, checked on every #include "..." of the libraries.

Each folder of the house is a library that may include only its own headers and those of the
folders below it:

    emulation  <- runtime <- kernels <- layers <- models <- train <- apps <- python
                  runtime <- data;   kernels <- optim;   runtime <- comm;   data, optim, comm <- train

(emulation stands in for the CUDA toolkit in the emulated build, so runtime and kernels may name
it.) Headers are named from the include root, "dlfs/<folder>/<file>.hpp", as after installation.
A wrong-way include would still compile, since every library sees the whole include root; this
check is what fails it. ctest runs it (test "dependency_rule"), and so does CI.

usage: check_includes.py [ROOT]      ROOT defaults to the repository holding this script.
Prints one line per violation and exits 1 when there is any.
"""
import os
import re
import sys

# folder -> the folders its files may include (its own included).
ALLOWED = {
    "emulation": {"emulation"},
    "runtime": {"runtime", "emulation"},
    "kernels": {"kernels", "runtime", "emulation"},
    "layers": {"layers", "kernels", "runtime"},
    "data": {"data", "runtime"},
    "optim": {"optim", "kernels", "runtime"},
    "models": {"models", "layers", "kernels", "runtime"},
    "comm": {"comm", "runtime"},
    "train": {"train", "models", "layers", "kernels", "runtime", "data", "optim", "comm"},
    "apps": {"apps", "train", "models", "layers", "kernels", "runtime", "data", "optim", "comm"},
    # The Python module's sources (python/src) wrap everything, the commands included.
    "python": {"python", "apps", "train", "models", "layers", "kernels", "runtime", "data", "optim",
               "comm"},
}
SOURCE_SUFFIXES = (".hpp", ".cpp", ".h", ".cu", ".cuh")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def violations(root):
    found = []
    for folder, allowed in sorted(ALLOWED.items()):
        top = os.path.join(root, folder)
        for directory, _, files in sorted(os.walk(top)):
            for name in sorted(files):
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(directory, name)
                relative = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as source:
                    for number, line in enumerate(source, 1):
                        match = INCLUDE.match(line)
                        if not match:
                            continue
                        included = match.group(1)
                        parts = included.split("/")
                        first = parts[1] if len(parts) > 2 and parts[0] == "dlfs" else ""
                        if ".." in parts or len(parts) < 3 or parts[0] != "dlfs":
                            why = 'includes must be "dlfs/<folder>/<file>"'
                        elif first not in allowed:
                            why = "%s may include only %s" % (folder, ", ".join(sorted(allowed)))
                        else:
                            continue
                        found.append("%s:%d includes %s: %s" % (relative, number, included, why))
    return found


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isdir(os.path.join(root, "runtime")):
        print("check_includes.py: %s has no runtime/ folder; give the repository root" % root)
        return 2
    found = violations(root)
    for line in found:
        print(line)
    if found:
        print("%d include(s) break the dependency rule (docs/architecture.md)" % len(found))
        return 1
    print("dependency rule holds: no library includes a folder above it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
