#include "dlfs/kernels/shuffle.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

Tensor random_permutation(std::int64_t n, std::uint64_t seed, const Device& device) {
  if (n < 0) throw Error("random_permutation: negative length " + std::to_string(n));
  Tensor indices = Tensor::empty({n}, DType::Int64, device);
  // Sort keys are unsigned 64-bit words; an Int64 tensor of the same size holds them.
  Tensor keys = Tensor::empty({n}, DType::Int64, device);
  auto* key_words = static_cast<std::uint64_t*>(keys.raw_data());
  if (device.is_cuda()) {
    DLFS_CUDA_CALL("random_permutation",
                   cuda::random_permutation(indices.data<std::int64_t>(), key_words, n, seed,
                                            device.index, stream_of(indices)));
    return indices;
  }
  cpu::random_permutation(indices.data<std::int64_t>(), key_words, n, seed);
  return indices;
}

}  // namespace dlfs::kernels
