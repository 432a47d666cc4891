// The fused stepper in both schemes (tiles: include/xyzmf/fused_rk4.hpp; stream:
// include/xyzmf/stream_rk4.hpp) against the four-sweep reference on every
// backend: equal to 1e-14 (max abs, double; 1e-12 for the streaming pass, whose
// multiply-adds may fuse differently) after 1000 steps (a tenth under
// AddressSanitizer, see kStepDivisor) in d = 1, 2, 3,
// on sizes that do not divide the tiles, lattices smaller than the halo, rows
// longer than a tile, batches of copies, several steps per pass, and in float;
// and DTWA's jumps folded into the pass equal a dissipation pass before it.
// On the CPU the stream scheme is the CUDA kernel's pipeline run lane by lane
// (src/backends/cpu_stream_team.hpp), so its logic is checked without a GPU.
// The physics tests run on the fused stepper as well (it is the default).
#include "helpers.hpp"
#include <omp.h>

#include <algorithm>
#include <tuple>

#include "schema.hpp"
#include "integrators.hpp"
#include "xyzmf/dtwa_site.hpp"

namespace xyzmf::test {
namespace {

using BackendScheme = std::tuple<BackendKind, FusedScheme>;

class Fused : public ::testing::TestWithParam<BackendScheme> {
protected:
    void SetUp() override { XYZMF_REQUIRE_BACKEND(kind()); }
    BackendKind kind() const { return std::get<0>(GetParam()); }
    FusedScheme scheme() const { return std::get<1>(GetParam()); }
};

std::string backend_scheme_name(const ::testing::TestParamInfo<BackendScheme>& p) {
    return std::string(std::get<0>(p.param) == BackendKind::cpu ? "cpu" : "cuda") +
           (std::get<1>(p.param) == FusedScheme::stream ? "_stream" : "_tiles");
}

// Integrates `steps` steps of dt from s0 with the given stepper; per_copy may
// hold one Couplings per copy (a batch).
template <class Real>
HostState integrate(BackendKind kind, const Lattice& lat, const std::vector<Couplings>& per_copy, const HostState& s0,
                    double dt, std::int64_t steps, Rk4Stepper stepper, int per_pass = 1,
                    FusedScheme scheme = FusedScheme::best) {
    auto be = make_backend<Real>(kind);
    StateBuffer<Real> y(*be, lat);
    const std::vector<Real> host(s0.begin(), s0.end());
    upload_state(*be, y, host.data(), lat);
    std::unique_ptr<Rk4<Real>> rk4 = per_copy.size() == 1
                                         ? std::make_unique<Rk4<Real>>(*be, lat, per_copy[0], stepper, per_pass, scheme)
                                         : std::make_unique<Rk4<Real>>(*be, lat, per_copy, stepper, per_pass, scheme);
    if (stepper == Rk4Stepper::fused && scheme != FusedScheme::best)
        EXPECT_EQ(int(rk4->scheme()), int(scheme)) << "the pass must run in the scheme under test";
    rk4->advance(y, dt, steps);
    std::vector<Real> out(s0.size());
    download_state(*be, out.data(), y, lat);
    return HostState(out.begin(), out.end());
}

Lattice box(int dim, index_t Lx, index_t Ly = 1, index_t Lz = 1, index_t copies = 1) {
    Lattice lat;
    lat.dim = dim;
    lat.L[0] = Lx;
    lat.L[1] = dim >= 2 ? Ly : 1;
    lat.L[2] = dim >= 3 ? Lz : 1;
    lat.copies = copies;
    return lat;
}

// A batch's initial state: copy b from seed 7 + b.
HostState batch_state(const Lattice& lat) {
    Lattice one = lat;
    one.copies = 1;
    const index_t N = lat.sites(), Ns = one.sites();
    HostState s(3 * std::size_t(N));
    for (index_t b = 0; b < lat.copies; ++b) {
        const HostState sb = make_initial_state("random", one, 7 + std::uint64_t(b), 0);
        for (int c = 0; c < 3; ++c) std::copy(sb.begin() + c * Ns, sb.begin() + (c + 1) * Ns, s.begin() + c * N + b * Ns);
    }
    return s;
}

// Under AddressSanitizer (tools/test.sh's second build, which is there for
// memory errors and undefined behaviour) the comparisons below run a tenth of
// their steps: every pass still walks every row, halo, chunk and store of the
// pipeline, and a wrong neighbour or ring slot shows after one step; the release
// build runs the full count, where roundoff has had time to grow apart. (Whole,
// the Fused tests took 140 of the sanitizer suite's 330 CPU seconds on 2 cores.)
#ifdef __SANITIZE_ADDRESS__
constexpr std::int64_t kStepDivisor = 10;
#else
constexpr std::int64_t kStepDivisor = 1;
#endif

// A point with strong exchange and weak damping, so a wrong neighbour or a
// stale ring slice shows up in the state at once.
const Couplings kPoint{2.3, -1.1, 0.7, 0.6, 0.05};

void expect_fused_equals_four_sweep(BackendScheme bs, const Lattice& lat, std::int64_t steps, int per_pass,
                                    const std::vector<Couplings>& couplings = {kPoint}) {
    const auto [kind, scheme] = bs;
    steps = std::max<std::int64_t>(steps / kStepDivisor, std::min<std::int64_t>(steps, 20));
    const HostState s0 = lat.copies > 1 ? batch_state(lat) : make_initial_state("random", lat, 31, 0);
    const HostState ref = integrate<double>(kind, lat, couplings, s0, 0.01, steps, Rk4Stepper::four_sweep);
    const HostState got = integrate<double>(kind, lat, couplings, s0, 0.01, steps, Rk4Stepper::fused, per_pass, scheme);
    // The tiled pass runs the four-sweep loops' vectorised site code: equal to
    // rounding (1e-14). The streaming pass computes lane by lane, where the
    // compiler may fuse other multiply-adds (with -march=native on the CPU, and
    // on the GPU): its sites' arithmetic is the same, its rounding may differ in
    // the last bit, so 1e-12, the CUDA-vs-CPU tolerance (test_cuda.cpp).
    const double tol = scheme == FusedScheme::stream ? 1e-12 : 1e-14;
    EXPECT_LT(max_abs_diff(got, ref), tol) << lattice_text(lat) << ", copies " << lat.copies << ", " << per_pass
                                           << " step(s) per pass";
    // A stepper that did nothing would also "agree" with one that did nothing.
    EXPECT_GT(max_abs_diff(ref, s0), 1e-3) << "the state must really move";
}

TEST_P(Fused, EqualsFourSweepAfter1000StepsInEveryDimension) {
    for (const Lattice& lat : {box(1, 4099), box(2, 67, 45), box(3, 19, 11, 13)})
        expect_fused_equals_four_sweep(GetParam(), lat, 1000, 1);
}

TEST_P(Fused, LatticesSmallerThanTheHalo) {
    for (index_t L : {2, 3, 5})
        for (int dim = 1; dim <= 3; ++dim) expect_fused_equals_four_sweep(GetParam(), box(dim, L, L, L), 1000, 1);
    expect_fused_equals_four_sweep(GetParam(), box(2, 2, 7), 200, 1);
    expect_fused_equals_four_sweep(GetParam(), box(3, 3, 2, 5), 200, 1);
}

TEST_P(Fused, RowsLongerThanATileAndPaddedBlocks) {
    // Rows of 1024 sites and more: several tiles per row, padded component blocks.
    expect_fused_equals_four_sweep(GetParam(), box(2, 1031, 9), 100, 1);
    expect_fused_equals_four_sweep(GetParam(), box(2, 1024, 8), 100, 1);
    expect_fused_equals_four_sweep(GetParam(), box(3, 131, 37, 6), 50, 1);
    expect_fused_equals_four_sweep(GetParam(), box(1, 100003), 100, 1);
}

TEST_P(Fused, SeveralStepsPerPass) {
    // The streaming pass fuses at most kMaxStreamSteps (2): more asked for is 2.
    const int most = scheme() == FusedScheme::stream ? kMaxStreamSteps : kMaxFusedSteps;
    for (int m = 2; m <= most; ++m) {
        expect_fused_equals_four_sweep(GetParam(), box(1, 301), 1000, m);
        expect_fused_equals_four_sweep(GetParam(), box(2, 67, 45), 1000, m);
        expect_fused_equals_four_sweep(GetParam(), box(3, 19, 11, 13), 200, m);
        expect_fused_equals_four_sweep(GetParam(), box(2, 3, 5), 200, m);  // halo > lattice
    }
    // A step count that does not divide into whole passes.
    expect_fused_equals_four_sweep(GetParam(), box(2, 33, 20), 1001, 3);
}

TEST_P(Fused, BatchedCopiesInEveryDimension) {
    const std::vector<Couplings> points = {{2, 0, 1, 1, 0}, {-3, 1, 1, 1, 0.1}, {1, -1, 0, 1, 0}, {4, 2, 1, 0.5, 0}};
    for (const Lattice& lat : {box(1, 64, 1, 1, 4), box(2, 17, 12, 1, 4), box(3, 6, 7, 5, 4)}) {
        expect_fused_equals_four_sweep(GetParam(), lat, 500, 1, points);
        expect_fused_equals_four_sweep(GetParam(), lat, 500, 2, points);
    }
}

TEST_P(Fused, FloatAgreesWithDouble) {
    const Lattice lat = box(2, 40, 33);
    const HostState s0 = make_initial_state("random", lat, 5, 0);
    const Couplings c{2.0, 0.0, 1.0, 1.0, 0.0};
    const HostState d = integrate<double>(kind(), lat, {c}, s0, 0.01, 500, Rk4Stepper::fused, 1, scheme());
    const HostState f = integrate<float>(kind(), lat, {c}, s0, 0.01, 500, Rk4Stepper::fused, 1, scheme());
    const HostState f4 = integrate<float>(kind(), lat, {c}, s0, 0.01, 500, Rk4Stepper::four_sweep);
    EXPECT_LT(max_abs_diff(d, f), 2e-5);
    EXPECT_GT(max_abs_diff(d, f), 0.0) << "float run must really be in float";
    EXPECT_LT(max_abs_diff(f, f4), 1e-6) << "float: fused vs four-sweep";
}

TEST_P(Fused, ResultDoesNotDependOnTheThreadCount) {
    const Lattice lat = box(2, 300, 200);
    const HostState s0 = make_initial_state("random", lat, 3, 0);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const HostState one = integrate<double>(kind(), lat, {kPoint}, s0, 0.01, 50, Rk4Stepper::fused, 1, scheme());
    for (int n : {2, 3, 5}) {  // (whatever cores the machine has: OpenMP runs n threads)
        omp_set_num_threads(n);
        EXPECT_EQ(integrate<double>(kind(), lat, {kPoint}, s0, 0.01, 50, Rk4Stepper::fused, 1, scheme()), one) << n << " threads";
    }
    omp_set_num_threads(threads);
}

// Through the time loop: passes of several steps must land exactly on every
// record and on the shortened last step, and change nothing.
TEST_P(Fused, TimeLoopWithRecordsAndAShortLastStepEqualsFourSweep) {
    if (scheme() == FusedScheme::stream) GTEST_SKIP() << "the time loop runs the backend's choice: tested once per backend";
    for (int dim = 1; dim <= 3; ++dim) {
        // Large enough that the CPU backend fuses them (two steps per pass in 1D and 2D).
        const Lattice lat = dim == 1 ? box(1, 3001) : dim == 2 ? box(2, 130, 129) : box(3, 67, 65, 66);
        RunConfig c = config(lat, kPoint.Jx, kPoint.Jy, kPoint.Jz, kPoint.gamma, kPoint.gamma_phi);
        c.numerics.t_end = dim == 3 ? 0.215 : 2.015;  // the last step half as long, one after a snapshot
        c.numerics.record_every = 0.07;  // every 7 steps: passes of 2 must stop short of it
        // The CUDA backend runs 3D lattices on four sweeps (faster there than
        // its tiled kernel), so its time loop never takes the fused path in 3D.
        if (kind() == BackendKind::cuda && dim == 3) continue;
        const HostState s0 = make_initial_state("random", lat, 12, 0);
        {
            auto be = make_backend<double>(kind());
            const Rk4<double> probe(*be, lat, c.couplings);
            ASSERT_EQ(probe.stepper(), Rk4Stepper::fused) << "d = " << dim;
        }
        const HostState fused = evolve(c, kind(), s0);
        c.numerics.stepper = Rk4Stepper::four_sweep;
        const HostState ref = evolve(c, kind(), s0);
        EXPECT_LT(max_abs_diff(fused, ref), 1e-14) << "d = " << dim;
        EXPECT_GT(max_abs_diff(ref, s0), 1e-3);
    }
}

// DTWA's jumps applied as the pass loads each site (FusedArgs::jumps; halo
// sites included, each from its own global site) give exactly a dissipation
// pass followed by the step, in every dimension, for a batch of trajectories
// and sizes that do not divide the tiles; and the jumps really happen.
TEST_P(Fused, JumpsAsThePassLoadsEqualADissipationPassFirst) {
    for (const Lattice& lat : {box(1, 301, 1, 1, 3), box(2, 67, 45, 1, 3), box(3, 19, 11, 13, 2), box(2, 1031, 5)}) {
        const HostState s0 = batch_state(lat);
        dtwa::BoundaryJumps J;
        J.on = true;
        J.seed = 2024;
        J.first_trajectory = 17;
        J.boundary = 5;
        J.before = true;
        J.after = true;
        J.rates = dtwa::Rates::over(3.0, 1.0, 0.05);  // about 1 site in 5 jumps or flips
        auto be = make_backend<double>(kind());
        const std::vector<double> host(s0.begin(), s0.end());
        Rk4<double> rk4(*be, lat, kPoint, Rk4Stepper::fused, 1, scheme());
        ASSERT_EQ(int(rk4.scheme()), int(scheme()));
        auto run = [&](bool folded) {
            StateBuffer<double> y(*be, lat);
            upload_state(*be, y, host.data(), lat);
            if (folded) {
                rk4.step(y, 0.01, J);
            } else {
                DissipateArgs<double> d;
                d.s = y.data();
                d.lat = lat;
                d.jumps = J;
                be->dissipate(d);
                rk4.step(y, 0.01);
            }
            std::vector<double> out(host.size());
            download_state(*be, out.data(), y, lat);
            return HostState(out.begin(), out.end());
        };
        const HostState folded = run(true), separate = run(false);
        EXPECT_EQ(max_abs_diff(folded, separate), 0.0) << lattice_text(lat);
        dtwa::BoundaryJumps none = J;
        none.on = false;
        StateBuffer<double> y(*be, lat);
        upload_state(*be, y, host.data(), lat);
        rk4.step(y, 0.01, none);
        std::vector<double> out(host.size());
        download_state(*be, out.data(), y, lat);
        EXPECT_GT(max_abs_diff(HostState(out.begin(), out.end()), folded), 0.5) << "the jumps must happen";
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, Fused,
                         ::testing::Combine(::testing::ValuesIn(all_backends()),
                                            ::testing::Values(FusedScheme::tiles, FusedScheme::stream)),
                         backend_scheme_name);

}  // namespace
}  // namespace xyzmf::test
