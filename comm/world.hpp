#pragma once
// Starting a run's ranks: which communicator a process gets, the device a CUDA rank uses and
// the threads a CPU rank takes.
//
//   --distributed auto  started by an MPI launcher (mpirun, srun): MPI, with NCCL on top for a
//                       CUDA device; otherwise one process and no communicator.
//   --distributed mpi   MPI even without a launcher (a world of one, for checks).
//   --distributed nccl  NCCL for a CUDA device, over MPI when launched, else a world of one.
//   --distributed off   one process; refused under a launcher that started several.
#include <memory>
#include <string>

#include "dlfs/comm/communicator.hpp"
#include "dlfs/comm/launch.hpp"
#include "dlfs/runtime/device.hpp"

namespace dlfs::comm {

// The host communicator for `mode` (auto, off, mpi, nccl): MPI when the run has ranks, null
// for a one-process run. An inconsistent request is an InputError that says what to do.
std::unique_ptr<Communicator> start_ranks(const std::string& mode, double timeout_seconds);

// The communicator a rank trains with on `device`: `host` itself for the CPU, NCCL over it for
// a CUDA device (mode "nccl" makes one even for a world of one). `host` may be null.
std::unique_ptr<Communicator> communicator_for(std::unique_ptr<Communicator> host,
                                               const std::string& mode, const Device& device);

// The GPU of a CUDA rank: cuda:(local rank % devices) when the user named no index.
Device rank_device(const Device& requested, bool index_named, int local_rank);

// CPU threads for a rank: when the user set no OMP_NUM_THREADS and the launcher did not bind
// the rank to fewer CPUs than the machine has, the machine's CPUs divided among its ranks.
// Returns the count it set, or 0 when it left OpenMP's choice alone.
int divide_cpu_threads(const LaunchInfo& launch);

}  // namespace dlfs::comm
