// Device analysis (include/xyzmf/device_analysis.hpp): the sXY phase field,
// plaquette windings and their compaction, power spectra and their reduction
// to what the classification reads (spectrum_geometry.hpp). The arithmetic per
// site and per plaquette is the host's (include/xyzmf/sxy_winding.hpp); the
// compaction keeps the plaquettes' order, so the vortex list comes back in
// the order the host analysis lists it.
//
// Nothing here allocates or frees device memory: cudaFree waits for every
// stream, the stepping's too, so the counts come from the winding kernel itself
// and the compaction (CUB) runs in scratch the caller allocated once.
#include <cuda_runtime.h>
#include <thrust/iterator/counting_iterator.h>

#include <cub/block/block_reduce.cuh>
#include <cub/device/device_select.cuh>

#include <cmath>

#include "analysis_drivers.hpp"
#include "cuda_check.cuh"
#include "xyzmf/spectrum_geometry.hpp"
#include "xyzmf/sxy_winding.hpp"

namespace xyzmf {
namespace cuda {
namespace {

constexpr int kThreads = 256;

int blocks_for(std::int64_t count) {
    const std::int64_t b = (count + kThreads - 1) / kThreads;
    return int(b < 65535 * 16 ? (b > 0 ? b : 1) : 65535 * 16);  // grid-stride loops cover the rest
}

__global__ void sxy_phase_kernel(const double* s, const Lattice lat, double Jx, double Jy, double min_amplitude,
                                 double* psi) {
    const index_t N = lat.sites(), Lx = lat.L[0], Ly = lat.L[1];
    for (index_t n = index_t(blockIdx.x) * blockDim.x + threadIdx.x; n < N; n += index_t(gridDim.x) * blockDim.x) {
        const bool a_site = Lattice::parity(n % Lx, (n / Lx) % Ly, n / (Lx * Ly)) > 0;
        psi[n] = sxy_phase(s[n], s[N + n], a_site, Jx, Jy, min_amplitude);
    }
}

// Each plaquette's winding, and per block the skipped and wound plaquettes
// added to counts[0] and counts[1] (integer atomics: the totals do not depend
// on the order the blocks finish in).
__global__ void __launch_bounds__(kThreads) winding_kernel(const double* psi, const Lattice lat, signed char* winding,
                                                           unsigned long long* counts) {
    const index_t P = plaquette_count(lat);
    unsigned long long skipped = 0, wound = 0;
    for (index_t q = index_t(blockIdx.x) * blockDim.x + threadIdx.x; q < P; q += index_t(gridDim.x) * blockDim.x) {
        const PlaquetteWinding w = plaquette_winding_at(lat, psi, q);
        winding[q] = w.skipped ? kSkippedPlaquette : static_cast<signed char>(w.winding);
        skipped += w.skipped;
        wound += !w.skipped && w.winding != 0;
    }
    using Reduce = cub::BlockReduce<unsigned long long, kThreads>;
    __shared__ typename Reduce::TempStorage tmp[2];
    const unsigned long long block_skipped = Reduce(tmp[0]).Sum(skipped), block_wound = Reduce(tmp[1]).Sum(wound);
    if (threadIdx.x == 0) {
        if (block_skipped) atomicAdd(&counts[0], block_skipped);
        if (block_wound) atomicAdd(&counts[1], block_wound);
    }
}

__global__ void power_kernel(const double* spectrum, std::int64_t count, double* power) {
    for (std::int64_t m = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; m < count;
         m += std::int64_t(gridDim.x) * blockDim.x) {
        const double re = spectrum[2 * m], im = spectrum[2 * m + 1];
        power[m] = re * re + im * im;  // the host's F[0]^2 + F[1]^2, in that order
    }
}

__global__ void widen_kernel(const float* from, std::int64_t count, double* to) {
    for (std::int64_t m = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; m < count;
         m += std::int64_t(gridDim.x) * blockDim.x)
        to[m] = double(from[m]);
}

__global__ void phase_field_kernel(const double* psi, std::int64_t n, double* field) {
    for (std::int64_t m = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; m < n;
         m += std::int64_t(gridDim.x) * blockDim.x) {
        for (int c = 0; c < 3; ++c) field[c * n + m] = psi_field_component(psi[m], c);
    }
}

// --- The spectrum's reduction (spectrum_geometry.hpp) ---

constexpr int kHeadlineBlocks = 512;  // fixed, so that the sum's order does not depend on the device
using Strongest = StrongestPoints<kStrongestPoints>;

struct HeadlinePartial {
    double total;
    Strongest strongest;
};

// Per block: the sum of S_perp over the grid points its half-spectrum points
// stand for, and its strongest points. Each thread keeps its own, then thread
// 0 merges the block's (the order is total: any merging order gives the same).
__global__ void __launch_bounds__(kThreads) headline_partials(const double* px, const double* py, const Lattice lat,
                                                              HeadlinePartial* partial) {
    const index_t N = lat.sites(), H = half_columns(lat), count = N / lat.L[0] * H;
    Strongest mine;
    mine.clear();
    double total = 0;
    for (index_t e = index_t(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += index_t(gridDim.x) * blockDim.x) {
        const double v = perp_at(px, py, e, N);
        total += grid_points_of(lat, e) * v;
        if (mine.count < kStrongestPoints || v >= mine.value[kStrongestPoints - 1]) mine.offer(v, half_point_key(lat, e));
    }
    using Reduce = cub::BlockReduce<double, kThreads>;
    __shared__ typename Reduce::TempStorage tmp;
    __shared__ double values[kThreads * kStrongestPoints];
    __shared__ index_t keys[kThreads * kStrongestPoints];
    __shared__ int counts[kThreads];
    const double block_total = Reduce(tmp).Sum(total);
    for (int i = 0; i < mine.count; ++i) {
        values[threadIdx.x * kStrongestPoints + i] = mine.value[i];
        keys[threadIdx.x * kStrongestPoints + i] = mine.key[i];
    }
    counts[threadIdx.x] = mine.count;
    __syncthreads();
    if (threadIdx.x == 0) {
        Strongest block;
        block.clear();
        for (int t = 0; t < kThreads; ++t)
            for (int i = 0; i < counts[t]; ++i) block.offer(values[t * kStrongestPoints + i], keys[t * kStrongestPoints + i]);
        partial[blockIdx.x].total = block_total;
        partial[blockIdx.x].strongest = block;
    }
}

// One thread: the blocks' partial results in block order, and the values at
// k = 0, at k = pi, and at the mirror of each strongest point.
__global__ void headline_final(const double* px, const double* py, const Lattice lat, const HeadlinePartial* partial,
                               int blocks, SpectrumHeadline* out) {
    const index_t N = lat.sites();
    Strongest all;
    all.clear();
    double total = 0;
    for (int b = 0; b < blocks; ++b) {
        total += partial[b].total;
        for (int i = 0; i < partial[b].strongest.count; ++i) all.offer(partial[b].strongest.value[i], partial[b].strongest.key[i]);
    }
    out->total_perp = total;
    out->perp_k0 = perp_at(px, py, 0, N);
    out->perp_kpi = perp_at(px, py, half_point_pi(lat), N);
    out->count = all.count;
    for (int i = 0; i < all.count; ++i) {
        out->value[i] = all.value[i];
        out->key[i] = all.key[i];
        const index_t m = inner_mirror_point(lat, half_point_of_key(lat, all.key[i]));
        out->mirror_value[i] = m < 0 ? all.value[i] : perp_at(px, py, m, N);
    }
}

// One block per marginal value: bin b along axis a sums the half-spectrum
// points with coordinate b there, and those whose mirror (outside the half)
// has it.
__global__ void __launch_bounds__(kThreads) marginal_kernel(const double* px, const double* py, const Lattice lat,
                                                            double* out) {
    int a = 0;
    index_t b = blockIdx.x;
    while (a < lat.dim - 1 && b >= lat.L[a]) b -= lat.L[a++];
    const index_t terms = marginal_terms(lat, a);
    double sum = 0;
    for (index_t o = threadIdx.x; o < terms; o += blockDim.x) sum += marginal_term(px, py, lat, a, b, o);
    using Reduce = cub::BlockReduce<double, kThreads>;
    __shared__ typename Reduce::TempStorage tmp;
    const double total = Reduce(tmp).Sum(sum);
    if (threadIdx.x == 0) out[blockIdx.x] = total;
}

// One block per radial bin, over the bin's half-spectrum points.
__global__ void __launch_bounds__(kThreads) radial_kernel(const double* power, std::int64_t stride, const Lattice lat,
                                                          const int* order, const int* offsets, std::int64_t bins,
                                                          double* out) {
    const index_t N = lat.sites();
    const std::int64_t b = blockIdx.x;
    double sum[3] = {0, 0, 0};
    for (int i = offsets[b] + int(threadIdx.x); i < offsets[b + 1]; i += int(blockDim.x)) {
        const index_t e = order[i];
        for (int c = 0; c < 3; ++c) sum[c] += grid_points_of(lat, e) * (power[c * stride + e] / double(N));
    }
    using Reduce = cub::BlockReduce<double, kThreads>;
    __shared__ typename Reduce::TempStorage tmp[3];
    for (int c = 0; c < 3; ++c) {
        const double total = Reduce(tmp[c]).Sum(sum[c]);
        if (threadIdx.x == 0) out[c * bins + b] = total;
    }
}

// A plaquette that winds, by its value or by its number.
struct Wound {
    __host__ __device__ bool operator()(signed char w) const { return w != 0 && w != kSkippedPlaquette; }
};
struct WoundAt {
    const signed char* winding;
    __host__ __device__ bool operator()(std::int64_t q) const { return Wound{}(winding[q]); }
};

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

}  // namespace

void launch_sxy_phase(const double* s, const Lattice& lat, double Jx, double Jy, double min_amplitude,
                      double* psi, void* stream) noexcept {
    sxy_phase_kernel<<<blocks_for(lat.sites()), kThreads, 0, as_stream(stream)>>>(s, lat, Jx, Jy, min_amplitude, psi);
    check(cudaGetLastError(), "cudaLaunchKernel(sxy_phase)");
}

void launch_plaquette_windings(const double* psi, const Lattice& lat, signed char* winding,
                               unsigned long long* counts, void* stream) noexcept {
    if (!check(cudaMemsetAsync(counts, 0, 2 * sizeof(unsigned long long), as_stream(stream)),
               "cudaMemsetAsync(plaquette counts)"))
        return;
    winding_kernel<<<blocks_for(plaquette_count(lat)), kThreads, 0, as_stream(stream)>>>(psi, lat, winding, counts);
    check(cudaGetLastError(), "cudaLaunchKernel(plaquette_windings)");
}

std::size_t compact_scratch_bytes(std::int64_t count) noexcept {
    // CUB's scratch for either selection (the numbers, then the windings), the larger.
    std::size_t a = 0, b = 0;
    const thrust::counting_iterator<std::int64_t> numbers(0);
    std::int64_t* none = nullptr;
    const signed char* w = nullptr;
    signed char* out = nullptr;
    if (!check(cub::DeviceSelect::If(nullptr, a, numbers, none, none, count, WoundAt{w}), "cub::DeviceSelect::If(size)") ||
        !check(cub::DeviceSelect::If(nullptr, b, w, out, none, count, Wound{}), "cub::DeviceSelect::If(size)"))
        return 0;
    return a > b ? a : b;
}

void compact_wound(const signed char* winding, std::int64_t count, std::int64_t* number, signed char* wound,
                   std::int64_t* selected, void* scratch, std::size_t scratch_bytes, void* stream) noexcept {
    // Selections keep the input order: the numbers come out ascending, the host's order.
    std::size_t bytes = scratch_bytes;
    if (!check(cub::DeviceSelect::If(scratch, bytes, thrust::counting_iterator<std::int64_t>(0), number, selected, count,
                                     WoundAt{winding}, as_stream(stream)),
               "cub::DeviceSelect::If(vortex plaquettes)"))
        return;
    bytes = scratch_bytes;
    check(cub::DeviceSelect::If(scratch, bytes, winding, wound, selected, count, Wound{}, as_stream(stream)),
          "cub::DeviceSelect::If(vortex charges)");
}

std::size_t headline_scratch_bytes() noexcept { return sizeof(HeadlinePartial) * kHeadlineBlocks; }

void reduce_headline(const double* px, const double* py, const Lattice& lat, SpectrumHeadline* out, void* scratch,
                     void* stream) noexcept {
    auto* partial = static_cast<HeadlinePartial*>(scratch);
    headline_partials<<<kHeadlineBlocks, kThreads, 0, as_stream(stream)>>>(px, py, lat, partial);
    if (!check(cudaGetLastError(), "cudaLaunchKernel(headline_partials)")) return;
    headline_final<<<1, 1, 0, as_stream(stream)>>>(px, py, lat, partial, kHeadlineBlocks, out);
    check(cudaGetLastError(), "cudaLaunchKernel(headline_final)");
}

void reduce_marginals(const double* px, const double* py, const Lattice& lat, double* out, void* stream) noexcept {
    index_t values = 0;
    for (int a = 0; a < lat.dim; ++a) values += lat.L[a];
    marginal_kernel<<<unsigned(values), kThreads, 0, as_stream(stream)>>>(px, py, lat, out);
    check(cudaGetLastError(), "cudaLaunchKernel(marginals)");
}

void reduce_radial(const double* power, std::int64_t stride, const Lattice& lat, const int* order, const int* offsets,
                   std::int64_t bins, double* out, void* stream) noexcept {
    radial_kernel<<<unsigned(bins), kThreads, 0, as_stream(stream)>>>(power, stride, lat, order, offsets, bins, out);
    check(cudaGetLastError(), "cudaLaunchKernel(radial)");
}

void launch_power(const double* spectrum, std::int64_t count, double* power, void* stream) noexcept {
    power_kernel<<<blocks_for(count), kThreads, 0, as_stream(stream)>>>(spectrum, count, power);
    check(cudaGetLastError(), "cudaLaunchKernel(power)");
}

void launch_widen(const float* from, std::int64_t count, double* to, void* stream) noexcept {
    widen_kernel<<<blocks_for(count), kThreads, 0, as_stream(stream)>>>(from, count, to);
    check(cudaGetLastError(), "cudaLaunchKernel(widen)");
}

void launch_phase_field(const double* psi, std::int64_t n, double* field, void* stream) noexcept {
    phase_field_kernel<<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(psi, n, field);
    check(cudaGetLastError(), "cudaLaunchKernel(phase_field)");
}

}  // namespace cuda
}  // namespace xyzmf
