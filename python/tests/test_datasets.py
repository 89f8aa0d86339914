"""dlfs.datasets: the book's load_mnist over dlfs's IDX reader, on IDX files written here and on
Debian's Fashion-MNIST where it is installed."""
import gzip
import struct

import numpy as np
import pytest

import dlfs
from conftest import FASHION_MNIST


def write_idx(path, array, compress=False):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


@pytest.fixture
def tiny_mnist(tmp_path, rng):
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = np.arange(12, dtype=np.uint8) % 10
    write_idx(tmp_path / "train-images-idx3-ubyte", images, compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images[:4])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels[:4])
    return tmp_path, images, labels


def test_load_mnist_as_the_book_does(tiny_mnist):
    path, images, labels = tiny_mnist
    (x_train, t_train), (x_test, t_test) = dlfs.datasets.mnist(path)
    assert x_train.shape == (12, 784) and x_train.dtype == np.float32
    np.testing.assert_allclose(x_train, images.reshape(12, -1) / 255.0, rtol=1e-6)
    assert t_train.tolist() == labels.tolist() and t_test.shape == (4,)
    (x_raw, _), _ = dlfs.datasets.mnist(path, normalize=False, flatten=False)
    assert x_raw.dtype == np.uint8 and x_raw.shape == (12, 1, 28, 28)
    np.testing.assert_array_equal(x_raw[:, 0], images)
    (_, one_hot), _ = dlfs.datasets.mnist(path, one_hot_label=True)
    assert one_hot.shape == (12, 10) and one_hot.sum() == 12 and one_hot[3, 3] == 1.0
    (x_few, _), _ = dlfs.datasets.mnist(path, limit_train=5)
    assert x_few.shape == (5, 784)


def test_missing_and_damaged_files_are_value_errors(tiny_mnist, tmp_path):
    with pytest.raises(ValueError, match="/no/such/folder"):
        dlfs.datasets.mnist("/no/such/folder")
    path, _, _ = tiny_mnist
    (path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte"):
        dlfs.datasets.mnist(path)


@pytest.mark.skipif(not FASHION_MNIST.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist():
    (x_train, t_train), (x_test, t_test) = dlfs.datasets.fashion_mnist(limit_train=1000)
    assert x_train.shape == (1000, 784) and x_test.shape == (10000, 784)
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert sorted(set(t_test.tolist())) == list(range(10))
