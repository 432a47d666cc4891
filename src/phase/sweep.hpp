// Dynamical phase maps: every point of a parameter grid runs the
// dynamics on its own lattice from --replicas random states and is classified
// by the analysis (analysis.hpp). Points advance together as one batch (the
// ensemble is the slowest axis of the state array: one launch per RK stage on
// the GPU, one OpenMP loop on the CPU). Results are written batch by batch,
// resumable, and shardable for job arrays (`xyzmf merge` joins shards).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "analysis.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/error.hpp"
#include "param_grid.hpp"
#include "run_config.hpp"

namespace xyzmf {

// Codes stored in /sweep/phase, /sweep/order, /sweep/predicted, /sweep/agree.
// kTie: predicted only, where k = 0 and k = pi grow equally (first-order FM-AFM line).
enum PhaseCode : std::int64_t { kNotDone = -1, kPM = 0, kFM, kAFM, kSDW, kSXY, kDomains, kNotStationary, kBlowUp, kTie };
std::int64_t phase_code(const std::string& phase);
const char* phase_name(std::int64_t code);  // "?" for codes outside the table
constexpr const char* kPhaseCodesText =
    "-1 not done, 0 PM, 1 FM, 2 AFM, 3 SDW, 4 sXY, 5 domains, 6 not stationary, 7 blow-up, "
    "8 FM/AFM (predicted only: k = 0 and k = pi grow equally)";
constexpr const char* kOrderCodesText = "-1 not done, 0 none, 1 FM, 2 AFM, 3 SDW, 4 sXY, 7 blow-up";
constexpr const char* kAgreeCodesText =
    "-1 not done, 0 disagree, 1 agree, 2 agree as domains of the predicted order, 3 blew up (no verdict)";

struct SweepConfig {
    ParamGrid grid;
    Lattice lattice;              // one point's lattice (copies = 1)
    int replicas = 1;
    std::uint64_t seed = 1;       // replica r starts from `random` with seed + r (same at every point)
    // dt, t_end (1/gamma), steady_tol (gamma) and norm_tol: a lattice blew up when any
    // |s| > 1 + norm_tol (the rule of xyzmf run).
    FixedStepNumerics numerics{0.02, 200, 1e-6, 1e-4};
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
    std::vector<std::int64_t> batch;  // per point: the batch that committed it, -1 = not done
    void resize(int points, int replicas);
    void clear_point(int p, int replicas);  // back to "not done"
};

struct SweepHooks {
    int kill_after_batches = -1;  // tests: behave as if killed after this many batches
    bool quiet = true;
    // Called between passes, on the calling thread, before it looks for a stop
    // (an MPI sweep's ranks tell each other of a stop signal there).
    std::function<void()> between_passes;
};

struct SweepSummary {
    int points_done = 0, points_skipped = 0, batches = 0, blow_ups = 0;
    double seconds = 0;
    long long site_steps = 0;
};

// The table of /sweep attributes (parameters.hpp) and every rule on a sweep,
// from the command line or from a file.
const ParamTable<SweepConfig>& sweep_parameters();
void validate(const SweepConfig& c, const ParamSource& src);
// Refuses (usage) a batch that cannot fit in host memory, with the numbers.
void check_sweep_memory(const SweepConfig& c, int code = exit_code::usage);

// Runs the sweep into a new cfg.output, or resumes the one there (resume).
// A point whose lattice blows up is recorded as phase 7 (blow-up) with its
// time in t_final, and the sweep goes on. The root status says how it ended.
SweepSummary run_sweep(const SweepConfig& cfg, bool resume, const SweepHooks& hooks = {});

// /sweep in a file (src/phase/sweep_file.cpp). read_sweep checks every
// attribute and dataset shape, and returns only committed points as done.
void create_sweep_group(hid_t file, const SweepConfig& c);
void write_sweep_results(hid_t file, const std::string& path, SweepResults& r);
SweepResults read_sweep(hid_t file, std::string path, SweepConfig& cfg);
SweepResults read_sweep(const std::string& path, SweepConfig& cfg);  // cfg filled from the file
// The merged file records the shards' backends (each distinct one, joined by
// " + "), or `backend` where given (an MPI sweep: its ranks), `resumed_by`
// where given (an MPI sweep's resumes), and batch_points where given (> 0: an
// MPI sweep's resume that changed it; else the first shard's).
void merge_sweeps(const std::vector<std::string>& shards, const std::string& output, bool overwrite,
                  const std::string& command_line, const std::string& backend = "", const std::string& resumed_by = "",
                  int batch_points = 0);

}  // namespace xyzmf
