"""The book's numerical_gradient (common/gradient.py), for checking backward() by hand."""
import numpy as np

from .tensor import Tensor, tensor


def numerical_gradient(f, x, h=1e-4):
    """Central differences (f(x+h) - f(x-h)) / 2h for every element of x, changed in place.

    x is a NumPy array or a dlfs tensor (on any device); f takes x and returns a number. The
    gradient has x's kind, shape and device. float64 tensors give the closest agreement.
    """
    if not isinstance(x, Tensor):
        return _central_differences(f, x, x, h)
    if x.device == "cpu":
        return tensor(_central_differences(f, x, x.numpy(), h))
    # A GPU tensor: change a host copy and copy it over before each call.
    host = x.numpy().copy()

    def call(_):
        x.copy_from(tensor(host))
        return f(x)

    grad = _central_differences(call, None, host, h)
    x.copy_from(tensor(host))
    return tensor(grad, device=x.device)


def _central_differences(f, argument, values, h):
    grad = np.zeros_like(values)
    it = np.nditer(values, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        original = values[idx].copy()
        values[idx] = original + h
        above = float(f(argument))
        values[idx] = original - h
        below = float(f(argument))
        grad[idx] = (above - below) / (2 * h)
        values[idx] = original
        it.iternext()
    return grad
