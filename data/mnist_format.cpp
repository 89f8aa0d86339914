#include "data/mnist_format.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "data/idx_reader.hpp"
#include "runtime/error.hpp"

namespace dlfs::data {

namespace fs = std::filesystem;

std::string find_mnist_file(const std::string& directory, const std::string& name) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    throw InputError("Dataset directory '" + directory + "' does not exist or is not a directory.");
  const fs::path raw = fs::path(directory) / name;
  const fs::path gz = fs::path(directory) / (name + ".gz");
  if (fs::exists(raw, ec)) return raw.string();
  if (fs::exists(gz, ec)) return gz.string();
  throw InputError("Dataset directory '" + directory + "' has neither " + name + " nor " + name +
                   ".gz.");
}

namespace {

struct Split {
  std::string images_path, labels_path;
  IdxArray images, labels;
};

Split read_split(const std::string& directory, const char* images_name, const char* labels_name) {
  Split s;
  // Find both before reading either, so a directory missing files says so at once.
  s.images_path = find_mnist_file(directory, images_name);
  s.labels_path = find_mnist_file(directory, labels_name);
  s.images = read_idx_ubyte(s.images_path, 3);
  s.labels = read_idx_ubyte(s.labels_path, 1);
  if (s.images.dims[0] != s.labels.dims[0])
    throw InputError("Labels file '" + s.labels_path + "' holds " +
                     std::to_string(s.labels.dims[0]) + " labels but images file '" +
                     s.images_path + "' holds " + std::to_string(s.images.dims[0]) + " images.");
  if (s.images.dims[0] == 0)
    throw InputError("Images file '" + s.images_path + "' holds no images.");
  if (s.images.dims[1] == 0 || s.images.dims[2] == 0)
    throw InputError("Images file '" + s.images_path + "' declares empty " +
                     std::to_string(s.images.dims[1]) + " x " + std::to_string(s.images.dims[2]) +
                     " images.");
  return s;
}

int max_label(const IdxArray& labels) {
  return labels.values.empty() ? -1 : *std::max_element(labels.values.begin(), labels.values.end());
}

}  // namespace

MnistFormatData load_mnist_format(const std::string& directory, std::int64_t limit_train) {
  if (limit_train < 0)
    throw InputError("The training-sample limit must be 0 (all) or positive, not " +
                     std::to_string(limit_train) + ".");
  // Every file must exist before any is read (reading Fashion-MNIST takes a moment), and a
  // directory lacking several says so in one message.
  std::vector<std::string> missing;
  for (const char* name : {kTrainImagesFile, kTrainLabelsFile, kTestImagesFile, kTestLabelsFile}) {
    try {
      find_mnist_file(directory, name);
    } catch (const InputError&) {
      std::error_code ec;
      if (!fs::is_directory(directory, ec)) throw;
      missing.push_back(name);
    }
  }
  if (missing.size() == 1) find_mnist_file(directory, missing.front());  // throws, naming it
  if (!missing.empty()) {
    std::string names;
    for (std::size_t i = 0; i < missing.size(); ++i) names += (i ? ", " : "") + missing[i];
    throw InputError("Dataset directory '" + directory + "' lacks " +
                     std::to_string(missing.size()) +
                     " of the 4 MNIST-format files (each raw or .gz): " + names + ".");
  }
  Split train = read_split(directory, kTrainImagesFile, kTrainLabelsFile);
  Split test = read_split(directory, kTestImagesFile, kTestLabelsFile);
  if (train.images.dims[1] != test.images.dims[1] || train.images.dims[2] != test.images.dims[2])
    throw InputError("Test images '" + test.images_path + "' are " +
                     std::to_string(test.images.dims[1]) + " x " +
                     std::to_string(test.images.dims[2]) + " but training images '" +
                     train.images_path + "' are " + std::to_string(train.images.dims[1]) + " x " +
                     std::to_string(train.images.dims[2]) + ".");
  const int num_classes = std::max(max_label(train.labels), max_label(test.labels)) + 1;

  MnistFormatData out;
  std::vector<std::int64_t> train_dims = train.images.dims;
  if (limit_train > 0) train_dims[0] = std::min(train_dims[0], limit_train);
  out.train = dataset_from_bytes(train.images.values.data(), train_dims, train.labels.values.data(),
                                 num_classes, train.labels_path);
  out.test = dataset_from_bytes(test.images.values.data(), test.images.dims,
                                test.labels.values.data(), num_classes, test.labels_path);
  return out;
}

}  // namespace dlfs::data
