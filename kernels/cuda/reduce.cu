#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/transform_reduce.h>

#include "dlfs/kernels/cuda/thrust_allocator.cuh"
#include "dlfs/kernels/reduce.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

struct ToDouble {
  __host__ __device__ double operator()(float v) const { return static_cast<double>(v); }
};

// 1 when row n's argmax (first index of the largest score) is its label. Thrust maps one
// thread to a row: rows are short (class scores) and the count is a cheap integer reduction.
struct RowIsCorrect {
  const float* scores;
  const std::int32_t* labels;
  std::int64_t cols;
  __host__ __device__ std::int64_t operator()(std::int64_t n) const {
    const float* row = scores + n * cols;
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < cols; ++c)
      if (row[c] > row[best]) best = c;
    return cols > 0 && best == labels[n] ? 1 : 0;
  }
};
}  // namespace

double sum(const float* x, std::int64_t n, int device, CudaStream stream) {
  if (n == 0) return 0.0;
  ThrustPoolAllocator alloc(device, stream);
  return thrust::transform_reduce(thrust_on(alloc, stream), x, x + n, ToDouble{}, 0.0,
                                  thrust::plus<double>());
}

std::int64_t accuracy_count(const float* scores, const std::int32_t* labels, std::int64_t rows,
                            std::int64_t cols, int device, CudaStream stream) {
  if (rows == 0) return 0;
  ThrustPoolAllocator alloc(device, stream);
  const thrust::counting_iterator<std::int64_t> first(0);
  return thrust::transform_reduce(thrust_on(alloc, stream), first, first + rows,
                                  RowIsCorrect{scores, labels, cols}, std::int64_t{0},
                                  thrust::plus<std::int64_t>());
}

}  // namespace dlfs::kernels::cuda
