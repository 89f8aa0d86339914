#pragma once
// The MPI backend: CPU tensors, one rank per process, started by mpirun, srun or any MPI
// launcher. Constructing it starts MPI (MPI_Init_thread, funneled: only the main thread calls
// MPI) and the destructor ends it; one per process.
//
// Sums are MPI_Iallreduce on MPI_COMM_WORLD. Every rank gets the same bits: Open MPI's
// all-reduce algorithms (ring, recursive doubling, reduce-scatter + all-gather) compute each
// element's sum once and hand it to every rank, or have the ranks add the same two numbers
// (IEEE addition commutes exactly). train checks it at every epoch's end (replica_check.hpp).
//
// Errors come back as return codes (MPI_ERRORS_RETURN), not as MPI's default abort, and become
// CommunicationError with MPI's own words.
#include <memory>

#include "dlfs/comm/communicator.hpp"

namespace dlfs::comm {

// Whether this build has MPI (DLFS_MPI at configure time).
bool have_mpi();

// Starts MPI and returns this process's communicator; throws Error in a build without MPI.
std::unique_ptr<Communicator> make_mpi_communicator(double timeout_seconds);

}  // namespace dlfs::comm
