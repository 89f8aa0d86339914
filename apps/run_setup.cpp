#include "dlfs/apps/run_setup.hpp"

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "dlfs/data/synthetic.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/runtime/device_pools.hpp"

namespace dlfs::app {

RunSetup make_run_setup(const Options& o, int checkpoint_classes) {
  RunSetup s;
  s.device = Device::parse(o.text("device"));
  s.batch_size = o.integer("batch-size", 1, 1 << 20);
  s.seed = static_cast<std::uint64_t>(o.integer("seed", 0, INT64_MAX));
  s.data_dir = o.text("data");
  const std::int64_t limit = o.declared("limit-train") ? o.integer("limit-train", 0, INT64_MAX) : 0;
  if (o.declared("model")) s.model_name = o.text("model");
  // The class count: the checkpoint's when evaluating one, --classes when given, otherwise the
  // training labels decide (data::ClassCount). Labels are bytes, hence at most 256 classes.
  data::ClassCount classes;
  if (checkpoint_classes > 0) {
    classes.count = checkpoint_classes;
    classes.origin =
        o.declared("checkpoint") ? "checkpoint '" + o.text("checkpoint") + "'" : "the checkpoint";
  } else if (o.declared("classes") && o.given("classes")) {
    classes.count = static_cast<int>(o.integer("classes", 1, 256));
    classes.origin = "--classes " + std::to_string(classes.count);
  }
  if (s.data_dir == "synthetic") {
    data::SyntheticOptions so;
    if (classes.count > 0) so.num_classes = classes.count;
    so.samples = limit > 0 ? limit : 2000;
    so.seed = s.seed;
    s.data.train = data::make_synthetic_blobs(so);
    so.samples = 500;
    so.seed = s.seed + 1;
    s.data.test = data::make_synthetic_blobs(so);
  } else {
    s.data = data::load_mnist_format(s.data_dir, limit, classes);
    // Blank or saturated images (a failed conversion) would train to the label frequencies
    // without a sign of trouble: say so, and let the run go on, as the data is well-formed.
    const std::optional<float> pixel =
        checkpoint_classes > 0 ? std::nullopt : data::uniform_pixel_value(s.data.train);
    if (pixel)
      std::fprintf(stderr,
                   "dlfs train: warning: every training image in %s has the same pixel value %ld, "
                   "so the model can learn nothing from the images (a damaged or wrongly "
                   "converted file?); training goes on\n",
                   s.data_dir.c_str(), std::lround(*pixel * 255.0f));
  }
  return s;
}

Model build_model_for(const RunSetup& setup) {
  const Tensor& images =
      setup.data.train.size() > 0 ? setup.data.train.images : setup.data.test.images;
  const Shape image({images.dim(1), images.dim(2), images.dim(3)});
  std::string sizes;
  for (const auto& info : model_catalog()) {
    if (info.name != setup.model_name) continue;
    for (const auto& v : info.variants) {
      Model m = build_model(info.name, v,
                            setup.data.train.num_classes > 0 ? setup.data.train.num_classes
                                                             : setup.data.test.num_classes);
      if (m.input_shape == image) return m;
      sizes += (sizes.empty() ? "" : ", ") + m.input_shape.str();
    }
  }
  if (sizes.empty()) build_model(setup.model_name);  // throws: unknown model, listing them
  throw InputError("model '" + setup.model_name + "' takes " + sizes + " images but " +
                   setup.data_dir + " has " + image.str());
}

std::vector<Parameter*> parameter_pointers(Model& model) {
  std::vector<Parameter*> out;
  for (const auto& p : model.graph.parameters()) out.push_back(p.parameter);
  return out;
}

std::map<std::string, std::string> checkpoint_metadata(const RunSetup& setup, std::int64_t epoch) {
  char mean[32], stddev[32];
  std::snprintf(mean, sizeof mean, "%.9g", setup.normalization.mean);
  std::snprintf(stddev, sizeof stddev, "%.9g", setup.normalization.stddev);
  return {{"dlfs_epoch", std::to_string(epoch)},
          {"dlfs_seed", std::to_string(setup.seed)},
          {"dlfs_normalize_mean", mean},
          {"dlfs_normalize_std", stddev}};
}

data::Normalization normalization_from(const std::map<std::string, std::string>& metadata,
                                       const std::string& path) {
  // Checked here, where the file is known: Normalization::apply would refuse a bad stddev only
  // as an internal error, and a NaN or infinite mean would pass silently into every pixel.
  data::Normalization n;
  if (const auto mean = metadata_number(metadata, path, "dlfs_normalize_mean")) n.mean = *mean;
  if (const auto stddev =
          metadata_number(metadata, path, "dlfs_normalize_std", "a positive finite number",
                          [](double v) { return v > 0.0; }))
    n.stddev = *stddev;
  return n;
}

void check_checkpoint_model(const std::map<std::string, std::string>& metadata,
                            const std::string& path, const std::string& model_name) {
  const auto it = metadata.find(kMetaModel);
  if (it != metadata.end() && it->second != model_name)
    throw InputError("Checkpoint '" + path + "' holds model " + quoted_from_file(it->second) +
                     " (its " + kMetaModel + " metadata) but --model is '" + model_name + "'.");
}

PoolCounters pool_counters(const Device& device) {
  PoolCounters c;
  c.host_raw = memory_pool(Device::cpu()).stats().raw_allocations;
  if (device.is_cuda()) c.device_raw = memory_pool(device).stats().raw_allocations;
  return c;
}

}  // namespace dlfs::app
