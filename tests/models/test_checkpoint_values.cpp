// What a checkpoint holds, beyond its format: NaN or infinite tensor values, metadata values that
// are not what dlfs wrote, and PyTorch pickles given in place of safetensors files. Each is one
// InputError sentence naming the file (and the tensor or key), raised before any model changes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/safetensors.hpp"
#include "support/reliability_expect.hpp"
#include "support/safetensors_bytes.hpp"

namespace dlfs {
namespace {

using dlfs::testing::expect_one_sentence_input_error;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

class CheckpointValues : public ::testing::Test {
 protected:
  std::string dir = ::testing::TempDir() + "dlfs_ckpt_values_" + std::to_string(::getpid());
  std::string path = dir + "/model.safetensors";
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }

  void write_raw(const std::string& file, const std::string& bytes) const {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string expect_load_error(const std::string& file,
                                std::initializer_list<std::string> phrases) const {
    return expect_one_sentence_input_error([&] { load_safetensors(file); }, "'" + file + "'",
                                           phrases);
  }
};

// Every element of every tensor of the model, in state order.
std::vector<double> all_values(Model& model) {
  std::vector<double> out;
  for (auto& [name, t] : model_state(model))
    for (double v : t.to(DType::Float64).to_vector<double>()) out.push_back(v);
  return out;
}

// --- NaN and infinite values ------------------------------------------------------------------

TEST_F(CheckpointValues, NaNInAWeightIsRefusedWithTheCounts) {
  Model model = build_model("lenet5");
  auto state = model_state(model);
  std::vector<float> w = state[0].second.to_vector<float>();
  ASSERT_EQ(state[0].first, "conv1.weight");
  ASSERT_EQ(w.size(), 150u);
  w[0] = w[17] = w[149] = kNaN;
  state[0].second = Tensor::from_vector<float>(w, state[0].second.shape());
  save_safetensors(path, state,
                   {{kMetaModel, "lenet5"}, {kMetaVariant, "28"}, {kMetaClasses, "10"}});
  const std::string m = expect_load_error(
      path, {"has tensor 'conv1.weight' with 3 NaN and 0 infinite values of 150; the checkpoint "
             "is damaged."});
  EXPECT_EQ(m, "Checkpoint '" + path +
                   "' has tensor 'conv1.weight' with 3 NaN and 0 infinite values of 150; the "
                   "checkpoint is damaged.");
  expect_one_sentence_input_error([&] { load_model(path); }, "'" + path + "'",
                                  {"tensor 'conv1.weight' with 3 NaN"});
}

TEST_F(CheckpointValues, TheModelIsUnchangedWhenTheCheckpointHoldsNaN) {
  // The refusal comes from reading the file, before load_weights could copy anything: a model
  // being fine-tuned (--init-from) or resumed keeps every value it had.
  Model model = build_model("two-layer-net");
  auto state = model_state(model);
  std::vector<float> b = state.back().second.to_vector<float>();
  b.back() = kInf;
  state.back().second = Tensor::from_vector<float>(b, state.back().second.shape());
  save_safetensors(path, state);
  const std::vector<double> before = all_values(model);
  expect_one_sentence_input_error(
      [&] { load_weights(model, load_safetensors(path), path); }, "'" + path + "'",
      {"tensor '" + state.back().first + "' with 0 NaN and 1 infinite"});
  EXPECT_EQ(all_values(model), before);
}

TEST_F(CheckpointValues, InfinitiesOfBothSignsAndFloat64AreCounted) {
  save_safetensors(
      path, {{"ok", Tensor::from_vector<float>({1, 2}, {2})},
             {"optimizer.fc.weight.v",
              Tensor::from_vector<double>({1.0, -HUGE_VAL, HUGE_VAL, std::nan(""), 0}, {5})}});
  expect_load_error(path, {"tensor 'optimizer.fc.weight.v' with 1 NaN and 2 infinite values of 5"});
}

TEST_F(CheckpointValues, TheFirstDamagedTensorInFileOrderIsNamed) {
  save_safetensors(path, {{"a", Tensor::from_vector<float>({1, 2}, {2})},
                          {"b", Tensor::from_vector<float>({kNaN, 2}, {2})},
                          {"c", Tensor::from_vector<float>({kNaN, kNaN}, {2})}});
  expect_load_error(path, {"tensor 'b' with 1 NaN and 0 infinite values of 2"});
}

TEST_F(CheckpointValues, IntegerTensorsAndFiniteExtremesLoad) {
  const float big = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  save_safetensors(path, {{"w", Tensor::from_vector<float>({big, -big, tiny, -0.0f}, {4})},
                          {"steps", Tensor::from_vector<std::int64_t>({-1, 7}, {2})},
                          {"mask", Tensor::from_vector<std::uint8_t>({255, 0}, {2})}});
  EXPECT_EQ(load_safetensors(path).tensors.size(), 3u);
}

// --- PyTorch pickles ----------------------------------------------------------------------------

TEST_F(CheckpointValues, ATorchSaveZipIsRecognised) {
  // torch.save since PyTorch 1.6: a zip archive whose first entry is archive/data.pkl.
  const std::string pt = dir + "/model.pt";
  write_raw(pt, std::string("PK\x03\x04\x00\x00\x08\x08\x00\x00", 10) + "archive/data.pkl" +
                    std::string(600, 'z'));
  const std::string m =
      expect_load_error(pt, {"is a PyTorch pickle (torch.save), not a safetensors file",
                             "python3 -c \"import torch; from safetensors.torch import save_file; "
                             "save_file(torch.load('" +
                                 pt + "', map_location='cpu'), '" + dir + "/model.safetensors')\"",
                             "pip install safetensors"});
  EXPECT_EQ(m.find("header length"), std::string::npos) << m;
}

TEST_F(CheckpointValues, ALegacyTorchPickleIsRecognised) {
  // _use_new_zipfile_serialization=False: pickle protocol 2, starting with torch's magic number.
  const std::string pt = dir + "/weights.pth";
  write_raw(pt, std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15) +
                    std::string(100, 'p'));
  expect_load_error(pt, {"is a PyTorch pickle", "save_file(torch.load('" + pt + "'",
                         "'" + dir + "/weights.safetensors')"});
  // Protocols 2 to 5, however short the file.
  for (char protocol : {'\x02', '\x03', '\x04', '\x05'}) {
    write_raw(pt, std::string("\x80", 1) + protocol + "N.");
    expect_load_error(pt, {"is a PyTorch pickle"});
  }
}

TEST_F(CheckpointValues, APickleNamedSafetensorsIsNotConvertedOverItself) {
  write_raw(path, std::string("PK\x03\x04", 4) + std::string(100, 'z'));
  expect_load_error(path, {"is a PyTorch pickle", "'" + dir + "/model.converted.safetensors')"});
}

TEST_F(CheckpointValues, TheConversionCommandQuotesOddPaths) {
  // A quote or a dollar in the name must survive the shell's double quotes and Python's literal.
  const std::string pt = dir + "/it's $HOME.pt";
  write_raw(pt, std::string("PK\x03\x04", 4) + std::string(100, 'z'));
  expect_load_error(pt, {"torch.load('" + dir + "/it\\\\'s \\$HOME.pt', map_location='cpu')"});
}

TEST_F(CheckpointValues, ASafetensorsFileWhoseLengthLooksLikeAPickleStillLoads) {
  // A 640-byte header is length bytes 80 02 00 ...: the same two bytes as pickle protocol 2.
  std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  header.resize(0x280, ' ');
  write_raw(path, testing::safetensors_with_header(header, std::string(4, '\0')));
  ASSERT_EQ(static_cast<unsigned char>(testing::safetensors_with_header(header)[0]), 0x80);
  EXPECT_EQ(load_safetensors(path).tensors.size(), 1u);
}

TEST_F(CheckpointValues, OtherBinaryFilesKeepTheirMessage) {
  write_raw(path, std::string("\x80\x07", 2) + std::string(100, 'x'));  // not a pickle protocol
  expect_load_error(path, {"is not a safetensors file", "is larger than the file"});
}

// --- Metadata values ----------------------------------------------------------------------------

TEST_F(CheckpointValues, MetadataNumbersAreParsedStrictly) {
  const std::map<std::string, std::string> good = {
      {"a", "0.286"}, {"b", "-3"}, {"c", "0x1.2p-2"}, {"d", "1e-3"}};
  EXPECT_DOUBLE_EQ(*metadata_number(good, path, "a"), 0.286);
  EXPECT_DOUBLE_EQ(*metadata_number(good, path, "b"), -3.0);
  EXPECT_DOUBLE_EQ(*metadata_number(good, path, "c"), 0.28125);  // hex, as "%a" writes
  EXPECT_DOUBLE_EQ(*metadata_number(good, path, "d"), 1e-3);
  EXPECT_FALSE(metadata_number(good, path, "absent").has_value());
  for (const char* bad : {"", " 1", "1 ", "1x", "nan", "NaN", "inf", "-inf", "1e999", "one"}) {
    SCOPED_TRACE(bad);
    expect_one_sentence_input_error(
        [&] {
          metadata_number({{"k", bad}}, path, "k");
        },
        "'" + path + "'",
        {"has metadata k '" + std::string(bad) + "'; it must be a finite number."});
  }
}

TEST_F(CheckpointValues, MetadataNumbersCheckTheirRange) {
  auto positive = [](double v) { return v > 0.0; };
  for (const char* bad : {"0", "-1", "-0", "nan"}) {
    SCOPED_TRACE(bad);
    const std::string m = expect_one_sentence_input_error(
        [&] {
          metadata_number({{"dlfs_normalize_std", bad}}, path, "dlfs_normalize_std",
                          "a positive finite number", positive);
        },
        "'" + path + "'",
        {"has metadata dlfs_normalize_std '" + std::string(bad) +
         "'; it must be a positive finite number."});
    EXPECT_EQ(m, "Checkpoint '" + path + "' has metadata dlfs_normalize_std '" + bad +
                     "'; it must be a positive finite number.");
  }
  EXPECT_DOUBLE_EQ(*metadata_number({{"s", "0.353"}}, path, "s", "positive", positive), 0.353);
}

TEST_F(CheckpointValues, MetadataValuesStayOnOneShortLine) {
  const std::string hostile = "1\n" + std::string(5000, '9');
  const std::string m = expect_one_sentence_input_error(
      [&] {
        metadata_number({{"k", hostile}}, path, "k");
      },
      "'" + path + "'", {"'1\\x0a999", "...'"});
  EXPECT_LT(m.size(), 300u) << m;
}

class CheckpointModelMetadata : public CheckpointValues {
 protected:
  Model model = build_model("two-layer-net");
  void save_with(const std::string& name, const std::string& variant, const std::string& classes) {
    save_safetensors(path, model_state(model),
                     {{kMetaModel, name}, {kMetaVariant, variant}, {kMetaClasses, classes}});
  }
};

TEST_F(CheckpointModelMetadata, TheGoodMetadataLoads) {
  save_with("two-layer-net", "28", "10");
  EXPECT_EQ(load_model(path).name, "two-layer-net");
}

TEST_F(CheckpointModelMetadata, AnUnknownVariantNamesTheKey) {
  save_with("two-layer-net", "32", "10");
  expect_one_sentence_input_error(
      [&] { load_model(path); }, "'" + path + "'",
      {"has metadata dlfs_variant '32'; it must be an input size of two-layer-net (28)."});
}

TEST_F(CheckpointModelMetadata, AModelNameWithControlCharactersStaysOnOneLine) {
  save_with("lenet5\nrm -rf /", "28", "10");
  expect_one_sentence_input_error([&] { load_model(path); }, "'" + path + "'",
                                  {"has metadata dlfs_model 'lenet5\\x0arm -rf /'"});
}

}  // namespace
}  // namespace dlfs
