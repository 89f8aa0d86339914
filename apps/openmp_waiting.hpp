#pragma once
// How dlfs's OpenMP threads wait for work. libgomp's default keeps an idle thread spinning for a
// long while before it sleeps: on a quiet machine that saves a wake-up per parallel region, but
// beside any other busy process the spinning threads take the cores the working ones need, and
// training gets many times slower (docs/results.md). libgomp reads its settings once, when the
// program loads, so `dlfs` starts itself again with a short spin (GOMP_SPINCOUNT) when the user
// has set neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT. Settings the user gives are kept as they
// are, and DLFS_KEEP_WAIT_POLICY=1 keeps libgomp's own default (for measuring it).
namespace dlfs::app {

// Called first thing in main(). Returns only when no restart is needed or the restart failed
// (then dlfs runs on with libgomp's default).
void choose_openmp_waiting(char** argv);

}  // namespace dlfs::app
