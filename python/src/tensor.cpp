// dlfs.Tensor: dlfs's tensor handle in Python, with NumPy and DLPack on both sides.
//
// Copies: a C-contiguous, writeable NumPy array of a dlfs dtype becomes a tensor over the same
// memory (python/dlfs/tensor.py copies anything else), and a CPU tensor's numpy() is a view of
// the tensor's memory. to(device) copies across devices; numpy() of a CUDA tensor copies it to
// the host first. DLPack (__dlpack__, from_dlpack) hands memory over in place on either device.
#include <cstring>
#include <string>
#include <vector>

#include "dlfs/python/src/bindings.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::python {

namespace {

nb::dlpack::dtype dlpack_dtype(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return nb::dtype<float>();
    case DType::Float64:
      return nb::dtype<double>();
    case DType::UInt8:
      return nb::dtype<std::uint8_t>();
    case DType::Int32:
      return nb::dtype<std::int32_t>();
    case DType::Int64:
      return nb::dtype<std::int64_t>();
  }
  throw Error("unknown dtype");
}

DType dlfs_dtype(const nb::dlpack::dtype& t) {
  using Code = nb::dlpack::dtype_code;
  if (t.lanes == 1) {
    if (t.code == static_cast<std::uint8_t>(Code::Float) && t.bits == 32) return DType::Float32;
    if (t.code == static_cast<std::uint8_t>(Code::Float) && t.bits == 64) return DType::Float64;
    if (t.code == static_cast<std::uint8_t>(Code::UInt) && t.bits == 8) return DType::UInt8;
    if (t.code == static_cast<std::uint8_t>(Code::Int) && t.bits == 32) return DType::Int32;
    if (t.code == static_cast<std::uint8_t>(Code::Int) && t.bits == 64) return DType::Int64;
  }
  throw InputError("dlfs tensors hold float32, float64, uint8, int32 or int64, not an array of " +
                   std::to_string(t.bits) + "-bit elements of DLPack type code " +
                   std::to_string(t.code) + "; convert it first (numpy: .astype(np.float32))");
}

DType parse_dtype(const std::string& name) {
  for (DType t : {DType::Float32, DType::Float64, DType::UInt8, DType::Int32, DType::Int64})
    if (name == dtype_name(t)) return t;
  throw InputError("unknown dtype '" + name +
                   "'; dlfs has float32, float64, uint8, int32 and int64");
}

Shape shape_of(const std::vector<std::int64_t>& dims) {
  return Shape(dims);
}

nb::tuple shape_tuple(const Shape& shape) {
  nb::list dims;
  for (std::int64_t d : shape.dims()) dims.append(d);
  return nb::tuple(dims);
}

// Releases a Python object from whatever thread the last tensor over its memory dies in (a
// kernel's worker, a training loop that let go of the GIL): the reference count needs the GIL.
std::shared_ptr<void> python_owner(const nb::ndarray<>& array) {
  return std::shared_ptr<void>(new nb::ndarray<>(array), [](void* p) {
    if (!Py_IsInitialized()) return;  // interpreter gone: nothing left to release
    nb::gil_scoped_acquire gil;
    delete static_cast<nb::ndarray<>*>(p);
  });
}

}  // namespace

nb::ndarray<> ndarray_view(const Tensor& tensor) {
  if (!tensor.defined()) throw InputError("the tensor is undefined (it holds no data)");
  // Another library may read the memory on any of its streams as soon as it has it.
  if (tensor.device().is_cuda()) synchronize_cuda_device(tensor.device().index);
  std::vector<std::size_t> shape(tensor.shape().dims().begin(), tensor.shape().dims().end());
  // The capsule owns a handle sharing the storage: the memory lives while Python uses it.
  auto* keep = new Tensor(tensor);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  const int device_type =
      tensor.device().is_cuda() ? nb::device::cuda::value : nb::device::cpu::value;
  return nb::ndarray<>(tensor.raw_data(), shape.size(), shape.data(), owner, nullptr,
                       dlpack_dtype(tensor.dtype()), device_type, tensor.device().index);
}

Tensor tensor_over(const nb::ndarray<>& array) {
  const DType dtype = dlfs_dtype(array.dtype());
  std::vector<std::int64_t> dims(array.ndim());
  std::int64_t expected_stride = 1;
  bool contiguous = true;
  for (std::size_t i = array.ndim(); i-- > 0;) {
    dims[i] = static_cast<std::int64_t>(array.shape(i));
    if (array.shape(i) != 1 && array.stride(i) != expected_stride) contiguous = false;
    expected_stride *= static_cast<std::int64_t>(array.shape(i));
  }
  if (!contiguous)
    throw InputError(
        "dlfs uses only C-contiguous (row-major, dense) memory in place; this array "
        "has other strides (numpy: np.ascontiguousarray, torch: .contiguous())");
  Device device;
  if (array.device_type() == nb::device::cpu::value) {
    device = Device::cpu();
  } else if (array.device_type() == nb::device::cuda::value) {
    if (!built_with_cuda())
      throw InputError("this array is on CUDA device " + std::to_string(array.device_id()) +
                       " but this dlfs was built without CUDA");
    device = Device::cuda(array.device_id());
    // The producer's kernels may still be writing it on a stream dlfs's kernels do not wait on.
    synchronize_cuda_device(device.index);
  } else {
    throw InputError("dlfs takes arrays on the CPU or a CUDA device, not DLPack device type " +
                     std::to_string(array.device_type()));
  }
  if (dims.empty()) dims.push_back(1);  // a scalar: one element
  return Tensor::from_external(array.data(), shape_of(dims), dtype, device, python_owner(array));
}

void bind_tensor(nb::module_& m) {
  nb::class_<Tensor>(m, "Tensor",
                     "A dense, row-major tensor on one device (dlfs::Tensor). Copying a handle "
                     "shares the data; clone() copies it.")
      .def_prop_ro("shape", [](const Tensor& t) { return shape_tuple(t.shape()); })
      .def_prop_ro("dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); })
      .def_prop_ro("device", [](const Tensor& t) { return t.device().str(); })
      .def_prop_ro("ndim", &Tensor::ndim)
      .def_prop_ro("size", &Tensor::numel)
      .def_prop_ro("nbytes", &Tensor::nbytes)
      .def("__len__",
           [](const Tensor& t) {
             if (t.ndim() == 0) throw InputError("len() of a tensor without dimensions");
             return t.dim(0);
           })
      .def("__repr__", [](const Tensor& t) { return "dlfs.Tensor(" + t.str() + ")"; })
      .def(
          "to",
          [](const Tensor& t, const std::string& device) { return t.to(Device::parse(device)); },
          nb::arg("device"), nb::call_guard<nb::gil_scoped_release>(),
          "A tensor on `device` ('cpu', 'cuda', 'cuda:N'); this tensor itself when already there.")
      .def("clone", &Tensor::clone, nb::call_guard<nb::gil_scoped_release>())
      .def("reshape", &Tensor::reshape, nb::arg("shape"),
           "The same data with another shape; one dimension may be -1.")
      .def("copy_from", &Tensor::copy_from, nb::arg("source"),
           nb::call_guard<nb::gil_scoped_release>(),
           "Copies `source`'s elements (same count and dtype, any device) into this tensor.")
      .def(
          "fill_", [](Tensor& t, double v) -> Tensor& { return t.fill_(v); }, nb::arg("value"),
          nb::rv_policy::reference)
      .def(
          "astype",
          [](const Tensor& t, const std::string& dtype) {
            const DType target = parse_dtype(dtype);
            if (target == t.dtype()) return t;
            if (!t.device().is_cpu())
              throw InputError(
                  "astype works on CPU tensors; move the tensor with .to('cpu') first");
            return t.to(target);
          },
          nb::arg("dtype"), "float32 <-> float64 on the CPU.")
      .def("same_storage", &Tensor::same_storage, nb::arg("other"))
      .def(
          "_view", [](const Tensor& t) { return nb::ndarray<nb::array_api>(ndarray_view(t)); },
          "An array-API object over this tensor's memory (no copy).")
      .def(
          "_numpy_view",
          [](const Tensor& t) {
            if (!t.device().is_cpu())
              throw InputError("a NumPy view needs a CPU tensor; this one is on " +
                               t.device().str());
            return nb::ndarray<nb::numpy>(ndarray_view(t));
          },
          "A NumPy array over this CPU tensor's memory (no copy).")
      .def("__dlpack_device__",
           [](const Tensor& t) {
             const int type =
                 t.device().is_cuda() ? nb::device::cuda::value : nb::device::cpu::value;
             return nb::make_tuple(type, t.device().is_cuda() ? t.device().index : 0);
           })
      .def(
          "__dlpack__",
          [](const Tensor& t, nb::kwargs kwargs) {
            // ndarray_view waits for the device, so any consumer stream may read at once.
            return nb::cast(nb::ndarray<nb::array_api>(ndarray_view(t)))
                .attr("__dlpack__")(**kwargs);
          },
          nb::arg("kwargs"), "The DLPack protocol: a capsule over this tensor's memory.");

  m.def("_tensor_over", &tensor_over, nb::arg("array"),
        "A tensor over an array's memory (NumPy, or anything with __dlpack__), without a copy.");
  m.def(
      "empty",
      [](const std::vector<std::int64_t>& shape, const std::string& dtype,
         const std::string& device) {
        return Tensor::empty(shape_of(shape), parse_dtype(dtype), Device::parse(device));
      },
      nb::arg("shape"), nb::arg("dtype") = "float32", nb::arg("device") = "cpu");
  m.def(
      "full",
      [](const std::vector<std::int64_t>& shape, double value, const std::string& dtype,
         const std::string& device) {
        return Tensor::full(shape_of(shape), value, parse_dtype(dtype), Device::parse(device));
      },
      nb::arg("shape"), nb::arg("value"), nb::arg("dtype") = "float32", nb::arg("device") = "cpu");
  m.def("cuda_available", &cuda_available, "True when this build has CUDA and a GPU answers.");
  m.def("cuda_device_count", &cuda_device_count);
  m.def("cuda_status", &cuda_status);
  m.def("built_with_cuda", &built_with_cuda);
  m.def("built_with_cudnn", &built_with_cudnn);
}

}  // namespace dlfs::python
