#pragma once
// Fill a device buffer with one value (CUDA builds only; a grid-stride kernel on the stream).
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/dtype.hpp"

namespace dlfs {

void cuda_fill(void* dst, DType dtype, std::int64_t count, double value, CudaStream stream);

}  // namespace dlfs
