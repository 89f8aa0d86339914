#pragma once
// Every model dlfs can build, by name, at each input size it supports.
#include <string>
#include <vector>

#include "models/model.hpp"

namespace dlfs {

struct ModelInfo {
  std::string name;
  std::string description;
  std::vector<std::string> variants;  // input sizes; the first is the default
};

const std::vector<ModelInfo>& model_catalog();

// Builds `name` at `variant` ("" = its default). 28 and 32 take 1-channel images with
// `classes` classes (10 by default); 224 takes 3x224x224 with 1000 classes unless given.
// Unknown names or variants are InputErrors listing what exists.
Model build_model(const std::string& name, const std::string& variant = "", int classes = 0);

// Per-family builders (models/<family>.cpp).
Model build_mlp(const std::string& name, int classes);
Model build_book_convnet(const std::string& name, int classes);
Model build_lenet5(const std::string& variant, int classes);
Model build_alexnet(const std::string& variant, int classes);
Model build_vgg(const std::string& name, const std::string& variant, int classes);
Model build_vgg_small(int classes);
Model build_resnet(const std::string& name, const std::string& variant, int classes);

}  // namespace dlfs
