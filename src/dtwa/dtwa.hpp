// Dissipative truncated-Wigner trajectories of the whole lattice (`xyzmf
// dtwa`, docs/physics.md section 8): each trajectory samples every spin's
// discrete Wigner distribution, precesses by the mean-field equations without
// damping, and dissipates by exact Poisson jumps; averages over trajectories
// estimate quantum expectation values beyond mean field. Trajectories run in
// batches of lattice copies on the mean-field engine (any backend), and the
// results are kept as sums per batch, so a run resumes batch by batch.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"
#include "parameters.hpp"
#include "xyzmf/vec3.hpp"

namespace xyzmf {

struct DtwaConfig {
    Lattice lattice;
    Couplings couplings{0, 0, 0, 1, 0};
    std::string init = "down";        // down | uniform:x,y,z (a pure product state)
    std::int64_t trajectories = 100;
    std::int64_t batch = 0;           // trajectories stepped together; 0: chosen from the lattice size
    std::int64_t seed = 1;
    double dt = 0.01;                 // 1/gamma
    double t_end = 10;                // 1/gamma
    double record_every = 0.1;        // 1/gamma
};

const ParamTable<DtwaConfig>& dtwa_parameters();
// Ranges and the rules across parameters; src names the source in messages.
void validate(const DtwaConfig& c, const ParamSource& src);
// The unit vector of --init (down: (0, 0, -1)); throws naming --init.
Vec3<double> dtwa_init_direction(const std::string& init);

// Record times and steps: records at steps 0, K, 2K, ... and the last step.
std::int64_t dtwa_steps(const DtwaConfig& c);
std::vector<std::int64_t> dtwa_record_steps(const DtwaConfig& c);
// The trajectories' batch size, fixed when a run starts (stored, so a resume
// groups the trajectories the same way).
std::int64_t dtwa_batch_size(const DtwaConfig& c);

// What each trajectory contributes, per record time: the site averages of
// s_a (a = x, y, z), of s_a s_a on nearest-neighbour bonds along x (c1), and
// of s_a(r0) s_a(r0 + r e_x) for r = 0 .. Lx/2 (corr; r = 0 is the identity,
// 1). The results are sums over each batch's trajectories and of their
// squares, so means and standard errors follow for any set of whole batches.
constexpr int kDtwaScalars = 6;  // sx, sy, sz, cxx1, cyy1, czz1
struct DtwaResults {
    std::vector<double> t;                 // record times
    std::int64_t batch_size = 0, batches = 0;
    std::int64_t correlation_lengths = 0;  // nr = Lx / 2 + 1
    std::vector<double> scalar_sum, scalar_sum2;  // [batch][record][kDtwaScalars]
    std::vector<double> corr_sum, corr_sum2;      // [batch][record][3][nr]
    std::vector<double> sk_sum;                   // [batch][3][sites]: S_aa(k) summed, at t_end
    std::vector<double> vortex_sum, vortex_sum2;  // [batch]: sXY vortices + antivortices at t_end (NaN: no psi)
    std::vector<std::int64_t> done;               // [batch]: trajectories finished (0: not yet)
};

struct DtwaSummary {
    std::int64_t trajectories = 0;
    std::vector<double> mean, err;             // [record][kDtwaScalars]
    std::vector<double> corr, corr_err;        // [record][3][nr]
    std::vector<double> sk;                    // [3][sites] at t_end (k numbered as sites, x fastest)
    double vortices = NAN, vortices_err = NAN; // sXY vortices + antivortices per trajectory at t_end
};
// Whether the sXY phase field psi (physics.md 5) is defined: d >= 2 and Jx Jy != 0.
bool dtwa_counts_vortices(const DtwaConfig& c);
DtwaSummary summarize(const DtwaConfig& c, const DtwaResults& r);

struct DtwaRequest {
    DtwaConfig config;
    std::string output, backend = "auto", command_line;
    bool overwrite = false, resume = false;
};
struct DtwaHooks {
    bool quiet = false;
    int kill_after_batches = -1;  // tests: stop as if killed after this many batches
};
struct DtwaRun {
    DtwaConfig config;            // what ran (from the file on resume)
    DtwaResults results;
    std::string backend;
    double seconds = 0;
    std::int64_t done_now = 0;    // trajectories run by this call
    double site_steps = 0;        // trajectories x sites x steps run by this call
};
// Runs (or with resume continues) the trajectories, writing the output file
// batch by batch when there is one. backend: auto, cpu, cuda.
DtwaRun run_dtwa(DtwaRequest req, const DtwaHooks& hooks = {});

}  // namespace xyzmf
