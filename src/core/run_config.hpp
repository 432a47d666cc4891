// Everything that defines a run: model, lattice, numerics, initial state,
// output. Filled by the CLI (src/cli/run.cpp), by tests or from a file's
// /parameters, and checked by validate() whatever the source.
#pragma once

#include <cstdint>
#include <string>

#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"
#include "parameters.hpp"

namespace xyzmf {

enum class Precision { float32, float64 };
enum class IntegratorKind { rk4, dopri5 };
// How rk4 moves through memory: fused (one pass per step, the default) or
// four-sweep (one sweep per stage: the reference the fused stepper is tested against).
enum class Rk4Stepper { fused, four_sweep };
enum class BackendRequest { automatic, cpu, cuda };
// A lattice over MPI ranks (src/mpi/slab.hpp): the ghost rows sent after each
// pass, or overlapped with it (the edge rows stepped first and in flight while
// the rest of the block steps); automatic: on a GPU, whose kernels run while
// the host talks to MPI, the faster of the two as timed at the first pass;
// after the pass on the CPU, where stepping holds the threads that would move
// the rows. Either gives the same numbers.
enum class HaloExchange { automatic, after_pass, overlap };

// The numerics of a fixed-step run, one value that `run` (Numerics) and `sweep`
// (SweepConfig) share and the sweep's slots (src/phase/sweep_slots.hpp) take whole.
// The defaults are run's; a sweep sets its own.
struct FixedStepNumerics {
    double dt = 0.01;             // fixed step (rk4) or first trial step (dopri5), 1/gamma
    double t_end = 100;           // 1/gamma
    double steady_tol = 1e-9;     // stop when max_n |ds_n/dt| < this (gamma); 0 = never
    double norm_tol = 1e-4;       // blow-up when any |s_n| > 1 + norm_tol
};

struct Numerics : FixedStepNumerics {
    IntegratorKind integrator = IntegratorKind::rk4;
    Rk4Stepper stepper = Rk4Stepper::fused;
    int steps_per_pass = 0;       // fused: RK4 steps per pass, 1-kMaxFusedSteps; 0 = the backend's choice (maybe four-sweep)
    HaloExchange halo = HaloExchange::automatic;  // MPI runs only (rk4)
    double rtol = 1e-8, atol = 1e-10;  // dopri5 tolerances on every component
    double record_every = 0.5;    // time-series row interval, 1/gamma
    double snapshot_every = 0;    // snapshot interval, 1/gamma; 0 = t_end / 10
};

struct RunConfig {
    Couplings couplings;
    Lattice lattice;
    Numerics numerics;
    Precision precision = Precision::float64;
    BackendRequest backend = BackendRequest::automatic;
    std::string init = "random";  // random | pm-noise | uniform:x,y,z | FILE.h5
    double noise = 0.01;          // transverse amplitude for pm-noise
    std::uint64_t seed = 1;
    std::string output;           // HDF5 path; empty = no file (tests, bench)
    bool overwrite = false;
    // Deflate level of stored spins (0-9). Off by default: a 1024^2 double
    // state shrank by only 3-25% at level 1, and compressing it took the time
    // of ~60 fused steps on the development machine (results/bench/snapshots.md).
    int compress = 0;
    std::string command_line;     // provenance
    // What the run writes beside its states, recorded in /parameters so that
    // --resume and --continue-from go on writing it: --analyze (and its
    // --sk-storage) and --xdmf.
    bool analyze = false;
    std::string sk_storage = "auto";
    bool xdmf = false;

    double snapshot_interval() const {
        return numerics.snapshot_every > 0 ? numerics.snapshot_every : numerics.t_end / 10;
    }
};

// Limits no run can exceed, whatever the machine.
constexpr std::int64_t kMaxSide = std::int64_t(1) << 31;   // sites per side
constexpr std::int64_t kMaxSites = std::int64_t(1) << 58;  // 3 x 8 bytes per site must stay addressable
constexpr double kMaxTime = 1e12;                          // any time or interval, 1/gamma
constexpr double kMaxSteps = 1e15;                         // t_end / dt
constexpr double kMaxSeed = 9223372036854775807.0;         // seeds are stored as int64
constexpr double kMaxCoupling = 1e6;                       // |J|, gamma: beyond this no practical dt integrates

// Jx, Jy, Jz (|J| <= 1e6), gamma, gamma_phi (0 to 1e6), units of gamma: part
// of the run, sweep and stability-map tables.
const ParamTable<Couplings>& couplings_parameters();

// dim (1-3) and sizes (1 to kMaxSide each), and the precision (double|float):
// parts of the run and sweep tables.
const ParamTable<Lattice>& lattice_parameters();
const ParamTable<Precision>& precision_parameters();

// The table of /parameters: every stored field of RunConfig (parameters.hpp).
const ParamTable<RunConfig>& run_parameters();

// Throws xyzmf::Error on the first broken rule, naming the option (usage, from
// the command line) or FILE: /parameters/key (io, from a file). Memory limits
// are checked separately (check_memory in memory_info.hpp) once the backend is known.
void validate(const RunConfig& cfg, const ParamSource& src);
void validate(const RunConfig& cfg);  // from the command line

// Sides and site count of a lattice, named size_name in the refusal.
void check_lattice(const Lattice& lat, const ParamSource& src, const std::string& size_name);

// "256" -> {256}, "512x256" -> {512, 256}. Throws naming --size on bad input.
Lattice parse_size(const std::string& text, int dim, bool dim_given);

const char* to_string(Precision p);
const char* to_string(IntegratorKind k);
const char* to_string(Rk4Stepper s);
const char* to_string(BackendRequest b);

}  // namespace xyzmf
