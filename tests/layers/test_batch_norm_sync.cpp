// Synchronised BatchNorm: a batch split between two processes (here two threads whose sums meet
// in the middle) normalizes, updates its running statistics and backpropagates as one
// BatchNorm over the whole batch does.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "dlfs/layers/batch_norm.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"

namespace dlfs {
namespace {

// Two participants; each sum returns a + b (in that order, so both get the same bits).
class PairedSum {
 public:
  void sum(int who, std::vector<double>& values) {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::uint64_t round = round_;
    deposited_[who] = values;
    if (++arrived_ == 2) {
      result_.assign(values.size(), 0.0);
      for (std::size_t i = 0; i < values.size(); ++i)
        result_[i] = deposited_[0][i] + deposited_[1][i];
      arrived_ = 0;
      ++round_;
      ready_.notify_all();
    } else {
      ready_.wait(lock, [&] { return round_ != round; });
    }
    values = result_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<double> deposited_[2], result_;
  int arrived_ = 0;
  std::uint64_t round_ = 0;
};

// Rows [first, first + count) of a [N, ...] float tensor.
Tensor rows(const Tensor& t, std::int64_t first, std::int64_t count) {
  std::vector<std::int64_t> dims = t.shape().dims();
  const std::int64_t row = t.numel() / dims[0];
  dims[0] = count;
  Tensor out = Tensor::empty(Shape(dims));
  std::memcpy(out.data<float>(), t.data<float>() + first * row,
              static_cast<std::size_t>(count * row) * sizeof(float));
  return out;
}

void set_parameters(BatchNorm& bn, std::uint64_t seed) {
  const std::int64_t c = bn.num_features();
  std::vector<float> gamma = testing::random_normal({c}, seed, 0.3).to_vector<float>();
  for (float& g : gamma) g += 1.0f;
  bn.weight().value.copy_from(Tensor::from_vector<float>(gamma, {c}));
  bn.bias().value.copy_from(testing::random_normal({c}, seed + 1, 0.2));
  bn.running_mean().value.copy_from(testing::random_normal({c}, seed + 2, 0.1));
}

void check_split_matches_whole(const Shape& shape, std::int64_t first_rows) {
  const std::int64_t n = shape[0], c = shape[1];
  const Tensor x = testing::random_normal(shape, 7, 2.0), dy = testing::random_normal(shape, 8);
  BatchNorm whole(c), part[2] = {BatchNorm(c), BatchNorm(c)};
  for (BatchNorm* bn : {&whole, &part[0], &part[1]}) set_parameters(*bn, 21);
  const Tensor y = whole.forward({x}, Mode::Train);
  const Tensor dx = whole.backward(dy)[0];

  PairedSum paired;
  const std::int64_t counts[2] = {first_rows, n - first_rows}, firsts[2] = {0, first_rows};
  Tensor y_part[2], dx_part[2];
  std::thread threads[2];
  for (int who = 0; who < 2; ++who) {
    part[who].synchronise_statistics(
        [&paired, who](std::vector<double>& v) { paired.sum(who, v); });
    threads[who] = std::thread([&, who] {
      y_part[who] = part[who].forward({rows(x, firsts[who], counts[who])}, Mode::Train);
      dx_part[who] = part[who].backward(rows(dy, firsts[who], counts[who]))[0];
    });
  }
  for (std::thread& t : threads) t.join();
  for (int who = 0; who < 2; ++who) {
    EXPECT_TENSORS_CLOSE(rows(y, firsts[who], counts[who]), y_part[who], 1e-5);
    EXPECT_TENSORS_CLOSE(rows(dx, firsts[who], counts[who]), dx_part[who], 1e-5);
    EXPECT_TENSORS_CLOSE(whole.running_mean().value, part[who].running_mean().value, 1e-5);
    EXPECT_TENSORS_CLOSE(whole.running_var().value, part[who].running_var().value, 1e-5);
    EXPECT_EQ(part[who].num_batches_tracked().value.to_vector<std::int64_t>()[0], 1);
  }
  // Each part's parameter gradients are its own share; together they are the whole batch's.
  std::vector<float> dgamma(static_cast<std::size_t>(c)), dbeta(static_cast<std::size_t>(c));
  for (int who = 0; who < 2; ++who) {
    const auto g = part[who].weight().grad.to_vector<float>(),
               b = part[who].bias().grad.to_vector<float>();
    for (std::int64_t k = 0; k < c; ++k) dgamma[k] += g[k], dbeta[k] += b[k];
  }
  EXPECT_TENSORS_CLOSE(whole.weight().grad, Tensor::from_vector<float>(dgamma, {c}), 1e-5);
  EXPECT_TENSORS_CLOSE(whole.bias().grad, Tensor::from_vector<float>(dbeta, {c}), 1e-5);
}

TEST(BatchNormSync, ImagesSplitUnevenlyActAsOneBatch) {
  check_split_matches_whole({7, 3, 5, 4}, 2);
}

TEST(BatchNormSync, FeaturesSplitActAsOneBatch) {
  check_split_matches_whole({10, 6}, 6);
}

TEST(BatchNormSync, WithoutTheOtherHalfTheStatisticsDiffer) {
  // The check above can fail: one half's own statistics are not the whole batch's.
  const Tensor x = testing::random_normal({8, 3}, 9, 2.0);
  BatchNorm whole(3), half(3);
  const Tensor y = whole.forward({x}, Mode::Train);
  const Tensor y_half = half.forward({rows(x, 0, 4)}, Mode::Train);
  EXPECT_GT(testing::max_difference(rows(y, 0, 4), y_half).max_relative, 1e-3);
}

}  // namespace
}  // namespace dlfs
