"""The model catalog of `dlfs models` as Python objects: build, run, train by hand, save, load.

    model = dlfs.models.build("lenet5")          # He-initialised, on the CPU
    logits = model.predict(x_test)               # NumPy in, NumPy out, inference mode
    loss = model.loss(x_batch, t_batch)          # a training forward
    model.backward()                             # gradients into model.grads
    dlfs.SGD(0.01).update(model.params, model.grads)
    model.save("lenet5.safetensors")             # what `dlfs eval` and PyTorch load
"""
import builtins

import numpy as np

from . import _core
from .tensor import Tensor, tensor

_models = _core.models


def list():  # noqa: A001 - the issue's and the CLI's name: dlfs.models.list()
    """The catalog's model names, as `dlfs models` lists them."""
    return [entry["name"] for entry in _models.catalog()]


def catalog():
    """Every catalog entry: name, description and input sizes ("28", "32", "224")."""
    return _models.catalog()


def build(name, input=None, classes=10, init="auto", seed=0, device="cpu"):
    """A catalog model at input size `input` ("28", "32", "224"; None: its first), initialised
    with `init` (auto, he, xavier, std) from `seed`, on `device`."""
    model = Model(_models.build(name, "" if input is None else str(input), int(classes)))
    model._core.initialize(init, int(seed))
    return model.to(device)


def load(path, device="cpu"):
    """The model a dlfs checkpoint (a model.safetensors written by dlfs train or save) holds."""
    core, metadata = _models.load(str(path))
    return Model(core, metadata).to(device)


class Model:
    """A catalog model: a layer graph with "input", "labels", a logits node and "loss"."""

    def __init__(self, core, metadata=None):
        self._core = core
        self.metadata = dict(metadata or {})
        # The pixel standardisation the run that trained it used (dlfs train --normalize).
        self.normalize_mean = float(self.metadata.get("dlfs_normalize_mean", 0.0))
        self.normalize_std = float(self.metadata.get("dlfs_normalize_std", 1.0))

    name = property(lambda self: self._core.name)
    variant = property(lambda self: self._core.variant)
    classes = property(lambda self: self._core.classes)
    input_shape = property(lambda self: self._core.input_shape)
    logits_node = property(lambda self: self._core.logits_node)
    device = property(lambda self: self._core.device)
    parameter_count = property(lambda self: self._core.parameter_count)

    def __repr__(self):
        return "dlfs.models.Model(%s, input %s, %d classes, %d parameters, on %s)" % (
            self.name, "x".join(str(d) for d in self.input_shape), self.classes,
            self.parameter_count, self.device)

    def to(self, device):
        self._core.to(str(device))
        return self

    def _images(self, x):
        if isinstance(x, Tensor):
            return x.to(self.device)
        x = np.asarray(x, dtype=np.float32).reshape((-1,) + tuple(self.input_shape))
        return tensor(x, device=self.device)

    def forward(self, x, train=False):
        """The logits tensor [N, classes] for images x ([N, C, H, W] or flat rows)."""
        return self._core.forward(self._images(x), bool(train))

    def loss(self, x, t, train=True):
        """Mean cross-entropy of the batch; with train=True backward() may follow."""
        labels = tensor(np.asarray(t.numpy() if isinstance(t, Tensor) else t, dtype=np.int32),
                        device=self.device)
        return self._core.loss(self._images(x), labels, bool(train))

    def backward(self):
        self._core.backward()

    def predict(self, x, batch_size=256, normalize=True):
        """Logits as a NumPy array, in inference mode, `batch_size` images at a time; pixels in
        [0, 1] are standardised as the training run did (normalize=False: as they are)."""
        x = np.asarray(x, dtype=np.float32).reshape((-1,) + tuple(self.input_shape))
        if normalize and (self.normalize_mean != 0.0 or self.normalize_std != 1.0):
            x = (x - np.float32(self.normalize_mean)) / np.float32(self.normalize_std)
        parts = [self.forward(x[i:i + batch_size]).numpy().copy()
                 for i in builtins.range(0, x.shape[0], batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.classes), np.float32)

    def accuracy(self, x, t, batch_size=256):
        """Fraction of images whose largest logit is their label."""
        return float(np.mean(np.argmax(self.predict(x, batch_size), axis=1) == np.asarray(t)))

    @property
    def params(self):
        """Parameter tensors by PyTorch state_dict name; they are the model's own (no copy)."""
        return {name: self._core.parameter(name).value for name in self._core.parameter_names()}

    @property
    def grads(self):
        """Gradient tensors of the last backward(), by the parameters' names."""
        return {name: self._core.parameter(name).grad for name in self._core.parameter_names()}

    def state_dict(self):
        """Parameters then buffers as NumPy arrays (copies), by PyTorch state_dict name."""
        return {name: value.numpy().copy() for name, value in self._core.state()}

    def load_weights(self, path):
        """Copies a safetensors file's tensors in (a dlfs checkpoint or a PyTorch state_dict)."""
        self._core.load_weights(str(path))

    def save(self, path, metadata=None):
        """A safetensors checkpoint that `dlfs eval`, dlfs.models.load and PyTorch read."""
        meta = {k: v for k, v in self.metadata.items() if k.startswith("dlfs_normalize")}
        meta.update({str(k): str(v) for k, v in (metadata or {}).items()})
        self._core.save(str(path), meta)

    def nodes(self):
        """The graph node by node, in topological order (what dlfs.onnx.export reads)."""
        return self._core.nodes()
