// Dynamical phase maps (issue #4): every point of a parameter grid runs the
// dynamics on its own lattice from --replicas random states and is classified
// by the analysis of issue #3. Points advance together as one batch (the
// ensemble is the slowest axis of the state array: one launch per RK stage on
// the GPU, one OpenMP loop on the CPU). Results are written batch by batch,
// resumable, and shardable for job arrays (`xyzmf merge` joins shards).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xyzmf/analysis.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/param_grid.hpp"
#include "xyzmf/run_config.hpp"

namespace xyzmf {

// Codes stored in /sweep/phase, /sweep/order, /sweep/predicted, /sweep/agree.
enum PhaseCode : std::int64_t { kNotDone = -1, kPM = 0, kFM, kAFM, kSDW, kSXY, kDomains, kNotStationary };
std::int64_t phase_code(const std::string& phase);
constexpr const char* kPhaseCodesText = "-1 not done, 0 PM, 1 FM, 2 AFM, 3 SDW, 4 sXY, 5 domains, 6 not stationary";
constexpr const char* kAgreeCodesText = "-1 not done, 0 disagree, 1 agree, 2 agree as domains of the predicted order";

struct SweepConfig {
    ParamGrid grid;
    Lattice lattice;              // one point's lattice (copies = 1)
    int replicas = 1;
    std::uint64_t seed = 1;       // replica r starts from `random` with seed + r (same at every point)
    double dt = 0.02, t_end = 200, steady_tol = 1e-6;
    Precision precision = Precision::float64;
    BackendRequest backend = BackendRequest::automatic;
    int batch_points = 64;        // grid points per batch (times replicas = lattices in one state array)
    int shard_index = 0, shard_count = 1;
    AnalysisOptions analysis;
    std::string output, command_line;
    bool overwrite = false;
};

// Per (point, replica), flattened point-major: entry p * R + r, p = ix + nx * iy,
// which is the C order of the (ny, nx, R) datasets.
struct SweepResults {
    std::vector<std::int64_t> phase, order, agree;
    std::vector<double> m_perp, residual, peak_weight, period, vortices, t_final, k;  // k: 3 per entry
    std::vector<std::int64_t> predicted;                                              // per point
    std::vector<double> predicted_growth, predicted_period;                           // per point
    void resize(int points, int replicas);
};

struct SweepHooks {
    int kill_after_batches = -1;  // tests: behave as if killed after this many batches
    bool quiet = true;
};

struct SweepSummary {
    int points_done = 0, points_skipped = 0, batches = 0;
    double seconds = 0;
    long long site_steps = 0;
};

// Runs (or resumes, when cfg.output exists and !cfg.overwrite... see cli) the sweep.
SweepSummary run_sweep(const SweepConfig& cfg, bool resume, const SweepHooks& hooks = {});

// Integrates `copies` lattices at once: state holds lat.copies lattices (host
// layout, copy-major inside each component block), copy b with couplings[b].
// Fixed-step RK4, last step shortened to land on t_end, like `xyzmf run`.
HostState evolve_batch(const Lattice& lat, const std::vector<Couplings>& couplings, const HostState& state, double dt,
                       double t_end, double steady_tol, Precision precision, BackendKind kind, long long* steps = nullptr);

SweepResults read_sweep(const std::string& path, SweepConfig& cfg);  // cfg filled from the file
void merge_sweeps(const std::vector<std::string>& shards, const std::string& output, bool overwrite,
                  const std::string& command_line);

}  // namespace xyzmf
