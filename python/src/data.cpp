// MNIST-format directories (Fashion-MNIST, MNIST) read by dlfs's IDX reader into tensors that
// python/dlfs/datasets.py hands to NumPy without a copy.

#include "dlfs/data/mnist_format.hpp"
#include "dlfs/python/src/bindings.hpp"

namespace dlfs::python {

void bind_data(nb::module_& m) {
  m.def(
      "load_mnist_format",
      [](const std::string& directory, std::int64_t limit_train) {
        data::MnistFormatData d;
        {
          nb::gil_scoped_release release;
          d = data::load_mnist_format(directory, limit_train);
        }
        nb::dict out;
        out["train_images"] = d.train.images;
        out["train_labels"] = d.train.labels;
        out["test_images"] = d.test.images;
        out["test_labels"] = d.test.labels;
        out["classes"] = d.train.num_classes;
        return out;
      },
      nb::arg("directory") = data::kDefaultMnistDirectory, nb::arg("limit_train") = 0,
      "The four IDX files (raw or .gz) of `directory`: float32 images [N, 1, H, W] in [0, 1] "
      "and int32 labels.");
}

}  // namespace dlfs::python
