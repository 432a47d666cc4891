// Host entry points of the CUDA kernels (kernels/*.cu), in plain C++ so the g++-compiled CudaBackend can call them.
#pragma once

#include <cstddef>

#include "xyzmf/dtwa_site.hpp"
#include "xyzmf/fused_rk4.hpp"
#include "xyzmf/stream_plan.hpp"
#include "xyzmf/stage_ops.hpp"

namespace xyzmf {
namespace cuda {

// Drivers never throw (exceptions stay out of nvcc-compiled code). A failing
// CUDA call is recorded here instead; the backend collects it with
// take_driver_error() after each driver call and throws xyzmf::Error.
struct DriverError {
    const char* call = nullptr;  // the runtime call that failed; null: no error
    int code = 0;                // its cudaError_t
    const char* message = "";    // cudaGetErrorString(code)
};

// Returns the first error recorded on this thread since the last call, and clears it.
DriverError take_driver_error() noexcept;

// One fused RK stage over every site (Backend::stage). Asynchronous.
template <class Real>
void launch_stage(const StageArgs<Real>& args) noexcept;

// One fused RK4 pass (Backend::rk4_fused): a block per work item. Asynchronous.
template <class Real>
void launch_fused(const FusedArgs<Real>& args) noexcept;
// Shared memory one block of that pass needs.
std::size_t fused_shared_bytes(const FusedPlan& plan, std::size_t real_size) noexcept;

// One streaming RK4 pass (Backend::rk4_fused with plan.scheme == stream): a
// block per work item, a thread per lane. Asynchronous.
template <class Real>
void launch_stream(const FusedArgs<Real>& args) noexcept;
// Shared memory one block of that pass needs, and the most lanes (threads) an
// item of `dim` may have.
std::size_t stream_shared_bytes(const StreamPlan& plan, std::size_t real_size) noexcept;
int stream_max_threads(int dim, std::size_t real_size) noexcept;

// out = y + sum_s c_s k_s over count elements (Backend::combine). Asynchronous.
template <class Real>
void launch_combine(const CombineArgs<Real>& args, index_t count) noexcept;

// One DTWA dissipation pass over a batch (Backend::dissipate). Asynchronous.
template <class Real>
void launch_dissipate(const DissipateArgs<Real>& args) noexcept;

// Device scratch the reductions need (block partials and the result); the
// caller allocates it once, so the per-step error norm costs no cudaMalloc.
std::size_t reduce_scratch_bytes() noexcept;

// max_e error_element(args, e) over count elements; 0 when count is 0. Synchronous.
template <class Real>
double reduce_error_norm(const ErrorArgs<Real>& args, index_t count, void* scratch) noexcept;

// Observables merged over sites [first, last) of lat. Synchronous.
template <class Real>
Observables reduce_observables(const Real* s, const Real* dsdt, const Lattice& lat, index_t first, index_t last,
                               void* scratch) noexcept;

// Observables of each copy of lat (lat.copies of them) into out[copy]
// (device memory): a block per copy. Asynchronous.
template <class Real>
void reduce_observables_per_copy(const Real* s, const Real* dsdt, const Lattice& lat, Observables* out) noexcept;

namespace detail {
// Keeps the first error until take_driver_error(); used by the .cu files only.
void record_error(const char* call, int code, const char* message) noexcept;
}  // namespace detail

}  // namespace cuda
}  // namespace xyzmf
