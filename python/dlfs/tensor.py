"""dlfs.Tensor and the ways in and out: NumPy, DLPack (PyTorch, CuPy, JAX) and new tensors.

Copies, exactly:
- tensor(ndarray) uses the array's memory in place when it is C-contiguous, writeable, aligned,
  native-endian and of a dlfs dtype (float32, float64, uint8, int32, int64); otherwise it copies
  (other dtypes are converted only when `dtype` asks for it). copy=True always copies.
- Tensor.numpy() of a CPU tensor is a view of its memory; of a CUDA tensor, a host copy.
- from_dlpack(x) and np.from_dlpack / torch.from_dlpack(tensor) share memory on either device;
  a non-contiguous source is copied on the CPU and refused on a GPU.
- Tensor.to(device) copies across devices and returns the tensor itself when already there.
"""
import numpy as np

from . import _core

Tensor = _core.Tensor

_DLFS_DTYPES = {np.dtype(t) for t in (np.float32, np.float64, np.uint8, np.int32, np.int64)}


def _numpy(self):
    """The tensor as a NumPy array: a view of a CPU tensor's memory, a copy of a CUDA one."""
    return self.to("cpu")._numpy_view()


def _array(self, dtype=None, copy=None):
    array = _numpy(self)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array.copy() if copy else array


def _tolist(self):
    return _numpy(self).tolist()


def _item(self):
    if self.size != 1:
        raise ValueError("item() needs a tensor of one element, not %s" % (self.shape,))
    return _numpy(self).reshape(-1)[0].item()


Tensor.numpy = _numpy
Tensor.__array__ = _array
Tensor.tolist = _tolist
Tensor.item = _item
Tensor.T = property(lambda self: tensor(_numpy(self).T, device=self.device))


def tensor(data, dtype=None, device=None, copy=False):
    """A dlfs tensor from a NumPy array (or anything np.asarray takes), a DLPack tensor or a tensor.

    dtype: one of "float32", "float64", "uint8", "int32", "int64" (or the NumPy type); None keeps
    the data's. device: "cpu", "cuda", "cuda:N"; None keeps the data's (the CPU for NumPy).
    """
    if isinstance(data, Tensor):
        t = data.clone() if copy else data
        if dtype is not None:
            t = t.astype(np.dtype(dtype).name)
    elif not isinstance(data, np.ndarray) and hasattr(data, "__dlpack__"):
        t = from_dlpack(data, copy=copy)
        if dtype is not None and np.dtype(dtype).name != t.dtype:
            t = tensor(np.asarray(t.numpy(), dtype=dtype))
    else:
        array = np.asarray(data, dtype=dtype)
        if array.dtype not in _DLFS_DTYPES:
            raise ValueError(
                "dlfs tensors hold float32, float64, uint8, int32 or int64, not %s; pass dtype= "
                "to convert" % array.dtype)
        flags = array.flags
        if copy or not (flags.c_contiguous and flags.writeable and flags.aligned
                        and array.dtype.isnative):
            array = np.array(array, dtype=array.dtype.newbyteorder("="), order="C", copy=True)
        t = _core._tensor_over(array)  # a 0-d array becomes a one-element tensor [1]
    if device is not None:
        t = t.to(str(device))
    return t


def from_dlpack(x, copy=False):
    """A tensor over the memory of any object with __dlpack__ (PyTorch, CuPy, JAX, NumPy).

    Shares memory on the CPU and on CUDA devices; a CPU source that is not C-contiguous is
    copied, a CUDA one is refused (call .contiguous() first).
    """
    if isinstance(x, np.ndarray):
        return tensor(x, copy=copy)
    try:
        t = _core._tensor_over(x)
    except ValueError as error:
        device_type = x.__dlpack_device__()[0] if hasattr(x, "__dlpack_device__") else 1
        if device_type != 1 or "C-contiguous" not in str(error):
            raise
        return tensor(np.ascontiguousarray(np.from_dlpack(x)), copy=True)
    return t.clone() if copy else t


def empty(shape, dtype="float32", device="cpu"):
    return _core.empty(list(shape), np.dtype(dtype).name, str(device))


def full(shape, value, dtype="float32", device="cpu"):
    return _core.full(list(shape), float(value), np.dtype(dtype).name, str(device))


def zeros(shape, dtype="float32", device="cpu"):
    return full(shape, 0.0, dtype, device)


def zeros_like(t):
    """Zeros with t's shape, dtype and device."""
    return full(t.shape, 0.0, t.dtype, t.device)
