#pragma once
// A directory in the MNIST layout (MNIST, Fashion-MNIST, KMNIST): four IDX files, each either
// raw or gzip-compressed (name + ".gz").
#include <cstdint>
#include <string>
#include <vector>

#include "dlfs/data/dataset.hpp"

namespace dlfs::data {

// Where Debian's dataset-fashion-mnist package puts Fashion-MNIST.
inline constexpr const char* kDefaultMnistDirectory = "/usr/share/datasets/fashion-mnist";

inline constexpr const char* kTrainImagesFile = "train-images-idx3-ubyte";
inline constexpr const char* kTrainLabelsFile = "train-labels-idx1-ubyte";
inline constexpr const char* kTestImagesFile = "t10k-images-idx3-ubyte";
inline constexpr const char* kTestLabelsFile = "t10k-labels-idx1-ubyte";

// How many classes the data has. By default the training labels decide: their largest value + 1,
// with every class below it used by some training image, so that one damaged label byte (200
// among 0-9) cannot silently widen a 10-class model to 201 classes.
struct ClassCount {
  // 0: from the training labels as above; N > 0: every label must be below N, and classes
  // without a training image are allowed (the user said the data has N classes).
  int count = 0;
  // What set `count`, for messages: "--classes 12", "checkpoint 'run/model.safetensors'".
  std::string origin;
};

struct MnistFormatData {
  Dataset train;  // images [N, 1, 28, 28] in [0, 1], labels int32
  Dataset test;
};

// The path of `name` or `name`.gz in `directory` (the raw file wins when both exist). Throws
// InputError naming the directory when it does not exist or holds neither, and naming the
// directory or file when it cannot be checked (a symbolic link loop, permission denied).
std::string find_mnist_file(const std::string& directory, const std::string& name);

// The class count of the training labels in `path` under `classes` (see ClassCount). Throws
// InputError naming the file, the index and the value of the label at fault: a label not below
// classes.count, or (by default) the largest label when it leaves classes below it unused.
int training_class_count(const std::vector<std::uint8_t>& labels, const ClassCount& classes,
                         const std::string& path);

// Throws InputError naming `path`, the index and the value of the first label not below `count`;
// `what` is "Training labels" or "Test labels", `origin` what set the count ("the training
// labels", "--classes 12").
void check_labels_below(const std::vector<std::uint8_t>& labels, int count,
                        const std::string& origin, const std::string& path, const char* what);

// Loads the four files. limit_train > 0 keeps only the first limit_train training samples
// (0: all); the class count is decided on the whole training labels file (see ClassCount), and
// test labels must fall inside it. Throws InputError, naming the file or directory, for a missing
// or unreachable directory or file, any IDX problem, image and label counts that disagree, train
// and test images of different sizes, an empty split, or labels as above.
MnistFormatData load_mnist_format(const std::string& directory = kDefaultMnistDirectory,
                                  std::int64_t limit_train = 0, const ClassCount& classes = {});

}  // namespace dlfs::data
