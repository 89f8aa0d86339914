#include <gtest/gtest.h>

#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs {
namespace {

TEST(Device, ParsesNames) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::cpu().str(), "cpu");
  EXPECT_EQ(Device::cuda(1).str(), "cuda:1");
  const Device automatic = Device::parse("auto");
  EXPECT_EQ(automatic.is_cuda(), cuda_available());
}

TEST(Device, RejectsUnknownNamesInOneSentence) {
  try {
    Device::parse("tpu");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "device 'tpu' is not one of cpu, cuda, cuda:N or auto");
  }
  EXPECT_THROW(Device::parse("cuda:x"), InputError);
  EXPECT_THROW(Device::parse("cuda:"), InputError);
}

TEST(Device, MissingGpuIsReportedNotFatal) {
  // Whatever the machine, these calls answer without throwing or aborting.
  const bool available = cuda_available();
  const std::string status = cuda_status();
  EXPECT_FALSE(status.empty());
  if (!available) {
    EXPECT_EQ(cuda_device_count(), 0);
    EXPECT_EQ(status.rfind("no CUDA device", 0), 0u) << status;
    try {
      Device::parse("cuda");
      FAIL() << "cuda accepted without a GPU";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("not available"), std::string::npos);
    }
  } else {
    EXPECT_GT(cuda_device_count(), 0);
  }
}

}  // namespace
}  // namespace dlfs
