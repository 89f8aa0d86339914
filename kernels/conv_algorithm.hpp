#pragma once
// Which algorithm a convolution asks for:
//   Auto    the default: oneDNN for float32 on the CPU where the build has it and it pays,
//           dlfs's direct kernels for float32 one-channel layers on the CPU, dlfs's own
//           im2col + GEMM kernels elsewhere (and on every GPU);
//   Im2col  dlfs's own im2col + GEMM kernels on every device, never the direct kernels;
//   Onednn  oneDNN on the CPU (float32, builds with oneDNN), its direct kernels; elsewhere as
//           Auto;
//   Winograd oneDNN's Winograd kernels on the CPU where it has them (3x3, stride 1, float32,
//           builds with oneDNN), its direct kernels for other shapes; elsewhere as Auto;
//   Cudnn   cuDNN on a GPU (float32, builds with cuDNN); elsewhere as Auto.
// The choice belongs to each Convolution layer (Convolution::set_algorithm); a layer built
// without one takes the environment variable DLFS_CONV, read when the layer is built. There is no
// process-wide setting to lock: a program that wants cuDNN everywhere sets DLFS_CONV before
// building its model, or sets each layer. kernels/conv2d.hpp turns the request into the path
// that runs.
#include <string>

namespace dlfs::kernels {

enum class ConvAlgorithm { Auto, Im2col, Onednn, Winograd, Cudnn };

// "auto", "im2col", "onednn", "winograd" or "cudnn" (case-insensitive) -> the algorithm; throws
// InputError otherwise.
ConvAlgorithm parse_conv_algorithm(const std::string& text);
const char* conv_algorithm_name(ConvAlgorithm algorithm);
// DLFS_CONV from the environment, read now: Auto when unset or empty; throws InputError
// naming the variable when it holds anything else.
ConvAlgorithm conv_algorithm_from_environment();

}  // namespace dlfs::kernels
