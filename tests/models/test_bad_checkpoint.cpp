// Bad checkpoints: every defect is one InputError sentence naming the file (and the tensor).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/safetensors.hpp"
#include "support/reliability_expect.hpp"
#include "support/safetensors_bytes.hpp"

namespace dlfs {
namespace {

using dlfs::testing::expect_one_sentence_input_error;

class BadCheckpoint : public ::testing::Test {
 protected:
  std::string dir = ::testing::TempDir() + "dlfs_bad_ckpt_" + std::to_string(::getpid());
  std::string path = dir + "/model.safetensors";
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }

  void write_raw(const std::string& bytes) const {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string read_raw() const {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static std::string with_header(const std::string& header, const std::string& data = "") {
    return testing::safetensors_with_header(header, data);
  }
  std::string expect_load_error(std::initializer_list<std::string> phrases) const {
    return expect_one_sentence_input_error([&] { load_safetensors(path); }, "'" + path + "'",
                                           phrases);
  }
};

TEST_F(BadCheckpoint, MissingFile) {
  expect_load_error({"does not exist"});
}

TEST_F(BadCheckpoint, DirectoryInsteadOfFile) {
  std::filesystem::create_directory(path);
  expect_load_error({"is not a regular file"});
}

TEST_F(BadCheckpoint, FifoIsRefusedWithoutHanging) {
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  expect_load_error({"is not a regular file"});
}

TEST_F(BadCheckpoint, EmptyFile) {
  write_raw("");
  expect_load_error({"is not a safetensors file", "0 bytes"});
}

TEST_F(BadCheckpoint, ShorterThanTheLengthField) {
  write_raw("abc");
  expect_load_error({"is not a safetensors file", "3 bytes"});
}

TEST_F(BadCheckpoint, TextFileIsNotASafetensorsFile) {
  write_raw("This is a README, not a checkpoint.\n");
  // Its first 8 bytes read as a huge header length.
  expect_load_error({"is not a safetensors file", "is larger than the file"});
}

TEST_F(BadCheckpoint, HeaderLargerThanTheFile) {
  write_raw(std::string("\xff\xff\xff\xff\x00\x00\x00\x00", 8) + "{}");
  expect_load_error({"header length 4294967295 is larger than the file (10 bytes)"});
}

TEST_F(BadCheckpoint, HugeHeaderLengthIsRefusedBeforeAllocating) {
  write_raw(std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8) + "{}");
  expect_load_error({"is larger than the file"});
}

TEST_F(BadCheckpoint, HeaderNotJson) {
  write_raw(with_header("not json at all"));
  expect_load_error({"is not a safetensors file: its header is not JSON", "invalid JSON at byte"});
}

TEST_F(BadCheckpoint, HeaderJsonButNotAnObject) {
  write_raw(with_header("[1, 2, 3]"));
  expect_load_error({"its header is not a JSON object"});
}

TEST_F(BadCheckpoint, HeaderNestedTooDeep) {
  write_raw(with_header(std::string(100000, '[') + std::string(100000, ']')));
  expect_load_error({"header is not JSON", "nesting deeper than 64"});
}

TEST_F(BadCheckpoint, UnknownDtype) {
  write_raw(with_header(R"({"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})", "xx"));
  expect_load_error({"tensor 'w'", "unsupported dtype 'BF16'"});
}

TEST_F(BadCheckpoint, EntryWithoutDtypeShapeOrOffsets) {
  write_raw(with_header(R"({"w":{"shape":[1]}})"));
  expect_load_error({"tensor 'w' without a dtype string"});
  write_raw(with_header(R"({"w":"F32"})"));
  expect_load_error({"tensor 'w' without a dtype string"});
  write_raw(with_header(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "1234"));
  expect_load_error({"tensor 'w' without a dtype string"});
}

TEST_F(BadCheckpoint, NegativeOrFractionalShape) {
  write_raw(with_header(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "1234"));
  expect_load_error({"tensor 'w' whose shape holds something other than a size"});
  write_raw(with_header(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "1234"));
  expect_load_error({"tensor 'w' whose shape holds something other than a size"});
}

TEST_F(BadCheckpoint, ShapeProductOverflows) {
  // 2^40 x 2^40 wraps a 64-bit count to 0, which would match an empty byte range.
  write_raw(with_header(
      R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}})"));
  expect_load_error({"tensor 'w' whose shape claims more than 2^40 elements"});
  // A zero after huge dimensions would still overflow Shape::numel on the way.
  write_raw(with_header(
      R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776,0],"data_offsets":[0,0]}})"));
  expect_load_error({"more than 2^40 elements"});
}

TEST_F(BadCheckpoint, OffsetsPastTheEnd) {
  write_raw(with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234"));
  expect_load_error(
      {"tensor 'w' whose data_offsets [0, 8] run past the end of the data (4 bytes)"});
  write_raw(with_header(
      R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[100000000000000000,100000000000000004]}})",
      "1234"));
  expect_load_error({"run past the end of the data"});
}

TEST_F(BadCheckpoint, OffsetsDecreasingOrNegative) {
  write_raw(with_header(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", "12345678"));
  expect_load_error({"tensor 'w' whose data_offsets are not two increasing sizes"});
  write_raw(with_header(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "1234"));
  expect_load_error({"data_offsets are not two increasing sizes"});
}

TEST_F(BadCheckpoint, OffsetsOverlap) {
  write_raw(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                        "12345678"));
  expect_load_error({"tensors 'a' and 'b' whose data_offsets overlap"});
}

TEST_F(BadCheckpoint, SizeDisagreesWithShapeAndDtype) {
  write_raw(with_header(R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", "12345678"));
  expect_load_error({"tensor 'w' of 8 bytes where its shape and dtype need 16"});
}

TEST_F(BadCheckpoint, DuplicateTensorName) {
  write_raw(with_header(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                        "12345678"));
  expect_load_error({"tensor 'w' twice"});
}

TEST_F(BadCheckpoint, MetadataThatIsNotStrings) {
  write_raw(with_header(R"({"__metadata__":{"epoch":3}})"));
  expect_load_error({"metadata 'epoch' that is not a string"});
  write_raw(with_header(R"({"__metadata__":[1]})"));
  expect_load_error({"__metadata__ entry that is not a JSON object"});
}

TEST_F(BadCheckpoint, ControlCharactersInANameStayOnOneLine) {
  write_raw(with_header(R"({"a\nb":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}})", "x"));
  const std::string m = expect_load_error({"tensor 'a\\x0ab'"});
}

TEST_F(BadCheckpoint, LongNamesAreCut) {
  const std::string name(5000, 'n');
  write_raw(
      with_header("{\"" + name + R"(":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}})", "x"));
  const std::string m = expect_load_error({"...' of unsupported dtype"});
  EXPECT_LT(m.size(), 400u) << m;
}

TEST_F(BadCheckpoint, EveryTruncationOfAGoodFileIsRefused) {
  save_safetensors(path,
                   {{"w", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
                    {"b", Tensor::from_vector<float>({7, 8}, {2})}},
                   {{"k", "v"}});
  const std::string whole = read_raw();
  ASSERT_EQ(load_safetensors(path).tensors.size(), 2u);
  // Every cut inside the length field and the header's start, then every 5th byte.
  for (std::size_t n = 0; n < whole.size(); n += n < 24 ? 1 : 5) {
    SCOPED_TRACE("cut to " + std::to_string(n) + " of " + std::to_string(whole.size()) + " bytes");
    write_raw(whole.substr(0, n));
    expect_load_error({});
  }
}

TEST_F(BadCheckpoint, CorruptHeaderBytesAreRefusedOrReadNeverCrash) {
  // Random single-byte corruptions of the header: each either still parses to a valid file or
  // is an InputError sentence. (The libFuzzer target in fuzz/ goes much further.)
  save_safetensors(path, {{"w", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
                          {"steps", Tensor::from_vector<std::int64_t>({7}, {})}});
  const std::string whole = read_raw();
  const std::size_t header_end = 8 + static_cast<unsigned char>(whole[0]);
  std::mt19937 rng(1234);
  int refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = whole;
    bytes[rng() % header_end] = static_cast<char>(rng() % 256);
    write_raw(bytes);
    try {
      load_safetensors(path);
    } catch (const InputError& e) {
      const std::string m = e.what();
      ASSERT_EQ(m.find('\n'), std::string::npos) << m;
      ASSERT_EQ(m.back(), '.') << m;
      ++refused;
    }
  }
  EXPECT_GT(refused, 100);
}

// --- The file is a valid safetensors file, but not of this model ---------------------------

class BadCheckpointForModel : public BadCheckpoint {
 protected:
  Model model = build_model("two-layer-net");
  std::vector<std::pair<std::string, Tensor>> state = model_state(model);
  std::string expect_weights_error(std::initializer_list<std::string> phrases) {
    return expect_one_sentence_input_error(
        [&] { load_weights(model, load_safetensors(path), path); }, "'" + path + "'", phrases);
  }
};

TEST_F(BadCheckpointForModel, TheModelsOwnStateLoads) {
  ASSERT_GE(state.size(), 4u);
  // Distinct values in every tensor, so a loader that skipped, swapped or reordered tensors
  // (or elements) shows.
  double v = 0.5;
  for (auto& [name, t] : state) {
    std::vector<double> values(static_cast<std::size_t>(t.numel()));
    for (double& x : values) x = (v += 0.25);
    t.copy_from(Tensor::from_vector<double>(values, t.shape()).to(t.dtype()));
  }
  save_model(path, model);
  // Into a model whose weights are all zero: every tensor must come back as saved.
  Model other = build_model("two-layer-net");
  std::vector<std::pair<std::string, Tensor>> other_state = model_state(other);
  ASSERT_EQ(other_state.size(), state.size());
  for (auto& [name, t] : other_state) t.copy_from(Tensor::zeros(t.shape(), t.dtype()));
  EXPECT_NO_THROW(load_weights(other, load_safetensors(path), path));
  Model loaded = load_model(path);
  EXPECT_EQ(loaded.name, "two-layer-net");
  const std::vector<std::pair<std::string, Tensor>> loaded_state = model_state(loaded);
  ASSERT_EQ(loaded_state.size(), state.size());
  other_state = model_state(other);
  for (std::size_t i = 0; i < state.size(); ++i) {
    SCOPED_TRACE(state[i].first);
    EXPECT_EQ(other_state[i].first, state[i].first);
    EXPECT_EQ(loaded_state[i].first, state[i].first);
    const std::vector<double> saved = state[i].second.to(DType::Float64).to_vector<double>();
    EXPECT_EQ(other_state[i].second.to(DType::Float64).to_vector<double>(), saved);
    EXPECT_EQ(loaded_state[i].second.to(DType::Float64).to_vector<double>(), saved);
  }
}

TEST_F(BadCheckpointForModel, TensorOfTheWrongShape) {
  auto tensors = state;
  const std::string name = tensors[0].first;
  tensors[0].second = Tensor::zeros({3, 3});
  save_safetensors(path, tensors);
  expect_weights_error({"holds tensor '" + name + "' as float32 [3, 3]",
                        "model two-layer-net needs float32 " + state[0].second.shape().str()});
}

TEST_F(BadCheckpointForModel, TensorOfTheWrongDtype) {
  auto tensors = state;
  tensors[1].second = tensors[1].second.to(DType::Float64);
  save_safetensors(path, tensors);
  expect_weights_error({"holds tensor '" + state[1].first + "' as float64", "needs float32"});
}

TEST_F(BadCheckpointForModel, MissingTensorsAreNamed) {
  auto tensors = state;
  const std::string first = tensors.front().first, last = tensors.back().first;
  tensors.erase(tensors.begin());
  tensors.pop_back();
  save_safetensors(path, tensors);
  const std::string m = expect_weights_error(
      {"lacks 2 tensors that model two-layer-net needs: " + first + ", " + last + "."});
}

TEST_F(BadCheckpointForModel, ExtraTensorsAreNamed) {
  auto tensors = state;
  tensors.emplace_back("head.weight", Tensor::zeros({2}));
  save_safetensors(path, tensors);
  expect_weights_error({"has 1 tensor that model two-layer-net does not: head.weight."});
}

TEST_F(BadCheckpointForModel, ManyMissingTensorsAreCounted) {
  Model big = build_model("resnet18");
  save_model(path, model);  // two-layer-net's 4 tensors: resnet18 lacks over a hundred
  const std::string m =
      expect_one_sentence_input_error([&] { load_weights(big, load_safetensors(path), path); },
                                      "'" + path + "'", {"that model resnet18 needs: ", " more."});
  EXPECT_LT(m.size(), 600u) << m;
}

TEST_F(BadCheckpointForModel, NoDlfsMetadata) {
  save_safetensors(path, state);
  expect_one_sentence_input_error([&] { load_model(path); }, "'" + path + "'",
                                  {"has no 'dlfs_model' metadata"});
}

TEST_F(BadCheckpointForModel, UnknownModelInMetadata) {
  save_safetensors(path, state, {{kMetaModel, "gpt5"}, {kMetaVariant, "28"}, {kMetaClasses, "10"}});
  expect_one_sentence_input_error(
      [&] { load_model(path); }, "'" + path + "'",
      {"has metadata dlfs_model 'gpt5'; it must be a dlfs model (", "lenet5"});
}

TEST_F(BadCheckpointForModel, ImplausibleClassCountInMetadata) {
  for (const char* bad :
       {"ten", "0", "-3", "99999999999999999999", "2000000000", "10x", " 10", "+10", "100001"}) {
    save_safetensors(path, state,
                     {{kMetaModel, "two-layer-net"}, {kMetaVariant, "28"}, {kMetaClasses, bad}});
    expect_one_sentence_input_error(
        [&] { load_model(path); }, "'" + path + "'",
        {"dlfs_classes '" + std::string(bad) + "'", "it must be a class count from 1 to 100000"});
  }
}

TEST_F(BadCheckpointForModel, ClassCountThatDisagreesWithTheTensors) {
  save_safetensors(path, state,
                   {{kMetaModel, "two-layer-net"}, {kMetaVariant, "28"}, {kMetaClasses, "7"}});
  expect_one_sentence_input_error([&] { load_model(path); }, "'" + path + "'",
                                  {"as float32", "needs float32"});
}

// --- Saving ------------------------------------------------------------------------------------

TEST_F(BadCheckpoint, SaveIntoAMissingDirectoryNamesTheCheckpoint) {
  const std::string target = dir + "/no/such/dir/model.safetensors";
  expect_one_sentence_input_error(
      [&] {
        save_safetensors(target, {{"a", Tensor::zeros({1})}});
      },
      "'" + target + "'", {"cannot be written"});
}

TEST_F(BadCheckpoint, SaveRemovesTemporariesOfDeadProcessesOnly) {
  // A process killed mid-save leaves model.safetensors.tmp.<pid>; the next save cleans it up.
  const std::string dead = path + ".tmp.999999999";  // above any Linux pid_max
  const std::string alive = path + ".tmp.1";         // init is always running
  const std::string other = dir + "/other.safetensors.tmp.999999999";
  for (const auto& f : {dead, alive, other}) std::ofstream(f) << "partial";
  save_safetensors(path, {{"a", Tensor::zeros({1})}});
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(alive));
  EXPECT_TRUE(std::filesystem::exists(other));  // another checkpoint's: not ours to judge
  EXPECT_EQ(load_safetensors(path).tensors.size(), 1u);
}

}  // namespace
}  // namespace dlfs
