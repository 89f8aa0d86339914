"""Shared fixtures: the devices to test on ("cuda" runs where a GPU or the emulated device
answers, and is skipped visibly elsewhere) and the repository's paths."""
import os
import pathlib

import numpy as np
import pytest

import dlfs

REPO = pathlib.Path(__file__).resolve().parents[2]
FASHION_MNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(
        not dlfs.cuda_available(), reason=dlfs.info()["cuda"])),
]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Runs the test in its own folder (dlfs.fit writes runs/ under the current one)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def dlfs_binary():
    """The dlfs program beside the package being tested (build tree), or on PATH (pip)."""
    here = pathlib.Path(dlfs.__file__).resolve().parent
    for candidate in (here.parent.parent / "dlfs", pathlib.Path(os.environ.get("DLFS_BINARY", ""))):
        if candidate.is_file():
            return str(candidate)
    from shutil import which
    return which("dlfs")
