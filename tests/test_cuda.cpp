// CUDA vs CPU agreement from the same seed (issue #2): <= 1e-12 relative in
// double after 100 RK4 steps, in 1D, 2D and 3D; dopri5 and the observables
// too. Skips cleanly when no device is present.
#include "helpers.hpp"
#include "xyzmf/quantum.hpp"
#include "xyzmf/schema.hpp"

namespace xyzmf::test {
namespace {

TEST(CudaVsCpu, SameSeedSameStateAfter100Steps) {
    XYZMF_REQUIRE_BACKEND(BackendKind::cuda);
    const Lattice lats[] = {lattice(1, 4099), lattice(2, 67), lattice(3, 19)};
    for (const Lattice& lat : lats) {
        RunConfig c = config(lat, 4.0, 2.0, 1.0, 1.0, 0.05);
        c.numerics.dt = 0.01;
        c.numerics.t_end = 1.0;  // 100 steps
        const HostState s0 = make_initial_state("random", lat, 2024, 0);
        const HostState cpu = evolve(c, BackendKind::cpu, s0), gpu = evolve(c, BackendKind::cuda, s0);
        double worst = 0;
        for (std::size_t i = 0; i < cpu.size(); ++i)
            worst = std::max(worst, std::abs(cpu[i] - gpu[i]) / std::max(1e-3, std::abs(cpu[i])));
        EXPECT_LT(worst, 1e-12) << lattice_text(lat);
        c.numerics.integrator = IntegratorKind::dopri5;
        EXPECT_LT(max_abs_diff(evolve(c, BackendKind::cpu, s0), evolve(c, BackendKind::cuda, s0)), 1e-10);
    }
}

TEST(CudaVsCpu, ObservablesAgree) {
    XYZMF_REQUIRE_BACKEND(BackendKind::cuda);
    const Lattice lat = lattice(2, 130);
    RunConfig c = config(lat, 1.0, -1.0, 0.0);
    c.numerics.t_end = 0.5;
    c.numerics.record_every = 0.1;
    const HostState s0 = make_initial_state("random", lat, 77, 0);
    RunSummary sum[2];
    int i = 0;
    for (BackendKind k : {BackendKind::cpu, BackendKind::cuda}) {
        auto be = make_backend<double>(k);
        Simulation<double> sim(c, *be);
        sim.set_state(s0);
        sum[i++] = sim.run(nullptr);
    }
    for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(sum[0].mean[a], sum[1].mean[a], 1e-12);
        EXPECT_NEAR(sum[0].staggered[a], sum[1].staggered[a], 1e-12);
    }
    EXPECT_NEAR(sum[0].residual, sum[1].residual, 1e-12 * sum[0].residual);
}

// Quantum trajectories: the same seed and batch give the same trajectories on
// the GPU as on the CPU (all decisions are taken on the host; only the order of
// the sums differs, so a jump time may move by rounding and, rarely, a
// trajectory take another branch): most trajectories agree to 1e-8, and the
// averages agree within their standard errors.
TEST(CudaVsCpu, QuantumTrajectoriesAgree) {
    XYZMF_REQUIRE_BACKEND(BackendKind::cuda);
    QuantumConfig c;
    c.lattice = lattice(1, 8);
    c.couplings = {4, 2, 1, 1, 0.1};
    c.init = "random";
    c.trajectories = 32;
    c.batch = 16;
    c.t_end = 10;
    c.burn_in = 4;
    const TrajectoryRun cpu = quantum_trajectories(c, "cpu"), gpu = quantum_trajectories(c, "cuda");
    EXPECT_NE(gpu.backend.find("cuda"), std::string::npos) << gpu.backend;
    int same = 0;
    for (int k = 0; k < 32; ++k) {
        bool equal = cpu.results.jumps[k] == gpu.results.jumps[k];
        for (int v = 0; v < 3 * 8 && equal; ++v)
            equal = std::abs(cpu.results.corr[k * 24 + v] - gpu.results.corr[k * 24 + v]) < 1e-8;
        same += equal;
    }
    EXPECT_GE(same, 28);
    const TrajectorySummary a = summarize(c, cpu.results), b = summarize(c, gpu.results);
    EXPECT_LT(std::abs(a.sz - b.sz), 4 * std::hypot(a.sz_err, b.sz_err) + 1e-12);
    for (int r = 1; r <= 4; ++r)
        EXPECT_LT(std::abs(a.mean.c[0][r] - b.mean.c[0][r]), 4 * std::hypot(a.err.c[0][r], b.err.c[0][r]) + 1e-12);
}

}  // namespace
}  // namespace xyzmf::test
