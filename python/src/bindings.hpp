#pragma once
// What the files of the extension module dlfs._core share: one bind_* function per file, and
// the conversions between dlfs tensors and nanobind's ndarrays (NumPy, DLPack).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs::python {

namespace nb = nanobind;

void bind_errors(nb::module_& m);
void bind_tensor(nb::module_& m);
void bind_ops(nb::module_& m);
void bind_layers(nb::module_& m);
void bind_models(nb::module_& m);
void bind_commands(nb::module_& m);
void bind_data(nb::module_& m);

// An ndarray over the tensor's memory (CPU or CUDA), which keeps the storage alive: NumPy,
// PyTorch and CuPy see dlfs's data in place, without a copy.
nb::ndarray<> ndarray_view(const Tensor& tensor);

// A tensor over the array's memory, without a copy. The array must be C-contiguous, of a dtype
// dlfs has (float32, float64, uint8, int32, int64) and on the CPU or a CUDA device; anything
// else is an InputError that names what is wrong. The array's owner stays alive as long as a
// tensor uses its memory.
Tensor tensor_over(const nb::ndarray<>& array);

}  // namespace dlfs::python
