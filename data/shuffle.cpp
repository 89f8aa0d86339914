#include "dlfs/data/shuffle.hpp"

#include <utility>

namespace dlfs::data {

std::vector<std::int64_t> identity_order(std::int64_t n) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n > 0 ? n : 0));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  return order;
}

void shuffle_in_place(std::vector<std::int64_t>& order, Generator& gen) {
  for (std::size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(gen.below(i));
    std::swap(order[i - 1], order[j]);
  }
}

std::vector<std::int64_t> shuffled_order(std::int64_t n, Generator& gen) {
  std::vector<std::int64_t> order = identity_order(n);
  shuffle_in_place(order, gen);
  return order;
}

}  // namespace dlfs::data
