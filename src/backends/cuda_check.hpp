// How the g++-compiled CUDA backends turn CUDA failures into xyzmf::Error
// (shared by cuda_backend.cpp and trajectory_cuda.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "cuda_drivers.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf::cuda_check {

// Throws xyzmf::Error naming the failed call. The error is cleared first (if
// not sticky) so that the next, unrelated call does not report it again.
inline void check(cudaError_t err, const char* call) {
    if (err == cudaSuccess) return;
    cudaGetLastError();
    throw Error(std::string("CUDA: ") + call + " failed: " + cudaGetErrorString(err));
}

// The drivers do not throw; they record the first failure for us to collect.
inline void check_driver(const char* operation) {
    const cuda::DriverError e = cuda::take_driver_error();
    if (e.call) throw Error(std::string("CUDA: ") + e.call + " failed (" + operation + "): " + e.message);
}

}  // namespace xyzmf::cuda_check
