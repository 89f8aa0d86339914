"""The book's layer classes (common/layers.py) on dlfs's kernels, with its names and call style.

Each class takes and returns dlfs tensors; a NumPy array given as input goes to the device of
the layer's parameters (the CPU for layers without any). Parameters (W, b, gamma, beta) are
dlfs tensors shared with the caller, as the book shares its NumPy arrays: an optimizer that
updates params["W1"] in place updates the layer. Gradients (dW, db, dgamma, dbeta) are written
by backward(). Where dlfs differs from the book (docs/from-the-book.md):
- Dropout scales the kept units by 1/(1-p) in training, the book at test time; the outputs agree
  in expectation.
- BatchNormalization's running variance is the unbiased one (as PyTorch); for a 4-D input its
  gamma may have one value per channel (PyTorch's BatchNorm2d) or one per C*H*W element (the
  book's flattening).
"""
import numpy as np

from . import _core
from .tensor import Tensor, tensor, full

_layers = _core.layers
_ops = _core.ops


def _input(x, like=None):
    """x as a tensor: a dlfs tensor as it is, anything else on the device of `like`."""
    if isinstance(x, Tensor):
        return x
    t = tensor(x)
    if like is not None:
        if t.dtype != like.dtype and t.dtype in ("float32", "float64"):
            t = t.astype(like.dtype)
        t = t.to(like.device)
    return t


class _WithParameters:
    """A layer over a dlfs layer whose parameters are the caller's tensors."""

    _names = {}  # book attribute -> dlfs parameter name

    def _bind(self, layer, values):
        self._layer = layer
        first = next(iter(values.values()))
        layer.to_dtype(first.dtype)
        layer.to(first.device)
        for attribute, value in values.items():
            setattr(self, attribute, value)

    def __getattr__(self, attribute):
        names = type(self)._names
        if attribute in names:
            return self._layer.parameter(names[attribute]).value
        if attribute.startswith("d") and attribute[1:] in names:
            return self._layer.parameter(names[attribute[1:]]).grad
        raise AttributeError("%s has no attribute %r" % (type(self).__name__, attribute))

    def __setattr__(self, attribute, value):
        names = type(self)._names
        if attribute in names:
            value = tensor(value)
            parameter = self._layer.parameter(names[attribute])
            if parameter.value.shape != value.shape:
                raise ValueError("%s.%s must have shape %s, not %s" % (
                    type(self).__name__, attribute, parameter.value.shape, value.shape))
            if parameter.grad.device != value.device or parameter.grad.dtype != value.dtype:
                parameter.grad = full(value.shape, 0.0, value.dtype, value.device)
            parameter.value = value
        else:
            object.__setattr__(self, attribute, value)


class Affine:
    """out = x W + b, with W of shape [in, out] as in the book (x is flattened to [N, in])."""

    def __init__(self, W, b):
        self.W = tensor(W)
        self.b = tensor(b)
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = _input(x, self.W)
        self.original_x_shape = x.shape
        self.x = x.reshape([x.shape[0], -1])
        out = _ops.matmul(self.x, False, self.W, False)
        _ops.bias_add_(out, self.b)
        return out

    def backward(self, dout):
        dout = _input(dout, self.W)
        dx = _ops.matmul(dout, False, self.W, True)
        self.dW = _ops.matmul(self.x, True, dout, False)
        self.db = _ops.bias_grad(dout)
        return dx.reshape(list(self.original_x_shape))


class Relu:
    def __init__(self):
        self._layer = _layers.ReLU()

    def forward(self, x):
        return self._layer.forward([_input(x)], True)

    def backward(self, dout):
        return self._layer.backward(_input(dout))[0]


class Sigmoid:
    def __init__(self):
        self._layer = _layers.Sigmoid()
        self.out = None

    def forward(self, x):
        self.out = self._layer.forward([_input(x)], True)
        return self.out

    def backward(self, dout):
        return self._layer.backward(_input(dout))[0]


class SoftmaxWithLoss:
    """Softmax and cross-entropy; t is labels ([N] integers) or one-hot rows ([N, C])."""

    def __init__(self):
        self._layer = _layers.SoftmaxWithLoss()
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        x = _input(x)
        if isinstance(t, Tensor):
            if t.dtype in ("int64", "uint8"):
                t = tensor(t.numpy().astype(np.int32), device=x.device)
        else:
            t = np.asarray(t)
            t = t.astype(np.int32) if t.ndim == 1 else t.astype(x.dtype)
            t = tensor(t, device=x.device)
        self.t = t
        self.loss = float(self._layer.forward([x, t], True).numpy()[0])
        self.y = self._layer.probabilities()
        return self.loss

    def backward(self, dout=1):
        seed = full([1], dout, self.y.dtype, self.y.device)
        return self._layer.backward(seed)[0]


class Convolution(_WithParameters):
    """The book's Convolution: W [FN, C, FH, FW], b [FN], one stride and padding."""

    _names = {"W": "weight", "b": "bias"}

    def __init__(self, W, b, stride=1, pad=0):
        W, b = tensor(W), tensor(b)
        filters, channels, height, width = W.shape
        self._bind(_layers.Convolution(channels, filters, height, width, stride, pad, True),
                   {"W": W, "b": b})
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        return self._layer.forward([_input(x, self.W)], True)

    def backward(self, dout):
        return self._layer.backward(_input(dout, self.W))[0]


class Pooling:
    """The book's Pooling (max): a pool_h x pool_w window every `stride` pixels."""

    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self._layer = _layers.MaxPool(pool_h, pool_w, stride, stride, pad, pad)

    def forward(self, x):
        return self._layer.forward([_input(x)], True)

    def backward(self, dout):
        return self._layer.backward(_input(dout))[0]


class BatchNormalization(_WithParameters):
    """The book's BatchNormalization (momentum 0.9 keeps 90% of the running statistics)."""

    _names = {"gamma": "weight", "beta": "bias"}

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        gamma, beta = tensor(gamma), tensor(beta)
        features = gamma.size
        # The book adds 10e-7 under the square root; dlfs's momentum is the new batch's weight.
        self._bind(_layers.BatchNorm(features, 10e-7, 1.0 - momentum), {"gamma": gamma, "beta": beta})
        self.momentum = momentum
        self.input_shape = None
        if running_mean is not None:
            self._layer.set_buffer("running_mean", _input(running_mean, gamma).reshape([features]))
        if running_var is not None:
            self._layer.set_buffer("running_var", _input(running_var, gamma).reshape([features]))

    @property
    def running_mean(self):
        return self._layer.buffer("running_mean")

    @property
    def running_var(self):
        return self._layer.buffer("running_var")

    def _as_layer_input(self, x):
        # One value of gamma per channel: per-channel statistics; one per element: the book's
        # flattening to [N, C*H*W].
        if x.ndim != 2 and (x.ndim != 4 or x.shape[1] != self.gamma.size):
            return x.reshape([x.shape[0], -1])
        return x

    def forward(self, x, train_flg=True):
        x = _input(x, self.gamma)
        self.input_shape = x.shape
        out = self._layer.forward([self._as_layer_input(x)], bool(train_flg))
        return out.reshape(list(self.input_shape))

    def backward(self, dout):
        dout = _input(dout, self.gamma)
        dx = self._layer.backward(self._as_layer_input(dout))[0]
        return dx.reshape(list(self.input_shape))


class Dropout:
    """Dropout with the book's dropout_ratio; masks come from dlfs's counter-based generator,
    seeded from NumPy's global generator (np.random.seed makes runs repeat)."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self._layer = _layers.Dropout(dropout_ratio, int(np.random.randint(0, 2**31 - 1)))

    def forward(self, x, train_flg=True):
        return self._layer.forward([_input(x)], bool(train_flg))

    def backward(self, dout):
        return self._layer.backward(_input(dout))[0]
