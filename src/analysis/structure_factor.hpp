// Structure factors S^aa(k) = (1/N) |sum_n exp(-i k.r_n) a_n|^2 (physics.md
// section 4) of a host state, with FFTW3 (multi-threaded plans, made once per
// lattice and reused for every snapshot).
//
// k-grid: NOT fftshifted. Entry m = mx + Lx (my + Ly mz) holds
// k = (2 pi mx / Lx, 2 pi my / Ly, 2 pi mz / Lz), each component in [0, 2 pi);
// the same index order as the sites, so a 2D S has the spins' (Ly, Lx) shape.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "host_state.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

struct StructureFactor {
    Lattice lattice;
    std::vector<double> S[3];  // Sxx, Syy, Szz on the full k-grid

    // Transverse S_perp = Sxx + Syy at grid index m.
    double perp(index_t m) const { return S[0][m] + S[1][m]; }
    // Wave-vector component along axis a of grid index m, in [0, 2 pi).
    double k(int axis, index_t m) const;
    // Grid coordinate of m along axis a.
    index_t coord(int axis, index_t m) const;
};

// Radially averaged S(|k|), |k| from the minimal-image wave vector, bins of
// width 2 pi / max(L) (bin b covers [b, b+1) times that width).
struct RadialAverage {
    std::vector<double> k;       // bin centres
    std::vector<double> S[3];
    std::vector<double> count;   // grid points per bin
};
RadialAverage radial_average(const StructureFactor& sf);
// The average from each bin's sums of S_aa and its grid points (a reduction
// of the half spectrum, spectrum_summary.hpp, ends here too).
RadialAverage radial_average_of_sums(const Lattice& lat, std::vector<double> (&sum)[3], std::vector<double> count);

// sf.S on sf.lattice's full grid from |F(k)|^2 of its half spectrum, kx in
// [0, Lx/2] (FFTW's real-to-complex layout: Ly Lz rows of Lx/2 + 1 values
// each), unfolded by S(-k) = S(k) (a transform spread over processes, src/mpi/,
// ends here too).
// components: unfold only the first ones (2: S_perp's, all that a phase
// field's marginals read; S[2] is left empty).
void unfold_half_spectrum(const std::vector<double> (&power)[3], StructureFactor& sf, int components = 3);

class StructureFactorEngine {
public:
    explicit StructureFactorEngine(const Lattice& lat);
    ~StructureFactorEngine();
    StructureFactorEngine(const StructureFactorEngine&) = delete;
    StructureFactorEngine& operator=(const StructureFactorEngine&) = delete;

    StructureFactor compute(const HostState& s);
    const Lattice& lattice() const { return lat_; }

    // |F_c(k)|^2 of the half spectrum (FFTW's layout, as unfold_half_spectrum
    // reads it), not yet divided by N, of the first `components` components
    // that fill(c, in) writes (N values each; the others are left as they
    // were). In the engine's own buffers, valid until its next call: a series
    // of states reuses them instead of allocating lattice-sized arrays anew.
    using HalfPower = std::vector<double>[3];
    const HalfPower& half_power(const std::function<void(int c, double* in)>& fill, int components);
    const HalfPower& half_power(const HostState& s);  // the three components of s (x, y, z blocks)

private:
    struct Plan;
    Lattice lat_;
    std::unique_ptr<Plan> plan_;
    HalfPower power_;
};

}  // namespace xyzmf
