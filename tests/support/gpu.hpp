#pragma once
// GPU tests are always compiled; without a usable GPU they skip and say why.
#include <gtest/gtest.h>

#include "runtime/device.hpp"

#define DLFS_REQUIRE_GPU()                                                \
  do {                                                                    \
    if (!::dlfs::cuda_available()) GTEST_SKIP() << ::dlfs::cuda_status(); \
  } while (0)
