// dlfs._core: the native half of the Python package. Each bind_* function lives in its own file;
// the package (python/dlfs/*.py) builds the book-style API on top.
#include "dlfs/python/src/bindings.hpp"

NB_MODULE(_core, m) {
  m.doc() = "dlfs's native module: tensors, kernels, layers, models and the training commands";
  m.attr("__version__") = DLFS_VERSION;  // project(VERSION) in the top CMakeLists.txt
  // The emulated CUDA device (a test build): "cuda" works, at the speed of one CPU thread.
  m.attr("emulated_cuda") = DLFS_CUDA_EMULATION != 0;
  dlfs::python::bind_errors(m);
  dlfs::python::bind_tensor(m);
  dlfs::python::bind_ops(m);
  dlfs::python::bind_layers(m);
  dlfs::python::bind_models(m);
  dlfs::python::bind_data(m);
  dlfs::python::bind_commands(m);
}
