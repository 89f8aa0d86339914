"""The book's optimizers (common/optimizer.py) as dlfs's fused update kernels.

update(params, grads) changes each params[key] in place from grads[key]; both are dicts of dlfs
tensors on one device (the state each optimizer keeps is made there on the first update). The
rules are the book's, docs/optimizers.md has them.
"""
from . import _core
from .tensor import Tensor, zeros_like

_ops = _core.ops


def _pairs(params, grads):
    for key in params:
        w, g = params[key], grads[key]
        if not isinstance(w, Tensor) or not isinstance(g, Tensor):
            raise TypeError("params[%r] and grads[%r] must be dlfs tensors (dlfs.tensor(array)), "
                            "so that the update happens in place where the layers see it"
                            % (key, key))
        yield key, w, g


def _zeros_like_each(params):
    """Optimizer state: one zero tensor beside each parameter, on its device."""
    return {key: zeros_like(w) for key, w in params.items()}


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for _, w, g in _pairs(params, grads):
            _ops.sgd_update_(w, g, self.lr)


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = _zeros_like_each(params)
        for key, w, g in _pairs(params, grads):
            _ops.momentum_update_(w, g, self.v[key], self.lr, self.momentum)


class Nesterov(Momentum):
    def update(self, params, grads):
        if self.v is None:
            self.v = _zeros_like_each(params)
        for key, w, g in _pairs(params, grads):
            _ops.nesterov_update_(w, g, self.v[key], self.lr, self.momentum)


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = _zeros_like_each(params)
        for key, w, g in _pairs(params, grads):
            _ops.adagrad_update_(w, g, self.h[key], self.lr)


class RMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params, grads):
        if self.h is None:
            self.h = _zeros_like_each(params)
        for key, w, g in _pairs(params, grads):
            _ops.rmsprop_update_(w, g, self.h[key], self.lr, self.decay_rate)


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = _zeros_like_each(params), _zeros_like_each(params)
        self.iter += 1
        lr_t = self.lr * (1.0 - self.beta2 ** self.iter) ** 0.5 / (1.0 - self.beta1 ** self.iter)
        for key, w, g in _pairs(params, grads):
            _ops.adam_update_(w, g, self.m[key], self.v[key], lr_t, self.beta1, self.beta2)
