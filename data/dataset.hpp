#pragma once
// A labelled image set in host memory: what a data split (train, validation, test) holds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs::data {

struct Dataset {
  Tensor images;  // float32 [N, C, H, W] on the host; [0, 1] until normalized
  Tensor labels;  // int32 [N] on the host, each in [0, num_classes)
  int num_classes = 0;

  std::int64_t size() const { return labels.defined() ? labels.dim(0) : 0; }
  // Elements of one image: C * H * W.
  std::int64_t sample_numel() const;
  // A new dataset with the samples at `indices`, in that order (copies the data).
  Dataset select(const std::vector<std::int64_t>& indices) const;
  // The first min(n, size()) samples (copies the data).
  Dataset first(std::int64_t n) const;
};

// Copies the samples at indices[0..count) of `source` into `images` ([count, C, H, W] float32)
// and `labels` ([count] int32), which the caller allocated.
void gather_samples(const Dataset& source, const std::int64_t* indices, std::int64_t count,
                    Tensor& images, Tensor& labels);

// Throws dlfs::Error unless the dataset's tensors have the shapes, dtypes and label range above.
void check_dataset(const Dataset& dataset, const char* what);

// The value that every pixel of every image in `dataset` holds, or nothing when two differ or
// there are no pixels. Such a set carries no information for a model to learn from.
std::optional<float> uniform_pixel_value(const Dataset& dataset);

// A dataset from 8-bit pixels ([N, H, W] or [N, C, H, W] row-major, scaled by 1/255) and 8-bit
// labels. Throws InputError naming `labels_name` when a label is not below num_classes.
Dataset dataset_from_bytes(const std::uint8_t* pixels, const std::vector<std::int64_t>& image_dims,
                           const std::uint8_t* label_bytes, int num_classes,
                           const std::string& labels_name);

}  // namespace dlfs::data
