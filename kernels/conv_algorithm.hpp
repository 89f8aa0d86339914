#pragma once
// Which algorithm a convolution asks for: dlfs's own im2col + GEMM kernels, or cuDNN. The choice
// belongs to each Convolution layer (Convolution::set_algorithm); a layer built without one takes
// the environment variable DLFS_CONV, read when the layer is built. There is no process-wide
// setting to lock: a program that wants cuDNN everywhere sets DLFS_CONV before building its model,
// or sets each layer. kernels/conv2d.hpp turns the request into the path that runs.
#include <string>

namespace dlfs::kernels {

enum class ConvAlgorithm { Im2col, Cudnn };

// "im2col" or "cudnn" (case-insensitive) -> the algorithm; throws InputError otherwise.
ConvAlgorithm parse_conv_algorithm(const std::string& text);
const char* conv_algorithm_name(ConvAlgorithm algorithm);
// DLFS_CONV from the environment, read now: im2col when unset or empty; throws InputError
// naming the variable when it holds anything else.
ConvAlgorithm conv_algorithm_from_environment();

}  // namespace dlfs::kernels
