#pragma once
// Where a step's time goes, node by node: the forward and backward seconds of each graph node,
// summed over the steps they were measured in (`dlfs bench --profile`). Graph::run and
// Graph::backward add to a LayerTimes while one is set (Graph::set_layer_times).
//
// A node whose forward another node did (a BatchNorm or ReLU applied in the epilogue of the
// convolution before it, a max-pool made by that convolution) takes no forward time of its own
// and names that node instead: its time is in the other's. On a GPU the graph waits for the
// device before each reading of the clock, so a profiled step runs slower than an unprofiled
// one; the times say where a step goes, not how fast it is.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dlfs {

struct LayerTime {
  std::string node;   // the graph node ("layer1.0.conv1")
  std::string layer;  // its layer's type ("Conv2d")
  double forward_seconds = 0.0, backward_seconds = 0.0;
  std::int64_t forward_calls = 0, backward_calls = 0;
  std::string forward_done_by;  // the node that did this one's forward; empty when it ran itself
};

class LayerTimes {
 public:
  void add_forward(const std::string& node, const std::string& layer, double seconds);
  void add_backward(const std::string& node, const std::string& layer, double seconds);
  // Node `node`'s forward was part of node `by`'s.
  void forward_done_by(const std::string& node, const std::string& layer, const std::string& by);

  // One entry per node seen, in the order their forwards first ran.
  const std::vector<LayerTime>& entries() const { return entries_; }
  double total_seconds() const;
  // Forward plus backward seconds per layer type, the largest first.
  std::vector<std::pair<std::string, double>> seconds_by_layer() const;
  void clear();

 private:
  LayerTime& entry(const std::string& node, const std::string& layer);

  std::vector<LayerTime> entries_;
  std::map<std::string, std::size_t> index_;  // node -> its entry
};

}  // namespace dlfs
