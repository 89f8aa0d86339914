#include "dlfs/comm/launch.hpp"

#include <cstdlib>

#include "dlfs/runtime/error.hpp"

namespace dlfs::comm {

namespace {

// The variable's value as a number >= min; absent: nullopt; anything else is an InputError.
std::optional<int> integer_variable(const EnvironmentReader& getenv, const char* name, int min) {
  const std::optional<std::string> text = getenv(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  const long value = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || value < min || value > 1 << 24)
    throw InputError("the environment variable " + std::string(name) + "='" + *text +
                     "' is not a whole number of at least " + std::to_string(min));
  return static_cast<int>(value);
}

bool read_triple(const EnvironmentReader& getenv, const char* rank, const char* size,
                 const char* local, LaunchInfo& out) {
  const std::optional<int> r = integer_variable(getenv, rank, 0);
  const std::optional<int> s = integer_variable(getenv, size, 1);
  if (!r || !s) return false;
  if (*r >= *s)
    throw InputError(std::string("the environment says rank ") + std::to_string(*r) + " (" + rank +
                     ") of a world of " + std::to_string(*s) + " (" + size + ")");
  out.rank = *r;
  out.world_size = *s;
  out.local_rank = local ? integer_variable(getenv, local, 0).value_or(0) : 0;
  return true;
}

}  // namespace

LaunchInfo detect_launch(const EnvironmentReader& getenv) {
  LaunchInfo info;
  if (read_triple(getenv, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                  "OMPI_COMM_WORLD_LOCAL_RANK", info)) {
    info.launched = true, info.launcher = "mpirun";
  } else if (read_triple(getenv, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", info)) {
    info.launched = true, info.launcher = "pmi";
  } else if (getenv("PMIX_RANK")) {
    // PMIx alone gives no size in the environment: MPI will say it.
    info.launched = true, info.launcher = "pmi";
  } else if (read_triple(getenv, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", info) &&
             getenv("SLURM_STEP_ID")) {
    info.launched = true, info.launcher = "srun";
  } else if (read_triple(getenv, "RANK", "WORLD_SIZE", "LOCAL_RANK", info)) {
    // Not a launcher MPI can start from: dlfs refuses a world above 1 from these alone.
    info.launcher = "environment";
  } else {
    info = LaunchInfo{};
  }
  if (const auto local = integer_variable(getenv, "LOCAL_RANK", 0)) info.local_rank = *local;
  info.local_size = info.world_size;
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "LOCAL_WORLD_SIZE"})
    if (const auto size = integer_variable(getenv, name, 1)) {
      info.local_size = *size;
      break;
    }
  return info;
}

EnvironmentReader process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

LaunchInfo detect_launch() {
  return detect_launch(process_environment());
}

void check_environment_agrees(const LaunchInfo& mpi, const EnvironmentReader& getenv) {
  const std::optional<int> rank = integer_variable(getenv, "RANK", 0);
  const std::optional<int> size = integer_variable(getenv, "WORLD_SIZE", 1);
  if (rank && *rank != mpi.rank)
    throw InputError("RANK=" + std::to_string(*rank) + " is set, but MPI made this process rank " +
                     std::to_string(mpi.rank) + "; unset RANK or launch with matching values");
  if (size && *size != mpi.world_size)
    throw InputError("WORLD_SIZE=" + std::to_string(*size) + " is set, but MPI started " +
                     std::to_string(mpi.world_size) +
                     " processes; unset WORLD_SIZE or launch as many");
}

}  // namespace dlfs::comm
