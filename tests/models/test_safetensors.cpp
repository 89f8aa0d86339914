#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "dlfs/models/safetensors.hpp"

namespace dlfs {
namespace {

class Safetensors : public ::testing::Test {
 protected:
  std::string path =
      ::testing::TempDir() + "dlfs_st_" + std::to_string(::getpid()) + ".safetensors";
  void TearDown() override { std::remove(path.c_str()); }
};

TEST_F(Safetensors, RoundTripsTensorsAndMetadata) {
  Tensor w = Tensor::from_vector<float>({1.5f, -2, 3, 4, 5, 6}, {2, 3});
  Tensor steps = Tensor::from_vector<std::int64_t>({7}, {});
  save_safetensors(path, {{"conv1.weight", w}, {"bn.num_batches_tracked", steps}},
                   {{"model", "lenet"}, {"note", "quote \" and \\"}});
  SafetensorsContents c = load_safetensors(path);
  EXPECT_EQ(c.metadata.at("model"), "lenet");
  EXPECT_EQ(c.metadata.at("note"), "quote \" and \\");
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.tensors[0].first, "conv1.weight");
  EXPECT_EQ(c.find("conv1.weight")->shape(), Shape({2, 3}));
  EXPECT_EQ(c.find("conv1.weight")->to_vector<float>(), w.to_vector<float>());
  EXPECT_EQ(c.find("bn.num_batches_tracked")->shape().ndim(), 0);
  EXPECT_EQ(c.find("bn.num_batches_tracked")->to_vector<std::int64_t>()[0], 7);
  EXPECT_EQ(c.find("nothing"), nullptr);
}

TEST_F(Safetensors, DataStartsAligned) {
  save_safetensors(path, {{"a", Tensor::zeros({3})}});
  std::ifstream in(path, std::ios::binary);
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  EXPECT_EQ((len[0] + 8) % 8, 0);
}

TEST_F(Safetensors, OverwriteIsAtomicAndLeavesNoTemporary) {
  save_safetensors(path, {{"a", Tensor::zeros({3})}});
  save_safetensors(path, {{"a", Tensor::full({3}, 2.0)}});
  EXPECT_EQ(load_safetensors(path).find("a")->to_vector<float>(), std::vector<float>(3, 2.0f));
  std::ifstream temp(path + ".tmp." + std::to_string(::getpid()));
  EXPECT_FALSE(temp.good());
}

// Bad files (each defect, one sentence naming the file) are tests/models/test_bad_checkpoint.cpp.

}  // namespace
}  // namespace dlfs
