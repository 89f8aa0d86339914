#pragma once
// Every model dlfs can build, by name, at each input size it supports.
#include <string>
#include <vector>

#include "dlfs/models/model.hpp"

namespace dlfs {

// Builds one model of a family: `name` is the catalog name, `variant` one of its input sizes,
// `classes` the output count. Each family's builder lives in models/<family>.cpp.
using ModelBuilder = Model (*)(const std::string& name, const std::string& variant, int classes);

// One catalog entry. Adding a model is one entry in models/catalog.cpp plus its builder.
struct ModelInfo {
  std::string name;
  std::string description;
  std::vector<std::string> variants;  // input sizes; the first is the default
  ModelBuilder build;
};

const std::vector<ModelInfo>& model_catalog();

// Builds `name` at `variant` ("" = its default). 28 and 32 take 1-channel images with
// `classes` classes (10 by default); 224 takes 3x224x224 with 1000 classes unless given.
// Unknown names or variants are InputErrors listing what exists.
Model build_model(const std::string& name, const std::string& variant = "", int classes = 0);

// The family builders (models/<family>.cpp), as the catalog names them.
Model build_mlp(const std::string& name, const std::string& variant, int classes);
Model build_book_convnet(const std::string& name, const std::string& variant, int classes);
Model build_lenet5(const std::string& name, const std::string& variant, int classes);
Model build_alexnet(const std::string& name, const std::string& variant, int classes);
Model build_vgg(const std::string& name, const std::string& variant, int classes);
Model build_vgg_small(const std::string& name, const std::string& variant, int classes);
Model build_resnet(const std::string& name, const std::string& variant, int classes);
Model build_resnet_small(const std::string& name, const std::string& variant, int classes);
Model build_googlenet(const std::string& name, const std::string& variant, int classes);

}  // namespace dlfs
