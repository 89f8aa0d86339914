#pragma once
// A tensor's shape: sizes of each dimension, outermost first (NCHW for images).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace dlfs {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::vector<std::int64_t> dims);

  int ndim() const { return static_cast<int>(dims_.size()); }
  std::int64_t operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  // Dimension i, where negative i counts from the end as in Python.
  std::int64_t dim(int i) const;
  std::int64_t numel() const;
  const std::vector<std::int64_t>& dims() const { return dims_; }
  std::string str() const;  // "[3, 5, 7]"

  bool operator==(const Shape& other) const { return dims_ == other.dims_; }
  bool operator!=(const Shape& other) const { return dims_ != other.dims_; }

 private:
  void validate() const;
  std::vector<std::int64_t> dims_;
};

}  // namespace dlfs
