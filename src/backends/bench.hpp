// Throughput measurements behind `xyzmf bench`: RK4 stepping on a backend,
// and a STREAM-like triad that gives the machine's memory bandwidth in the
// same process, so a speed is always reported as a ratio measured in one session.
#pragma once

#include <string>
#include <vector>

#include "xyzmf/backend.hpp"
#include "integrators.hpp"
#include "run_config.hpp"

namespace xyzmf {

struct BenchResult {
    std::string backend;
    std::vector<double> seconds;  // per repeat
    long long steps = 0;          // per repeat
    double median_site_steps_per_s = 0;
    double median_gb_per_s = 0;   // bytes the stepper must move / time
    double bytes_per_site_step = 0;
    int steps_per_pass = 1;       // fused passes: steps each
    Rk4Stepper stepper = Rk4Stepper::fused;  // the one that ran
    FusedScheme scheme = FusedScheme::tiles;  // ... and its scheme, when fused
};

// Minimum memory traffic of one fused RK4 step (src/core/integrators.cpp): 9 reads
// + 7 writes of a 3-component array per site.
inline double rk4_bytes_per_site_step(Precision p) { return 16.0 * 3 * (p == Precision::float32 ? 4 : 8); }

// Bytes a fused RK4 pass of `steps` steps must move per site and step: read
// and write the state once per pass.
inline double fused_bytes_per_site_step(Precision p, int steps) { return 2.0 * 3 * (p == Precision::float32 ? 4 : 8) / steps; }

// steps <= 0: chosen so one repeat takes about 0.5 s.
BenchResult bench_rk4(BackendKind kind, Precision precision, const Lattice& lat, long long steps, int repeats,
                      Rk4Stepper stepper = Rk4Stepper::fused, int steps_per_pass = 0,
                      FusedScheme scheme = FusedScheme::best);

// The arithmetic roof of the fused stepper: its per-site stage code
// (fused::stage_point) run four times per "step" over slices that stay in L1,
// on every thread, so memory plays no part. Site-steps/s, median of repeats.
double fused_arithmetic_roof(Precision precision, int dim, int repeats);

struct TriadResult {
    double median_gb_per_s = 0, best_gb_per_s = 0;
    long long elements = 0;
};
// a[i] = b[i] + s * c[i] over doubles with OpenMP; 24 bytes per element counted.
TriadResult stream_triad(long long elements, int repeats);

double median(std::vector<double> v);

}  // namespace xyzmf
