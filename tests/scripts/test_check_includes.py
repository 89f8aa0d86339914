#!/usr/bin/env python3
"""scripts/check_includes.py is a checker, so it is fed the defects it exists to catch: a tree
with an upward include (runtime -> layers), a sideways one (data -> optim), a relative path out
of the folder, one without the dlfs/ prefix, and the same tree without them, which must pass."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "..", "..", "scripts", "check_includes.py")


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def run(root):
    result = subprocess.run([sys.executable, CHECKER, root], capture_output=True, text=True)
    return result.returncode, result.stdout


def expect(condition, message):
    if not condition:
        print("FAIL:", message)
        sys.exit(1)


with tempfile.TemporaryDirectory() as root:
    write(root, "runtime/tensor.hpp", '#pragma once\n#include <vector>\n')
    write(root, "kernels/relu.cpp", '#include "dlfs/kernels/relu.hpp"\n#include "dlfs/runtime/tensor.hpp"\n')
    write(root, "layers/relu.cpp", '#include "dlfs/kernels/relu.hpp"\n')
    write(root, "apps/main.cpp", '#include "dlfs/train/trainer.hpp"\n#include "dlfs/layers/relu.hpp"\n')
    code, out = run(root)
    expect(code == 0, "a clean tree was rejected:\n" + out)

    write(root, "runtime/storage.cpp", '#include "dlfs/runtime/tensor.hpp"\n\n#include "dlfs/layers/layer.hpp"\n')
    write(root, "data/dataset.hpp", '#pragma once\n#include "dlfs/optim/optimizer.hpp"\n')
    write(root, "kernels/cpu/gemm.cpp", '#include "../apps/options.hpp"\n')
    write(root, "models/graph.cpp", '#include "layers/layer.hpp"\n')
    code, out = run(root)
    expect(code == 1, "violations passed (exit %d):\n%s" % (code, out))
    expect("runtime/storage.cpp:3 includes dlfs/layers/layer.hpp: runtime may include only" in out,
           "the upward include runtime -> layers was not named:\n" + out)
    expect("data/dataset.hpp:2 includes dlfs/optim/optimizer.hpp" in out,
           "the sideways include data -> optim was not named:\n" + out)
    expect("kernels/cpu/gemm.cpp:1 includes ../apps/options.hpp" in out,
           "the relative include was not named:\n" + out)
    expect('models/graph.cpp:1 includes layers/layer.hpp: includes must be "dlfs/<folder>/<file>"'
           in out, "the include without the dlfs/ prefix was not named:\n" + out)
    expect("4 include(s) break the dependency rule" in out, "wrong count:\n" + out)

print("check_includes.py catches upward, sideways and relative includes and passes a clean tree")
