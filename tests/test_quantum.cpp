// `xyzmf quantum`: the exact facts of docs/physics.md section 7 for the
// trajectories and the exact density matrix, and the two against each other.
// (QuTiP is the independent reference: tests/reference/quantum_qutip.py.)
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "helpers.hpp"
#include "initial_state.hpp"
#include "xyzmf/error.hpp"
#include "quantum.hpp"

namespace xyzmf {
namespace {

QuantumConfig ring(int N, double Jx, double Jy, double Jz, double gamma = 1, double gamma_phi = 0) {
    QuantumConfig c;
    c.lattice = test::lattice(1, N);
    c.couplings = {Jx, Jy, Jz, gamma, gamma_phi};
    return c;
}

TrajectoryRun trajectories(const QuantumConfig& c) { return test::quantum_trajectories(c); }

// One spin, no couplings: <sz>(t) = -1 + (z0 + 1) e^(-gamma t), from x (z0 = 0)
// and from up (z0 = 1), with dephasing (which leaves sz alone); the transverse
// components decay at gamma/2 + 2 gamma_phi (sz jumps flip their sign), from x, y
// and a tilted uniform:x,y,z start alike.
TEST(Quantum, SingleSpinDecayExact) {
    for (const char* init : {"x", "y", "up", "uniform:0.6,0,0.8", "uniform:0,-0.6,0.8"}) {
        QuantumConfig c = ring(1, 0, 0, 0, 0.7, 0.3);
        c.method = "exact";
        c.series = true;
        c.init = init;
        c.t_end = 5;
        c.sample_dt = 0.25;
        const ExactResults r = solve_exact(c);
        const std::array<double, 3> s0 = pure_state_direction(init);
        ASSERT_EQ(r.t.size(), 21u);
        ASSERT_EQ(r.sx_t.size(), 21u);
        for (std::size_t k = 0; k < r.t.size(); ++k) {
            const double transverse = std::exp(-(0.7 / 2 + 2 * 0.3) * r.t[k]);
            EXPECT_NEAR(r.sz_t[k], -1 + (s0[2] + 1) * std::exp(-0.7 * r.t[k]), 1e-10) << init << " t = " << r.t[k];
            EXPECT_NEAR(r.sx_t[k], s0[0] * transverse, 1e-10) << init << " t = " << r.t[k];
            EXPECT_NEAR(r.sy_t[k], s0[1] * transverse, 1e-10) << init << " t = " << r.t[k];
        }
        EXPECT_NEAR(r.sz, -1, 1e-12);
    }
}

TEST(Quantum, SingleSpinDecayTrajectories) {
    QuantumConfig c = ring(1, 0, 0, 0, 0.7);
    c.init = "x";
    c.trajectories = 1500;
    c.t_end = 4;
    c.burn_in = 2;
    c.sample_dt = 0.5;
    const TrajectoryRun run = trajectories(c);
    const TrajectorySummary s = summarize(c, run.results);
    int checked = 0;
    for (std::size_t k = 1; k < s.sz_t.size(); ++k) {
        const double exact = -1 + std::exp(-0.7 * run.results.t[k]);
        ASSERT_GT(s.sz_t_err[k], 0);
        EXPECT_LT(std::abs(s.sz_t[k] - exact), 4 * s.sz_t_err[k]) << "t = " << run.results.t[k];
        ++checked;
    }
    EXPECT_EQ(checked, 8);
    // Each trajectory jumps once (from x) or never: the mean is 1 - e^(-gamma t_end) over 2.
    EXPECT_NEAR(s.jumps_per_trajectory, 0.5 * (1 - std::exp(-0.7 * 4)), 0.05);
}

// The single-spin Liouvillian spectrum: 0, -(gamma/2 + 2 gamma_phi) twice, -gamma.
TEST(Quantum, SingleSpinGap) {
    for (double gphi : {0.0, 0.1, 0.5}) {
        QuantumConfig c = ring(1, 0, 0, 0, 1, gphi);
        c.method = "exact";
        c.gap = true;
        EXPECT_NEAR(solve_exact(c).gap, std::min(1.0, 0.5 + 2 * gphi), 1e-9) << "gamma_phi = " << gphi;
    }
}

// Jx = Jy: H conserves the total sz, so decay empties every spin: the steady
// state is all down, with no transverse correlations (physics.md 3.4's quantum twin).
TEST(Quantum, XxzSteadyStateIsAllDown) {
    QuantumConfig c = ring(4, 1.3, 1.3, -0.4);
    c.method = "exact";
    c.gap = true;
    const ExactResults r = solve_exact(c);
    EXPECT_NEAR(r.sz, -1, 1e-10);
    for (int k = 1; k < 4; ++k) {
        EXPECT_NEAR(r.corr.c[0][k], 0, 1e-10);
        EXPECT_NEAR(r.corr.c[1][k], 0, 1e-10);
        EXPECT_NEAR(r.corr.c[2][k], 1, 1e-10);
    }
    // At Jx = Jy (no dephasing) the Liouvillian is triangular in the numbers of up
    // spins of the ket and the bra, (n, m), with Re lambda = -gamma (n + m) / 2: the
    // slowest decaying mode has n + m = 1, so the gap is gamma / 2 exactly.
    EXPECT_NEAR(r.gap, 0.5, 1e-9);

    c.method = "trajectories";
    c.gap = false;
    c.init = "x";
    c.trajectories = 8;
    c.t_end = 30;
    c.burn_in = 28;
    const TrajectorySummary s = summarize(c, trajectories(c).results);
    EXPECT_NEAR(s.sz, -1, 1e-9);
    for (int k = 1; k < 4; ++k) EXPECT_NEAR(s.mean.c[0][k], 0, 1e-9);
}

// The staggered map (physics.md 3.3) is a unitary symmetry of the quantum
// model too (sz on every other site): (Jx, Jy, Jz) -> (-Jx, -Jy, Jz) turns
// <sx_0 sx_r> and <sy_0 sy_r> into (-1)^r times themselves on an even ring.
TEST(Quantum, StaggeredMapExact) {
    QuantumConfig a = ring(4, 2, 0.5, 1), b = ring(4, -2, -0.5, 1);
    a.method = b.method = "exact";
    const ExactResults ra = solve_exact(a), rb = solve_exact(b);
    EXPECT_LT(ra.residual, 1e-10);
    EXPECT_NEAR(ra.sz, rb.sz, 1e-10);
    for (int r = 0; r < 4; ++r) {
        const double sign = r % 2 ? -1 : 1;
        EXPECT_NEAR(rb.corr.c[0][r], sign * ra.corr.c[0][r], 1e-10) << r;
        EXPECT_NEAR(rb.corr.c[1][r], sign * ra.corr.c[1][r], 1e-10) << r;
        EXPECT_NEAR(rb.corr.c[2][r], ra.corr.c[2][r], 1e-10) << r;
        EXPECT_NEAR(ra.corr.c[0][r], ra.corr.c[0][(4 - r) % 4], 1e-10);  // ring symmetry
    }
    EXPECT_GT(std::abs(ra.corr.c[0][1]), 0.01);  // not trivially zero
}

// Trajectory averages = the exact steady state, within 4 standard errors, at
// the four phases of Fig. 4 on a ring of 4 (and one point with dephasing).
TEST(Quantum, TrajectoriesMatchExact) {
    struct Point { double Jx, Jy, Jz, gphi; };
    for (const Point p : {Point{2, 0, 1, 0}, Point{-2, 0, 1, 0}, Point{4, 2, 1, 0}, Point{1, -1, 0, 0}, Point{2, 0, 1, 0.2}}) {
        QuantumConfig c = ring(4, p.Jx, p.Jy, p.Jz, 1, p.gphi);
        c.method = "exact";
        const ExactResults e = solve_exact(c);
        c.method = "trajectories";
        c.trajectories = 120;
        c.t_end = 20;
        c.burn_in = 6;
        const TrajectorySummary s = summarize(c, trajectories(c).results);
        SCOPED_TRACE(testing::Message() << "(" << p.Jx << ", " << p.Jy << ", " << p.Jz << "), gamma_phi " << p.gphi);
        test::expect_trajectories_agree(s, e, 2, 4);
    }
}

// Trajectory k depends on (seed, k) only: the batch size changes nothing.
TEST(Quantum, BatchSizeDoesNotChangeTrajectories) {
    QuantumConfig c = ring(5, 4, 2, 1);
    c.init = "random";
    c.trajectories = 7;
    c.t_end = 6;
    c.burn_in = 2;
    c.batch = 7;
    const TrajectoryResults a = trajectories(c).results;
    c.batch = 2;
    const TrajectoryResults b = trajectories(c).results;
    for (std::size_t k = 0; k < a.corr.size(); ++k) EXPECT_NEAR(a.corr[k], b.corr[k], 1e-12);
    for (std::size_t k = 0; k < a.sz_series.size(); ++k) EXPECT_NEAR(a.sz_series[k], b.sz_series[k], 1e-12);
    EXPECT_EQ(a.jumps, b.jumps);
    double jumps = 0;
    for (double j : a.jumps) jumps += j;
    EXPECT_GT(jumps, 7);
}

// A run killed after a batch continues with --resume to the same numbers.
TEST(Quantum, ResumeGivesTheSameResults) {
    const test::ScratchDir dir;
    const std::string path = dir.file("quantum_resume.h5");
    QuantumConfig c = ring(4, 4, 2, 1);
    c.trajectories = 9;
    c.batch = 4;
    c.t_end = 5;
    c.burn_in = 1;
    QuantumRunRequest req;
    req.config = c;
    req.backend = "cpu";
    req.output = path;
    TrajectoryHooks kill;
    kill.quiet = true;
    kill.kill_after_batches = 1;
    EXPECT_THROW(run_trajectories(req, kill), Error);
    req.resume = true;
    req.config = QuantumConfig{};  // the file's settings are used
    TrajectoryHooks quiet;
    quiet.quiet = true;
    const TrajectoryRun resumed = run_trajectories(req, quiet);
    EXPECT_EQ(resumed.done_now, 5);
    const TrajectoryResults whole = trajectories(c).results;
    for (std::size_t k = 0; k < whole.corr.size(); ++k) EXPECT_NEAR(resumed.results.corr[k], whole.corr[k], 1e-12);
    for (std::int64_t b : resumed.results.batch) EXPECT_GE(b, 0);
}

// A cluster's H carries 1/(2d), and an axis of length 2 bonds each pair twice
// (as in the mean-field engine): 2x2 is then the 4-cycle 0-1-3-2 with J/2 per
// edge, the same H as a ring of 4 (J/2 per edge, each once).
TEST(Quantum, ClusterBondConvention) {
    QuantumConfig a = ring(4, 2, 0, 1);
    a.method = "exact";
    QuantumConfig b = a;
    b.lattice = test::lattice(2, 2);
    const ExactResults ra = solve_exact(a), rb = solve_exact(b);
    EXPECT_NEAR(ra.sz, rb.sz, 1e-10);
    EXPECT_NEAR(ra.corr.c[0][2], rb.corr.c[0][3], 1e-10);  // opposite corners
    EXPECT_NEAR(ra.corr.c[0][1], rb.corr.c[0][1], 1e-10);  // neighbours
}

TEST(Quantum, RefusesImpossibleSizes) {
    QuantumConfig c = ring(13, 1, 0, 1);
    c.method = "exact";
    EXPECT_THROW(solve_exact(c), Error);
    c = ring(27, 1, 0, 1);
    EXPECT_THROW(trajectories(c), Error);
}

}  // namespace
}  // namespace xyzmf
