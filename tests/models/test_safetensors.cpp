#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "models/safetensors.hpp"

namespace dlfs {
namespace {

class Safetensors : public ::testing::Test {
 protected:
  std::string path =
      ::testing::TempDir() + "dlfs_st_" + std::to_string(::getpid()) + ".safetensors";
  void TearDown() override { std::remove(path.c_str()); }
  void write_raw(const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }
  static std::string with_header(const std::string& header, const std::string& data = "") {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    return out + header + data;
  }
  std::string error_of() {
    try {
      load_safetensors(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }
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

TEST_F(Safetensors, RejectsBadFilesInOneSentenceNamingTheFile) {
  write_raw("abc");
  EXPECT_NE(error_of().find("is not a safetensors file"), std::string::npos);
  EXPECT_NE(error_of().find(path), std::string::npos);

  write_raw(std::string("\xff\xff\xff\xff\x00\x00\x00\x00", 8) + "{}");
  EXPECT_NE(error_of().find("is larger than the file"), std::string::npos) << error_of();

  write_raw(with_header("not json"));
  EXPECT_NE(error_of().find("header is not JSON"), std::string::npos) << error_of();

  write_raw(with_header(R"({"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}})", "x"));
  EXPECT_NE(error_of().find("unsupported dtype 'Q8'"), std::string::npos) << error_of();

  write_raw(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234"));
  EXPECT_NE(error_of().find("run past the end"), std::string::npos) << error_of();

  write_raw(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "12345678"));
  EXPECT_NE(error_of().find("need 8"), std::string::npos) << error_of();

  write_raw(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                        "12345678"));
  EXPECT_NE(error_of().find("overlap"), std::string::npos) << error_of();

  write_raw(with_header(R"({"a":{"shape":[1]}})"));
  EXPECT_NE(error_of().find("tensor 'a' without a dtype"), std::string::npos) << error_of();

  std::remove(path.c_str());
  EXPECT_NE(error_of().find("does not exist"), std::string::npos) << error_of();
}

}  // namespace
}  // namespace dlfs
