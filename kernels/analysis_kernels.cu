// Device analysis (include/xyzmf/device_analysis.hpp): the sXY phase field,
// plaquette windings and their compaction, power spectra. The arithmetic per
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

__global__ void phase_field_kernel(const double* psi, std::int64_t n, double* field) {
    for (std::int64_t m = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; m < n;
         m += std::int64_t(gridDim.x) * blockDim.x) {
        const double p = psi[m];
        const bool defined = !isnan(p);
        field[m] = defined ? cos(p) : 0.0;
        field[n + m] = defined ? sin(p) : 0.0;
        field[2 * n + m] = 0.0;
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

void launch_power(const double* spectrum, std::int64_t count, double* power, void* stream) noexcept {
    power_kernel<<<blocks_for(count), kThreads, 0, as_stream(stream)>>>(spectrum, count, power);
    check(cudaGetLastError(), "cudaLaunchKernel(power)");
}

void launch_phase_field(const double* psi, std::int64_t n, double* field, void* stream) noexcept {
    phase_field_kernel<<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(psi, n, field);
    check(cudaGetLastError(), "cudaLaunchKernel(phase_field)");
}

}  // namespace cuda
}  // namespace xyzmf
