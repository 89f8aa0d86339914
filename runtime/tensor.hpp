#pragma once
// A dense, contiguous, row-major (NCHW for images) tensor on one device.
// Copying a Tensor shares its storage (like a PyTorch tensor handle); clone() copies the data.
// Moves between devices are explicit: to(Device) is the only way data crosses.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/dtype.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/generator.hpp"
#include "dlfs/runtime/shape.hpp"
#include "dlfs/runtime/storage.hpp"

namespace dlfs {

class Tensor {
 public:
  Tensor() = default;  // undefined: holds no storage

  static Tensor empty(const Shape& shape, DType dtype = DType::Float32,
                      const Device& device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32,
                      const Device& device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32,
                     const Device& device = Device::cpu());
  // A host tensor holding `values` (which must have shape.numel() elements).
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);

  // A tensor over memory dlfs did not allocate (contiguous, row-major, `device`'s memory), used
  // in place: writes through it change the owner's data. `owner` is held until the last tensor
  // sharing the storage goes (the Python bindings hand NumPy arrays and DLPack tensors this way).
  static Tensor from_external(void* data, const Shape& shape, DType dtype, const Device& device,
                              std::shared_ptr<void> owner);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  std::int64_t dim(int i) const { return shape_.dim(i); }
  std::int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  const Device& device() const { return device_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  // "float32[3, 5] on cpu"
  std::string str() const;

  void* raw_data() const;
  // Typed pointer; throws when T does not match dtype().
  template <typename T>
  T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(raw_data());
  }

  // A tensor on `device` with the same contents; *this when it is already there.
  Tensor to(const Device& device) const;
  // Host-only element type conversion (float32 <-> float64 for gradient checks).
  Tensor to(DType dtype) const;
  Tensor clone() const;
  // Copies src's elements into this tensor; shapes' element counts and dtypes must match.
  void copy_from(const Tensor& src);
  // Same storage, another shape with the same number of elements. One dimension may be -1.
  Tensor reshape(const std::vector<std::int64_t>& dims) const;
  // Copy of the contents on the host, as T (which must match dtype()).
  template <typename T>
  std::vector<T> to_vector() const;

  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  // Floating point only. The numbers depend on the generator's state, never on the device.
  Tensor& uniform_(Generator& gen, double low = 0.0, double high = 1.0);
  Tensor& normal_(Generator& gen, double mean = 0.0, double stddev = 1.0);

  // True when both share one storage.
  bool same_storage(const Tensor& other) const { return storage_ == other.storage_; }

 private:
  void check_dtype(DType expected) const;
  void check_defined(const char* what) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  DType dtype_ = DType::Float32;
  Device device_;
};

// Throws InputError when the two shapes differ, naming `what`.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  if (static_cast<std::int64_t>(values.size()) != shape.numel())
    throw InputError("from_vector: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape.str());
  Tensor t = empty(shape, dtype_of<T>(), Device::cpu());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  check_dtype(dtype_of<T>());
  Tensor host = to(Device::cpu());
  const T* p = host.data<T>();
  return std::vector<T>(p, p + numel());
}

}  // namespace dlfs
