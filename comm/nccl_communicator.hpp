#pragma once
// The NCCL backend: float32 gradients of CUDA ranks summed by ncclAllReduce. The NCCL
// communicator is made from an id that rank 0 creates and broadcasts through the host
// communicator (MPI; with no MPI, a world of one rank), which also carries the host collectives
// (metrics, replica checks, barriers).
//
// Overlap: each sum runs on a communication stream of its own, after an event recorded on the
// compute stream once the bucket is filled, so backward goes on while it runs; wait() makes
// the host wait for it (polling its event, with the timeout) before the optimizer step.
// Same bits on every rank: NCCL's ring and tree all-reduce compute each element's sum once and
// send it to every rank. Run to run, NCCL may pick another algorithm or protocol (NCCL_ALGO,
// NCCL_PROTO pin them), so two runs agree only to rounding.
//
// Compiled in every build, the backend itself only where CMake found NCCL (a CUDA build that is
// not the emulated one); elsewhere make_nccl_communicator says what is missing. This code has
// been compiled, never run: no GPU has been lent to the project yet.
#include <memory>

#include "dlfs/comm/communicator.hpp"

namespace dlfs::comm {

// Whether this build has NCCL (DLFS_NCCL at configure time, CUDA builds only).
bool have_nccl();

// A communicator for CUDA device `device_index` over the ranks of `host` (which it keeps).
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host,
                                                     int device_index);

}  // namespace dlfs::comm
