// The parts of a state's analysis that touch every site, computed on a CUDA
// device (issue 22: the GPU must not wait ~20 s per 4096^2 snapshot for the
// host): the three structure-factor spectra with cuFFT, the per-site tallies,
// the sXY phase field, its plaquette windings and their compaction. Only
// these reduced results come back; src/analysis/ turns them into the same
// AnalysisParts the host analysis gives (and classifies on the host, as there).
//
// The per-site and per-plaquette arithmetic is the host's own
// (include/xyzmf/site_tally.hpp, include/xyzmf/sxy_winding.hpp, bloch_rhs.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"
#include "xyzmf/site_tally.hpp"

namespace xyzmf {

struct DeviceAnalysisResult {
    // |F_a(k)|^2 of x, y, z on the half spectrum kx in [0, Lx/2] (FFTW's
    // real-to-complex layout: Ly Lz rows of Lx/2 + 1), not yet divided by N.
    std::vector<double> power[3];
    TallyTerms tallies;  // merged over every site
    // sXY points only (phase = true):
    bool phase = false;
    std::vector<double> psi_power[3];  // of (cos psi, sin psi, 0), when asked for (psi_spectrum)
    std::int64_t plaquettes = 0, skipped = 0;
    std::vector<std::int64_t> wound;   // plaquette numbers (sxy_winding.hpp) with a winding, ascending
    std::vector<int> winding;          // their windings
    double seconds = 0;                // device time of the whole analysis (events)
};

class DeviceAnalysis {
public:
    virtual ~DeviceAnalysis() = default;
    // The analysis of a host state (x, y, z blocks of N values, unpadded).
    // psi_spectrum(tallies) says, once the tallies are known, whether the
    // S(k) of the phase field is wanted too (classify.hpp, needs_psi_structure).
    virtual DeviceAnalysisResult analyze(const double* host_state, bool (*psi_spectrum)(const TallyTerms&, const void*),
                                         const void* context) = 0;
};

// On the current device (cuda_select_device); throws xyzmf::Error when the
// build has no CUDA, there is no device, cuFFT (libcufft.so.12) cannot be
// loaded, or the lattice does not fit.
std::unique_ptr<DeviceAnalysis> make_device_analysis(const Lattice& lat, const Couplings& c, double min_amplitude,
                                                     double stationary_residual);

}  // namespace xyzmf
