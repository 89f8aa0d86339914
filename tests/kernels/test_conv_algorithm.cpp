// kernels/conv_algorithm.hpp: the names and the DLFS_CONV environment variable.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "dlfs/kernels/conv_algorithm.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::kernels {
namespace {

TEST(ConvAlgorithm, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_conv_algorithm("im2col"), ConvAlgorithm::Im2col);
  EXPECT_EQ(parse_conv_algorithm("Auto"), ConvAlgorithm::Auto);
  EXPECT_EQ(parse_conv_algorithm("oneDNN"), ConvAlgorithm::Onednn);
  EXPECT_STREQ(conv_algorithm_name(ConvAlgorithm::Auto), "auto");
  EXPECT_STREQ(conv_algorithm_name(ConvAlgorithm::Onednn), "onednn");
  EXPECT_EQ(parse_conv_algorithm("cuDNN"), ConvAlgorithm::Cudnn);
  EXPECT_STREQ(conv_algorithm_name(ConvAlgorithm::Cudnn), "cudnn");
  EXPECT_STREQ(conv_algorithm_name(ConvAlgorithm::Im2col), "im2col");
  EXPECT_EQ(parse_conv_algorithm("Winograd"), ConvAlgorithm::Winograd);
  EXPECT_STREQ(conv_algorithm_name(ConvAlgorithm::Winograd), "winograd");
  try {
    parse_conv_algorithm("fft");
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown convolution algorithm \"fft\"; expected \"auto\", \"im2col\", "
                 "\"onednn\", \"winograd\" or \"cudnn\"");
  }
}

TEST(ConvAlgorithm, EnvironmentVariableSelectsTheDefault) {
  const char* saved = std::getenv("DLFS_CONV");
  const std::string saved_value = saved ? saved : "";
  setenv("DLFS_CONV", "cudnn", 1);
  EXPECT_EQ(conv_algorithm_from_environment(), ConvAlgorithm::Cudnn);
  setenv("DLFS_CONV", "IM2COL", 1);
  EXPECT_EQ(conv_algorithm_from_environment(), ConvAlgorithm::Im2col);
  setenv("DLFS_CONV", "fft", 1);
  EXPECT_THROW(conv_algorithm_from_environment(), InputError);
  unsetenv("DLFS_CONV");
  EXPECT_EQ(conv_algorithm_from_environment(), ConvAlgorithm::Auto);
  if (saved) setenv("DLFS_CONV", saved_value.c_str(), 1);
}

}  // namespace
}  // namespace dlfs::kernels
