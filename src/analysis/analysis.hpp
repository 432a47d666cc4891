// Analysis of stored or running states: structure factors,
// classification and sXY vortices of one state, written next to its spins
// (docs/hdf5-layout.md, "Analysis"), and a JSON summary.
#pragma once

#include <hdf5.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "classify.hpp"
#include "host_state.hpp"
#include "spectrum_summary.hpp"
#include "parameters.hpp"
#include "xyzmf/device_analysis.hpp"
#include "vortices.hpp"

namespace xyzmf {

// What of S(k) goes into the file (docs/hdf5-layout.md, "structure_factor"):
// the classification always reads the whole grid; only its storage differs.
enum class SkStorage {
    automatic,  // full, but principal planes + radial average for 3D lattices above sk_full_max_sites
    full,       // the whole k-grid, every lattice
    planes,     // 3D: principal planes + radial average (1D and 2D: full, the grid is one plane)
    radial,     // the radial average alone: a few kB per state, for coarsening series on big lattices
};
SkStorage parse_sk_storage(const std::string& name);  // auto, full, planes, radial; throws xyzmf::Error
const char* sk_storage_choices();                     // "auto, full, planes, radial"

struct AnalysisOptions {
    ClassifyThresholds thresholds;
    index_t sk_full_max_sites = index_t(1) << 18;  // 3D lattices above this store planes + radial S(k)
    SkStorage sk_storage = SkStorage::automatic;
    // Deflate level of the stored S(k) grids and planes: the run's --compress
    // (0: plain). Deflating a 1024^2 state's three grids took twice as long as the
    // rest of its analysis, for a file a quarter smaller.
    int sk_deflate = 0;
    // Compute the parts that touch every site on the CUDA device (cuFFT and
    // kernels: include/xyzmf/device_analysis.hpp); classify on the host either way.
    bool on_device = false;
};

// What is stored for a lattice: full, planes (3D only) or radial, never automatic.
SkStorage stored_sk(const AnalysisOptions& opt, const Lattice& lat);

// The classification thresholds as parameters (parameters.hpp): their
// options, ranges, and attribute names in a sweep file.
const ParamTable<AnalysisOptions>& analysis_parameters();

struct StateAnalysis {
    std::string where;  // "/final" or "/snapshots/000003"
    double t = 0;
    Classification cls;
    bool has_vortices = false;  // dim >= 2 at an sXY point
    VortexCensus vortices;
    StructureFactor sf;     // the full grid (S empty where stored_sk needs none and a device kept it)
    SpectrumSummary sk;     // what the classification read, and the radial average where stored
    double sk_seconds = 0;  // wall time of the three FFTs
};

// The parts of an analysis that need every site, computed by Analyzer (or,
// for a lattice spread over MPI ranks, by all ranks together, so that none
// holds the whole state: src/mpi/slab_analysis.hpp).
struct AnalysisParts {
    StructureFactor sf;         // the full grid, or (summarized) only where stored_sk needs it
    bool has_vortices = false;  // dim >= 2 at an sXY point (has_vortex_census)
    VortexCensus vortices;
    SiteTallies tallies;        // the sums and maxima the classification reads
    StructureFactor psi_sf;     // S(k) of the sXY phase field, where needs_psi_structure
    // Reduced already (a device): sk and psi_marginal hold what
    // complete_analysis would otherwise reduce sf and psi_sf to.
    bool summarized = false;
    SpectrumSummary sk;
    std::vector<double> psi_marginal[3];
    double sk_seconds = 0;
};
bool has_vortex_census(const Lattice& lat, const Couplings& c);

// The analysis of a state from its parts: the classification added.
StateAnalysis complete_analysis(const Lattice& lat, const Couplings& c, const AnalysisOptions& opt, AnalysisParts parts,
                                double t, double residual_trend, const std::string& where);

// ds/dt of a state (x, y, z blocks), by the shared right-hand side on the CPU backend.
HostState rate_of(const Lattice& lat, const Couplings& c, const HostState& s);

// The same for state after state of one lattice, in buffers kept from call to
// call: an analysed series pays for its lattice-sized arrays once, not per
// state (each fresh one a page fault and the zeroing of every page).
class RateEvaluator {
public:
    RateEvaluator(const Lattice& lat, const Couplings& c);
    ~RateEvaluator();
    RateEvaluator(const RateEvaluator&) = delete;
    RateEvaluator& operator=(const RateEvaluator&) = delete;
    // ds/dt of s in the CPU backend's buffer: x, y and z blocks `stride`
    // apart (the lattice's padded component_stride); valid until the next call.
    struct View {
        const double* data;
        index_t stride;
    };
    View operator()(const HostState& s);

private:
    struct Buffers;
    Lattice lat_;
    Couplings couplings_;
    std::unique_ptr<Buffers> buffers_;  // made at the first call
};

class Analyzer {
public:
    Analyzer(const Lattice& lat, const Couplings& c, const AnalysisOptions& opt);
    ~Analyzer();
    StateAnalysis analyze(const HostState& s, double t, double residual_trend, const std::string& where);
    // The same from 3N values in place (x, y, z blocks), double or float: on
    // the device they are read where they are (a run's page-locked snapshot
    // buffer: no host copy of 3N doubles, and the fastest upload, floats
    // widened there); the host analysis copies them into a HostState.
    StateAnalysis analyze(const StateView& s, double t, double residual_trend, const std::string& where);
    bool on_device() const { return device_ != nullptr; }

private:
    Lattice lat_;
    Couplings couplings_;
    AnalysisOptions opt_;
    StructureFactorEngine engine_;
    RateEvaluator rate_;
    std::vector<double> psi_;                 // the sXY phase field, reused state after state
    std::unique_ptr<DeviceAnalysis> device_;  // opt.on_device

    AnalysisParts parts_on_device(const StateView& s);
};

// Median residual over (3t/4, t] / median over (t/2, 3t/4], from /timeseries
// (-1 when unknown).
double residual_trend(hid_t file, double t);

// Writes <where>/structure_factor and <where>/analysis into file (replacing
// an earlier analysis of the same state).
void write_state_analysis(hid_t file, const StateAnalysis& a, const AnalysisOptions& opt);

// /analysis/coarsening: one row per analysed state (t, vortices, antivortices,
// skipped, m_perp, correlation_length, residual). append = add a row to the
// tables (created on first use); otherwise they are rewritten from `all`.
void write_coarsening(hid_t file, const std::vector<StateAnalysis>& all, bool append);
// Drops the rows of /analysis/coarsening from time t on (a resumed run writes them again).
void truncate_coarsening(hid_t file, double t);

nlohmann::json to_json(const StateAnalysis& a);

}  // namespace xyzmf
