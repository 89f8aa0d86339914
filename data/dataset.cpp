#include "dlfs/data/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

std::int64_t Dataset::sample_numel() const {
  if (!images.defined() || images.ndim() == 0 || images.dim(0) == 0) return 0;
  return images.numel() / images.dim(0);
}

void check_dataset(const Dataset& dataset, const char* what) {
  const std::string name = what;
  if (!dataset.images.defined() || !dataset.labels.defined())
    throw Error(name + ": the dataset has no images or labels");
  const Tensor& x = dataset.images;
  const Tensor& y = dataset.labels;
  if (x.ndim() != 4 || x.dtype() != DType::Float32 || !x.device().is_cpu())
    throw Error(name + ": images must be float32 [N, C, H, W] on the host, got " + x.str());
  if (y.ndim() != 1 || y.dtype() != DType::Int32 || !y.device().is_cpu())
    throw Error(name + ": labels must be int32 [N] on the host, got " + y.str());
  if (x.dim(0) != y.dim(0))
    throw Error(name + ": " + x.str() + " images but " + y.str() + " labels");
  if (dataset.num_classes <= 0)
    throw Error(name + ": num_classes is " + std::to_string(dataset.num_classes));
}

void gather_samples(const Dataset& source, const std::int64_t* indices, std::int64_t count,
                    Tensor& images, Tensor& labels) {
  const std::int64_t n = source.size();
  const std::int64_t per = source.sample_numel();
  if (images.numel() != count * per || labels.numel() != count)
    throw Error("gather_samples: outputs " + images.str() + " and " + labels.str() +
                " do not hold " + std::to_string(count) + " samples");
  const float* x = source.images.data<float>();
  const std::int32_t* y = source.labels.data<std::int32_t>();
  float* xo = images.data<float>();
  std::int32_t* yo = labels.data<std::int32_t>();
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t j = indices[i];
    if (j < 0 || j >= n)
      throw Error("gather_samples: index " + std::to_string(j) + " outside a dataset of " +
                  std::to_string(n));
    std::memcpy(xo + i * per, x + j * per, static_cast<std::size_t>(per) * sizeof(float));
    yo[i] = y[j];
  }
}

Dataset Dataset::select(const std::vector<std::int64_t>& indices) const {
  check_dataset(*this, "Dataset::select");
  std::vector<std::int64_t> dims = images.shape().dims();
  const auto count = static_cast<std::int64_t>(indices.size());
  dims[0] = count;
  Dataset out;
  out.num_classes = num_classes;
  out.images = Tensor::empty(Shape(dims), DType::Float32);
  out.labels = Tensor::empty({count}, DType::Int32);
  gather_samples(*this, indices.data(), count, out.images, out.labels);
  return out;
}

Dataset Dataset::first(std::int64_t n) const {
  std::vector<std::int64_t> indices(
      static_cast<std::size_t>(std::clamp<std::int64_t>(n, 0, size())));
  for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<std::int64_t>(i);
  return select(indices);
}

std::optional<float> uniform_pixel_value(const Dataset& dataset) {
  if (!dataset.images.defined() || dataset.images.numel() == 0) return std::nullopt;
  const float* x = dataset.images.data<float>();
  const std::int64_t n = dataset.images.numel();
  for (std::int64_t i = 1; i < n; ++i)
    if (x[i] != x[0]) return std::nullopt;
  return x[0];
}

Dataset dataset_from_bytes(const std::uint8_t* pixels, const std::vector<std::int64_t>& image_dims,
                           const std::uint8_t* label_bytes, int num_classes,
                           const std::string& labels_name) {
  std::vector<std::int64_t> dims = image_dims;
  if (dims.size() == 3) dims.insert(dims.begin() + 1, 1);  // one channel
  if (dims.size() != 4) throw Error("dataset_from_bytes: images must be [N, H, W] or [N, C, H, W]");
  const std::int64_t n = dims[0];
  Dataset d;
  d.num_classes = num_classes;
  d.images = Tensor::empty(Shape(dims), DType::Float32);
  d.labels = Tensor::empty({n}, DType::Int32);
  float* x = d.images.data<float>();
  const std::int64_t total = d.images.numel();
  for (std::int64_t i = 0; i < total; ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
  std::int32_t* y = d.labels.data<std::int32_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    if (label_bytes[i] >= num_classes)
      throw InputError("Labels '" + labels_name + "' hold label " + std::to_string(label_bytes[i]) +
                       " at item " + std::to_string(i) + ", outside the " +
                       std::to_string(num_classes) + " classes.");
    y[i] = label_bytes[i];
  }
  return d;
}

}  // namespace dlfs::data
