// The parts of a state's analysis that touch every site, computed on a CUDA
// device (issue 22: the GPU must not wait ~20 s per 4096^2 snapshot for the
// host): the three structure-factor spectra with cuFFT, reduced there to what
// the classification reads of them (sum, strongest points, marginals, radial
// sums), the per-site tallies, the sXY phase field, its plaquette windings and
// their compaction. Only these reduced results come back, and the half
// spectrum only when the full grid is stored; src/analysis/ turns them into
// the same AnalysisParts the host analysis gives (and classifies on the host,
// as there).
//
// The per-site, per-plaquette and per-k arithmetic is the host's own
// (include/xyzmf/site_tally.hpp, sxy_winding.hpp, spectrum_geometry.hpp, bloch_rhs.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"
#include "xyzmf/site_tally.hpp"
#include "xyzmf/spectrum_geometry.hpp"

namespace xyzmf {

struct DeviceAnalysisResult {
    // |F_a(k)|^2 of x, y, z on the half spectrum kx in [0, Lx/2] (FFTW's
    // real-to-complex layout: Ly Lz rows of Lx/2 + 1), not yet divided by N;
    // only when the full grid was asked for (it is stored).
    std::vector<double> power[3];
    ReducedSpectrum spectrum;  // always
    TallyTerms tallies;  // merged over every site
    // sXY points only (phase = true):
    bool phase = false;
    bool psi_spectrum = false;           // the phase field's S(k) was asked for (psi_spectrum):
    std::vector<double> psi_marginal[3];  // its marginals (all the domain size needs)
    std::int64_t plaquettes = 0, skipped = 0;
    std::vector<std::int64_t> wound;   // plaquette numbers (sxy_winding.hpp) with a winding, ascending
    std::vector<int> winding;          // their windings
    double seconds = 0;                // wall time of the whole analysis
};

// What of the spectrum comes back besides its summary.
struct DeviceSpectrumRequest {
    bool power = false;   // the half spectrum itself (the full grid is stored)
    bool radial = false;  // the radial sums (a radial average is stored)
};

class DeviceAnalysis {
public:
    virtual ~DeviceAnalysis() = default;
    // The analysis of a host state (x, y, z blocks of N values, unpadded), in
    // double or (single) float: a float state is uploaded as it is and widened
    // on the device, where the analysis runs in double either way.
    // psi_spectrum(tallies) says, once the tallies are known, whether the
    // S(k) of the phase field is wanted too (classify.hpp, needs_psi_structure).
    virtual DeviceAnalysisResult analyze(const void* host_state, bool single, DeviceSpectrumRequest request,
                                         bool (*psi_spectrum)(const TallyTerms&, const void*), const void* context) = 0;
};

// On the current device (cuda_select_device); radial: analyses will ask for
// the radial sums (their bins are laid out once, here). Throws xyzmf::Error
// when the build has no CUDA, there is no device, cuFFT (libcufft.so.12)
// cannot be loaded, or the lattice does not fit.
std::unique_ptr<DeviceAnalysis> make_device_analysis(const Lattice& lat, const Couplings& c, double min_amplitude,
                                                     double stationary_residual, bool radial);

}  // namespace xyzmf
