#include "dlfs/runtime/shape.hpp"

#include "dlfs/runtime/error.hpp"

namespace dlfs {

Shape::Shape(std::initializer_list<std::int64_t> dims) : dims_(dims) {
  validate();
}
Shape::Shape(std::vector<std::int64_t> dims) : dims_(std::move(dims)) {
  validate();
}

void Shape::validate() const {
  for (auto d : dims_)
    if (d < 0) throw InputError("shape " + str() + " has a negative dimension");
}

std::int64_t Shape::dim(int i) const {
  int n = ndim();
  int k = i < 0 ? i + n : i;
  if (k < 0 || k >= n)
    throw Error("dimension " + std::to_string(i) + " is out of range for shape " + str());
  return dims_[static_cast<std::size_t>(k)];
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (auto d : dims_) n *= d;
  return n;
}

std::string Shape::str() const {
  std::string s = "[";
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

}  // namespace dlfs
