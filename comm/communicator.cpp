#include "dlfs/comm/communicator.hpp"

#include <cstdio>

namespace dlfs::comm {

Communicator::Communicator(int rank, int world_size, int local_rank, double timeout_seconds)
    : rank_(rank),
      world_size_(world_size),
      local_rank_(local_rank),
      timeout_seconds_(timeout_seconds) {}

std::string Communicator::describe() const {
  return "rank " + std::to_string(rank_) + " of " + std::to_string(world_size_);
}

std::string Communicator::timeout_message(const std::string& what) const {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", timeout_seconds_);
  return describe() + ": " + what + " got no answer from the other ranks in " + seconds +
         " s (--dist-timeout); a rank has stopped or died, so this run ends";
}

}  // namespace dlfs::comm
