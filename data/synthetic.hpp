#pragma once
// A learnable synthetic image set for tests and smoke runs: class c is a Gaussian blob centred
// at its own point on a circle around the image centre, with per-sample jitter of the centre
// and pixel noise. A small MLP or CNN separates the classes well above chance within an epoch.
#include <cstdint>

#include "dlfs/data/dataset.hpp"

namespace dlfs::data {

struct SyntheticOptions {
  std::int64_t samples = 1000;
  int num_classes = 10;
  std::int64_t height = 28;
  std::int64_t width = 28;
  double jitter = 1.0;       // standard deviation of the blob centre, in pixels
  double pixel_noise = 0.1;  // standard deviation of additive noise before clamping to [0, 1]
  std::uint64_t seed = 0;
};

// float32 [samples, 1, height, width] images in [0, 1] and uniformly random labels.
Dataset make_synthetic_blobs(const SyntheticOptions& options);

}  // namespace dlfs::data
