"""dlfs: the book "Deep Learning from Scratch" on a C++/CUDA runtime.

The book's layer classes, optimizers and gradient check run on dlfs's kernels, on the CPU or an
NVIDIA GPU (dlfs.layers, dlfs.optimizer, dlfs.gradient); the model catalog, the trainer and
checkpoints are those of the `dlfs` program (dlfs.models, dlfs.fit, dlfs.evaluate); tensors pass
to and from NumPy, PyTorch and CuPy without copies where they can (dlfs.tensor, dlfs.from_dlpack).
docs/python.md has the whole API; docs/from-the-book.md the lines a book script changes.
"""
import os as _os

# dlfs's OpenMP threads spin only briefly before they sleep on a machine shared with other work,
# as the dlfs program does (docs/performance.md), unless the user chose a wait policy. libgomp
# reads this when it loads, which importing _core does.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "1000"

from . import _core  # noqa: E402
from .tensor import Tensor, tensor, from_dlpack, empty, zeros, zeros_like, full  # noqa: E402
from .layers import (  # noqa: E402
    Affine, Relu, Sigmoid, SoftmaxWithLoss, Convolution, Pooling, BatchNormalization, Dropout)
from .optimizer import SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam  # noqa: E402
from .gradient import numerical_gradient  # noqa: E402
from . import datasets, models  # noqa: E402
from .training import fit, evaluate, Trainer, FitResult  # noqa: E402

__version__ = _core.__version__


def cuda_available():
    """True when this build has CUDA and a GPU answers (never raises)."""
    return _core.cuda_available()


def info():
    """The build and the devices, as `dlfs info` says them."""
    return {
        "version": __version__,
        "cuda_built": _core.built_with_cuda(),
        "cudnn_built": _core.built_with_cudnn(),
        "cuda_emulated": _core.emulated_cuda,  # the emulated device of the test build
        "cuda": _core.cuda_status(),
    }
