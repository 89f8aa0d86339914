#pragma once
// DLFS_SIMD_CLONES on a function makes GCC (and clang >= 14) compile it three times, for
// AVX-512, AVX2 and the baseline x86-64 (SSE2), and pick the best one for the running CPU once,
// at load time (an ifunc). dlfs is built without -march flags so that one binary runs on every
// x86-64 CPU; this keeps that, and lets the few compute-bound CPU loops (the vectorised exp of
// softmax) use the wide vectors of the CPU they run on (several times faster than SSE2 on
// an AVX-512 machine; docs/results.md). The same CPU always runs the same clone, so results are
// repeatable run after run; two CPUs of different vector widths may differ in the last bits of such
// sums. Elsewhere (other architectures, other compilers) the macro is empty.
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(__CUDACC__)
#define DLFS_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef DLFS_SIMD_CLONES
#define DLFS_SIMD_CLONES
#endif
