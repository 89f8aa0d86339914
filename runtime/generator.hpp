#pragma once
// A seeded source of random streams. Each draw reserves a range of counters, so the numbers a
// tensor gets depend only on the seed and on what was drawn before it, never on the device.
#include <cstdint>

namespace dlfs {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : seed_(seed) {}
  std::uint64_t seed() const { return seed_; }
  std::uint64_t offset() const { return offset_; }
  void set_state(std::uint64_t seed, std::uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves `count` counters and returns the first.
  std::uint64_t reserve(std::uint64_t count) {
    std::uint64_t first = offset_;
    offset_ += count;
    return first;
  }
  // Uniform in [0, 1) and standard normal draws for host-side use (initialisation, shuffling).
  double uniform();
  double normal();
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n);

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

}  // namespace dlfs
