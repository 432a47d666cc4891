// The kernels' side of CUDA error handling: a failed runtime call is recorded
// for the host code to collect (cuda_drivers.hpp, then the backends'
// cuda_check.hpp turns it into an xyzmf::Error); nothing throws across a launch.
#pragma once

#include <cuda_runtime.h>

#include "cuda_drivers.hpp"

namespace xyzmf {
namespace cuda {

// True on success. Otherwise clears a non-sticky error, so that the next,
// unrelated call does not report it again, and records this one.
inline bool check(cudaError_t err, const char* call) noexcept {
    if (err == cudaSuccess) return true;
    cudaGetLastError();
    detail::record_error(call, int(err), cudaGetErrorString(err));
    return false;
}

}  // namespace cuda
}  // namespace xyzmf
