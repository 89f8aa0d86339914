#include "dlfs/data/mnist_format.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

#include "dlfs/data/byte_source.hpp"
#include "dlfs/data/idx_reader.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

namespace fs = std::filesystem;

namespace {

// Throws InputError unless `directory` is a directory. A symbolic link loop or a folder on the way
// that may not be searched is named as such, not as a missing directory.
void check_directory(const std::string& directory) {
  std::error_code ec;
  const fs::file_status status = fs::status(directory, ec);
  if (ec && !path_is_absent(ec))
    throw InputError("Dataset directory '" + directory + "' " + path_error_phrase(ec) + ".");
  if (!fs::is_directory(status))
    throw InputError("Dataset directory '" + directory + "' does not exist or is not a directory.");
}

// The path of `name` or `name`.gz in `directory`, or "" when neither is there. Throws InputError
// for a file that cannot be checked, or a link to nothing, rather than calling it missing.
std::string locate(const std::string& directory, const std::string& name) {
  for (const fs::path& path : {fs::path(directory) / name, fs::path(directory) / (name + ".gz")}) {
    std::error_code ec;
    if (fs::exists(fs::status(path, ec))) return path.string();
    if (ec && !path_is_absent(ec))
      throw InputError("File '" + path.string() + "' " + path_error_phrase(ec) + ".");
    std::error_code link_ec;
    if (fs::is_symlink(fs::symlink_status(path, link_ec)))
      throw InputError("File '" + path.string() + "' is a symbolic link to '" +
                       fs::read_symlink(path, link_ec).string() + "', which does not exist.");
  }
  return "";
}

std::string neither_message(const std::string& directory, const std::string& name) {
  return "Dataset directory '" + directory + "' has neither " + name + " nor " + name + ".gz.";
}

// "3", "10-199".
std::string class_range(int first, int last) {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace

std::string find_mnist_file(const std::string& directory, const std::string& name) {
  check_directory(directory);
  std::string path = locate(directory, name);
  if (path.empty()) throw InputError(neither_message(directory, name));
  return path;
}

void check_labels_below(const std::vector<std::uint8_t>& labels, int count,
                        const std::string& origin, const std::string& path, const char* what) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < count) continue;
    throw InputError(std::string(what) + " '" + path + "' hold label " + std::to_string(labels[i]) +
                     " at index " + std::to_string(i) + ", outside the " + std::to_string(count) +
                     (count == 1 ? " class (0)" : " classes (" + class_range(0, count - 1) + ")") +
                     " of " + origin + ".");
  }
}

int training_class_count(const std::vector<std::uint8_t>& labels, const ClassCount& classes,
                         const std::string& path) {
  if (classes.count > 0) {
    check_labels_below(labels, classes.count,
                       classes.origin.empty() ? "the given class count" : classes.origin, path,
                       "Training labels");
    return classes.count;
  }
  // Where each label value first occurs (-1: never).
  std::vector<std::int64_t> first_index(256, -1);
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (first_index[labels[i]] < 0) first_index[labels[i]] = static_cast<std::int64_t>(i);
  int largest = 255;
  while (largest >= 0 && first_index[largest] < 0) --largest;
  if (largest < 0) return 0;  // no labels: the caller refuses the empty split

  // The unused classes below the largest label, as ranges.
  std::vector<std::string> gaps;
  int unused = 0;
  for (int c = 0; c < largest; ++c) {
    if (first_index[c] >= 0) continue;
    int last = c;
    while (first_index[last + 1] < 0) ++last;  // stops at `largest`, which is used
    gaps.push_back(class_range(c, last));
    unused += last - c + 1;
    c = last;
  }
  if (gaps.empty()) return largest + 1;

  // The largest label is the one that sets the count: one damaged byte shows up there.
  const std::size_t shown = std::min<std::size_t>(gaps.size(), 4);
  std::string list;
  for (std::size_t i = 0; i < shown; ++i) list += (i ? ", " : "") + gaps[i];
  if (shown < gaps.size()) list += " and " + std::to_string(gaps.size() - shown) + " more ranges";
  const std::string count = std::to_string(largest + 1);
  throw InputError("Training labels '" + path + "' hold label " + std::to_string(largest) +
                   " at index " + std::to_string(first_index[largest]) + ", which leaves " +
                   (unused == 1 ? "class " : "classes ") + list +
                   " without a training image (a damaged file?); if the data really has " + count +
                   " classes, pass --classes " + count + ".");
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

}  // namespace

MnistFormatData load_mnist_format(const std::string& directory, std::int64_t limit_train,
                                  const ClassCount& classes) {
  if (limit_train < 0)
    throw InputError("The training-sample limit must be 0 (all) or positive, not " +
                     std::to_string(limit_train) + ".");
  // Every file must exist before any is read (reading Fashion-MNIST takes a moment), and a
  // directory lacking several says so in one message.
  check_directory(directory);
  std::vector<std::string> missing;
  for (const char* name : {kTrainImagesFile, kTrainLabelsFile, kTestImagesFile, kTestLabelsFile})
    if (locate(directory, name).empty()) missing.push_back(name);
  if (missing.size() == 1) throw InputError(neither_message(directory, missing.front()));
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
  // The whole training labels file decides, also under limit_train: the count describes the
  // data, and a limited run builds the same model as a full one.
  const int num_classes = training_class_count(train.labels.values, classes, train.labels_path);
  std::string origin = "the training labels";
  if (classes.count > 0) origin = classes.origin.empty() ? "the given class count" : classes.origin;
  check_labels_below(test.labels.values, num_classes, origin, test.labels_path, "Test labels");

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
