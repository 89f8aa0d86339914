#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "dlfs/data/batch_iterator.hpp"
#include "dlfs/data/normalization.hpp"
#include "dlfs/data/shuffle.hpp"
#include "dlfs/data/synthetic.hpp"
#include "dlfs/data/validation_split.hpp"
#include "dlfs/runtime/device_pools.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::data {
namespace {

// n samples of 1x2x2 images whose four pixels all equal i / 1000, labelled i % classes, so a
// sample's index can be read back from any batch.
Dataset indexed_dataset(std::int64_t n, int classes = 3) {
  Dataset d;
  d.num_classes = classes;
  d.images = Tensor::empty({n, 1, 2, 2});
  d.labels = Tensor::empty({n}, DType::Int32);
  for (std::int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) d.images.data<float>()[i * 4 + k] = static_cast<float>(i) / 1000;
    d.labels.data<std::int32_t>()[i] = static_cast<std::int32_t>(i % classes);
  }
  return d;
}

std::vector<std::int64_t> indices_of(const Dataset& d) {
  std::vector<std::int64_t> out;
  const float* x = d.images.data<float>();
  for (std::int64_t i = 0; i < d.size(); ++i) out.push_back(std::lround(x[i * 4] * 1000));
  return out;
}

std::vector<std::int64_t> indices_of(const Batch& b) {
  std::vector<std::int64_t> out;
  const float* x = b.images.data<float>();
  for (std::int64_t i = 0; i < b.size(); ++i) out.push_back(std::lround(x[i * 4] * 1000));
  return out;
}

TEST(Dataset, SelectCopiesSamplesInTheGivenOrder) {
  Dataset d = indexed_dataset(10);
  Dataset s = d.select({7, 2, 2, 9});
  EXPECT_EQ(s.images.shape(), Shape({4, 1, 2, 2}));
  EXPECT_EQ(indices_of(s), (std::vector<std::int64_t>{7, 2, 2, 9}));
  EXPECT_EQ(s.labels.to_vector<std::int32_t>(), (std::vector<std::int32_t>{1, 2, 2, 0}));
  EXPECT_FALSE(s.images.same_storage(d.images));
  EXPECT_EQ(d.first(3).size(), 3);
  EXPECT_THROW(d.select({10}), Error);
}

TEST(Normalization, FitsMeanAndStdOnTrainAndAppliesThemElsewhere) {
  Dataset train;
  train.num_classes = 2;
  train.images = Tensor::from_vector<float>({0.0f, 0.5f, 1.0f, 0.5f}, {2, 1, 1, 2});
  train.labels = Tensor::from_vector<std::int32_t>({0, 1}, {2});
  const Normalization n = Normalization::fit(train);
  EXPECT_DOUBLE_EQ(n.mean, 0.5);
  EXPECT_DOUBLE_EQ(n.stddev, std::sqrt(0.125));
  Dataset test;
  test.num_classes = 2;
  test.images = Tensor::from_vector<float>({0.25f, 1.0f}, {1, 1, 1, 2});
  test.labels = Tensor::from_vector<std::int32_t>({1}, {1});
  n.apply(test);
  const std::vector<float> x = test.images.to_vector<float>();
  EXPECT_FLOAT_EQ(x[0], static_cast<float>(-0.25 / std::sqrt(0.125)));
  EXPECT_FLOAT_EQ(x[1], static_cast<float>(0.5 / std::sqrt(0.125)));
  n.apply(train);
  const Normalization after = Normalization::fit(train);
  EXPECT_NEAR(after.mean, 0.0, 1e-7);
  EXPECT_NEAR(after.stddev, 1.0, 1e-6);
}

TEST(Normalization, ConstantImagesAreCentredNotScaled) {
  // Training on blank images goes on (dlfs train warns): nothing to scale, so std 1.
  Dataset d = indexed_dataset(1);
  const Normalization n = Normalization::fit(d);
  EXPECT_DOUBLE_EQ(n.mean, 0.0);
  EXPECT_DOUBLE_EQ(n.stddev, 1.0);
  Dataset empty = indexed_dataset(0);
  EXPECT_THROW(Normalization::fit(empty), InputError);
}

TEST(Shuffle, IsAPermutationFixedBySeed) {
  Generator a(42), b(42), c(43);
  const std::vector<std::int64_t> pa = shuffled_order(1000, a);
  EXPECT_EQ(pa, shuffled_order(1000, b));
  EXPECT_NE(pa, shuffled_order(1000, c));
  std::vector<std::int64_t> sorted = pa;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, identity_order(1000));
  EXPECT_NE(pa, identity_order(1000));
}

TEST(Shuffle, AllPermutationsOfThreeAreAboutEquallyLikely) {
  Generator gen(7);
  std::map<std::vector<std::int64_t>, int> counts;
  const int trials = 12000;
  for (int t = 0; t < trials; ++t) ++counts[shuffled_order(3, gen)];
  ASSERT_EQ(counts.size(), 6u);
  // Expected 2000 each; the standard deviation is about 41, so 200 is ~5 sigma.
  for (const auto& [perm, count] : counts) EXPECT_NEAR(count, trials / 6, 200);
}

TEST(ValidationSplit, SizesAndDisjointCoverage) {
  Dataset d = indexed_dataset(103);
  TrainValidationSplit s = split_validation(d, 0.2, 5);
  EXPECT_EQ(s.validation.size(), 20);  // floor(0.2 * 103), as the book's int(N * rate)
  EXPECT_EQ(s.train.size(), 83);
  std::vector<std::int64_t> train = indices_of(s.train), val = indices_of(s.validation);
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));  // original order kept
  EXPECT_TRUE(std::is_sorted(val.begin(), val.end()));
  std::vector<std::int64_t> all = train;
  all.insert(all.end(), val.begin(), val.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, identity_order(103));
  // Labels travel with their images.
  const std::vector<std::int32_t> labels = s.validation.labels.to_vector<std::int32_t>();
  for (std::size_t i = 0; i < val.size(); ++i) EXPECT_EQ(labels[i], val[i] % 3);
  EXPECT_EQ(s.validation.num_classes, 3);
}

TEST(ValidationSplit, SeededAndDeterministic) {
  Dataset d = indexed_dataset(50);
  const auto v1 = indices_of(split_validation(d, 0.3, 1).validation);
  EXPECT_EQ(v1, indices_of(split_validation(d, 0.3, 1).validation));
  EXPECT_NE(v1, indices_of(split_validation(d, 0.3, 2).validation));
  EXPECT_EQ(split_validation(d, 0.0, 1).train.size(), 50);
  EXPECT_THROW(split_validation(d, 1.0, 1), InputError);
  EXPECT_THROW(split_validation(d, -0.1, 1), InputError);
}

TEST(BatchIterator, KeepsOrderWithShuffleOffAndKeepsTheLastPartialBatch) {
  BatchIterator it(indexed_dataset(10), 3, /*shuffle=*/false);
  EXPECT_EQ(it.batches_per_epoch(), 4);
  Batch b;
  std::vector<std::int64_t> sizes, seen;
  while (it.next(b)) {
    EXPECT_EQ(b.images.shape(), Shape({b.size(), 1, 2, 2}));
    EXPECT_EQ(b.labels.dtype(), DType::Int32);
    sizes.push_back(b.size());
    for (std::int64_t i : indices_of(b)) seen.push_back(i);
  }
  EXPECT_EQ(b.size(), 0);
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{3, 3, 3, 1}));
  EXPECT_EQ(seen, identity_order(10));
}

TEST(BatchIterator, ShuffledEpochsCoverEverySampleOnceInSeededOrders) {
  const Dataset d = indexed_dataset(37);
  BatchIterator it(d, 8, /*shuffle=*/true, 11);
  std::vector<std::vector<std::int64_t>> epochs;
  for (int e = 0; e < 3; ++e) {
    it.start_epoch(e);
    Batch b;
    std::vector<std::int64_t> seen;
    while (it.next(b)) {
      const std::vector<std::int32_t> labels = b.labels.to_vector<std::int32_t>();
      const std::vector<std::int64_t> idx = indices_of(b);
      for (std::size_t i = 0; i < idx.size(); ++i) EXPECT_EQ(labels[i], idx[i] % 3);
      seen.insert(seen.end(), idx.begin(), idx.end());
    }
    EXPECT_EQ(seen, it.order());
    std::vector<std::int64_t> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, identity_order(37)) << "epoch " << e;
    epochs.push_back(seen);
  }
  EXPECT_NE(epochs[0], epochs[1]);
  EXPECT_NE(epochs[1], epochs[2]);
  EXPECT_NE(epochs[0], identity_order(37));
  // An epoch's order depends only on (seed, epoch): another iterator, or a resumed one, agrees.
  BatchIterator again(d, 8, true, 11);
  again.start_epoch(1);
  EXPECT_EQ(again.order(), epochs[1]);
  BatchIterator other_seed(d, 8, true, 12);
  other_seed.start_epoch(1);
  EXPECT_NE(other_seed.order(), epochs[1]);
}

TEST(BatchIterator, ShardsSplitEachGlobalBatchInRankOrderAndTogetherCoverIt) {
  // 3 ranks, global batch 8 over 18 samples: batches of 8, 8 and 2; the last gives rank 2
  // nothing.
  const Dataset d = indexed_dataset(18);
  std::vector<std::vector<std::int64_t>> by_batch(3);
  std::vector<std::vector<std::int64_t>> sizes(3);
  for (int rank = 0; rank < 3; ++rank) {
    BatchIterator it(d, 8, /*shuffle=*/true, 5);
    it.set_shard(rank, 3);
    it.start_epoch(2);
    Batch b;
    for (int batch = 0; it.next(b); ++batch) {
      EXPECT_EQ(b.global_size, batch < 2 ? 8 : 2);
      sizes[rank].push_back(b.size());
      const std::vector<std::int64_t> idx = indices_of(b);
      by_batch[static_cast<std::size_t>(batch)].insert(
          by_batch[static_cast<std::size_t>(batch)].end(), idx.begin(), idx.end());
    }
    EXPECT_EQ(it.batches_per_epoch(), 3);
  }
  EXPECT_EQ(sizes[0], (std::vector<std::int64_t>{3, 3, 1}));
  EXPECT_EQ(sizes[1], (std::vector<std::int64_t>{3, 3, 1}));
  EXPECT_EQ(sizes[2], (std::vector<std::int64_t>{2, 2, 0}));
  // Rank after rank, the shards are the unsharded iterator's batches, sample for sample.
  BatchIterator whole(d, 8, true, 5);
  whole.start_epoch(2);
  Batch b;
  for (int batch = 0; whole.next(b); ++batch)
    EXPECT_EQ(by_batch[static_cast<std::size_t>(batch)], indices_of(b)) << "batch " << batch;
  EXPECT_THROW(whole.set_shard(3, 3), Error);
}

TEST(BatchIterator, RefusesABatchSizeBelowOne) {
  EXPECT_THROW(BatchIterator(indexed_dataset(4), 0, false), InputError);
}

TEST(BatchIterator, SteadyStateMakesNoRawHostAllocations) {
  SyntheticOptions o;
  o.samples = 1000;
  o.seed = 3;
  BatchIterator it(make_synthetic_blobs(o), 64, true, 1);  // 15 full batches and one of 40
  CachingPool& pool = memory_pool(Device::cpu());
  Batch b;
  ASSERT_TRUE(it.next(b));  // the first batch may take a segment from the system
  const std::uint64_t raw_after_first = pool.stats().raw_allocations;
  const std::uint64_t allocations_after_first = pool.stats().allocations;
  std::int64_t batches = 1;
  for (int epoch = 0; epoch < 20; ++epoch) {
    if (epoch > 0) it.start_epoch(epoch);
    while (it.next(b)) ++batches;
  }
  EXPECT_EQ(batches, 1 + 20 * 16 - 1);
  EXPECT_EQ(pool.stats().raw_allocations, raw_after_first);
  // The batches did go through the pool (two tensors each).
  EXPECT_EQ(pool.stats().allocations - allocations_after_first,
            static_cast<std::uint64_t>(2 * (batches - 1)));
}

TEST(SyntheticBlobs, ShapesRangeAndDeterminism) {
  SyntheticOptions o;
  o.samples = 200;
  o.num_classes = 4;
  o.height = 12;
  o.width = 10;
  o.seed = 9;
  Dataset a = make_synthetic_blobs(o), b = make_synthetic_blobs(o);
  EXPECT_EQ(a.images.shape(), Shape({200, 1, 12, 10}));
  EXPECT_EQ(a.num_classes, 4);
  EXPECT_EQ(a.images.to_vector<float>(), b.images.to_vector<float>());
  EXPECT_EQ(a.labels.to_vector<std::int32_t>(), b.labels.to_vector<std::int32_t>());
  for (float v : a.images.to_vector<float>()) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
  std::set<std::int32_t> classes;
  for (std::int32_t y : a.labels.to_vector<std::int32_t>()) classes.insert(y);
  EXPECT_EQ(classes, (std::set<std::int32_t>{0, 1, 2, 3}));
  o.seed = 10;
  EXPECT_NE(make_synthetic_blobs(o).images.to_vector<float>(), a.images.to_vector<float>());
}

TEST(SyntheticBlobs, AreLearnableByANearestClassMeanClassifier) {
  SyntheticOptions o;
  o.samples = 2000;
  o.seed = 4;
  const Dataset d = make_synthetic_blobs(o);
  const std::int64_t per = d.sample_numel(), half = d.size() / 2;
  const float* x = d.images.data<float>();
  const std::int32_t* y = d.labels.data<std::int32_t>();
  std::vector<std::vector<double>> means(10, std::vector<double>(per, 0.0));
  std::vector<int> counts(10, 0);
  for (std::int64_t i = 0; i < half; ++i) {
    ++counts[y[i]];
    for (std::int64_t k = 0; k < per; ++k) means[y[i]][k] += x[i * per + k];
  }
  for (int c = 0; c < 10; ++c)
    for (double& m : means[c]) m /= std::max(1, counts[c]);
  int correct = 0;
  for (std::int64_t i = half; i < d.size(); ++i) {
    int best = -1;
    double best_distance = INFINITY;
    for (int c = 0; c < 10; ++c) {
      double distance = 0.0;
      for (std::int64_t k = 0; k < per; ++k) {
        const double diff = x[i * per + k] - means[c][k];
        distance += diff * diff;
      }
      if (distance < best_distance) best_distance = distance, best = c;
    }
    correct += best == y[i];
  }
  EXPECT_GT(correct, 0.95 * static_cast<double>(d.size() - half));
}

}  // namespace
}  // namespace dlfs::data
