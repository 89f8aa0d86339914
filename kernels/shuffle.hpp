#pragma once
// A random permutation of [0, n) for shuffling a data set each epoch, drawn the same on every
// device: index i gets the key rng::bits(seed, i) (runtime/counter_rng.hpp) and the indices are
// stably sorted by key. A seed thus gives one permutation on the CPU and on any GPU (ties of
// 64-bit keys, astronomically rare, keep index order on both).
// On CUDA the sort is Thrust's stable radix sort, its temporaries drawn from the dlfs pool.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// indices: [n] output; keys: [n] workspace.
void random_permutation(std::int64_t* indices, std::uint64_t* keys, std::int64_t n,
                        std::uint64_t seed);
}  // namespace cpu

namespace cuda {
// `device` names the GPU whose pool lends Thrust its temporary storage. Does not wait.
void random_permutation(std::int64_t* indices, std::uint64_t* keys, std::int64_t n,
                        std::uint64_t seed, int device, CudaStream stream);
}  // namespace cuda

// An Int64 tensor [n] on `device` holding a permutation of 0 .. n-1 fixed by `seed`.
Tensor random_permutation(std::int64_t n, std::uint64_t seed, const Device& device = Device::cpu());

}  // namespace dlfs::kernels
