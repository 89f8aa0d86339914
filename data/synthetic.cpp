#include "dlfs/data/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

Dataset make_synthetic_blobs(const SyntheticOptions& options) {
  if (options.samples < 0 || options.num_classes < 1 || options.height < 1 || options.width < 1)
    throw InputError("Synthetic data needs samples >= 0, num_classes >= 1 and a positive size.");
  const std::int64_t n = options.samples, h = options.height, w = options.width;
  Dataset d;
  d.num_classes = options.num_classes;
  d.images = Tensor::empty({n, 1, h, w}, DType::Float32);
  d.labels = Tensor::empty({n}, DType::Int32);
  float* x = d.images.data<float>();
  std::int32_t* y = d.labels.data<std::int32_t>();

  Generator gen(options.seed);
  const double pi = 3.141592653589793;
  const double radius = 0.3 * static_cast<double>(std::min(h, w));
  const double sigma = std::max(0.5, static_cast<double>(std::min(h, w)) / 8.0);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto label = static_cast<int>(gen.below(static_cast<std::uint64_t>(options.num_classes)));
    y[i] = label;
    const double angle = 2.0 * pi * label / options.num_classes;
    const double cy = (h - 1) / 2.0 + radius * std::sin(angle) + options.jitter * gen.normal();
    const double cx = (w - 1) / 2.0 + radius * std::cos(angle) + options.jitter * gen.normal();
    float* image = x + i * h * w;
    for (std::int64_t r = 0; r < h; ++r) {
      for (std::int64_t c = 0; c < w; ++c) {
        const double d2 = (r - cy) * (r - cy) + (c - cx) * (c - cx);
        const double v = std::exp(-d2 / (2.0 * sigma * sigma)) + options.pixel_noise * gen.normal();
        image[r * w + c] = static_cast<float>(std::clamp(v, 0.0, 1.0));
      }
    }
  }
  return d;
}

}  // namespace dlfs::data
