// Numerical quality: RK4 converges at 4th order, dopri5 meets its tolerance,
// float agrees with double to ~1e-5, and steady-state detection stops a run.
#include <omp.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "helpers.hpp"
#include "hdf5.hpp"
#include "schema.hpp"
#include "subnormals.hpp"

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

// The CPU's stage-at-a-time combination and error norm (combine_block,
// error_block) equal the per-element forms the GPU runs to rounding (a fused
// multiply-add may differ: 12 of 2405 elements by 1 ulp with -march=native), on
// arrays that end inside a block, with a zero weight among the stages and a
// NaN (an infinite error) in the last block.
template <class Real>
void expect_blocks_equal_elements() {
    const index_t n = 2 * kStageBlock + 357;
    std::vector<std::vector<Real>> k(7, std::vector<Real>(static_cast<std::size_t>(n)));
    const std::size_t size = static_cast<std::size_t>(n);
    std::vector<Real> y(size), y_new(size), by_element(size), by_block(size);
    std::uint64_t x = 88172645463325252ull;  // xorshift: any numbers of both signs
    auto next = [&x] {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return Real(double(x % 2000001) / 1e6 - 1);
    };
    for (auto& stage : k)
        for (Real& v : stage) v = next();
    for (index_t e = 0; e < n; ++e) y[std::size_t(e)] = next(), y_new[std::size_t(e)] = next();
    CombineArgs<Real> c{};
    c.y = y.data();
    c.stages = 6;
    for (int s = 0; s < 6; ++s) c.k[s] = k[std::size_t(s)].data(), c.c[s] = s == 1 ? Real(0) : Real(0.01 * (s + 1) / 7);
    c.out = by_element.data();
    for (index_t e = 0; e < n; ++e) combine_element(c, e);
    c.out = by_block.data();
    for (index_t b = 0; b < n; b += kStageBlock) combine_block(c, b, std::min(kStageBlock, n - b));
    const double eps = std::numeric_limits<Real>::epsilon();
    for (index_t e = 0; e < n; ++e) {
        double size = std::abs(double(y[std::size_t(e)]));  // what the rounding is relative to
        for (int s = 0; s < 6; ++s) size += std::abs(double(c.c[s]) * double(k[std::size_t(s)][std::size_t(e)]));
        ASSERT_LE(std::abs(double(by_block[std::size_t(e)]) - double(by_element[std::size_t(e)])), 4 * eps * size)
            << "element " << e;
    }
    ErrorArgs<Real> a{};
    a.y = y.data();
    a.y_new = y_new.data();
    a.stages = 7;
    for (int s = 0; s < 7; ++s) a.k[s] = k[std::size_t(s)].data(), a.e[s] = s == 1 ? Real(0) : Real(1e-3 * (s - 3));
    a.rtol = 1e-6;
    a.atol = 1e-9;
    for (bool with_nan : {false, true}) {
        if (with_nan) k[4][std::size_t(n - 5)] = Real(NAN);
        double element_max = 0, block_max = 0;
        for (index_t e = 0; e < n; ++e) element_max = std::max(element_max, error_element(a, e));
        for (index_t b = 0; b < n; b += kStageBlock) block_max = std::max(block_max, error_block(a, b, std::min(kStageBlock, n - b)));
        EXPECT_EQ(block_max == HUGE_VAL, with_nan);
        EXPECT_EQ(element_max == HUGE_VAL, with_nan);
        if (!with_nan) EXPECT_NEAR(block_max, element_max, 1e-12 * element_max);
    }
}

TEST(StageOps, TheCpuBlocksEqualTheGpuElementsToRounding) {
    expect_blocks_equal_elements<double>();
    expect_blocks_equal_elements<float>();
}

// Whether this thread's arithmetic makes subnormals: half the smallest normal double.
bool makes_subnormals() {
    volatile double smallest = DBL_MIN;
    return smallest * 0.5 != 0;
}

// core/subnormals.hpp: inside the scope every OpenMP thread flushes; afterwards
// every one computes as it did before (the Python module's process is left alone).
TEST(Subnormals, AScopeFlushesInEveryThreadAndPutsTheModeBack) {
    ASSERT_TRUE(makes_subnormals());
    {
        SubnormalsFlushed flushed;
        int flushing = 0;
#pragma omp parallel reduction(+ : flushing)
        flushing += SubnormalsFlushed::active() && !makes_subnormals() ? 1 : 0;
        EXPECT_EQ(flushing, omp_get_max_threads());
    }
    int as_before = 0;
#pragma omp parallel reduction(+ : as_before)
    as_before += !SubnormalsFlushed::active() && makes_subnormals() ? 1 : 0;
    EXPECT_EQ(as_before, omp_get_max_threads());
}

// Pure decay (J = 0): each RK4 step multiplies s_x and s_y by the stability
// polynomial R(z), z = -gamma dt / 2, exactly but for roundoff. A run keeps that
// law through the normal range (1e-284 at t = 1296); where the exact value is
// subnormal (1e-315 at t = 1440) the component is no subnormal, on which each
// operation took ~100 cycles (a 128^2 paramagnet to t = 2000 ran 12x slower than
// its length implies), but stays within 1e-304 of it: its last decrements
// underflow to 0, so it stops within a few hundred DBL_MIN (near 50 with fused
// multiply-adds, 120 without).
TEST(Subnormals, ADecayedComponentIsNoSubnormalAndTheNormalRangeFollowsRk4) {
    ScratchDir dir;
    const std::string out = dir.file("decay.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --dim 1 --size 16 --init pm-noise --noise 0.01 --dt 0.05 --t-end 1440 "
                        "--steady-tol 0 --record-every 10 -o " + out)
                  .exit_code,
              0);
    h5::Id f = h5::open_file(out, false);
    const StoredState s0 = read_state_group(f, out, snapshot_group(0));
    const StoredState s9 = read_state_group(f, out, snapshot_group(9));
    const StoredState fin = read_state_group(f, out, "/final");
    ASSERT_EQ(s9.t, 1296);
    ASSERT_EQ(fin.t, 1440);
    const double z = -0.5 * 0.05;
    const double R = 1 + z + z * z / 2 + z * z * z / 6 + z * z * z * z / 24;
    const double factor = std::pow(R, 1296 / 0.05);
    ASSERT_GT(factor, 1e-282);  // (normal)
    for (index_t n = 0; n < 2 * 16; ++n) {  // the x and y blocks
        const std::size_t i = std::size_t(n);
        ASSERT_NE(s0.spins[i], 0);
        EXPECT_NEAR(s9.spins[i] / s0.spins[i], factor, 1e-10 * factor) << "component " << i;
        const double v = fin.spins[i];
        EXPECT_TRUE(std::fpclassify(v) != FP_SUBNORMAL && std::abs(v) < 1e-304)
            << "component " << i << ": " << v << " (exact value " << s0.spins[i] * std::pow(R, 1440 / 0.05) << ")";
    }
    for (index_t n = 2 * 16; n < 3 * 16; ++n) EXPECT_NEAR(fin.spins[std::size_t(n)], -1, 1e-14);  // (1 + s_z ~ e^{-t}: to roundoff)
}

INSTANTIATE_TEST_SUITE_P(Backends, Integrators, ::testing::ValuesIn(all_backends()), backend_name);

}  // namespace
}  // namespace xyzmf::test
