// CUDA kernels for the fused RK stage and the stage combination: thin loops
// over stage_site / combine_element of include/xyzmf/stage_ops.hpp, plus their
// drivers and the drivers' error record.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>

#include "cuda_check.cuh"
#include "cuda_drivers.hpp"
#include "xyzmf/dtwa_site.hpp"
#include "xyzmf/stage_ops.hpp"

namespace xyzmf {
namespace cuda {

namespace detail {
namespace {
thread_local DriverError pending;
}  // namespace

void record_error(const char* call, int code, const char* message) noexcept {
    if (!pending.call) pending = DriverError{call, code, message};  // keep the root cause
}
}  // namespace detail

DriverError take_driver_error() noexcept {
    const DriverError e = detail::pending;
    detail::pending = DriverError{};
    return e;
}

namespace {

constexpr int kThreads = 256;
constexpr index_t kMaxGridX = INT_MAX;  // hardware limit of gridDim.x
constexpr index_t kMaxGridYZ = 65535;   // hardware limit of gridDim.y and gridDim.z

// threadIdx.x/blockIdx.x run along x (consecutive sites: coalesced),
// threadIdx.y/blockIdx.y along y, blockIdx.z along z. Every axis is a
// grid-stride loop, so lattices longer than the grid limits are still covered.
template <class Real, class Shape>
__global__ void __launch_bounds__(kThreads) stage_kernel(const StageArgs<Real> A) {
    const index_t Lx = A.lat.L[0], Ly = A.lat.L[1], Lz = A.lat.layers();  // all copies of a batch
    const index_t i0 = index_t(blockIdx.x) * blockDim.x + threadIdx.x, si = index_t(gridDim.x) * blockDim.x;
    const index_t j0 = index_t(blockIdx.y) * blockDim.y + threadIdx.y, sj = index_t(gridDim.y) * blockDim.y;
    for (index_t k = blockIdx.z; k < Lz; k += gridDim.z)
        for (index_t j = j0; j < Ly; j += sj)
            for (index_t i = i0; i < Lx; i += si) stage_site<Shape>(A, i, j, k);
}

// Stages > 0: the stage count as a compile-time constant, so the stage loop of
// combine_element unrolls and k[]/c[] are indexed statically (a runtime index
// makes nvcc copy the argument struct to local memory in every thread).
template <class Real, int Stages>
__global__ void __launch_bounds__(kThreads) combine_kernel(CombineArgs<Real> A, index_t count) {
    if (Stages > 0) A.stages = Stages;
    const index_t stride = index_t(gridDim.x) * blockDim.x;
    for (index_t e = index_t(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += stride) combine_element(A, e);
}

template <class Real, int Stages = 1>
void launch_combine_kernel(const CombineArgs<Real>& A, index_t count, unsigned blocks) {
    if constexpr (Stages <= kMaxStages) {
        if (A.stages != Stages) return launch_combine_kernel<Real, Stages + 1>(A, count, blocks);
        combine_kernel<Real, Stages><<<blocks, kThreads>>>(A, count);
    } else {
        combine_kernel<Real, 0><<<blocks, kThreads>>>(A, count);  // any other count: loop bound at run time
    }
}

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

}  // namespace

template <class Real>
void launch_stage(const StageArgs<Real>& A) noexcept {
    const index_t Lx = A.lat.L[0], Ly = A.lat.L[1], Lz = A.lat.layers();
    if (Lx <= 0 || Ly <= 0 || Lz <= 0) return;
    // Rows shorter than kThreads share a block with the next rows (threadIdx.y)
    // instead of idling most of it; bx stays a multiple of the warp size so no
    // warp straddles two rows.
    const index_t bx_count = ceil_div(Lx, kThreads);
    const index_t bx = std::min<index_t>(kThreads, ceil_div(ceil_div(Lx, bx_count), 32) * 32);
    const index_t by = kThreads / bx;
    const dim3 block(unsigned(bx), unsigned(by), 1);
    const dim3 grid(unsigned(std::min(ceil_div(Lx, bx), kMaxGridX)), unsigned(std::min(ceil_div(Ly, by), kMaxGridYZ)),
                    unsigned(std::min(Lz, kMaxGridYZ)));
    with_stage_shape(A, [&](auto shape) { stage_kernel<Real, decltype(shape)><<<grid, block>>>(A); });
    check(cudaGetLastError(), "cudaLaunchKernel(stage_kernel)");
}

template <class Real>
void launch_combine(const CombineArgs<Real>& A, index_t count) noexcept {
    if (count <= 0) return;
    const unsigned blocks = unsigned(std::min(ceil_div(count, kThreads), kMaxGridX));
    launch_combine_kernel(A, count, blocks);
    check(cudaGetLastError(), "cudaLaunchKernel(combine_kernel)");
}

// DTWA dissipation: one thread per site of the batch (dtwa_site.hpp).
template <class Real>
__global__ void __launch_bounds__(kThreads) dissipate_kernel(const DissipateArgs<Real> A, index_t count) {
    const index_t stride = index_t(gridDim.x) * blockDim.x, per = A.lat.copy_sites();
    for (index_t e = index_t(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += stride) {
        const index_t copy = e / per;
        dissipate_sites(A, copy, e - copy * per, 1);
    }
}

template <class Real>
void launch_dissipate(const DissipateArgs<Real>& A) noexcept {
    const index_t count = A.lat.sites();
    if (count <= 0) return;
    const unsigned blocks = unsigned(std::min(ceil_div(count, kThreads), kMaxGridX));
    dissipate_kernel<Real><<<blocks, kThreads>>>(A, count);
    check(cudaGetLastError(), "cudaLaunchKernel(dissipate_kernel)");
}

template void launch_dissipate<float>(const DissipateArgs<float>&) noexcept;
template void launch_dissipate<double>(const DissipateArgs<double>&) noexcept;
template void launch_stage<float>(const StageArgs<float>&) noexcept;
template void launch_stage<double>(const StageArgs<double>&) noexcept;
template void launch_combine<float>(const CombineArgs<float>&, index_t) noexcept;
template void launch_combine<double>(const CombineArgs<double>&, index_t) noexcept;

}  // namespace cuda
}  // namespace xyzmf
