#include "dlfs/runtime/tensor.hpp"

#include <algorithm>

#include "dlfs/runtime/counter_rng.hpp"
#include "dlfs/runtime/transfer.hpp"
#if DLFS_HAVE_CUDA
#include "dlfs/runtime/device_fill.hpp"
#endif

namespace dlfs {

namespace {

template <typename T>
void fill_host(void* dst, std::int64_t n, double value) {
  std::fill(static_cast<T*>(dst), static_cast<T*>(dst) + n, static_cast<T>(value));
}

template <typename Src, typename Dst>
void convert_host(const void* src, void* dst, std::int64_t n) {
  const Src* s = static_cast<const Src*>(src);
  Dst* d = static_cast<Dst*>(dst);
  for (std::int64_t i = 0; i < n; ++i) d[i] = static_cast<Dst>(s[i]);
}

bool is_floating(DType t) {
  return t == DType::Float32 || t == DType::Float64;
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, const Device& device) {
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ = std::make_shared<Storage>(t.nbytes(), device);
  return t;
}

Tensor Tensor::from_external(void* data, const Shape& shape, DType dtype, const Device& device,
                             std::shared_ptr<void> owner) {
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  if (!data && t.nbytes() > 0) throw Error("Tensor::from_external: null data for " + t.str());
  t.storage_ = std::make_shared<Storage>(data, t.nbytes(), device, std::move(owner));
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, const Device& device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, const Device& device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype_)) + shape_.str() + " on " + device_.str();
}

void* Tensor::raw_data() const {
  check_defined("raw_data");
  return storage_->data();
}

void Tensor::check_dtype(DType expected) const {
  check_defined("data");
  if (dtype_ != expected)
    throw Error(std::string("tensor is ") + dtype_name(dtype_) + ", accessed as " +
                dtype_name(expected));
}

void Tensor::check_defined(const char* what) const {
  if (!defined()) throw Error(std::string(what) + ": the tensor is undefined");
}

Tensor Tensor::to(const Device& device) const {
  check_defined("to");
  if (device == device_) return *this;
  Tensor t = empty(shape_, dtype_, device);
  copy_bytes(t.raw_data(), device, raw_data(), device_, nbytes());
  return t;
}

Tensor Tensor::to(DType dtype) const {
  check_defined("to");
  if (dtype == dtype_) return *this;
  if (!device_.is_cpu()) throw Error("dtype conversion is host-only; move the tensor to the CPU");
  Tensor t = empty(shape_, dtype, device_);
  const std::int64_t n = numel();
  if (dtype_ == DType::Float32 && dtype == DType::Float64)
    convert_host<float, double>(raw_data(), t.raw_data(), n);
  else if (dtype_ == DType::Float64 && dtype == DType::Float32)
    convert_host<double, float>(raw_data(), t.raw_data(), n);
  else
    throw Error(std::string("no conversion from ") + dtype_name(dtype_) + " to " +
                dtype_name(dtype));
  return t;
}

Tensor Tensor::clone() const {
  check_defined("clone");
  Tensor t = empty(shape_, dtype_, device_);
  copy_bytes(t.raw_data(), device_, raw_data(), device_, nbytes());
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  check_defined("copy_from");
  src.check_defined("copy_from");
  if (src.numel() != numel() || src.dtype() != dtype_)
    throw Error("copy_from: cannot copy " + src.str() + " into " + str());
  copy_bytes(raw_data(), device_, src.raw_data(), src.device(), nbytes());
}

Tensor Tensor::reshape(const std::vector<std::int64_t>& dims) const {
  check_defined("reshape");
  std::vector<std::int64_t> out = dims;
  std::int64_t known = 1;
  int inferred = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (inferred >= 0) throw InputError("reshape: more than one -1 in the new shape");
      inferred = static_cast<int>(i);
    } else {
      known *= out[i];
    }
  }
  if (inferred >= 0) {
    if (known == 0 || numel() % known != 0)
      throw InputError("reshape: cannot infer a dimension of " + shape_.str());
    out[static_cast<std::size_t>(inferred)] = numel() / known;
  }
  Shape shape(out);
  if (shape.numel() != numel())
    throw InputError("reshape: " + shape_.str() + " has " + std::to_string(numel()) +
                     " elements, " + shape.str() + " needs " + std::to_string(shape.numel()));
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor& Tensor::fill_(double value) {
  check_defined("fill_");
  const std::int64_t n = numel();
  if (device_.is_cuda()) {
#if DLFS_HAVE_CUDA
    cuda_fill(raw_data(), dtype_, n, value, cuda_context(device_.index).stream());
    return *this;
#endif
  }
  switch (dtype_) {
    case DType::Float32:
      fill_host<float>(raw_data(), n, value);
      break;
    case DType::Float64:
      fill_host<double>(raw_data(), n, value);
      break;
    case DType::UInt8:
      fill_host<std::uint8_t>(raw_data(), n, value);
      break;
    case DType::Int32:
      fill_host<std::int32_t>(raw_data(), n, value);
      break;
    case DType::Int64:
      fill_host<std::int64_t>(raw_data(), n, value);
      break;
  }
  return *this;
}

// Random fills draw on the host from the counter-based stream and copy to the device, so a
// seed gives the same numbers on every device and machine.
Tensor& Tensor::uniform_(Generator& gen, double low, double high) {
  check_defined("uniform_");
  if (!is_floating(dtype_)) throw Error("uniform_ needs a floating point tensor, not " + str());
  Tensor host = device_.is_cpu() ? *this : empty(shape_, dtype_, Device::cpu());
  const std::int64_t n = numel();
  const std::uint64_t first = gen.reserve(static_cast<std::uint64_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double u = rng::uniform_double(gen.seed(), first + static_cast<std::uint64_t>(i));
    const double v = low + (high - low) * u;
    if (dtype_ == DType::Float32)
      host.data<float>()[i] = static_cast<float>(v);
    else
      host.data<double>()[i] = v;
  }
  if (!device_.is_cpu()) copy_from(host);
  return *this;
}

Tensor& Tensor::normal_(Generator& gen, double mean, double stddev) {
  check_defined("normal_");
  if (!is_floating(dtype_)) throw Error("normal_ needs a floating point tensor, not " + str());
  Tensor host = device_.is_cpu() ? *this : empty(shape_, dtype_, Device::cpu());
  const std::int64_t n = numel();
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = mean + stddev * gen.normal();
    if (dtype_ == DType::Float32)
      host.data<float>()[i] = static_cast<float>(v);
    else
      host.data<double>()[i] = v;
  }
  if (!device_.is_cpu()) copy_from(host);
  return *this;
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  if (a.shape() != b.shape())
    throw InputError(std::string(what) + ": shapes " + a.shape().str() + " and " + b.shape().str() +
                     " differ");
}

}  // namespace dlfs
