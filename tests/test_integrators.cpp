// Numerical quality: RK4 converges at 4th order, dopri5 meets its tolerance,
// float agrees with double to ~1e-5, and steady-state detection stops a run.
#include <cmath>

#include "helpers.hpp"

namespace xyzmf::test {
namespace {

class Integrators : public ::testing::TestWithParam<BackendKind> {
protected:
    void SetUp() override { XYZMF_REQUIRE_BACKEND(GetParam()); }
};

TEST_P(Integrators, Rk4ConvergesAtFourthOrder) {
    const Lattice lat = lattice(2, 8);
    RunConfig c = config(lat, 3.0, -1.0, 0.5, 1.0, 0.1);
    c.numerics.t_end = 1;
    const HostState s0 = make_initial_state("random", lat, 9, 0);
    c.numerics.dt = 1.0 / 1024;
    const HostState ref = evolve(c, GetParam(), s0);
    double err[3];
    const double dts[3] = {0.1, 0.05, 0.025};
    for (int i = 0; i < 3; ++i) {
        c.numerics.dt = dts[i];
        err[i] = max_abs_diff(evolve(c, GetParam(), s0), ref);
    }
    for (int i = 0; i < 2; ++i) {
        const double order = std::log2(err[i] / err[i + 1]);
        EXPECT_NEAR(order, 4.0, 0.3) << "between dt = " << dts[i] << " and " << dts[i + 1];
    }
}

TEST_P(Integrators, Dopri5MeetsItsTolerance) {
    const Lattice lat = lattice(2, 8);
    RunConfig c = config(lat, 3.0, -1.0, 0.5, 1.0, 0.1);
    c.numerics.t_end = 3;
    c.numerics.dt = 1e-3;
    const HostState s0 = make_initial_state("random", lat, 9, 0);
    const HostState ref = evolve(c, GetParam(), s0);  // rk4, error ~1e-12
    c.numerics.integrator = IntegratorKind::dopri5;
    double previous = 0;
    for (double tol : {1e-4, 1e-6, 1e-8}) {
        c.numerics.rtol = tol;
        c.numerics.atol = tol;
        c.numerics.dt = 0.1;
        const double err = max_abs_diff(evolve(c, GetParam(), s0), ref);
        EXPECT_LT(err, 20 * tol) << "rtol = atol = " << tol;
        if (previous > 0) EXPECT_LT(err, previous) << "tighter tolerance must give a smaller error";
        previous = err;
    }
}

TEST_P(Integrators, FloatAgreesWithDouble) {
    const Lattice lat = lattice(2, 16);
    RunConfig c = config(lat, 2.0, 0.0, 1.0);
    c.numerics.t_end = 5;
    const HostState s0 = make_initial_state("random", lat, 4, 0);
    const HostState d = evolve<double>(c, GetParam(), s0);
    const HostState f = evolve<float>(c, GetParam(), s0);
    const double diff = max_abs_diff(d, f);
    EXPECT_LT(diff, 2e-5);
    EXPECT_GT(diff, 0.0) << "float run must really be in float";
}

TEST_P(Integrators, SteadyToleranceStopsTheRunEarly) {
    const Lattice lat = lattice(1, 16);
    RunConfig c = config(lat, 2, 0, 1);
    c.numerics.t_end = 1000;
    c.numerics.steady_tol = 1e-8;
    c.numerics.record_every = 0.5;
    auto be = make_backend<double>(GetParam());
    Simulation<double> sim(c, *be);
    sim.set_state(make_initial_state("uniform:0.1,0.1,-0.9", lat, 1, 0));
    const RunSummary s = sim.run(nullptr);
    EXPECT_EQ(s.reason, StopReason::steady);
    EXPECT_LT(s.t, 200);
    EXPECT_LT(s.residual, 1e-8);
    EXPECT_NEAR(s.mean[2], -0.25, 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Backends, Integrators, ::testing::ValuesIn(all_backends()), backend_name);

}  // namespace
}  // namespace xyzmf::test
