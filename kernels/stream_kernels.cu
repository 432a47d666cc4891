// CUDA kernel of the streaming RK4 pass (include/xyzmf/stream_rk4.hpp): one
// thread block per work item, one thread per lane, each thread's rings of rows
// in registers. x neighbours come from warp shuffles; across warps (2D items
// wider than a warp, the y rows of a 3D patch) through a little shared memory.
// The pipeline itself is the CPU-tested stream::run_item; only the team below
// is GPU-specific.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>

#include "cuda_check.cuh"
#include "cuda_drivers.hpp"
#include "xyzmf/stream_rk4.hpp"

namespace xyzmf {
namespace cuda {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;

template <class Real>
__device__ Vec3<Real> shfl(const Vec3<Real>& v, int src) {
    return {__shfl_sync(kFullMask, v.x, src), __shfl_sync(kFullMask, v.y, src), __shfl_sync(kFullMask, v.z, src)};
}
template <class Real>
__device__ Vec3<Real> shfl_up(const Vec3<Real>& v) {  // lane - 1's value; lane 0 keeps its own
    return {__shfl_up_sync(kFullMask, v.x, 1), __shfl_up_sync(kFullMask, v.y, 1), __shfl_up_sync(kFullMask, v.z, 1)};
}
template <class Real>
__device__ Vec3<Real> shfl_down(const Vec3<Real>& v) {  // lane + 1's value; lane 31 keeps its own
    return {__shfl_down_sync(kFullMask, v.x, 1), __shfl_down_sync(kFullMask, v.y, 1),
            __shfl_down_sync(kFullMask, v.z, 1)};
}

// The lanes of an item: the threads of a block. 1D: 32 lanes (one warp);
// 2D: nx = 32 x warps lanes in x; 3D: 32 lanes in x times one warp per y row.
template <class Real>
struct BlockTeam {
    int lane, warp, warps, tid, lx_, ly_;
    Real* buf;     // exchanges between warps, two halves used in turn
    int half = 0;  // the half the next exchange writes

    __device__ BlockTeam(const StreamPlan& P, Real* smem) : buf(smem) {
        tid = int(threadIdx.x);
        lane = tid & 31;
        warp = tid >> 5;
        warps = int(blockDim.x) >> 5;
        lx_ = P.dim == 3 ? lane : tid;
        ly_ = P.dim == 3 ? warp : 0;
    }

    template <class T>
    using Value = T;
    template <class T>
    __device__ static T& at(T& v, int) { return v; }
    template <class T>
    __device__ static const T& at(const T& v, int) { return v; }
    template <class F>
    __device__ void for_each_lane(F&& f) const { f(tid); }
    __device__ int lx(int) const { return lx_; }
    __device__ int ly(int) const { return ly_; }

    // Every call is made by the whole block (the pipeline's control flow
    // depends on the item only), so the barrier here is safe. Two halves in
    // turn: a warp still reading one exchange cannot be overwritten by the next.
    template <int Dim>
    __device__ void lateral(const Vec3<Real>& rm, const Vec3<Real>& c, const Vec3<Real>& rp, Vec3<Real>& xm,
                            Vec3<Real>& xp, Vec3<Real>& ym, Vec3<Real>& yp) {
        if constexpr (Dim == 1) {
            // A row is the warp: lane 0's left neighbour is lane 31 of the row
            // before, lane 31's right one lane 0 of the row after.
            xm = shfl(c, (lane + 31) & 31);
            const Vec3<Real> before = shfl(rm, 31);
            if (lane == 0) xm = before;
            xp = shfl(c, (lane + 1) & 31);
            const Vec3<Real> after = shfl(rp, 0);
            if (lane == 31) xp = after;
        } else if constexpr (Dim == 2) {
            xm = shfl_up(c);
            xp = shfl_down(c);
            if (warps > 1) {  // the end lanes of each warp, through shared memory
                Real* b = buf + half * 6 * warps;
                half ^= 1;
                if (lane == 0 || lane == 31) {
                    Real* e = b + 3 * (2 * warp + (lane == 31));
                    e[0] = c.x; e[1] = c.y; e[2] = c.z;
                }
                __syncthreads();
                if (lane == 0 && warp > 0) {
                    const Real* e = b + 3 * (2 * (warp - 1) + 1);
                    xm = {e[0], e[1], e[2]};
                }
                if (lane == 31 && warp + 1 < warps) {
                    const Real* e = b + 3 * (2 * (warp + 1));
                    xp = {e[0], e[1], e[2]};
                }
            }
        } else {
            xm = shfl_up(c);
            xp = shfl_down(c);
            const int n = 32 * warps;  // y rows: the whole patch through shared memory
            Real* b = buf + half * 3 * n;
            half ^= 1;
            b[tid] = c.x;
            b[n + tid] = c.y;
            b[2 * n + tid] = c.z;
            __syncthreads();
            const int below = warp > 0 ? tid - 32 : tid, above = warp + 1 < warps ? tid + 32 : tid;
            ym = {b[below], b[n + below], b[2 * n + below]};
            yp = {b[above], b[n + above], b[2 * n + above]};
        }
    }
};

// Thread blocks: 1D one warp; 2D up to 256 threads; 3D up to 384 threads in
// double (the rings of a site take about 110 registers) and 512 in float.
template <class Real, int Dim>
constexpr int max_threads() {
    return Dim == 3 ? (sizeof(Real) == 8 ? 384 : 512) : 256;
}

template <class Real, int Dim, int M, int Ahead>
__global__ void __launch_bounds__(max_threads<Real, Dim>()) stream_kernel(const FusedArgs<Real> A) {
    extern __shared__ __align__(16) unsigned char stream_smem[];
    BlockTeam<Real> team(A.plan.stream, reinterpret_cast<Real*>(stream_smem));
    const index_t items = A.plan.stream.items();
    for (index_t item = blockIdx.x; item < items; item += gridDim.x)
        stream::run_item<Dim, M, Real, BlockTeam<Real>, Ahead>(A, A.plan.stream, item, team);
}

template <class Real, int Dim, int M>
void launch(const FusedArgs<Real>& A, std::size_t smem, unsigned blocks, unsigned threads) {
    auto kernel = A.plan.stream.ahead == 1 ? stream_kernel<Real, Dim, M, 1> : stream_kernel<Real, Dim, M, 2>;
    if (smem > 48 * 1024 &&
        !check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
               "cudaFuncSetAttribute(stream_kernel shared memory)"))
        return;
    kernel<<<blocks, threads, smem>>>(A);
    check(cudaGetLastError(), "cudaLaunchKernel(stream_kernel)");
}

template <class Real, int M>
void launch_dim(const FusedArgs<Real>& A, std::size_t smem, unsigned blocks, unsigned threads) {
    switch (A.plan.stream.dim) {
        case 1: launch<Real, 1, M>(A, smem, blocks, threads); break;
        case 2: launch<Real, 2, M>(A, smem, blocks, threads); break;
        default:  // 3D patches hold one step's halo only (cuda_backend.cpp never plans two)
            if constexpr (M == 1)
                launch<Real, 3, M>(A, smem, blocks, threads);
            else  // (the backend then throws, as the CPU's does, instead of stepping nothing)
                detail::record_error("launch_stream", int(cudaErrorInvalidConfiguration),
                                     "a 3D streaming plan of two steps per pass");
            break;
    }
}

}  // namespace

std::size_t stream_shared_bytes(const StreamPlan& P, std::size_t real_size) noexcept {
    if (P.dim == 3) return 2 * 3 * std::size_t(P.lanes()) * real_size;
    if (P.dim == 2 && P.nx > 32) return 2 * 6 * std::size_t(P.nx / 32) * real_size;
    return 0;
}

int stream_max_threads(int dim, std::size_t real_size) noexcept {
    return dim == 3 ? (real_size == 8 ? max_threads<double, 3>() : max_threads<float, 3>()) : max_threads<double, 2>();
}

template <class Real>
void launch_stream(const FusedArgs<Real>& A) noexcept {
    const StreamPlan& P = A.plan.stream;
    const index_t items = P.items();
    if (items <= 0) return;
    const unsigned blocks = unsigned(std::min<index_t>(items, INT_MAX));
    const unsigned threads = unsigned(P.lanes());
    const std::size_t smem = stream_shared_bytes(P, sizeof(Real));
    if (P.steps == 2)
        launch_dim<Real, 2>(A, smem, blocks, threads);
    else
        launch_dim<Real, 1>(A, smem, blocks, threads);
}

template void launch_stream<float>(const FusedArgs<float>&) noexcept;
template void launch_stream<double>(const FusedArgs<double>&) noexcept;

}  // namespace cuda
}  // namespace xyzmf
