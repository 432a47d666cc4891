// CUDA vs CPU agreement from the same seed: <= 1e-12 relative in
// double after 100 RK4 steps, in 1D, 2D and 3D; dopri5 and the observables
// too. Skips cleanly when no device is present.
#include "helpers.hpp"
#include "integrators.hpp"
#include "quantum.hpp"
#include "schema.hpp"
#include "sectors.hpp"
#include "xyzmf/packed_filter.hpp"

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

// n RK4 steps of dt from s0 (per_copy: one Couplings per copy) with the given
// stepper and scheme, in Real.
template <class Real>
HostState advance_on(BackendKind kind, const Lattice& lat, const std::vector<Couplings>& per_copy,
                     const HostState& s0, std::int64_t n, Rk4Stepper stepper, int per_pass, FusedScheme scheme) {
    auto be = make_backend<Real>(kind);
    StateBuffer<Real> y(*be, lat);
    std::vector<Real> host(s0.begin(), s0.end());
    upload_state(*be, y, host.data(), lat);
    Rk4<Real> rk4(*be, lat, per_copy, stepper, per_pass, scheme);
    if (stepper == Rk4Stepper::fused) {
        EXPECT_EQ(int(rk4.scheme()), int(scheme)) << lattice_text(lat);
        EXPECT_EQ(rk4.steps_per_pass(), per_pass) << lattice_text(lat);
    }
    rk4.advance(y, 0.01, n);
    download_state(*be, host.data(), y, lat);
    return HostState(host.begin(), host.end());
}

// The streaming kernel (kernels/stream_kernels.cu) after 5000 steps against the
// CPU's four-sweep reference, in 1D, 2D and 3D, double and float, one and two
// steps per pass: sizes that do not divide an item (4099; 67x45; 19x11x13;
// 1031x7), lattices smaller than the halo, batched copies with their own
// couplings. At this damped point a rounding difference does not grow (a
// 1e-15 kick stays below 2e-15 after 5000 steps, a 1e-7 one below 1e-6 in
// float), so the GPU's other rounding (fused multiply-adds) must stay at the
// tolerances of the tests above: 1e-12 in double, 1e-5 in float.
TEST(CudaVsCpu, StreamingKernelAgreesAfter5000Steps) {
    XYZMF_REQUIRE_BACKEND(BackendKind::cuda);
    auto box = [](int dim, index_t x, index_t y = 1, index_t z = 1, index_t copies = 1) {
        Lattice lat = lattice(dim, 1);
        lat.L[0] = x;
        lat.L[1] = dim >= 2 ? y : 1;
        lat.L[2] = dim >= 3 ? z : 1;
        lat.copies = copies;
        return lat;
    };
    const Couplings point{4, 2, 1, 1, 0.05};
    const std::vector<Couplings> batch = {{4, 2, 1, 1, 0.05}, {2, 0, 1, 1, 0}, {1, -1, 0, 1, 0}, {-3, 1, 1, 1, 0.1}};
    const Lattice lats[] = {box(1, 4099),         box(2, 67, 45),          box(3, 19, 11, 13), box(2, 1031, 7),
                            box(1, 5),            box(2, 3, 5),            box(3, 3, 2, 5),    box(1, 64, 1, 1, 4),
                            box(2, 17, 12, 1, 4), box(3, 6, 7, 5, 4)};
    for (const Lattice& lat : lats) {
        const std::vector<Couplings> cs = lat.copies > 1 ? batch : std::vector<Couplings>{point};
        Lattice one = lat;
        one.copies = 1;
        HostState s0;
        for (index_t b = 0; b < lat.copies; ++b) {  // copy b from seed 40 + b, blocks x, y, z of all copies
            const HostState sb = make_initial_state("random", one, 40 + std::uint64_t(b), 0);
            s0.resize(3 * std::size_t(lat.sites()));
            const index_t N = lat.sites(), Ns = one.sites();
            for (int c = 0; c < 3; ++c) std::copy(sb.begin() + c * Ns, sb.begin() + (c + 1) * Ns, s0.begin() + c * N + b * Ns);
        }
        const HostState ref = advance_on<double>(BackendKind::cpu, lat, cs, s0, 5000, Rk4Stepper::four_sweep, 1, FusedScheme::best);
        const HostState ref_f = advance_on<float>(BackendKind::cpu, lat, cs, s0, 5000, Rk4Stepper::four_sweep, 1, FusedScheme::best);
        EXPECT_GT(max_abs_diff(ref, s0), 1e-2) << "the state must really move";
        for (int m = 1; m <= 2; ++m) {
            const bool fits = !(lat.dim == 3 && m == 2);  // 3D patches hold one step's halo (see cuda_backend.cpp)
            if (!fits) continue;
            const HostState got = advance_on<double>(BackendKind::cuda, lat, cs, s0, 5000, Rk4Stepper::fused, m, FusedScheme::stream);
            EXPECT_LT(max_abs_diff(got, ref), 1e-12) << lattice_text(lat) << " x" << lat.copies << ", double, m = " << m;
            const HostState got_f = advance_on<float>(BackendKind::cuda, lat, cs, s0, 5000, Rk4Stepper::fused, m, FusedScheme::stream);
            EXPECT_LT(max_abs_diff(got_f, ref_f), 1e-5) << lattice_text(lat) << " x" << lat.copies << ", float, m = " << m;
        }
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

// The series sum_k a_k P_k x of the gap's filter (include/xyzmf/packed_filter.hpp)
// on the host, with the packed product.
template <class S>
std::vector<S> host_series(const PackedRows<S>& A, const ChebyshevSeries& f, const std::vector<S>& x) {
    const std::size_t n = x.size();
    const S c = [&] {
        if constexpr (std::is_same_v<S, double>) return f.centre.real();
        else return f.centre;
    }();
    std::vector<S> p0 = x, p1(n), p2(n), sum(n), ax(n);
    A.multiply(p0.data(), ax.data());
    for (std::size_t r = 0; r < n; ++r) p1[r] = (ax[r] - c * p0[r]) * f.inverse_beta, sum[r] = f.a[0] * p0[r] + f.a[1] * p1[r];
    for (std::size_t k = 2; k < f.a.size(); ++k) {
        A.multiply(p1.data(), ax.data());
        for (std::size_t r = 0; r < n; ++r) p2[r] = (ax[r] - c * p1[r]) * (2 * f.inverse_beta) + p0[r], sum[r] += f.a[k] * p2[r];
        std::swap(p0, p1);
        std::swap(p1, p2);
    }
    return sum;
}

// The Liouvillian gap with its filter on the GPU (one launch per term of the
// Chebyshev series over the packed sector matrix) against the CPU: the series
// applied to one vector to 1e-12 relative in a real (k = 0) and a complex
// sector, and the gap, its sector and the slowest eigenvalues to 1e-10.
TEST(CudaVsCpu, GapFilterAgrees) {
    XYZMF_REQUIRE_BACKEND(BackendKind::cuda);
    QuantumConfig c;
    c.lattice = lattice(1, 8);
    c.couplings = {2, 0.6, 1, 1, 0.1};
    c.method = "exact";
    c.gap = true;
    const ChebyshevSeries f{{-5.0, 0.0}, 1.0 / 20, {0.3, -0.2, 0.1, 0.05, -0.02, 0.01}};
    auto relative = [](const auto& a, const auto& b) {
        double d = 0, n = 0;
        for (std::size_t r = 0; r < a.size(); ++r) d += std::norm(a[r] - b[r]), n += std::norm(b[r]);
        return std::sqrt(d / n);
    };
    {
        const PackedRows<double> A(SparseRowMajor(OperatorSector(c, {0, 0, 0}, 1).hermitian_matrix(false)));
        ASSERT_TRUE(A.fits());
        std::vector<double> x(std::size_t(A.rows())), y(x.size());
        for (std::size_t r = 0; r < x.size(); ++r) x[r] = std::sin(0.37 * double(r) + 1);
        make_cuda_packed_filter(A, f)->apply(x.data(), y.data());
        EXPECT_LT(relative(y, host_series(A, f, x)), 1e-12);
    }
    {
        const PackedRows<std::complex<double>> A(SparseComplexRows(OperatorSector(c, {3, 0, 0}, 0).matrix()));
        ASSERT_TRUE(A.fits());
        std::vector<std::complex<double>> x(std::size_t(A.rows())), y(x.size());
        for (std::size_t r = 0; r < x.size(); ++r) x[r] = {std::sin(0.37 * double(r) + 1), std::cos(0.11 * double(r))};
        ChebyshevSeries g = f;
        g.centre = {-5.0, 0.5};  // complex: the kernel's complex product with the centre
        make_cuda_packed_filter(A, g)->apply(x.data(), y.data());
        EXPECT_LT(relative(y, host_series(A, g, x)), 1e-12);
    }
    const ExactResults cpu = solve_exact(c, false), gpu = solve_exact(c, true);
    EXPECT_NEAR(gpu.gap, cpu.gap, 1e-10);
    EXPECT_EQ(gpu.gap_sector.momentum, cpu.gap_sector.momentum);
    EXPECT_EQ(gpu.gap_sector.parity, cpu.gap_sector.parity);
    ASSERT_EQ(gpu.eigenvalues.size(), cpu.eigenvalues.size());
    for (const std::complex<double>& l : cpu.eigenvalues) {  // (modes whose real parts tie may swap places)
        double nearest = HUGE_VAL;
        for (const std::complex<double>& m : gpu.eigenvalues) nearest = std::min(nearest, std::abs(m - l));
        EXPECT_LT(nearest, 1e-10) << l;
    }
}

}  // namespace
}  // namespace xyzmf::test
