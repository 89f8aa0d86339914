#pragma once
// Whole-tensor reductions whose answer the host wants: the sum of a tensor (losses gathered over
// an epoch) and the number of correct predictions. They return host numbers, so they wait for
// the device. On CUDA they run through Thrust (CUB underneath) with temporary storage drawn from
// the dlfs pool (kernels/cuda/thrust_allocator.cuh); float sums accumulate in double everywhere.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// Sequential sum in double: the same bits on every run and any thread count.
template <typename T>
double sum(const T* x, std::int64_t n);
// Rows of scores [rows, cols] whose argmax (the first index of the largest value, as
// numpy.argmax on ties) equals the row's label. Labels outside [0, cols) are never correct.
template <typename T>
std::int64_t accuracy_count(const T* scores, const std::int32_t* labels, std::int64_t rows,
                            std::int64_t cols);
}  // namespace cpu

namespace cuda {
// `device` names the GPU whose pool lends Thrust its temporary storage.
double sum(const float* x, std::int64_t n, int device, CudaStream stream);
std::int64_t accuracy_count(const float* scores, const std::int32_t* labels, std::int64_t rows,
                            std::int64_t cols, int device, CudaStream stream);
}  // namespace cuda

// Sum of every element of a floating tensor, accumulated in double.
double sum(const Tensor& x);
// How many rows of scores [N, C] have their argmax equal to their Int32 label ([N]).
std::int64_t accuracy_count(const Tensor& scores, const Tensor& labels);

}  // namespace dlfs::kernels
