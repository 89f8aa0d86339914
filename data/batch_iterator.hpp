#pragma once
// Mini-batches over a dataset, one epoch at a time. With shuffling on, epoch e visits the samples
// in a permutation that depends only on (seed, e), so a resumed run sees the same batches; with
// shuffling off it keeps the dataset's order. The last, smaller batch is kept, so every sample
// is visited exactly once per epoch. Sharded (set_shard), each of a run's ranks gets its part of
// every batch, so together they visit each sample once per epoch in the same order.
//
// With augmentation set (set_augmentation, training only), next() crops and flips each image by
// its sample's global position in the epoch's order (data/augment.hpp), so sharding and skip()
// change nothing about which transform a sample gets.
//
// Batch tensors come from the host caching pool (Tensor::empty) and `next` drops the previous
// batch before taking the next, so after the first epoch no batch needs a raw host allocation.
#include <cstdint>
#include <vector>

#include "dlfs/data/augment.hpp"
#include "dlfs/data/dataset.hpp"

namespace dlfs::data {

struct Batch {
  Tensor images;  // float32 [B, C, H, W] on the host
  Tensor labels;  // int32 [B] on the host
  // Samples in the global batch this one is a shard of (== size() unless sharded).
  std::int64_t global_size = 0;

  std::int64_t size() const { return labels.defined() ? labels.dim(0) : 0; }
};

class BatchIterator {
 public:
  // Throws InputError when batch_size < 1. The dataset's tensors are shared, not copied.
  BatchIterator(const Dataset& dataset, std::int64_t batch_size, bool shuffle,
                std::uint64_t seed = 0);

  // Begins epoch `epoch` (0-based): a fresh permutation when shuffling.
  void start_epoch(std::int64_t epoch);
  // Skips the epoch's first `batches` mini-batches (resuming a run part-way through an epoch).
  void skip(std::int64_t batches);
  // Replaces `batch` with the next mini-batch of the epoch; false (and `batch` emptied) at its end.
  bool next(Batch& batch);
  // Data-parallel training: from now on next() returns rank `rank`'s shard of each batch of
  // batch_size() samples (the global batch), the ranks taking consecutive parts of it in rank
  // order, sizes differing by at most one; a shard may be empty at an epoch's end.
  void set_shard(int rank, int ranks);
  // From now on next() augments the images it returns (options.seed keys the random transforms).
  // Only a training split's iterator should have it: validation and test are judged as they are.
  void set_augmentation(const AugmentOptions& options) { augment_ = options; }

  std::int64_t batch_size() const { return batch_size_; }
  std::int64_t batches_per_epoch() const;
  // The sample order of the current epoch.
  const std::vector<std::int64_t>& order() const { return order_; }
  const Dataset& dataset() const { return dataset_; }

 private:
  Dataset dataset_;
  std::int64_t batch_size_;
  bool shuffle_;
  std::uint64_t seed_;
  std::vector<std::int64_t> order_;
  std::int64_t epoch_ = 0;
  std::int64_t cursor_ = 0;
  int shard_rank_ = 0, shard_count_ = 1;
  AugmentOptions augment_;
};

}  // namespace dlfs::data
