#pragma once
// Where a process stands in a multi-process run, as its launcher says through the environment:
// mpirun (OMPI_COMM_WORLD_*), Slurm's srun (SLURM_PROCID/NTASKS/LOCALID), any PMI launcher
// (PMI_RANK/PMI_SIZE, PMIX_RANK), and the RANK/WORLD_SIZE/LOCAL_RANK convention of
// torchrun-style launchers. Read before MPI starts, to decide whether to start it.
#include <functional>
#include <optional>
#include <string>

namespace dlfs::comm {

struct LaunchInfo {
  bool launched = false;  // started by an MPI launcher (mpirun, srun, a PMI launcher)
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;    // the rank among those on this machine
  int local_size = 1;    // ranks on this machine (when the launcher says; else the world size)
  std::string launcher;  // "mpirun", "srun", "pmi", "environment" or "" (none)
};

// Reads the process environment; `getenv` may be replaced for tests.
using EnvironmentReader = std::function<std::optional<std::string>(const char* name)>;
LaunchInfo detect_launch(const EnvironmentReader& getenv);
LaunchInfo detect_launch();
// This process's environment (std::getenv) as an EnvironmentReader.
EnvironmentReader process_environment();

// The RANK / WORLD_SIZE / LOCAL_RANK a user set, checked against what MPI says: a contradiction
// is an InputError naming the variable.
void check_environment_agrees(const LaunchInfo& mpi, const EnvironmentReader& getenv);

}  // namespace dlfs::comm
