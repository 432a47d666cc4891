// Kernels of the quantum-trajectory backend: the per-amplitude physics of
// include/xyzmf/spin_operators.hpp over a whole batch of state vectors, one
// launch per operation for every trajectory at once.
#include <cuda_runtime.h>

#include <cub/block/block_reduce.cuh>

#include "cuda_check.cuh"
#include "quantum_drivers.hpp"

namespace xyzmf {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxPartials = 64;  // blocks per trajectory in the reductions

unsigned elementwise_blocks(std::uint64_t total) {
    const std::uint64_t b = (total + kThreads - 1) / kThreads;
    return unsigned(b < 65535ull * 32 ? b : 65535ull * 32);
}

__global__ void series_first(SpinModel m, const Amp* psi, Amp* term, Amp* out, const double* h, std::uint64_t total) {
    const std::uint64_t D = m.dimension();
    for (std::uint64_t e = std::uint64_t(blockIdx.x) * kThreads + threadIdx.x; e < total;
         e += std::uint64_t(gridDim.x) * kThreads) {
        const std::uint64_t b = e / D;
        const double hb = h[b];
        if (hb <= 0) continue;
        const Amp* v = psi + b * D;
        const Amp t = series_term(m, basis_t(e - b * D), hb, [v](basis_t j) { return v[j]; });
        term[e] = t;
        out[e] = psi[e] + t;
    }
}

__global__ void series_next(SpinModel m, const Amp* term, Amp* next, Amp* out, const double* h, int k, bool last,
                            std::uint64_t total) {
    const std::uint64_t D = m.dimension();
    for (std::uint64_t e = std::uint64_t(blockIdx.x) * kThreads + threadIdx.x; e < total;
         e += std::uint64_t(gridDim.x) * kThreads) {
        const std::uint64_t b = e / D;
        const double hb = h[b];
        if (hb <= 0) continue;
        const Amp* v = term + b * D;
        const Amp t = series_term(m, basis_t(e - b * D), hb / k, [v](basis_t j) { return v[j]; });
        next[e] = t;
        Amp o = out[e] + t;
        if (last) o = exp(-m.shift * hb) * o;
        out[e] = o;
    }
}

__global__ void scale_out(SpinModel m, Amp* out, const double* h, std::uint64_t total) {
    const std::uint64_t D = m.dimension();
    for (std::uint64_t e = std::uint64_t(blockIdx.x) * kThreads + threadIdx.x; e < total;
         e += std::uint64_t(gridDim.x) * kThreads) {
        const double hb = h[e / D];
        if (hb > 0) out[e] = exp(-m.shift * hb) * out[e];
    }
}

__global__ void accept_kernel(Amp* psi, const Amp* out, const int* take, std::uint64_t D, std::uint64_t total) {
    for (std::uint64_t e = std::uint64_t(blockIdx.x) * kThreads + threadIdx.x; e < total;
         e += std::uint64_t(gridDim.x) * kThreads)
        if (take[e / D]) psi[e] = out[e];
}

__global__ void jump_kernel(SpinModel m, Amp* psi, const int* channel, const double* scale, std::uint64_t total) {
    const std::uint64_t D = m.dimension();
    for (std::uint64_t e = std::uint64_t(blockIdx.x) * kThreads + threadIdx.x; e < total;
         e += std::uint64_t(gridDim.x) * kThreads) {
        const std::uint64_t b = e / D;
        const int c = channel[b];
        if (c < 0) continue;
        Amp* v = psi + b * D;
        const basis_t i = basis_t(e - b * D);
        const double s = scale[b];
        if (c < m.spins) {
            const basis_t up = basis_t(1) << c;
            if (i & up) continue;  // the pair (i, i | up) belongs to the thread of i
            const Amp moved = after_decay(i, c, [v](basis_t j) { return v[j]; });
            v[i] = s * moved;
            v[i | up] = Amp{};
        } else {
            v[i] = s * after_dephasing(i, c - m.spins, v[i]);
        }
    }
}

// Per-thread sums of V values over this block's share of trajectory
// blockIdx.y, reduced in the block and stored as partial blockIdx.x.
template <int Kind>  // 0: norm, 1: populations, 2: correlations
__global__ void __launch_bounds__(kThreads)
    partial_sums(SpinModel m, const Amp* x, const int* want, const int* partners, double* partial) {
    const int N = m.spins;
    const int V = Kind == 0 ? 1 : Kind == 1 ? N : 3 * N;
    const std::uint64_t D = m.dimension();
    const int b = blockIdx.y;
    double* out = partial + (std::size_t(b) * gridDim.x + blockIdx.x) * V;
    double acc[3 * kMaxSpins];
    for (int v = 0; v < V; ++v) acc[v] = 0;
    const Amp* psi = x + std::uint64_t(b) * D;
    if (Kind != 2 || want[b]) {
        for (std::uint64_t ii = std::uint64_t(blockIdx.x) * kThreads + threadIdx.x; ii < D;
             ii += std::uint64_t(gridDim.x) * kThreads) {
            const basis_t i = basis_t(ii);
            const double w = norm2(psi[i]);
            if (Kind == 0) {
                acc[0] += w;
            } else if (Kind == 1) {
                for (int n = 0; n < N; ++n)
                    if (bit(i, n)) acc[n] += w;
            } else {
                for (int r = 0; r < N; ++r)
                    for (int s = 0; s < N; ++s) {
                        const int t = partners[r * N + s];
                        const basis_t j = i ^ ((basis_t(1) << s) | (basis_t(1) << t));
                        double terms[3];
                        pair_correlation_terms(i, s, t, psi[i] * conj(psi[j]), w, terms);
                        acc[r] += terms[0];
                        acc[N + r] += terms[1];
                        acc[2 * N + r] += terms[2];
                    }
            }
        }
    }
    using Reduce = cub::BlockReduce<double, kThreads>;
    __shared__ typename Reduce::TempStorage tmp;
    for (int v = 0; v < V; ++v) {
        const double total = Reduce(tmp).Sum(acc[v]);
        if (threadIdx.x == 0) out[v] = total;
        __syncthreads();  // tmp is reused
    }
}

// result[b * V + v] = sum over the P partials, in order.
__global__ void sum_partials(const double* partial, int P, int V, int B, double* result) {
    const int e = blockIdx.x * kThreads + threadIdx.x;
    if (e >= B * V) return;
    const int b = e / V, v = e - b * V;
    double s = 0;
    for (int p = 0; p < P; ++p) s += partial[(std::size_t(b) * P + p) * V + v];
    result[e] = s;
}

int partials_per_trajectory(const SpinModel& m) {
    const std::uint64_t per = (std::uint64_t(m.dimension()) + kThreads - 1) / kThreads;
    return int(per < kMaxPartials ? per : kMaxPartials);
}

template <int Kind>
void reduce(const SpinModel& m, const Amp* x, const int* want, const int* partners, int B, double* scratch,
            double* result) {
    const int P = partials_per_trajectory(m);
    const int V = Kind == 0 ? 1 : Kind == 1 ? m.spins : 3 * m.spins;
    // The batch runs along gridDim.y, which stops at 65535: launch in chunks.
    constexpr int kMaxGridY = 65535;
    for (int b0 = 0; b0 < B; b0 += kMaxGridY) {
        const int nb = B - b0 < kMaxGridY ? B - b0 : kMaxGridY;
        partial_sums<Kind><<<dim3(unsigned(P), unsigned(nb)), kThreads>>>(
            m, x + std::uint64_t(b0) * m.dimension(), want ? want + b0 : nullptr, partners,
            scratch + std::size_t(b0) * P * V);
        if (!check(cudaGetLastError(), "partial_sums launch")) return;
    }
    sum_partials<<<unsigned((B * V + kThreads - 1) / kThreads), kThreads>>>(scratch, P, V, B, result);
    check(cudaGetLastError(), "sum_partials launch");
}

}  // namespace

void launch_series_first(const SpinModel& m, const Amp* psi, Amp* term, Amp* out, const double* h, int B) noexcept {
    const std::uint64_t total = std::uint64_t(B) * m.dimension();
    series_first<<<elementwise_blocks(total), kThreads>>>(m, psi, term, out, h, total);
    check(cudaGetLastError(), "series_first launch");
}
void launch_series_next(const SpinModel& m, const Amp* term, Amp* next, Amp* out, const double* h, int k, bool last,
                        int B) noexcept {
    const std::uint64_t total = std::uint64_t(B) * m.dimension();
    series_next<<<elementwise_blocks(total), kThreads>>>(m, term, next, out, h, k, last, total);
    check(cudaGetLastError(), "series_next launch");
}
void launch_scale_out(const SpinModel& m, Amp* out, const double* h, int B) noexcept {
    const std::uint64_t total = std::uint64_t(B) * m.dimension();
    scale_out<<<elementwise_blocks(total), kThreads>>>(m, out, h, total);
    check(cudaGetLastError(), "scale_out launch");
}
void launch_accept(const SpinModel& m, Amp* psi, const Amp* out, const int* take, int B) noexcept {
    const std::uint64_t total = std::uint64_t(B) * m.dimension();
    accept_kernel<<<elementwise_blocks(total), kThreads>>>(psi, out, take, m.dimension(), total);
    check(cudaGetLastError(), "accept launch");
}
void launch_jump(const SpinModel& m, Amp* psi, const int* channel, const double* scale, int B) noexcept {
    const std::uint64_t total = std::uint64_t(B) * m.dimension();
    jump_kernel<<<elementwise_blocks(total), kThreads>>>(m, psi, channel, scale, total);
    check(cudaGetLastError(), "jump launch");
}

namespace {

// One term of the gap filter's Chebyshev series over a packed sector matrix
// (include/xyzmf/packed_filter.hpp), Lanes threads a row: lane l reads the
// row's words l, l + Lanes, ... (column << shift | value code), as
// PackedRows::multiply does, and the lanes' sums meet by shuffles. Lanes = 1
// is the host's order of summation exactly; more lanes read a row's words in
// fewer, wider transactions (CSR-vector), with the sum in another order.
__device__ inline double shuffle_down(double v, int by, int width) {
    return __shfl_down_sync(0xffffffffu, v, by, width);
}
__device__ inline Amp shuffle_down(Amp v, int by, int width) {
    return {__shfl_down_sync(0xffffffffu, v.re, by, width), __shfl_down_sync(0xffffffffu, v.im, by, width)};
}

template <class T, int Lanes>
__global__ void chebyshev_term(std::int64_t rows, const std::int64_t* start, const std::uint32_t* words, const T* table,
                               int shift, const T* x, const T* prev, T* out, T* sum, T centre, double scale, double a,
                               double a_x, bool first) {
    static_assert(Lanes >= 1 && Lanes <= 32 && 32 % Lanes == 0 && kThreads % 32 == 0);
    const std::uint32_t mask = (1u << shift) - 1u;
    const int lane = int(threadIdx.x) % Lanes;
    const int group_in_warp = int(threadIdx.x % 32) / Lanes;
    const std::int64_t groups = std::int64_t(gridDim.x) * (kThreads / Lanes);
    // r - group_in_warp is the warp's first row: every thread of a warp runs
    // the same iterations, as the shuffles need all 32.
    for (std::int64_t r = (std::int64_t(blockIdx.x) * kThreads + threadIdx.x) / Lanes; r - group_in_warp < rows;
         r += groups) {
        T acc = T();
        if (r < rows)
            for (std::int64_t k = start[r] + lane; k < start[r + 1]; k += Lanes) {
                const std::uint32_t w = words[k];
                acc = acc + table[w & mask] * x[w >> shift];
            }
        for (int by = Lanes / 2; by > 0; by /= 2) acc = acc + shuffle_down(acc, by, Lanes);
        if (lane != 0 || r >= rows) continue;
        const T xr = x[r];
        T o = scale * (acc - centre * xr);
        if (prev) o = o + prev[r];
        out[r] = o;
        sum[r] = (first ? a_x * xr : sum[r]) + a * o;
    }
}

template <class T, int Lanes>
void launch_lanes(std::int64_t rows, const std::int64_t* start, const std::uint32_t* words, const T* table, int shift,
                  const T* x, const T* prev, T* out, T* sum, T centre, double scale, double a, double a_x, bool first) {
    chebyshev_term<T, Lanes><<<elementwise_blocks(std::uint64_t(rows) * Lanes), kThreads>>>(
        rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first);
}

template <class T>
void launch_term(std::int64_t rows, const std::int64_t* start, const std::uint32_t* words, const T* table, int shift,
                 const T* x, const T* prev, T* out, T* sum, T centre, double scale, double a, double a_x, bool first,
                 int lanes) noexcept {
    if (rows <= 0) return;
    switch (lanes) {
        case 2: launch_lanes<T, 2>(rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first); break;
        case 4: launch_lanes<T, 4>(rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first); break;
        case 8: launch_lanes<T, 8>(rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first); break;
        case 16: launch_lanes<T, 16>(rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first); break;
        case 32: launch_lanes<T, 32>(rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first); break;
        default: launch_lanes<T, 1>(rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first);
    }
    check(cudaGetLastError(), "chebyshev_term launch");
}

}  // namespace

void launch_chebyshev_term(std::int64_t rows, const std::int64_t* start, const std::uint32_t* words,
                           const double* table, int shift, const double* x, const double* prev, double* out,
                           double* sum, double centre, double scale, double a, double a_x, bool first,
                           int lanes) noexcept {
    launch_term(rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first, lanes);
}
void launch_chebyshev_term(std::int64_t rows, const std::int64_t* start, const std::uint32_t* words, const Amp* table,
                           int shift, const Amp* x, const Amp* prev, Amp* out, Amp* sum, Amp centre, double scale,
                           double a, double a_x, bool first, int lanes) noexcept {
    launch_term(rows, start, words, table, shift, x, prev, out, sum, centre, scale, a, a_x, first, lanes);
}

std::size_t trajectory_scratch_doubles(const SpinModel& m, int B) noexcept {
    return std::size_t(B) * partials_per_trajectory(m) * 3 * m.spins + 1;
}
void reduce_norms(const SpinModel& m, const Amp* x, int B, double* scratch, double* result) noexcept {
    reduce<0>(m, x, nullptr, nullptr, B, scratch, result);
}
void reduce_populations(const SpinModel& m, const Amp* psi, int B, double* scratch, double* result) noexcept {
    reduce<1>(m, psi, nullptr, nullptr, B, scratch, result);
}
void reduce_correlations(const SpinModel& m, const Amp* psi, const int* want, const int* partners, int B,
                         double* scratch, double* result) noexcept {
    reduce<2>(m, psi, want, partners, B, scratch, result);
}

}  // namespace cuda
}  // namespace xyzmf
