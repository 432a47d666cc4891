// Device reductions: the embedded-error max norm and the Observables of a
// state, over the shared error_element / observe_site of include/xyzmf/stage_ops.hpp.
// Two passes (block partials, then one block over the partials) with a grid
// that depends only on the problem size, so results are identical run to run.
#include <cuda_runtime.h>

#include <cub/block/block_reduce.cuh>

#include <algorithm>
#include <cmath>

#include "cuda_check.cuh"
#include "analysis_drivers.hpp"
#include "cuda_drivers.hpp"
#include "xyzmf/site_tally.hpp"
#include "xyzmf/stage_ops.hpp"

namespace xyzmf {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 1024;  // ~ one full wave on an H100; bounds the scratch

// Identities: 0 for the max (every error_element is >= 0 or +inf), the
// default Observables (zero sums, zero maxima) for merge.
struct MaxOp {
    __device__ double operator()(double a, double b) const { return a > b ? a : b; }
};
struct MergeOp {
    __device__ Observables operator()(Observables a, const Observables& b) const {
        a.merge(b);
        return a;
    }
};

template <class T, class Op>
__device__ void block_store(T mine, T* out, Op op) {
    using Reduce = cub::BlockReduce<T, kThreads>;
    __shared__ typename Reduce::TempStorage tmp;
    const T total = Reduce(tmp).Reduce(mine, op);
    if (threadIdx.x == 0) *out = total;  // the reduction is valid in thread 0 only
}

// Stages > 0: the stage count as a compile-time constant, so the stage loop of
// error_element unrolls and k[]/e[] are indexed statically (a runtime index
// makes nvcc copy the argument struct to local memory in every thread).
template <class Real, int Stages>
__global__ void __launch_bounds__(kThreads) error_partials(ErrorArgs<Real> A, index_t count, double* partial) {
    if (Stages > 0) A.stages = Stages;
    double worst = 0;
    const index_t stride = index_t(gridDim.x) * kThreads;
    for (index_t e = index_t(blockIdx.x) * kThreads + threadIdx.x; e < count; e += stride) {
        const double r = error_element(A, e);
        worst = r > worst ? r : worst;
    }
    block_store(worst, partial + blockIdx.x, MaxOp{});
}

template <class Real>
__global__ void __launch_bounds__(kThreads) observe_partials(const Real* s, const Real* dsdt, const Lattice lat,
                                                             index_t first, index_t last, Observables* partial) {
    const index_t Lx = lat.L[0], Ly = lat.L[1], Lxy = Lx * Ly;
    const index_t stride = index_t(gridDim.x) * kThreads;
    Observables mine;
    for (index_t n = first + index_t(blockIdx.x) * kThreads + threadIdx.x; n < last; n += stride)
        mine.merge(observe_site(s, dsdt, lat, n % Lx, (n / Lx) % Ly, n / Lxy));
    block_store(mine, partial + blockIdx.x, MergeOp{});
}

// One block per copy of a batch, its sites in a fixed order.
template <class Real>
__global__ void __launch_bounds__(kThreads) observe_copy(const Real* s, const Real* dsdt, const Lattice lat,
                                                         Observables* out) {
    const index_t Lx = lat.L[0], Ly = lat.L[1], Lxy = Lx * Ly, Ns = lat.copy_sites();
    const index_t first = index_t(blockIdx.x) * Ns;
    Observables mine;
    for (index_t n = first + threadIdx.x; n < first + Ns; n += kThreads)
        mine.merge(observe_site(s, dsdt, lat, n % Lx, (n / Lx) % Ly, n / Lxy));
    block_store(mine, out + blockIdx.x, MergeOp{});
}

struct TallyOp {
    __device__ TallyTerms operator()(TallyTerms a, const TallyTerms& b) const {
        a.merge(b);
        return a;
    }
};

// The device analysis's per-site tallies (site_tally.hpp): the rate from the
// shared right-hand side with this site's neighbours, as the host's rate_of.
__global__ void __launch_bounds__(kThreads) tally_partials(const double* s, const double* psi, const Lattice lat,
                                                           const SiteModel<double> model, double stationary_residual,
                                                           TallyTerms* partial) {
    const index_t N = lat.sites(), Lx = lat.L[0], Ly = lat.L[1];
    const SpinsView<const double> v = SpinsView<const double>::from(s, N);
    const index_t stride = index_t(gridDim.x) * kThreads;
    TallyTerms mine;
    for (index_t n = index_t(blockIdx.x) * kThreads + threadIdx.x; n < N; n += stride) {
        index_t nb[6];
        lat.neighbours(n % Lx, (n / Lx) % Ly, n / (Lx * Ly), nb);
        Vec3<double> sum = v[nb[0]] + v[nb[1]];
        if (lat.dim >= 2) sum = sum + v[nb[2]] + v[nb[3]];
        if (lat.dim >= 3) sum = sum + v[nb[4]] + v[nb[5]];
        const Vec3<double> me = v[n], rate = bloch_rhs(me, sum, model);
        mine.merge(tally_site(me.x, me.y, me.z, rate.x, rate.y, rate.z, psi ? psi[n] : NAN, stationary_residual));
    }
    block_store(mine, partial + blockIdx.x, TallyOp{});
}

// One block folds the partials of the first pass, in a fixed order.
template <class T, class Op>
__global__ void __launch_bounds__(kThreads) finish(const T* partial, int count, T* result, Op op) {
    T mine{};
    for (int b = threadIdx.x; b < count; b += kThreads) mine = op(mine, partial[b]);
    block_store(mine, result, op);
}

template <class Real, int Stages = 1>
void launch_error_partials(const ErrorArgs<Real>& A, index_t count, double* partial, int blocks) {
    if constexpr (Stages <= kMaxStages) {
        if (A.stages != Stages) return launch_error_partials<Real, Stages + 1>(A, count, partial, blocks);
        error_partials<Real, Stages><<<blocks, kThreads>>>(A, count, partial);
    } else {
        error_partials<Real, 0><<<blocks, kThreads>>>(A, count, partial);  // any other count: loop bound at run time
    }
}

int partial_blocks(index_t count) {
    return int(std::min<index_t>((count + kThreads - 1) / kThreads, kMaxBlocks));
}

// Both passes and the copy back; false (error recorded) on any failure.
// On the legacy default stream (stream 0), or on a stream of its own.
template <class T, class Op>
bool finish_and_fetch(T* partial, int blocks, Op op, const char* launch_call, T& host,
                      cudaStream_t stream = 0) noexcept {
    if (!check(cudaGetLastError(), launch_call)) return false;
    T* result = partial + kMaxBlocks;
    finish<T, Op><<<1, kThreads, 0, stream>>>(partial, blocks, result, op);
    if (!check(cudaGetLastError(), "cudaLaunchKernel(finish)")) return false;
    // Synchronous: also where a failure of any earlier asynchronous kernel surfaces.
    if (!stream)
        return check(cudaMemcpy(&host, result, sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy(reduction result)");
    return check(cudaMemcpyAsync(&host, result, sizeof(T), cudaMemcpyDeviceToHost, stream),
                 "cudaMemcpyAsync(reduction result)") &&
           check(cudaStreamSynchronize(stream), "cudaStreamSynchronize(reduction result)");
}

}  // namespace

std::size_t reduce_scratch_bytes() noexcept {
    // Sized for the larger element type; the double partials of the error norm fit too.
    static_assert(sizeof(Observables) >= sizeof(double) && sizeof(Observables) >= sizeof(TallyTerms), "scratch sizing");
    return (kMaxBlocks + 1) * sizeof(Observables);
}

template <class Real>
double reduce_error_norm(const ErrorArgs<Real>& A, index_t count, void* scratch) noexcept {
    if (count <= 0) return 0;
    auto* partial = static_cast<double*>(scratch);
    const int blocks = partial_blocks(count);
    launch_error_partials(A, count, partial, blocks);
    double host = 0;
    if (!finish_and_fetch(partial, blocks, MaxOp{}, "cudaLaunchKernel(error_partials)", host)) return HUGE_VAL;
    return host;
}

template <class Real>
Observables reduce_observables(const Real* s, const Real* dsdt, const Lattice& lat, index_t first, index_t last,
                               void* scratch) noexcept {
    const index_t N = last - first;
    Observables host;
    if (N <= 0) return host;
    auto* partial = static_cast<Observables*>(scratch);
    const int blocks = partial_blocks(N);
    observe_partials<Real><<<blocks, kThreads>>>(s, dsdt, lat, first, last, partial);
    if (!finish_and_fetch(partial, blocks, MergeOp{}, "cudaLaunchKernel(observe_partials)", host)) return Observables{};
    return host;
}

TallyTerms reduce_tallies(const double* s, const double* psi, const Lattice& lat, const SiteModel<double>& model,
                          double stationary_residual, void* scratch, void* stream_handle) noexcept {
    const cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
    TallyTerms host;
    const index_t N = lat.sites();
    if (N <= 0) return host;
    auto* partial = static_cast<TallyTerms*>(scratch);
    const int blocks = partial_blocks(N);
    tally_partials<<<blocks, kThreads, 0, stream>>>(s, psi, lat, model, stationary_residual, partial);
    if (!finish_and_fetch(partial, blocks, TallyOp{}, "cudaLaunchKernel(tally_partials)", host, stream)) {
        host = TallyTerms{};
        host.residual = HUGE_VAL;
    }
    return host;
}

template <class Real>
void reduce_observables_per_copy(const Real* s, const Real* dsdt, const Lattice& lat, Observables* out) noexcept {
    if (lat.copies <= 0) return;
    observe_copy<Real><<<unsigned(lat.copies), kThreads>>>(s, dsdt, lat, out);
    check(cudaGetLastError(), "cudaLaunchKernel(observe_copy)");
}

template void reduce_observables_per_copy<float>(const float*, const float*, const Lattice&, Observables*) noexcept;
template void reduce_observables_per_copy<double>(const double*, const double*, const Lattice&, Observables*) noexcept;
template double reduce_error_norm<float>(const ErrorArgs<float>&, index_t, void*) noexcept;
template double reduce_error_norm<double>(const ErrorArgs<double>&, index_t, void*) noexcept;
template Observables reduce_observables<float>(const float*, const float*, const Lattice&, index_t, index_t,
                                                      void*) noexcept;
template Observables reduce_observables<double>(const double*, const double*, const Lattice&, index_t, index_t,
                                                      void*) noexcept;

}  // namespace cuda
}  // namespace xyzmf
