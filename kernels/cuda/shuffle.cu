#include <thrust/iterator/counting_iterator.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/transform.h>

#include "dlfs/kernels/cuda/thrust_allocator.cuh"
#include "dlfs/kernels/shuffle.hpp"
#include "dlfs/runtime/counter_rng.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Thrust maps one thread to an index: its key depends only on (seed, index).
struct CounterKey {
  std::uint64_t seed;
  __host__ __device__ std::uint64_t operator()(std::int64_t i) const {
    return rng::bits(seed, static_cast<std::uint64_t>(i));
  }
};
}  // namespace

void random_permutation(std::int64_t* indices, std::uint64_t* keys, std::int64_t n,
                        std::uint64_t seed, int device, CudaStream stream) {
  if (n == 0) return;
  ThrustPoolAllocator alloc(device, stream);
  const thrust::counting_iterator<std::int64_t> first(0);
  thrust::transform(thrust_on(alloc, stream), first, first + n, keys, CounterKey{seed});
  thrust::sequence(thrust_on(alloc, stream), indices, indices + n);
  thrust::stable_sort_by_key(thrust_on(alloc, stream), keys, keys + n, indices);
}

}  // namespace dlfs::kernels::cuda
