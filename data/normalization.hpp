#pragma once
// Per-dataset normalization x' = (x - mean) / std, with one mean and one std over every pixel of
// the training split (as the usual Fashion-MNIST transforms: mean 0.2860, std 0.3530), then
// applied unchanged to validation and test so no statistics leak from them.
#include "dlfs/data/dataset.hpp"

namespace dlfs::data {

struct Normalization {
  double mean = 0.0;
  double stddev = 1.0;

  // Mean and population standard deviation over all of `train`'s pixels (accumulated in
  // double). Constant images (std 0) get std 1: they are centred, not scaled. Throws InputError
  // when the set is empty.
  static Normalization fit(const Dataset& train);
  // Normalizes `dataset`'s images in place: copies of the Dataset share them and see it too.
  void apply(Dataset& dataset) const;
};

}  // namespace dlfs::data
