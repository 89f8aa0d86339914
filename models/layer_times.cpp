#include "dlfs/models/layer_times.hpp"

#include <algorithm>

namespace dlfs {

LayerTime& LayerTimes::entry(const std::string& node, const std::string& layer) {
  auto [it, added] = index_.emplace(node, entries_.size());
  if (added) {
    entries_.emplace_back();
    entries_.back().node = node;
    entries_.back().layer = layer;
  }
  return entries_[it->second];
}

void LayerTimes::add_forward(const std::string& node, const std::string& layer, double seconds) {
  LayerTime& e = entry(node, layer);
  e.forward_seconds += seconds;
  e.forward_calls += 1;
}

void LayerTimes::add_backward(const std::string& node, const std::string& layer, double seconds) {
  LayerTime& e = entry(node, layer);
  e.backward_seconds += seconds;
  e.backward_calls += 1;
}

void LayerTimes::forward_done_by(const std::string& node, const std::string& layer,
                                 const std::string& by) {
  entry(node, layer).forward_done_by = by;
}

double LayerTimes::total_seconds() const {
  double total = 0.0;
  for (const LayerTime& e : entries_) total += e.forward_seconds + e.backward_seconds;
  return total;
}

std::vector<std::pair<std::string, double>> LayerTimes::seconds_by_layer() const {
  std::map<std::string, double> sums;
  for (const LayerTime& e : entries_) sums[e.layer] += e.forward_seconds + e.backward_seconds;
  std::vector<std::pair<std::string, double>> out(sums.begin(), sums.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

void LayerTimes::clear() {
  entries_.clear();
  index_.clear();
}

}  // namespace dlfs
