"""The package as `pip install .` installs it (scripts/quickstart.sh test runs this file from /
with DLFS_TEST_INSTALLED=1); skipped in the build-tree suite, which tests the same code."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("DLFS_TEST_INSTALLED") != "1",
                                reason="checks the pip-installed package (quickstart.sh test)")

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_imports_the_installed_copy():
    import dlfs
    location = pathlib.Path(dlfs.__file__).resolve()
    assert "site-packages" in location.parts, location
    assert REPO / "python" not in location.parents  # not the sources
    assert not any(p.name.startswith("build") and p.parent == REPO for p in location.parents)
    version = re.search(r"project\(dlfs VERSION ([0-9.]+)",
                        (REPO / "CMakeLists.txt").read_text()).group(1)
    assert dlfs.__version__ == version


def test_console_script_runs_the_program():
    script = pathlib.Path(sys.executable).parent / "dlfs"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("dlfs ")


def test_trains_from_the_installed_package(tmp_path, monkeypatch):
    import dlfs
    monkeypatch.chdir(tmp_path)
    result = dlfs.fit(model="mlp", epochs=1, data="synthetic", limit_train=300, quiet=True,
                      plot="off")
    assert result.test_accuracy > 0.5
