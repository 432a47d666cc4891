// Device analysis (include/xyzmf/device_analysis.hpp): the sXY phase field,
// plaquette windings and their compaction, power spectra. The arithmetic per
// site and per plaquette is the host's (include/xyzmf/sxy_winding.hpp); the
// compaction keeps the plaquettes' order, so the vortex list comes back in
// the order the host analysis lists it.
#include <cuda_runtime.h>
#include <thrust/copy.h>
#include <thrust/count.h>
#include <thrust/system/cuda/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>

#include <cmath>
#include <exception>

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

__global__ void winding_kernel(const double* psi, const Lattice lat, signed char* winding) {
    const index_t P = plaquette_count(lat);
    for (index_t q = index_t(blockIdx.x) * blockDim.x + threadIdx.x; q < P; q += index_t(gridDim.x) * blockDim.x) {
        const PlaquetteWinding w = plaquette_winding_at(lat, psi, q);
        winding[q] = w.skipped ? kSkippedPlaquette : static_cast<signed char>(w.winding);
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

struct Skipped {
    __host__ __device__ bool operator()(signed char w) const { return w == kSkippedPlaquette; }
};
struct Wound {
    __host__ __device__ bool operator()(signed char w) const { return w != 0 && w != kSkippedPlaquette; }
};

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// Thrust reports failures by exceptions; drivers record them instead.
template <class F>
bool guarded(const char* what, void* stream, F&& f) noexcept {
    try {
        f(thrust::cuda::par.on(as_stream(stream)));
        return check(cudaStreamSynchronize(as_stream(stream)), what);
    } catch (const std::exception& e) {
        detail::record_error(what, int(cudaErrorUnknown), e.what());
    } catch (...) {
        detail::record_error(what, int(cudaErrorUnknown), "unknown exception");
    }
    return false;
}

}  // namespace

void launch_sxy_phase(const double* s, const Lattice& lat, double Jx, double Jy, double min_amplitude,
                      double* psi, void* stream) noexcept {
    sxy_phase_kernel<<<blocks_for(lat.sites()), kThreads, 0, as_stream(stream)>>>(s, lat, Jx, Jy, min_amplitude, psi);
    check(cudaGetLastError(), "cudaLaunchKernel(sxy_phase)");
}

void launch_plaquette_windings(const double* psi, const Lattice& lat, signed char* winding, void* stream) noexcept {
    winding_kernel<<<blocks_for(plaquette_count(lat)), kThreads, 0, as_stream(stream)>>>(psi, lat, winding);
    check(cudaGetLastError(), "cudaLaunchKernel(plaquette_windings)");
}

std::int64_t count_skipped(const signed char* winding, std::int64_t count, void* stream) noexcept {
    std::int64_t r = -1;
    guarded("thrust::count_if(skipped plaquettes)", stream,
            [&](auto policy) { r = thrust::count_if(policy, winding, winding + count, Skipped{}); });
    return r;
}

std::int64_t count_wound(const signed char* winding, std::int64_t count, void* stream) noexcept {
    std::int64_t r = -1;
    guarded("thrust::count_if(wound plaquettes)", stream,
            [&](auto policy) { r = thrust::count_if(policy, winding, winding + count, Wound{}); });
    return r;
}

bool compact_wound(const signed char* winding, std::int64_t count, std::int64_t* number, signed char* wound,
                   void* stream) noexcept {
    return guarded("thrust::copy_if(wound plaquettes)", stream, [&](auto policy) {
        // copy_if is stable: the numbers come out ascending, the host's order.
        thrust::copy_if(policy, thrust::counting_iterator<std::int64_t>(0),
                        thrust::counting_iterator<std::int64_t>(count), winding, number, Wound{});
        thrust::copy_if(policy, winding, winding + count, winding, wound, Wound{});
    });
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
