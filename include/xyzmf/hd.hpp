// XYZMF_HD marks code that runs on both the host and a CUDA device. It is the
// one place that knows about __host__ __device__, so per-site physics can be
// written once (physics.md section 2) and compiled by g++ and nvcc alike.
#pragma once

#if defined(__CUDACC__)
#define XYZMF_HD __host__ __device__ __forceinline__
#elif defined(__GNUC__)
// Forced inlining: a call left in a site loop stops the CPU loop vectorising.
#define XYZMF_HD inline __attribute__((always_inline))
#else
#define XYZMF_HD inline
#endif
