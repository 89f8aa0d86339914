"""dlfs.Tensor: NumPy in and out without copies where promised, DLPack both ways, dtypes, devices
and the errors for what dlfs cannot hold."""
import gc

import numpy as np
import pytest

import dlfs


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int32, np.int64])
def test_numpy_round_trip_shares_memory(dtype):
    a = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    t = dlfs.tensor(a)
    assert t.shape == (2, 3, 4) and t.dtype == np.dtype(dtype).name and t.device == "cpu"
    a[1, 2, 3] = 7  # the tensor sees the array's memory
    view = t.numpy()
    assert view[1, 2, 3] == 7
    view[0, 0, 0] = 5  # and NumPy sees the tensor's
    assert a[0, 0, 0] == 5
    assert np.shares_memory(view, a)


def test_tensor_keeps_the_array_alive():
    t = dlfs.tensor(np.full((1000,), 3.5, dtype=np.float32))
    gc.collect()
    assert float(t.numpy().sum()) == 3500.0


def test_view_keeps_the_tensor_alive():
    view = dlfs.full([4, 4], 2.0).numpy()
    gc.collect()
    assert view.sum() == 32.0


def test_copies_where_the_memory_cannot_be_used():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    transposed = dlfs.tensor(a.T)  # not C-contiguous: copied
    assert transposed.shape == (4, 3)
    np.testing.assert_array_equal(transposed.numpy(), a.T)
    a[0, 1] = 100
    assert transposed.numpy()[1, 0] == 1
    readonly = a.copy()
    readonly.flags.writeable = False
    t = dlfs.tensor(readonly)
    assert not np.shares_memory(t.numpy(), readonly)
    copied = dlfs.tensor(a, copy=True)
    assert not np.shares_memory(copied.numpy(), a)


def test_python_lists_and_dtype_conversion():
    t = dlfs.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
    assert t.dtype == "float32" and t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert dlfs.tensor(np.float64(2.5)).item() == 2.5
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_unsupported_dtype_is_a_value_error():
    with pytest.raises(ValueError, match="float16"):
        dlfs.tensor(np.zeros(3, dtype=np.float16))
    with pytest.raises(ValueError, match="unknown dtype 'bfloat16'"):
        dlfs._core.empty([2], "bfloat16", "cpu")


def test_bad_device_is_a_value_error():
    with pytest.raises(ValueError, match="device 'gpu7' is not one of"):
        dlfs.zeros([2], device="gpu7")


def test_reshape_shares_storage_and_checks_size():
    t = dlfs.tensor(np.arange(6, dtype=np.float32))
    r = t.reshape([2, -1])
    assert r.shape == (2, 3) and r.same_storage(t)
    with pytest.raises(ValueError):
        t.reshape([4, 2])


def test_to_device_copies_and_back(device):
    a = np.random.default_rng(1).standard_normal((5, 7)).astype(np.float32)
    t = dlfs.tensor(a).to(device)
    assert t.device == ("cpu" if device == "cpu" else "cuda:0")
    np.testing.assert_array_equal(t.numpy(), a)
    assert dlfs.tensor(a, device=device).to("cpu").numpy().tolist() == a.tolist()


def test_dlpack_with_pytorch_shares_memory_both_ways():
    torch = pytest.importorskip("torch")
    source = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    t = dlfs.from_dlpack(source)
    assert t.shape == (3, 4) and t.dtype == "float32"
    source[2, 3] = -1.0
    assert t.numpy()[2, 3] == -1.0
    back = torch.from_dlpack(t)
    back[0, 0] = 9.0
    assert t.numpy()[0, 0] == 9.0 and source[0, 0].item() == 9.0
    assert t.__dlpack_device__() == (1, 0)
    # torch.tensor via dlfs.tensor() takes the DLPack route too.
    assert dlfs.tensor(torch.ones(2, dtype=torch.int64)).dtype == "int64"


def test_dlpack_of_strided_cpu_source_is_copied():
    torch = pytest.importorskip("torch")
    source = torch.arange(12, dtype=torch.float64).reshape(3, 4).t()
    t = dlfs.from_dlpack(source)
    np.testing.assert_array_equal(t.numpy(), source.numpy())


def test_numpy_from_dlpack():
    t = dlfs.tensor(np.arange(5, dtype=np.int32))
    assert np.from_dlpack(t).tolist() == [0, 1, 2, 3, 4]


def test_cuda_tensor_to_numpy_copies(device):
    if device == "cpu":
        pytest.skip("a CUDA-only behaviour")
    t = dlfs.full([3], 1.5, device=device)
    assert t.numpy().tolist() == [1.5, 1.5, 1.5]
    assert t.__dlpack_device__() == (2, 0)
    with pytest.raises(ValueError, match="NumPy view needs a CPU tensor"):
        t._numpy_view()
