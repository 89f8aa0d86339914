#pragma once
// A host backend that counts raw calls and can refuse to go over a capacity, to test the pool.
#include <cstdlib>
#include <map>

#include "dlfs/runtime/memory_pool.hpp"

namespace dlfs::testing {

class CountingBackend : public AllocatorBackend {
 public:
  struct Counters {
    std::size_t allocations = 0;
    std::size_t frees = 0;
    std::size_t failures = 0;
    std::size_t bytes_held = 0;
  };

  // capacity: most bytes held at once; beyond it raw_allocate returns nullptr.
  explicit CountingBackend(Counters* counters, std::size_t capacity = ~std::size_t{0})
      : counters_(counters), capacity_(capacity) {}
  ~CountingBackend() override {
    for (auto& [p, n] : live_) std::free(p);
  }

  void* raw_allocate(std::size_t bytes) override {
    if (counters_->bytes_held + bytes > capacity_) {
      counters_->failures += 1;
      return nullptr;
    }
    void* p = std::malloc(bytes);
    live_[p] = bytes;
    counters_->allocations += 1;
    counters_->bytes_held += bytes;
    return p;
  }
  void raw_free(void* ptr) override {
    counters_->frees += 1;
    counters_->bytes_held -= live_.at(ptr);
    live_.erase(ptr);
    std::free(ptr);
  }
  std::string name() const override { return "counting"; }

 private:
  Counters* counters_;
  std::size_t capacity_;
  std::map<void*, std::size_t> live_;
};

}  // namespace dlfs::testing
