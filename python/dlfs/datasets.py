"""MNIST-format datasets as NumPy arrays, with the book's load_mnist signature (dataset/mnist.py).

    (x_train, t_train), (x_test, t_test) = dlfs.datasets.fashion_mnist(normalize=True,
                                                                       flatten=True)

dlfs's IDX reader loads the four files (raw or .gz) and checks them; a missing or damaged file
raises ValueError naming it.
"""
import numpy as np

from . import _core

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist package


def load_mnist(path, normalize=True, flatten=True, one_hot_label=False, limit_train=0):
    """((x_train, t_train), (x_test, t_test)) from the MNIST-format directory `path`.

    normalize: float32 pixels in [0, 1] (else uint8 0-255); flatten: images as rows of H*W
    (else [N, 1, H, W]); one_hot_label: labels as float32 one-hot rows (else int64 labels).
    limit_train > 0 keeps the first limit_train training images.
    """
    d = _core.load_mnist_format(str(path), int(limit_train))
    classes = d["classes"]

    def images(t):
        x = t.numpy()
        if not normalize:
            x = np.rint(x * 255.0).astype(np.uint8)
        return x.reshape(x.shape[0], -1) if flatten else x

    def labels(t):
        y = t.numpy().astype(np.int64)
        if one_hot_label:
            one_hot = np.zeros((y.shape[0], classes), dtype=np.float32)
            one_hot[np.arange(y.shape[0]), y] = 1.0
            return one_hot
        return y

    return ((images(d["train_images"]), labels(d["train_labels"])),
            (images(d["test_images"]), labels(d["test_labels"])))


def fashion_mnist(normalize=True, flatten=True, one_hot_label=False, limit_train=0,
                  path=FASHION_MNIST):
    """Fashion-MNIST from Debian's package (apt-get install dataset-fashion-mnist)."""
    return load_mnist(path, normalize, flatten, one_hot_label, limit_train)


def mnist(path, normalize=True, flatten=True, one_hot_label=False, limit_train=0):
    """MNIST (or KMNIST, or any MNIST-format directory) from `path`."""
    return load_mnist(path, normalize, flatten, one_hot_label, limit_train)
