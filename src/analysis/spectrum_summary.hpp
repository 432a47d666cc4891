// What the classification and the radial storage read of a structure factor
// (classify.cpp, analysis.cpp): its sum, its strongest points, its values at
// k = 0 and pi, its marginals along the axes and its radial average. The host
// reduces the full grid to it here; a CUDA device reduces its half spectrum to
// the same numbers (include/xyzmf/device_analysis.hpp), so that a 4096^2
// spectrum (134 MB) need not come back to the host to be classified.
#pragma once

#include <vector>

#include "structure_factor.hpp"
#include "xyzmf/device_analysis.hpp"
#include "xyzmf/spectrum_geometry.hpp"

namespace xyzmf {

// S_perp = Sxx + Syy at grid index `index` and at its mirror -k (equal up to
// the roundoff of the transform where both were computed).
struct PerpPoint {
    index_t index = 0;
    double value = 0;
    double mirror_value = 0;
};

struct SpectrumSummary {
    Lattice lattice;
    double total_perp = 0;              // sum of S_perp over the grid
    std::vector<PerpPoint> strongest;   // up to kStrongest points, largest S_perp first, then lowest index
    double perp_k0 = 0, perp_kpi = 0;   // S_perp at k = 0, and at k = (pi, pi, pi) (0 where an axis is odd)
    std::vector<double> marginal[3];    // S_perp summed over the other axes, along each used axis
    RadialAverage radial;               // when asked for (empty otherwise)
    static constexpr int kStrongest = kStrongestPoints;
};

// Grid index of the mirror -k of grid index m.
index_t mirror_index(const Lattice& lat, index_t m);
// Whether the lattice has the point k = (pi, ...): every used axis even.
bool has_pi_point(const Lattice& lat);
// The summary of a full grid; with_radial: the radial average too.
SpectrumSummary summarize_spectrum(const StructureFactor& sf, bool with_radial);
// The summary of a spectrum a device reduced (its strongest half-spectrum
// points unfolded to grid points: the host's summary, to roundoff in its sums).
SpectrumSummary summary_of_reduced_spectrum(const Lattice& lat, const ReducedSpectrum& d);
// A block [e0, e1) of consecutive half-spectrum points (an MPI rank's rows of
// a distributed transform): |F_c|^2 of point e, not yet divided by N, at
// p[c][(e - e0) * stride].
struct HalfSpectrumBlock {
    const double* p[3] = {nullptr, nullptr, nullptr};
    index_t stride = 1;
    index_t e0 = 0, e1 = 0;
    double at(int c, index_t e) const { return p[c][(e - e0) * stride]; }
    double perp(index_t e, index_t N) const { return at(0, e) / double(N) + at(1, e) / double(N); }
};
// What a block's points add to a spectrum's reduction: the sum, the block's
// strongest points (mirror values not filled: the mirror may lie in another
// block), the marginals' and (radial) radial bins' shares. Blocks' results
// merge by merge_reduced_spectra; the values at k = 0, pi and the strongest
// points' mirrors are then read where they lie.
ReducedSpectrum reduce_half_spectrum_block(const Lattice& lat, const HalfSpectrumBlock& block, bool radial);
void merge_reduced_spectra(ReducedSpectrum& total, const ReducedSpectrum& part);
// The half-spectrum points whose S_perp the merged reduction still needs:
// k = 0, k = pi, and the mirrors within the half of its strongest points.
std::vector<index_t> points_to_read(const Lattice& lat, const ReducedSpectrum& r);
// Fills them in from perp, S_perp at points_to_read's points in its order.
void fill_read_points(const Lattice& lat, ReducedSpectrum& r, const std::vector<double>& perp);
// The reduction of a whole half spectrum held in one place (|F_c|^2 as
// StructureFactorEngine::half_power gives it; power[2] is read only with
// radial), with k = 0, pi and the strongest points' mirrors read in: what a
// device gives, without unfolding the grid. summary_of_reduced_spectrum
// finishes it.
ReducedSpectrum reduce_half_spectrum(const Lattice& lat, const std::vector<double> (&power)[3], bool radial);
// S_perp summed over the other axes, along each used axis (the marginals alone:
// the sXY phase field's domain size needs nothing else).
void perp_marginals(const StructureFactor& sf, std::vector<double> (&marginal)[3]);

}  // namespace xyzmf
