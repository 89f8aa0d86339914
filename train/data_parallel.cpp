#include "dlfs/train/data_parallel.hpp"

#include <cstdlib>
#include <cstring>

#include "dlfs/runtime/transfer.hpp"

namespace dlfs::train {

namespace {

char* float_at(const Tensor& flat, std::int64_t offset) {
  return static_cast<char*>(flat.raw_data()) + offset * static_cast<std::int64_t>(sizeof(float));
}

}  // namespace

DataParallel::DataParallel(comm::Communicator& communicator, Model& model, std::size_t bucket_bytes)
    : communicator_(communicator), model_(model), faults_(communicator.rank()) {
  if (const char* check = std::getenv("DLFS_CHECK_REPLICAS")) {
    const std::string when = check;
    if (when != "step" && when != "epoch")
      throw InputError("DLFS_CHECK_REPLICAS='" + when + "' is not step or epoch");
    check_every_step_ = when == "step";
  }
  // Backward produces the last layer's gradients first: buckets follow the reverse of the
  // parameters' order.
  std::vector<NamedParameter> parameters = model.graph.parameters();
  const std::int64_t bucket_floats =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(bucket_bytes / sizeof(float)));
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    Parameter* p = it->parameter;
    if (p->value.dtype() != DType::Float32)
      throw Error("data-parallel training sums float32 gradients; " + it->name + " is " +
                  p->value.str());
    if (buckets_.empty() || buckets_.back().floats >= bucket_floats) buckets_.emplace_back();
    Bucket& bucket = buckets_.back();
    slots_[p] = Slot{buckets_.size() - 1, bucket.floats, false};
    bucket.parameters.push_back(p);
    bucket.floats += p->value.numel();
  }
  if (buckets_.empty()) buckets_.emplace_back();  // a model without parameters still agrees
  const Device device = model.graph.device();
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    const std::int64_t floats = buckets_[i].floats + (i + 1 == buckets_.size() ? 1 : 0);
    buckets_[i].flat = Tensor::zeros({floats}, DType::Float32, device);
  }
  model_.graph.set_gradients_ready_hook([this](Layer& layer) { gradients_ready(layer); });
}

DataParallel::~DataParallel() {
  model_.graph.set_gradients_ready_hook(nullptr);
}

std::vector<std::int64_t> DataParallel::bucket_sizes() const {
  std::vector<std::int64_t> sizes;
  for (const Bucket& b : buckets_) sizes.push_back(b.flat.numel());
  return sizes;
}

std::string DataParallel::bucket_name(std::size_t index) const {
  return "the gradient sum (bucket " + std::to_string(index + 1) + " of " +
         std::to_string(buckets_.size()) + ")";
}

void DataParallel::broadcast_state() {
  for (NamedParameter& p : model_.graph.parameters())
    communicator_.broadcast(p.parameter->value, 0, "the broadcast of " + p.name);
  broadcast_buffers();
}

void DataParallel::broadcast_buffers() {
  for (NamedBuffer& b : model_.graph.buffers())
    communicator_.broadcast(b.buffer->value, 0, "the broadcast of " + b.name);
}

double DataParallel::begin_step(std::int64_t local, std::int64_t global, bool stop_requested) {
  if (in_step_) throw Error("DataParallel::begin_step: the previous step was not finished");
  if (global <= 0 || local < 0 || local > global)
    throw Error("DataParallel::begin_step: " + std::to_string(local) + " of " +
                std::to_string(global) + " samples");
  faults_.before_step(++step_);
  in_step_ = true;
  stop_requested_ = stop_requested;
  next_launch_ = 0;
  for (Bucket& b : buckets_) b.ready = 0, b.request = -1;
  for (auto& [p, slot] : slots_) slot.ready = false;
  return static_cast<double>(local) / static_cast<double>(global);
}

void DataParallel::gradients_ready(Layer& layer) {
  if (!in_step_) return;  // a backward outside a data-parallel step (a gradient check)
  for (Parameter* p : layer.parameters()) parameter_ready(p);
  launch_complete_buckets();
  communicator_.progress();
}

void DataParallel::parameter_ready(Parameter* p) {
  auto it = slots_.find(p);
  if (it == slots_.end() || it->second.ready) return;
  Slot& slot = it->second;
  Bucket& bucket = buckets_[slot.bucket];
  if (!p->grad.defined() || p->grad.numel() != p->value.numel())
    throw Error("data-parallel step: parameter " + p->name + " has no gradient of its shape");
  copy_bytes(float_at(bucket.flat, slot.offset), bucket.flat.device(), p->grad.raw_data(),
             p->grad.device(), p->grad.nbytes());
  slot.ready = true;
  bucket.ready += 1;
}

void DataParallel::launch_complete_buckets() {
  while (next_launch_ < buckets_.size() &&
         buckets_[next_launch_].ready ==
             static_cast<std::int64_t>(buckets_[next_launch_].parameters.size()))
    launch(next_launch_++);
}

void DataParallel::launch(std::size_t index) {
  Bucket& bucket = buckets_[index];
  if (index + 1 == buckets_.size()) {
    // The last bucket carries each rank's wish to stop: a sum above zero stops every rank.
    const float flag = stop_requested_ ? 1.0f : 0.0f;
    copy_bytes(float_at(bucket.flat, bucket.floats), bucket.flat.device(), &flag, Device::cpu(),
               sizeof flag);
  }
  bucket.request = communicator_.start_sum(bucket.flat);
}

bool DataParallel::finish_step() {
  if (!in_step_) throw Error("DataParallel::finish_step without begin_step");
  // Gradients backward never reached (an empty shard, a node that did not run) add zeros.
  for (auto& [p, slot] : slots_) {
    if (slot.ready) continue;
    Bucket& bucket = buckets_[slot.bucket];
    const Tensor zeros = Tensor::zeros(p->value.shape(), DType::Float32, bucket.flat.device());
    copy_bytes(float_at(bucket.flat, slot.offset), bucket.flat.device(), zeros.raw_data(),
               zeros.device(), zeros.nbytes());
    slot.ready = true;
    bucket.ready += 1;
  }
  launch_complete_buckets();
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    communicator_.wait(buckets_[i].request, bucket_name(i));
  const bool keep_own = faults_.skip_sum(step_);  // a test's broken rank
  for (Bucket& bucket : buckets_) {
    if (keep_own) break;
    for (Parameter* p : bucket.parameters) {
      if (!p->grad.defined())
        p->grad = Tensor::empty(p->value.shape(), DType::Float32, p->value.device());
      copy_bytes(p->grad.raw_data(), p->grad.device(), float_at(bucket.flat, slots_[p].offset),
                 bucket.flat.device(), p->grad.nbytes());
    }
  }
  const Bucket& last = buckets_.back();
  float flag = 0.0f;
  copy_bytes(&flag, Device::cpu(), float_at(last.flat, last.floats), last.flat.device(),
             sizeof flag);
  in_step_ = false;
  return flag > 0.0f;
}

std::uint64_t replica_hash(Model& model, bool buffers) {
  std::uint64_t hash = 1469598103934665603ull;
  auto add = [&hash](const Tensor& t) {
    const Tensor host = t.to(Device::cpu());
    const auto* bytes = static_cast<const unsigned char*>(host.raw_data());
    for (std::size_t i = 0; i < host.nbytes(); ++i) {
      hash ^= bytes[i];
      hash *= 1099511628211ull;
    }
  };
  for (NamedParameter& p : model.graph.parameters()) add(p.parameter->value);
  if (buffers)
    for (NamedBuffer& b : model.graph.buffers()) add(b.buffer->value);
  return hash;
}

void DataParallel::check_replicas(const std::string& when, bool buffers) {
  const std::vector<std::uint64_t> hashes =
      communicator_.gather_host(replica_hash(model_, buffers), "the replica check " + when);
  std::string differing;
  for (std::size_t r = 1; r < hashes.size(); ++r)
    if (hashes[r] != hashes[0]) differing += (differing.empty() ? "" : ", ") + std::to_string(r);
  if (!differing.empty())
    throw comm::CommunicationError("the replicas differ " + when + ": the weights of rank" +
                                   (differing.find(',') == std::string::npos ? " " : "s ") +
                                   differing +
                                   " are not rank 0's bit for bit; data-parallel training has gone "
                                   "wrong, so this run stops");
}

}  // namespace dlfs::train
