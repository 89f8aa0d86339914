#pragma once
// A directory in the MNIST layout (MNIST, Fashion-MNIST, KMNIST): four IDX files, each either
// raw or gzip-compressed (name + ".gz").
#include <cstdint>
#include <string>

#include "data/dataset.hpp"

namespace dlfs::data {

// Where Debian's dataset-fashion-mnist package puts Fashion-MNIST.
inline constexpr const char* kDefaultMnistDirectory = "/usr/share/datasets/fashion-mnist";

inline constexpr const char* kTrainImagesFile = "train-images-idx3-ubyte";
inline constexpr const char* kTrainLabelsFile = "train-labels-idx1-ubyte";
inline constexpr const char* kTestImagesFile = "t10k-images-idx3-ubyte";
inline constexpr const char* kTestLabelsFile = "t10k-labels-idx1-ubyte";

struct MnistFormatData {
  Dataset train;  // images [N, 1, 28, 28] in [0, 1], labels int32
  Dataset test;
};

// The path of `name` or `name`.gz in `directory` (the raw file wins when both exist). Throws
// InputError naming the directory when it does not exist or holds neither.
std::string find_mnist_file(const std::string& directory, const std::string& name);

// Loads the four files. limit_train > 0 keeps only the first limit_train training samples
// (0: all). The class count is the largest label in either split plus one. Throws InputError,
// naming the file or directory, for a missing directory or file, any IDX problem, image and
// label counts that disagree, train and test images of different sizes, or an empty split.
MnistFormatData load_mnist_format(const std::string& directory = kDefaultMnistDirectory,
                                  std::int64_t limit_train = 0);

}  // namespace dlfs::data
