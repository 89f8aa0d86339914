#include <cstring>

#include "dlfs/kernels/concat.hpp"

namespace dlfs::kernels::cpu {

// One memcpy per row: rows are whole images' channel blocks, thousands of elements long.
template <typename T>
void copy_rows_into(const T* src, std::int64_t rows, std::int64_t src_row, T* dst,
                    std::int64_t dst_row, std::int64_t offset) {
#pragma omp parallel for if (rows * src_row > 65536)
  for (std::int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_row + offset, src + r * src_row,
                static_cast<std::size_t>(src_row) * sizeof(T));
}

template <typename T>
void copy_rows_out_of(const T* src, std::int64_t rows, std::int64_t src_row, std::int64_t offset,
                      T* dst, std::int64_t dst_row) {
#pragma omp parallel for if (rows * dst_row > 65536)
  for (std::int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_row, src + r * src_row + offset,
                static_cast<std::size_t>(dst_row) * sizeof(T));
}

template void copy_rows_into<float>(const float*, std::int64_t, std::int64_t, float*, std::int64_t,
                                    std::int64_t);
template void copy_rows_into<double>(const double*, std::int64_t, std::int64_t, double*,
                                     std::int64_t, std::int64_t);
template void copy_rows_out_of<float>(const float*, std::int64_t, std::int64_t, std::int64_t,
                                      float*, std::int64_t);
template void copy_rows_out_of<double>(const double*, std::int64_t, std::int64_t, std::int64_t,
                                       double*, std::int64_t);

}  // namespace dlfs::kernels::cpu
