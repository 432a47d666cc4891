// CUDA kernel of the fused RK4 pass: one thread block per work item of
// include/xyzmf/fused_rk4.hpp, its rings of slices in shared memory, the threads of
// the block splitting each slice's points. The pipeline itself is the CPU's
// (fused::run_item); only the team below is GPU-specific.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>

#include "cuda_check.cuh"
#include "cuda_drivers.hpp"
#include "xyzmf/fused_rk4.hpp"

namespace xyzmf {
namespace cuda {
namespace {

// 128 threads. Launch bounds: 4 blocks per SM in double (at most 128 registers; the
// shared rings of a 2D double tile allow no more), 8 in float (64 registers).
constexpr int kFusedThreads = 128;

// The threads of one block. Offsets inside a tile are 32-bit.
struct BlockTeam {
    template <class F>
    __device__ void rect(int xa, int xb, int ya, int yb, int nx, F&& f) {
        const int w = xb - xa, n = w * (yb - ya);
        if (w <= 0) return;
        for (int q = int(threadIdx.x); q < n; q += int(blockDim.x)) {
            const int ly = ya + q / w, lx = xa + q % w;
            f(ly * nx + lx, lx, ly);
        }
    }
    // One point per thread: consecutive threads take consecutive x (coalesced).
    template <class F>
    __device__ void rows(int xa, int xb, int ya, int yb, F&& f) {
        const int w = xb - xa, n = w * (yb - ya);
        if (w <= 0) return;
        for (int q = int(threadIdx.x); q < n; q += int(blockDim.x)) {
            const int ly = ya + q / w, lx = xa + q % w;
            f(ly, lx, lx + 1);
        }
    }
    template <class Real>
    __device__ static void put(Real* dst, const Real* src, int n) {
        for (int i = 0; i < n; ++i) dst[i] = src[i];
    }
    __device__ void sync() { __syncthreads(); }
};

template <class Real, int Dim>
__global__ void __launch_bounds__(kFusedThreads, sizeof(Real) == 8 ? 4 : 8) fused_kernel(const FusedArgs<Real> A) {
    extern __shared__ __align__(16) unsigned char fused_smem[];
    Real* scratch = reinterpret_cast<Real*>(fused_smem);
    BlockTeam team;
    const index_t items = A.plan.items();
    for (index_t item = blockIdx.x; item < items; item += gridDim.x) {
        fused::run_item<Dim>(A, item, scratch, team);
        __syncthreads();  // the next item reuses the rings
    }
}

template <class Real, int Dim>
void launch(const FusedArgs<Real>& A, std::size_t smem, unsigned blocks) {
    auto kernel = fused_kernel<Real, Dim>;
    if (!check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
               "cudaFuncSetAttribute(fused_kernel shared memory)"))
        return;
    kernel<<<blocks, kFusedThreads, smem>>>(A);
    check(cudaGetLastError(), "cudaLaunchKernel(fused_kernel)");
}

}  // namespace

std::size_t fused_shared_bytes(const FusedPlan& plan, std::size_t real_size) noexcept {
    return std::size_t(plan.scratch_reals()) * real_size;
}

template <class Real>
void launch_fused(const FusedArgs<Real>& A) noexcept {
    const index_t items = A.plan.items();
    if (items <= 0) return;
    const std::size_t smem = fused_shared_bytes(A.plan, sizeof(Real));
    const unsigned blocks = unsigned(std::min<index_t>(items, INT_MAX));
    switch (A.plan.dim) {
        case 1: launch<Real, 1>(A, smem, blocks); break;
        case 2: launch<Real, 2>(A, smem, blocks); break;
        default: launch<Real, 3>(A, smem, blocks); break;
    }
}

template void launch_fused<float>(const FusedArgs<float>&) noexcept;
template void launch_fused<double>(const FusedArgs<double>&) noexcept;

}  // namespace cuda
}  // namespace xyzmf
