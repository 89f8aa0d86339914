#include <string>

#include <cublas_v2.h>
#include "dlfs/emulation/device_memory.hpp"
#include "dlfs/emulation/runtime_state.hpp"

struct cublasContext {
  int device;
  cudaStream_t stream;
};

namespace {

struct LastFailure {
  cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
  std::string detail;
};

LastFailure& last_failure() {
  static thread_local LastFailure f;
  return f;
}

cublasStatus_t fail(cublasStatus_t status, const std::string& detail) {
  LastFailure& f = last_failure();
  f.status = status;
  f.detail = std::string(cublasGetStatusName(status)) + " (dlfs CUDA emulation: " + detail + ")";
  return status;
}

// The elements a column-major rows x cols matrix with leading dimension ld spans.
std::size_t span(int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return 0;
  return static_cast<std::size_t>(cols - 1) * static_cast<std::size_t>(ld) +
         static_cast<std::size_t>(rows);
}

bool on_device(const float* p, std::size_t elements, int device) {
  if (elements == 0) return true;
  dlfs::emulation::Allocation a;
  return dlfs::emulation::find_allocation(p, elements * sizeof(float), &a) && a.device == device;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  *handle = new cublasContext{dlfs::emulation::current_device(), nullptr};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetStream on a null handle");
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetStream on a null handle");
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float* alpha,
                           const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  using namespace dlfs::emulation;
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSgemm on a null handle");
  if (current_device() != handle->device)
    return fail(CUBLAS_STATUS_EXECUTION_FAILED,
                "cublasSgemm with a handle of cuda:" + std::to_string(handle->device) +
                    " while cuda:" + std::to_string(current_device()) + " is current");
  const bool ta = transa != CUBLAS_OP_N, tb = transb != CUBLAS_OP_N;
  // op(A) is m x k: A is stored m x k (lda >= m) or, transposed, k x m (lda >= k).
  const int a_rows = ta ? k : m, a_cols = ta ? m : k;
  const int b_rows = tb ? n : k, b_cols = tb ? k : n;
  const auto at_least_one = [](int rows) { return rows > 1 ? rows : 1; };
  if (m < 0 || n < 0 || k < 0 || lda < at_least_one(a_rows) || ldb < at_least_one(b_rows) ||
      ldc < at_least_one(m))
    return fail(CUBLAS_STATUS_INVALID_VALUE,
                "cublasSgemm(m=" + std::to_string(m) + ", n=" + std::to_string(n) +
                    ", k=" + std::to_string(k) + ", lda=" + std::to_string(lda) +
                    ", ldb=" + std::to_string(ldb) + ", ldc=" + std::to_string(ldc) +
                    "): a leading dimension is smaller than its matrix's stored rows");
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  const bool reads_ab = k > 0 && *alpha != 0.0f;
  if ((reads_ab && (!on_device(A, span(a_rows, a_cols, lda), handle->device) ||
                    !on_device(B, span(b_rows, b_cols, ldb), handle->device))) ||
      !on_device(C, span(m, n, ldc), handle->device))
    return fail(CUBLAS_STATUS_INVALID_VALUE,
                "cublasSgemm: A, B or C with its leading dimension reaches past its device "
                "allocation on cuda:" +
                    std::to_string(handle->device));
  DeviceAccess open;
  const float a_scale = *alpha, c_scale = *beta;
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double sum = 0.0;
      if (reads_ab)
        for (int l = 0; l < k; ++l) {
          const float a = ta ? A[l + static_cast<std::size_t>(i) * lda]
                             : A[i + static_cast<std::size_t>(l) * lda];
          const float b = tb ? B[j + static_cast<std::size_t>(l) * ldb]
                             : B[l + static_cast<std::size_t>(j) * ldb];
          sum += static_cast<double>(a) * b;
        }
      float& c = C[i + static_cast<std::size_t>(j) * ldc];
      // beta == 0 means C is not read (it may hold NaN), as cuBLAS documents.
      const float scaled = a_scale * static_cast<float>(sum);
      c = c_scale == 0.0f ? scaled : scaled + c_scale * c;
    }
  }
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  const LastFailure& f = last_failure();
  if (status != CUBLAS_STATUS_SUCCESS && status == f.status) return f.detail.c_str();
  return cublasGetStatusName(status);
}
