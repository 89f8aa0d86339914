#include "dlfs/kernels/reduce.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
double sum(const T* x, std::int64_t n) {
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]);
  return s;
}

template <typename T>
std::int64_t accuracy_count(const T* scores, const std::int32_t* labels, std::int64_t rows,
                            std::int64_t cols) {
  std::int64_t correct = 0;  // an integer sum: the same in any order
#pragma omp parallel for reduction(+ : correct) if (rows * cols > 65536)
  for (std::int64_t n = 0; n < rows; ++n) {
    const T* row = scores + n * cols;
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < cols; ++c)
      if (row[c] > row[best]) best = c;
    correct += cols > 0 && best == labels[n];
  }
  return correct;
}

template double sum<float>(const float*, std::int64_t);
template double sum<double>(const double*, std::int64_t);
template std::int64_t accuracy_count<float>(const float*, const std::int32_t*, std::int64_t,
                                            std::int64_t);
template std::int64_t accuracy_count<double>(const double*, const std::int32_t*, std::int64_t,
                                             std::int64_t);

}  // namespace dlfs::kernels::cpu
