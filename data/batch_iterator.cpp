#include "dlfs/data/batch_iterator.hpp"

#include <algorithm>
#include <string>

#include "dlfs/data/shuffle.hpp"
#include "dlfs/runtime/counter_rng.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

BatchIterator::BatchIterator(const Dataset& dataset, std::int64_t batch_size, bool shuffle,
                             std::uint64_t seed)
    : dataset_(dataset), batch_size_(batch_size), shuffle_(shuffle), seed_(seed) {
  if (batch_size < 1)
    throw InputError("The batch size must be at least 1, not " + std::to_string(batch_size) + ".");
  check_dataset(dataset_, "BatchIterator");
  start_epoch(0);
}

void BatchIterator::start_epoch(std::int64_t epoch) {
  order_ = identity_order(dataset_.size());
  if (shuffle_) {
    // A generator per epoch, seeded from (seed, epoch): epochs do not depend on one another.
    Generator gen(rng::bits(seed_, static_cast<std::uint64_t>(epoch)));
    shuffle_in_place(order_, gen);
  }
  epoch_ = epoch;
  cursor_ = 0;
}

void BatchIterator::skip(std::int64_t batches) {
  if (batches < 0 || batches > batches_per_epoch())
    throw InputError("cannot skip " + std::to_string(batches) + " batches of an epoch of " +
                     std::to_string(batches_per_epoch()) + ".");
  cursor_ = std::min(dataset_.size(), batches * batch_size_);
}

std::int64_t BatchIterator::batches_per_epoch() const {
  return (dataset_.size() + batch_size_ - 1) / batch_size_;
}

bool BatchIterator::next(Batch& batch) {
  // Hand the previous batch's blocks back to the pool first, so the new one can reuse them.
  batch = Batch{};
  const std::int64_t n = dataset_.size();
  if (cursor_ >= n) return false;
  const std::int64_t global = std::min(batch_size_, n - cursor_);
  // Rank r of R takes global / R samples, one more for the first global % R ranks.
  const std::int64_t base = global / shard_count_, extra = global % shard_count_;
  const std::int64_t count = base + (shard_rank_ < extra ? 1 : 0);
  const std::int64_t first = shard_rank_ * base + std::min<std::int64_t>(shard_rank_, extra);
  std::vector<std::int64_t> dims = dataset_.images.shape().dims();
  dims[0] = count;
  batch.images = Tensor::empty(Shape(dims), DType::Float32);
  batch.labels = Tensor::empty({count}, DType::Int32);
  batch.global_size = global;
  gather_samples(dataset_, order_.data() + cursor_ + first, count, batch.images, batch.labels);
  // Keyed by the global position, so a shard's samples get the transforms of one process's run.
  augment_batch(batch.images, augment_, static_cast<std::uint64_t>(epoch_), cursor_ + first);
  cursor_ += global;
  return true;
}

void BatchIterator::set_shard(int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks)
    throw Error("BatchIterator::set_shard: rank " + std::to_string(rank) + " of " +
                std::to_string(ranks));
  shard_rank_ = rank;
  shard_count_ = ranks;
}

}  // namespace dlfs::data
