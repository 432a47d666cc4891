// Exact quantum dynamics of small periodic rings and clusters (docs/physics.md
// section 7): Monte-Carlo wave-function trajectories of the full master
// equation (any backend), and for small systems the exact steady state and
// Liouvillian gap of the density matrix. Both measure the correlations
// <sa_0 sa_r> (a = x, y, z), averaged over sites, for every displacement r.
#pragma once

#include <array>
#include <cmath>
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"
#include "parameters.hpp"
#include "xyzmf/spin_operators.hpp"

namespace xyzmf {

struct QuantumConfig {
    Lattice lattice;  // a ring (dim 1) or a periodic 2D/3D cluster
    Couplings couplings{0, 0, 0, 1, 0};
    std::string method = "trajectories";  // or "exact"
    std::string init = "down";            // down|up|x|y|uniform:x,y,z|random (product states)
    std::int64_t trajectories = 200;
    std::int64_t batch = 0;               // trajectories advanced together; 0: chosen by the backend
    std::int64_t seed = 1;
    double t_end = 40;                    // 1/gamma
    double burn_in = 20;                  // samples at t >= burn_in enter the averages
    double sample_dt = 0.5;               // observables every sample_dt
    double tol = 1e-10;                   // propagator truncation (per step, relative to the norm)
    bool gap = false;                     // exact: also the Liouvillian gap
    bool series = false;                  // exact: also <sz>(t) from --init
};

const ParamTable<QuantumConfig>& quantum_parameters();
// Ranges and the rules across parameters (sites, memory, burn-in < t_end).
void validate(const QuantumConfig& c, const ParamSource& src);

// The bonds (every site to its next neighbour along each axis longer than 1;
// an axis of length 2 gives each pair twice, as in the mean-field engine)
// and the couplings over 2d.
SpinModel make_spin_model(const Lattice& lat, const Couplings& c);

// partner[r * N + m]: the site at displacement r from site m, where r is
// itself numbered as a site (x fastest).
std::vector<int> displacement_partners(const Lattice& lat);

// Correlations averaged over sites: c[a][r] = (1/N) sum_m <sa_m sa_{m+r}>.
struct Correlations {
    std::vector<double> c[3];
};

// The truncated Taylor series that propagates a state (trajectories.cpp):
// steps of at most h_max with `terms` terms keep the error per step below tol
// for a generator of norm at most lambda.
struct SeriesPlan {
    double h_max;
    int terms;
};
SeriesPlan plan_series(double lambda, double tol);
double heff_norm_bound(const SpinModel& m);  // of H_eff + i shift

// The draw-th uniform number in (0, 1) of a trajectory (Philox keyed by seed
// and trajectory index): the same on every backend and in any batch.
double trajectory_uniform(std::int64_t seed, std::int64_t trajectory, std::uint64_t draw);

// One product state per trajectory, as amplitudes (2^N).
std::vector<Amp> product_state(const std::string& init, int spins, std::int64_t seed, std::int64_t trajectory);

struct TrajectoryResults {
    std::int64_t trajectories = 0;        // how many are stored (the first ones, in index order)
    std::vector<double> t;                // sample times
    // Per trajectory: <sz> (site average) at every sample, the time-averaged
    // correlations over the window, and its number of jumps.
    std::vector<double> sz_series;        // [trajectory][sample]
    std::vector<double> corr;             // [trajectory][a][r]
    std::vector<double> jumps;            // [trajectory]
    std::vector<std::int64_t> batch;      // [trajectory]: the batch that finished it, -1 = not yet
};

// Means over the finished trajectories with their standard errors (the spread
// of the per-trajectory time averages over sqrt(trajectories)).
struct TrajectorySummary {
    std::int64_t trajectories = 0;
    double sz = 0, sz_err = 0;            // window average
    Correlations mean, err;
    std::vector<double> sz_t, sz_t_err;   // at every sample time
    double jumps_per_trajectory = 0;
};
TrajectorySummary summarize(const QuantumConfig& c, const TrajectoryResults& r);

struct TrajectoryHooks {
    bool quiet = false;
    int kill_after_batches = -1;  // tests: stop as if killed after this many batches
};

struct TrajectoryRun {
    TrajectoryResults results;
    std::string backend;      // description
    double seconds = 0;       // this call
    std::int64_t done_now = 0;
    std::int64_t rounds = 0;  // propagator calls, for the benchmark
};

// Runs (or, with resume, continues) the trajectories of c, writing c's output
// file batch by batch when it has one. backend: "auto", "cpu", "cuda".
struct QuantumRunRequest {
    QuantumConfig config;
    std::string output, backend = "auto", command_line;
    bool overwrite = false, resume = false;
};
TrajectoryRun run_trajectories(QuantumRunRequest req, const TrajectoryHooks& hooks = {});

// --- exact density matrix ---------------------------------------------------

// A symmetry sector of L (sectors.hpp): lattice momentum k_d (in units of
// 2 pi / L_d, 0 <= k_d < L_d), the parity of all spins (0 even, 1 odd) and,
// where L keeps a spin charge, its value q.
struct SectorLabel {
    std::array<int, 3> momentum{};
    int parity = 0;
    bool charged = false;
    int charge = 0;
};
// "k = 2 of 12, even" (a ring), "k = (1, 0) of 4x3, odd, q = 1" (a cluster).
std::string sector_text(const Lattice& lat, const SectorLabel& s);

struct ExactResults {
    Correlations corr;            // in the steady state
    double sz = 0;                // site average, steady state
    double residual = 0;          // |L rho| / |rho| (Frobenius) of the steady state found
    double gap = NAN;             // slowest non-zero decay rate, when asked
    SectorLabel gap_sector;       // ... and the sector of that mode (of k and -k, the one listed first)
    std::vector<std::complex<double>> eigenvalues;  // the slowest few eigenvalues of L
    std::vector<double> t, sz_t;  // <sz>(t) from the initial state, when asked
    std::vector<double> sx_t, sy_t;  // ... <sx>(t) and <sy>(t) (site means; not stored in files)
    std::vector<Correlations> corr_t;  // ... and the correlations at the same times
};
// gap_on_gpu: the gap's filter products on the CUDA device (the rest on the CPU);
// progress: the gap's progress line on stderr.
ExactResults solve_exact(const QuantumConfig& c, bool gap_on_gpu = false, bool progress = false);
// Only the time series of solve_exact (t, sz_t, corr_t), without the steady state.
ExactResults exact_series(const QuantumConfig& c);
// Returns Tr(rho O) correlations of a density matrix (D x D, row-major).
Correlations density_correlations(const Lattice& lat, const std::vector<std::complex<double>>& rho);

}  // namespace xyzmf
