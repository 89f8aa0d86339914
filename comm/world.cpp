#include "dlfs/comm/world.hpp"

#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>

#include "dlfs/comm/mpi_communicator.hpp"
#include "dlfs/comm/nccl_communicator.hpp"

namespace dlfs::comm {

std::unique_ptr<Communicator> start_ranks(const std::string& mode, double timeout_seconds) {
  const LaunchInfo launch = detect_launch();
  if (mode == "off") {
    if (launch.launched && launch.world_size > 1)
      throw InputError("--distributed off, but " + launch.launcher + " started " +
                       std::to_string(launch.world_size) +
                       " processes, which would all train alone and write the same files; "
                       "launch one process or leave --distributed at auto");
    return nullptr;
  }
  if (!launch.launched && launch.world_size > 1)
    throw InputError("WORLD_SIZE=" + std::to_string(launch.world_size) +
                     " is set, but no MPI launcher started dlfs; start the ranks with mpirun -np " +
                     std::to_string(launch.world_size) + " (or srun)");
  if (launch.launched || mode == "mpi") {
    if (!have_mpi() && launch.world_size > 1)
      throw InputError(launch.launcher + " started " + std::to_string(launch.world_size) +
                       " processes, but this dlfs was built without MPI; install libopenmpi-dev "
                       "and build again");
    if (have_mpi()) return make_mpi_communicator(timeout_seconds);
  }
  return nullptr;
}

std::unique_ptr<Communicator> communicator_for(std::unique_ptr<Communicator> host,
                                               const std::string& mode, const Device& device) {
  if (!device.is_cuda()) {
    if (mode == "nccl")
      throw InputError("--distributed nccl needs a CUDA device; this run is on the CPU");
    return host;
  }
  if (!host && mode != "nccl") return nullptr;
  if (!host) host = std::make_unique<LocalCommunicator>();
  return make_nccl_communicator(std::move(host), device.index);
}

Device rank_device(const Device& requested, bool index_named, int local_rank) {
  if (!requested.is_cuda() || index_named) return requested;
  const int devices = cuda_device_count();
  return devices > 0 ? Device::cuda(local_rank % devices) : requested;
}

int divide_cpu_threads(const LaunchInfo& launch) {
  if (std::getenv("OMP_NUM_THREADS") || launch.local_size <= 1) return 0;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  const int mine = CPU_COUNT(&allowed);
  // A launcher that bound the rank (mpirun binds each of a few ranks to a core) already divided
  // the machine: OpenMP follows the binding.
  if (online <= 0 || mine < online) return 0;
  const int threads = std::max(1, mine / launch.local_size);
  omp_set_num_threads(threads);
  return threads;
}

}  // namespace dlfs::comm
