// Host entry points of the device analysis kernels (kernels/analysis_kernels.cu
// and the tally reduction in reduce_kernels.cu), in plain C++ for the
// g++-compiled src/backends/analysis_cuda.cpp. Errors are recorded as for
// every driver (cuda_drivers.hpp, take_driver_error); nothing throws.
//
// Everything runs on the given stream (a cudaStream_t): the analysis of a
// snapshot runs on the writer thread while the stepping goes on in the legacy
// default stream, and "synchronous" here waits for this stream alone.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xyzmf/bloch_rhs.hpp"
#include "xyzmf/lattice.hpp"
#include "xyzmf/site_tally.hpp"
#include "xyzmf/spectrum_geometry.hpp"

namespace xyzmf {
namespace cuda {

// A plaquette with a corner without a phase (sxy_winding.hpp), in the int8
// winding array (windings themselves lie in [-2, 2]).
constexpr signed char kSkippedPlaquette = -128;

// psi of every site of lat from the unpadded state s (x, y, z blocks of
// lat.sites() values): sxy_phase of sxy_winding.hpp. Asynchronous.
void launch_sxy_phase(const double* s, const Lattice& lat, double Jx, double Jy, double min_amplitude,
                      double* psi, void* stream) noexcept;
// The winding of every plaquette (plaquette_count(lat) of them) of psi, or
// kSkippedPlaquette; counts[0] = the skipped plaquettes, counts[1] = those
// that wind (device memory, set here). Asynchronous.
void launch_plaquette_windings(const double* psi, const Lattice& lat, signed char* winding,
                               unsigned long long* counts, void* stream) noexcept;
// Scratch compact_wound needs for count plaquettes (0 on failure).
std::size_t compact_scratch_bytes(std::int64_t count) noexcept;
// The numbers of the plaquettes that wind, ascending, and their windings,
// into arrays of at least counts[1] entries; *selected (device) receives how
// many. Asynchronous.
void compact_wound(const signed char* winding, std::int64_t count, std::int64_t* number, signed char* wound,
                   std::int64_t* selected, void* scratch, std::size_t scratch_bytes, void* stream) noexcept;

// to[m] = from[m] (float to double) for count values. Asynchronous.
void launch_widen(const float* from, std::int64_t count, double* to, void* stream) noexcept;
// power[m] = |F[m]|^2 of count complex values (re, im interleaved). Asynchronous.
void launch_power(const double* spectrum, std::int64_t count, double* power, void* stream) noexcept;
// (cos psi, sin psi, 0) as x, y, z blocks of n values, 0 where psi is NaN
// (classify.hpp, psi_field). Asynchronous.
void launch_phase_field(const double* psi, std::int64_t n, double* field, void* stream) noexcept;

// A spectrum reduced to what the classification reads of it
// (src/analysis/spectrum_summary.hpp; spectrum_geometry.hpp): px, py, pz are
// |F|^2 of x, y, z on the half spectrum of lat, not yet divided by N.
struct SpectrumHeadline {
    double total_perp = 0, perp_k0 = 0, perp_kpi = 0;  // perp_kpi: at (Lx/2, Ly/2, Lz/2), whatever the parities
    int count = 0;  // strongest points found
    double value[kStrongestPoints] = {};
    std::int64_t key[kStrongestPoints] = {};  // half_point_key
    double mirror_value[kStrongestPoints] = {};
};
// Scratch reduce_headline needs (per-block partial results).
std::size_t headline_scratch_bytes() noexcept;
// S_perp's sum, its strongest points, its values at k = 0 and pi, into *out
// (device memory). Deterministic: the blocks' partial results are merged in a
// fixed order, and the strongest points by a total order. Asynchronous.
void reduce_headline(const double* px, const double* py, const Lattice& lat, SpectrumHeadline* out, void* scratch,
                     void* stream) noexcept;
// S_perp summed over the other axes, along each used axis in turn: out holds
// L_0 + ... + L_{dim-1} values (device memory), one block per value. Asynchronous.
void reduce_marginals(const double* px, const double* py, const Lattice& lat, double* out, void* stream) noexcept;
// Sums of S_aa = |F_a|^2 / N (a = x, y, z: blocks `stride` apart in power) over
// the grid points of each radial bin: the half-spectrum points in order[offsets[b],
// offsets[b + 1]) stand for bin b's (twice where the mirror is outside the half).
// out: 3 x bins values, x first (device memory). Asynchronous.
void reduce_radial(const double* power, std::int64_t stride, const Lattice& lat, const int* order, const int* offsets,
                   std::int64_t bins, double* out, void* stream) noexcept;

// tally_site of every site merged, the rate ds/dt from bloch_rhs with the
// neighbours of lat; s unpadded, psi null away from an sXY point. Scratch of
// reduce_scratch_bytes(). Synchronous; a default TallyTerms with residual
// = +inf on failure.
TallyTerms reduce_tallies(const double* s, const double* psi, const Lattice& lat, const SiteModel<double>& model,
                          double stationary_residual, void* scratch, void* stream) noexcept;

}  // namespace cuda
}  // namespace xyzmf
