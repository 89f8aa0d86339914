#pragma once
// Dropout (inverted): in Train mode each element is zeroed with probability p and the survivors
// are scaled by 1 / (1 - p); in Inference mode the layer is the identity. The book scales at
// test time instead; docs/dropout.md explains why both agree in expectation.
//
// Masks come from the counter-based stream `seed`: each Train-mode forward uses counters
// offset .. offset + numel - 1 and then advances offset by numel, so every forward draws a fresh
// mask, the same on the CPU and the GPU. set_state() rewinds the stream (the gradient checker
// calls it before every forward so that all forwards share one mask).
#include <cstdint>

#include "dlfs/layers/layer.hpp"

namespace dlfs {

class Dropout : public Layer {
 public:
  // p: probability of dropping an element, in [0, 1].
  explicit Dropout(double p = 0.5, std::uint64_t seed = 0);

  std::string type() const override { return "Dropout"; }
  std::string describe() const override;
  // Inference mode returns the input tensor itself (no copy).
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;

  double p() const { return p_; }
  std::uint64_t seed() const { return seed_; }
  std::uint64_t offset() const { return offset_; }
  // Starts the stream `seed` from its beginning.
  void set_seed(std::uint64_t seed) { set_state(seed, 0); }
  void set_state(std::uint64_t seed, std::uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }

 private:
  double p_;
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
  Tensor mask_;  // uint8, 1 where the last Train-mode forward kept the element
};

}  // namespace dlfs
