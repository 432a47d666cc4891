// DTWA trajectories (docs/physics.md 8) against exact facts: the discrete
// Wigner samples and the jumps stay on the sphere |s|^2 = 3, free decay and
// dephasing follow the exact single-spin means, an uncorrelated steady state
// has the structure factor of a product state, the precession keeps |s|^2 to
// RK4's order, rings agree with the exact density matrix to the order in t
// that the method guarantees, and results do not depend on threads, batches,
// backends or a kill and resume.
#include <omp.h>

#include <array>

#include "helpers.hpp"
#include "hdf5.hpp"
#include "dtwa.hpp"
#include "xyzmf/dtwa_site.hpp"
#include "xyzmf/error.hpp"
#include "schema.hpp"
#include "integrators.hpp"
#include "quantum.hpp"
#include "vortices.hpp"

#include <nlohmann/json.hpp>

namespace xyzmf::test {
namespace {

Lattice box(int dim, index_t x, index_t y = 1) {
    Lattice lat = lattice(dim, x);
    if (dim >= 2) lat.L[1] = y;
    return lat;
}

DtwaConfig dtwa_config(const Lattice& lat, Couplings c, const std::string& init, std::int64_t R, double t_end,
                       double record_every, double dt = 0.01) {
    DtwaConfig d;
    d.lattice = lat;
    d.couplings = c;
    d.init = init;
    d.trajectories = R;
    d.t_end = t_end;
    d.record_every = record_every;
    d.dt = dt;
    d.seed = 11;
    return d;
}

DtwaRun run(const DtwaConfig& c, const std::string& backend = "cpu", const std::string& output = "",
            int kill_after = -1, bool resume = false) {
    DtwaRequest req;
    req.config = c;
    req.backend = backend;
    req.output = output;
    req.resume = resume;
    req.command_line = "xyzmf dtwa (test)";
    DtwaHooks hooks;
    hooks.quiet = true;
    hooks.kill_after_batches = kill_after;
    return run_dtwa(req, hooks);
}

// The exact density matrix's <s_z>(t) and correlations on a ring from all down.
ExactResults exact_ring_series(int N, const Couplings& J, double t_end, double sample_dt, const std::string& init = "down") {
    QuantumConfig q;
    q.lattice = box(1, N);
    q.couplings = J;
    q.method = "exact";
    q.series = true;
    q.init = init;
    q.t_end = t_end;
    q.sample_dt = sample_dt;
    return exact_series(q);
}

double at(const DtwaSummary& s, std::size_t record, int k) { return s.mean[record * kDtwaScalars + std::size_t(k)]; }
double err(const DtwaSummary& s, std::size_t record, int k) { return s.err[record * kDtwaScalars + std::size_t(k)]; }

TEST(DtwaSite, SamplesAndJumpsStayOnTheWignerSphereWithTheRightMeans) {
    const Vec3<double> dirs[] = {{0, 0, -1}, {0, 0, 1}, {1, 0, 0}, {0.6, 0, 0.8}, {0.36, -0.48, 0.8}};
    for (const Vec3<double>& n : dirs) {
        Vec3<double> mean{0, 0, 0};
        for (double u1 : {0.25, 0.75})
            for (double u2 : {0.25, 0.75}) {
                const Vec3<double> s = dtwa::initial_sample(n, u1, u2);
                EXPECT_NEAR(norm2(s), 3.0, 1e-14);
                mean = mean + Vec3<double>{s.x / 4, s.y / 4, s.z / 4};
            }
        EXPECT_NEAR(mean.x, n.x, 1e-15);  // the four samples average to the state's Bloch vector
        EXPECT_NEAR(mean.y, n.y, 1e-15);
        EXPECT_NEAR(mean.z, n.z, 1e-15);
    }
    const Vec3<double> down = dtwa::initial_sample({0, 0, -1}, 0.75, 0.25);
    EXPECT_EQ(down.z, -1.0);
    EXPECT_EQ(std::abs(down.x), 1.0);
    // A decay jump: z to -1, x and y to +-1 with means halved; any point of the sphere.
    Vec3<double> s{1.2, -0.9, std::sqrt(3 - 1.44 - 0.81)};
    double mx = 0, my = 0;
    const int M = 200000;
    for (int k = 0; k < M; ++k) {
        const dtwa::Uniforms u = dtwa::uniforms(5, std::uint64_t(k), 3, 7, 0);
        Vec3<double> t = s;
        dtwa::decay_jump(t, u.u[0], u.u[1]);
        ASSERT_EQ(norm2(t), 3.0);
        mx += t.x / M;
        my += t.y / M;
    }
    EXPECT_NEAR(mx, s.x / 2, 4 / std::sqrt(double(M)));
    EXPECT_NEAR(my, s.y / 2, 4 / std::sqrt(double(M)));
    // Poisson counts: P(0) = e^-mu, P(1) = mu e^-mu.
    const double mu = 0.3;
    EXPECT_EQ(dtwa::poisson(mu, std::exp(-mu), std::exp(-mu) * (1 - 1e-12)), 0);
    EXPECT_EQ(dtwa::poisson(mu, std::exp(-mu), std::exp(-mu) * (1 + 1e-9)), 1);
    EXPECT_EQ(dtwa::poisson(mu, std::exp(-mu), std::exp(-mu) * (1 + mu) * (1 + 1e-9)), 2);
}

// The vectorised Philox gives r123's words, and a run of sites (which screens
// them for events in SIMD lanes) gets exactly the jumps of one site at a time,
// across the 2^32 boundary of the site number and with rates that make events
// common and rare.
TEST(DtwaSite, RunsOfSitesGetTheJumpsOfOneSiteAtATime) {
#if XYZMF_PHILOX_LANES
    using namespace philox_lanes;
    for (std::uint64_t base : {std::uint64_t(0), (std::uint64_t(1) << 32) - 3, std::uint64_t(987654321)}) {
        const std::uint64_t seed = 0x1234567890abcdefull ^ base;
        Lanes where = (iota() + base) | (std::uint64_t(77) << 40);
        Lanes c[4] = {where & (Lanes{} + 0xffffffffu), where >> 32, Lanes{} + 9u, Lanes{} + 2u};
        philox4x32_10(c, std::uint32_t(seed), std::uint32_t(seed >> 32));
        for (int j = 0; j < kLanes; ++j) {
            r123::Philox4x32 rng;
            const std::uint64_t w = where[j];
            const r123::Philox4x32::ctr_type r =
                rng({{std::uint32_t(w), std::uint32_t(w >> 32), 9u, 2u}},
                    {{std::uint32_t(seed), std::uint32_t(seed >> 32)}});
            for (int k = 0; k < 4; ++k) EXPECT_EQ(c[k][j], r.v[k]) << "word " << k << " lane " << j;
        }
    }
#endif
    const int n = 203;  // not a multiple of any lane count
    for (double rate : {0.1, 0.5, 3.0})
        for (int halves = 1; halves <= 3; ++halves) {
            dtwa::BoundaryJumps J;
            J.on = true;
            J.seed = 99;
            J.boundary = 41;
            J.before = halves & 1;
            J.after = halves & 2;
            J.rates = dtwa::Rates::over(rate, rate / 3, 0.5);
            const std::uint64_t site0 = (std::uint64_t(1) << 32) - 100, trajectory = 5;
            std::vector<double> x(n), y(n), z(n);
            for (int i = 0; i < n; ++i) {
                x[i] = i % 2 ? 1 : -1;
                y[i] = i % 3 ? 1 : -1;
                z[i] = 1;
            }
            std::vector<double> x1 = x, y1 = y, z1 = z;
            dtwa::dissipate_run(J, x.data(), y.data(), z.data(), n, site0, trajectory);
            int changed = 0;
            for (int i = 0; i < n; ++i) {
                Vec3<double> v{x1[i], y1[i], z1[i]};
                dtwa::dissipate_site(J, v, site0 + std::uint64_t(i), trajectory);
                ASSERT_EQ(x[i], v.x) << i;
                ASSERT_EQ(y[i], v.y) << i;
                ASSERT_EQ(z[i], v.z) << i;
                changed += x[i] != x1[i] || y[i] != y1[i] || z[i] != z1[i];
            }
            EXPECT_GT(changed, 0);  // the comparison saw jumps
        }
}

// J = 0: every spin decays (rate gamma) and dephases (gamma_phi) on its own, and
// the jumps are the exact single-spin channel, so the trajectory means follow
// <s_x>(t) = s_x0 exp(-(gamma/2 + 2 gamma_phi) t), <s_z>(t) = -1 + (s_z0 + 1) exp(-gamma t)
// at any dt, within their standard errors.
TEST(Dtwa, FreeDecayAndDephasingFollowTheExactSingleSpinMeans) {
    const double gphi = 0.2;
    for (const Lattice& lat : {box(1, 1), box(2, 6, 6)}) {
        const DtwaConfig c = dtwa_config(lat, {0, 0, 0, 1, gphi}, "uniform:0.6,0,0.8", lat.sites() == 1 ? 6000 : 200,
                                         3, 0.5, 0.05);
        const DtwaRun r = run(c);
        const DtwaSummary s = summarize(r.config, r.results);
        ASSERT_EQ(s.trajectories, c.trajectories);
        for (std::size_t q = 0; q < r.results.t.size(); ++q) {
            const double t = r.results.t[q];
            const double sx = 0.6 * std::exp(-(0.5 + 2 * gphi) * t), sz = -1 + 1.8 * std::exp(-t);
            EXPECT_LT(std::abs(at(s, q, 0) - sx), 4 * err(s, q, 0) + 1e-12) << "t = " << t << ", " << lattice_text(lat);
            EXPECT_LT(std::abs(at(s, q, 1)), 4 * err(s, q, 1) + 1e-12) << "t = " << t;
            EXPECT_LT(std::abs(at(s, q, 2) - sz), 4 * err(s, q, 2) + 1e-12) << "t = " << t << ", " << lattice_text(lat);
            if (t > 0) EXPECT_GT(err(s, q, 2), 0.0) << "the trajectories must really differ";
        }
        EXPECT_LT(at(s, r.results.t.size() - 1, 2), -0.9) << "the spins must really decay";
    }
}

// Long after every spin has jumped, J = 0 leaves a product of |down> states:
// S_zz(k) = 0 for k != 0 and N at k = 0 exactly (z = -1 on every site, and the
// self term counted as the identity, 1, not s_z^2), S_xx(k) = 1 within its
// spread, and no correlation between neighbours.
TEST(Dtwa, AnUncorrelatedSteadyStateHasTheStructureFactorOfAProductState) {
    const DtwaConfig c = dtwa_config(box(2, 8, 8), {0, 0, 0, 1, 0}, "uniform:1,0,0", 100, 40, 10, 0.05);
    const DtwaRun r = run(c);
    const DtwaSummary s = summarize(r.config, r.results);
    const std::size_t N = 64, last = r.results.t.size() - 1;
    EXPECT_NEAR(s.sk[2 * N + 0], 64.0, 1e-9);
    for (std::size_t m = 1; m < N; ++m) EXPECT_NEAR(s.sk[2 * N + m], 0.0, 1e-9) << "k index " << m;
    EXPECT_NEAR(s.sk[0 * N + 0], 1.0, 4 * std::sqrt(2.0 / 100));
    EXPECT_LT(std::abs(at(s, last, 3)), 4 * err(s, last, 3));  // cxx1
    EXPECT_NEAR(at(s, last, 5), 1.0, 1e-12);                    // czz1: z = -1 everywhere
    // In any state the k-average of S_aa(k) is (1/N) sum_n <sa_n sa_n> = 1: the
    // self term is the identity's, whatever the sampled s_a^2 (which precession
    // moves away from 1).
    const DtwaConfig moving = dtwa_config(box(2, 6, 6), {4, 2, 1, 1, 0}, "uniform:0.6,0,0.8", 8, 1, 0.5, 0.02);
    const DtwaSummary m = summarize(moving, run(moving).results);
    for (int a = 0; a < 3; ++a) {
        double mean = 0;
        for (std::size_t k = 0; k < 36; ++k) mean += m.sk[std::size_t(a) * 36 + k] / 36;
        EXPECT_NEAR(mean, 1.0, 1e-12) << "component " << a;
    }
}

// The precession 2 h x s keeps |s|^2 = 3 exactly; RK4 keeps it to fourth order
// in dt or better: halving dt shrinks the drift at least 2^3.5-fold.
TEST(Dtwa, PrecessionKeepsTheWignerSphereToTheSchemesOrder) {
    const Lattice lat = box(2, 8, 8);
    const index_t N = lat.sites();
    HostState s0(3 * std::size_t(N));
    for (index_t n = 0; n < N; ++n) {
        const dtwa::Uniforms u = dtwa::uniforms(3, std::uint64_t(n), 0, dtwa::kInitialStep, 0);
        const Vec3<double> v = dtwa::initial_sample({0.6, 0, 0.8}, u.u[0], u.u[1]);
        s0[std::size_t(n)] = v.x, s0[std::size_t(N + n)] = v.y, s0[std::size_t(2 * N + n)] = v.z;
    }
    auto drift = [&](double dt) {
        auto be = make_backend<double>(BackendKind::cpu);
        StateBuffer<double> y(*be, lat);
        upload_state(*be, y, s0.data(), lat);
        Rk4<double> rk4(*be, lat, Couplings{4, 2, 1, 0, 0}, Rk4Stepper::four_sweep);
        rk4.advance(y, dt, std::int64_t(std::llround(1.0 / dt)));
        HostState out(s0.size());
        download_state(*be, out.data(), y, lat);
        double worst = 0;
        for (index_t n = 0; n < N; ++n) {
            const double r2 = out[std::size_t(n)] * out[std::size_t(n)] + out[std::size_t(N + n)] * out[std::size_t(N + n)] +
                              out[std::size_t(2 * N + n)] * out[std::size_t(2 * N + n)];
            worst = std::max(worst, std::abs(r2 - 3));
        }
        return worst;
    };
    const double coarse = drift(0.02), fine = drift(0.01);
    EXPECT_LT(coarse, 1e-3);
    EXPECT_GT(coarse, 1e-13) << "the coarse step must show a drift to compare";
    EXPECT_GT(coarse / fine, std::pow(2.0, 3.5)) << coarse << " -> " << fine;
}

// On a ring of 6 from |down...down> (a real state: <s_z> and these correlations are
// even in t), DTWA reproduces one-point functions and the
// correlations of sites that share no bond to third order in t, correlations
// across a bond to first order only (physics.md 8.5). At t <= 0.05 the third-
// order error of <s_z> and <s_a(0) s_a(2)> is below 1e-4, so they must agree with
// the exact density matrix within 4 standard errors; the nearest-neighbour
// correlation, off at second order, is printed beside them.
TEST(Dtwa, RingsAgreeWithTheExactDensityMatrixToTheOrderTheMethodGuarantees) {
    const Couplings points[] = {{4, 2, 1, 1, 0}, {2, 0, 1, 1, 0}, {-2, 0, 1, 1, 0}, {1, -1, 0, 1, 0}};
    for (const Couplings& J : points) {
        const DtwaConfig c = dtwa_config(box(1, 6), J, "down", 4000, 0.05, 0.0125, 0.0025);
        const DtwaRun r = run(c);
        const DtwaSummary s = summarize(r.config, r.results);
        const ExactResults ex = exact_ring_series(6, J, 0.05, 0.0125);
        ASSERT_EQ(ex.t.size(), r.results.t.size());
        const std::size_t nr = std::size_t(r.results.correlation_lengths);
        for (std::size_t k = 1; k < ex.t.size(); ++k) {
            EXPECT_LT(std::abs(at(s, k, 2) - ex.sz_t[k]), 4 * err(s, k, 2) + 1e-4)
                << "<sz>, J = (" << J.Jx << ", " << J.Jy << ", " << J.Jz << "), t = " << ex.t[k];
            for (int a = 0; a < 3; ++a) {
                const std::size_t i = (k * 3 + std::size_t(a)) * nr + 2;
                EXPECT_LT(std::abs(s.corr[i] - ex.corr_t[k].c[a][2]), 4 * s.corr_err[i] + 1e-4)
                    << "<s_a(0) s_a(2)>, a = " << a << ", J = (" << J.Jx << ", " << J.Jy << ", " << J.Jz << "), t = " << ex.t[k];
            }
        }
        const std::size_t last = ex.t.size() - 1;
        std::printf("    J = (%g, %g, %g), t = %g: <sz> %.6f (exact %.6f), <sx sx>_1 %.5f +- %.5f (exact %.5f)\n", J.Jx,
                    J.Jy, J.Jz, ex.t[last], at(s, last, 2), ex.sz_t[last], at(s, last, 3), err(s, last, 3),
                    ex.corr_t[last].c[0][1]);
    }
}

// Every initial sample of a ring of N from the pure state n: 4^N copies of the
// ring (two signs a site), copy b taking site i's signs from bits 2i, 2i + 1 of b.
HostState all_initial_samples(int N, const Vec3<double>& n) {
    const index_t M = index_t(1) << (2 * N), S = M * N;
    HostState s0(3 * std::size_t(S));
    for (index_t b = 0; b < M; ++b)
        for (int i = 0; i < N; ++i) {
            const double u1 = (b >> (2 * i)) & 1 ? 0.75 : 0.25, u2 = (b >> (2 * i + 1)) & 1 ? 0.75 : 0.25;
            const Vec3<double> v = dtwa::initial_sample(n, u1, u2);
            const index_t k = b * N + i;
            s0[std::size_t(k)] = v.x, s0[std::size_t(S + k)] = v.y, s0[std::size_t(2 * S + k)] = v.z;
        }
    return s0;
}

// physics.md 8.5 without sampling error: the average over all 4^6 initial samples
// of a ring of 6 (no dissipation: each sample then has one trajectory), each
// integrated by the mean-field stepper the coherent part uses, against the exact
// series. Halving t must divide the error of <s_z> and of <s_a(0) s_a(2)> by 2^4 and
// that of <s_a(0) s_a(1)> by 2^2: the method's order, which the sampled test
// above cannot resolve. The program's own sampled trajectories must then average
// to the same enumeration at a time where the dynamics is far from its start.
TEST(Dtwa, AllInitialSamplesGiveTheGuaranteedShortTimeOrder) {
    const int N = 6;
    const index_t M = index_t(1) << (2 * N);  // two signs a site
    const Couplings J{4, 2, 1, 0, 0};
    Lattice lat = box(1, N);
    lat.copies = M;
    const index_t S = lat.sites();
    const HostState s0 = all_initial_samples(N, {0, 0, -1});  // the state "down"
    // <s_z> and <s_a(0) s_a(r)> (a = x, y, z) averaged over every sample and site at t.
    struct Averages {
        double sz = 0, c[3][2] = {};
    };
    auto enumerate = [&](double t) {
        RunConfig cfg = config(lat, J.Jx, J.Jy, J.Jz, 0, 0);
        cfg.numerics.dt = t / 200;
        cfg.numerics.t_end = t;
        cfg.numerics.norm_tol = 1;  // samples have |s| = sqrt 3
        const HostState s = evolve(cfg, BackendKind::cpu, s0);
        Averages out;
        for (index_t b = 0; b < M; ++b)
            for (int i = 0; i < N; ++i) {
                const index_t n = b * N + i;
                out.sz += s[2 * S + n] / double(S);
                for (int a = 0; a < 3; ++a)
                    for (int r = 1; r <= 2; ++r) out.c[a][r - 1] += s[a * S + n] * s[a * S + b * N + (i + r) % N] / double(S);
            }
        return out;
    };
    Couplings unitary = J;
    unitary.gamma = 1e-300;  // unitary to roundoff (the exact method refuses gamma = 0: no unique steady state)
    const ExactResults ex = exact_ring_series(N, unitary, 0.02, 0.01);
    ASSERT_EQ(ex.t.size(), 3u);
    const Averages w[2] = {enumerate(0.01), enumerate(0.02)};
    auto ratio = [&](auto error) {
        const double e1 = error(w[0], 1), e2 = error(w[1], 2);
        EXPECT_GT(e1, 1e-11) << "an error too small to measure its order";
        return e2 / e1;
    };
    const double sz = ratio([&](const Averages& a, int k) { return std::abs(a.sz - ex.sz_t[k]); });
    EXPECT_GT(sz, 14) << "<s_z>";
    EXPECT_LT(sz, 18) << "<s_z>";
    for (int a = 0; a < 3; ++a) {
        const double far = ratio([&](const Averages& v, int k) { return std::abs(v.c[a][1] - ex.corr_t[k].c[a][2]); });
        const double near = ratio([&](const Averages& v, int k) { return std::abs(v.c[a][0] - ex.corr_t[k].c[a][1]); });
        EXPECT_GT(far, 14) << "<s_a(0) s_a(2)>, a = " << a;
        EXPECT_LT(far, 18) << "<s_a(0) s_a(2)>, a = " << a;
        EXPECT_GT(near, 3.5) << "<s_a(0) s_a(1)>, a = " << a;
        EXPECT_LT(near, 4.5) << "<s_a(0) s_a(1)>, a = " << a;
    }

    // The program's sampling and stepping: 2000 sampled trajectories at t = 0.5
    // average to the enumeration within 4 standard errors.
    const DtwaConfig c = dtwa_config(box(1, N), J, "down", 2000, 0.5, 0.5);
    const DtwaSummary sampled = summarize(c, run(c).results);
    const Averages all = enumerate(0.5);
    EXPECT_GT(all.sz + 1, 0.05) << "the state has moved from <s_z> = -1";
    EXPECT_LT(std::abs(at(sampled, 1, 2) - all.sz), 4 * err(sampled, 1, 2));
    EXPECT_LT(std::abs(at(sampled, 1, 3) - all.c[0][0]), 4 * err(sampled, 1, 3)) << "<s_x s_x>_1";
    EXPECT_LT(std::abs(at(sampled, 1, 5) - all.c[2][0]), 4 * err(sampled, 1, 5)) << "<s_z s_z>_1";
    std::printf("    t = 0.5: <sz> enumerated %.5f, sampled %.5f +- %.5f; error ratios sz %.2f\n", all.sz,
                at(sampled, 1, 2), err(sampled, 1, 2), sz);
}

// physics.md 8.5 from a tilted start, (0.6, 0, 0.8): a real state, and H is real, so
// <s_x> and <s_z> are even in t and <s_y> odd, in the quantum dynamics and in the
// classical flow of the samples (a set symmetric under y -> -y) alike. Every one-point
// function is exact to second order; the third-order term of <s_y> is not, so halving
// t divides its error by 2^3, that of <s_x> and <s_z> by 2^4 (their t^3 terms vanish).
TEST(Dtwa, OnePointFunctionsOddInTimeAreExactToSecondOrderOnly) {
    const int N = 6;
    const index_t M = index_t(1) << (2 * N);
    const Couplings J{4, 2, 1, 0, 0};
    const Vec3<double> n{0.6, 0, 0.8};
    Lattice lat = box(1, N);
    lat.copies = M;
    const index_t S = lat.sites();
    const HostState s0 = all_initial_samples(N, n);
    auto means = [&](double t) {  // <s_a> over every sample and site at t
        RunConfig cfg = config(lat, J.Jx, J.Jy, J.Jz, 0, 0);
        cfg.numerics.dt = t / 200;
        cfg.numerics.t_end = t;
        cfg.numerics.norm_tol = 1;  // samples have |s| = sqrt 3
        const HostState s = evolve(cfg, BackendKind::cpu, s0);
        std::array<double, 3> m{};
        for (int a = 0; a < 3; ++a)
            for (index_t k = 0; k < S; ++k) m[std::size_t(a)] += s[std::size_t(a * S + k)] / double(S);
        return m;
    };
    Couplings unitary = J;
    unitary.gamma = 1e-300;
    const ExactResults ex = exact_ring_series(N, unitary, 0.02, 0.01, "uniform:0.6,0,0.8");
    ASSERT_EQ(ex.sy_t.size(), 3u);
    EXPECT_NEAR(ex.sx_t[0], 0.6, 1e-14);  // the exact series starts from the sampled state
    EXPECT_NEAR(ex.sz_t[0], 0.8, 1e-14);
    const std::array<double, 3> w[2] = {means(0.01), means(0.02)};
    const std::vector<double>* exact[3] = {&ex.sx_t, &ex.sy_t, &ex.sz_t};
    const double lo[3] = {14, 7, 14}, hi[3] = {18, 9, 18};
    for (int a = 0; a < 3; ++a) {
        const double e1 = std::abs(w[0][std::size_t(a)] - (*exact[a])[1]), e2 = std::abs(w[1][std::size_t(a)] - (*exact[a])[2]);
        EXPECT_GT(e1, 1e-11) << "component " << a << ": an error too small to measure its order";
        EXPECT_GT(e2 / e1, lo[a]) << "component " << a;
        EXPECT_LT(e2 / e1, hi[a]) << "component " << a;
        std::printf("    <s_%c>: error %.3g at t = 0.01, %.3g at 0.02 (ratio %.2f)\n", "xyz"[a], e1, e2, e2 / e1);
    }
}

// sXY vortices of psi (physics.md 5) at t_end, where psi is defined (Jx Jy != 0,
// d >= 2). Without decay or dephasing a trajectory is its initial Wigner sample
// stepped by RK4, so each one is rebuilt here from its random numbers and
// counted with find_vortices: the stored count must be vortices plus
// antivortices of exactly that state, and on a torus the two are equal.
TEST(Dtwa, VorticesAreCountedWherePsiIsDefined) {
    const Lattice lat = box(2, 10, 8);
    const index_t N = lat.sites();
    const Couplings J{1, -1, 0, 0, 0};
    DtwaConfig c = dtwa_config(lat, J, "down", 6, 2, 1, 0.02);
    c.batch = 1;  // one trajectory per stored count
    const DtwaRun r = run(c);
    ASSERT_EQ(r.results.vortex_sum.size(), 6u);
    std::int64_t total = 0;
    for (std::int64_t t = 0; t < c.trajectories; ++t) {
        HostState s(3 * std::size_t(N));
        for (index_t n = 0; n < N; ++n) {
            const dtwa::Uniforms u = dtwa::uniforms(std::uint64_t(c.seed), std::uint64_t(n), std::uint64_t(t), dtwa::kInitialStep, 0);
            const Vec3<double> v = dtwa::initial_sample({0, 0, -1}, u.u[0], u.u[1]);
            s[std::size_t(n)] = v.x, s[std::size_t(N + n)] = v.y, s[std::size_t(2 * N + n)] = v.z;
        }
        auto be = make_backend<double>(BackendKind::cpu);
        StateBuffer<double> y(*be, lat);
        upload_state(*be, y, s.data(), lat);
        Rk4<double> rk4(*be, lat, J, Rk4Stepper::fused, 1);
        rk4.advance(y, c.dt, dtwa_steps(c));
        download_state(*be, s.data(), y, lat);
        const VortexCensus v = find_vortices(lat, J, s, 0.0);
        EXPECT_EQ(v.vortices, v.antivortices) << "trajectory " << t;
        EXPECT_EQ(v.skipped, 0) << "the in-plane amplitude sqrt(2) never vanishes";
        EXPECT_EQ(r.results.vortex_sum[std::size_t(t)], double(v.vortices + v.antivortices)) << "trajectory " << t;
        EXPECT_EQ(r.results.vortex_sum2[std::size_t(t)], double((v.vortices + v.antivortices) * (v.vortices + v.antivortices)));
        total += v.vortices;
    }
    EXPECT_GT(total, 6) << "random-looking states have vortices";
    EXPECT_TRUE(std::isfinite(summarize(r.config, r.results).vortices_err));
    const DtwaConfig fm = dtwa_config(box(2, 10, 8), {2, 0, 1, 1, 0}, "down", 2, 0.1, 0.1, 0.02);
    EXPECT_TRUE(std::isnan(summarize(fm, run(fm).results).vortices)) << "Jy = 0: psi is undefined";
}

TEST(Dtwa, SameSeedGivesTheSameResultsOnAnyThreadCountAndBatchSize) {
    // Batches of 8 lattices of 64^2 (32768 sites, where the passes go parallel).
    DtwaConfig big = dtwa_config(box(2, 64, 64), {4, 2, 1, 1, 0.1}, "down", 16, 0.2, 0.1, 0.02);
    big.batch = 8;
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const DtwaRun one = run(big);
    for (int n : {2, 3}) {
        omp_set_num_threads(n);
        const DtwaRun b = run(big);
        EXPECT_EQ(b.results.scalar_sum, one.results.scalar_sum) << n << " threads";
        EXPECT_EQ(b.results.corr_sum, one.results.corr_sum) << n << " threads";
        EXPECT_EQ(b.results.sk_sum, one.results.sk_sum) << n << " threads";
    }
    omp_set_num_threads(threads);
    DtwaConfig c = dtwa_config(box(2, 10, 6), {4, 2, 1, 1, 0.1}, "down", 12, 1, 0.2, 0.02);
    c.batch = 4;
    const DtwaRun a = run(c);
    // Other batches group the same trajectories differently: only the order of the sums changes.
    c.batch = 5;
    const DtwaSummary s5 = summarize(c, run(c).results), s4 = summarize(c, a.results);
    for (std::size_t i = 0; i < s4.mean.size(); ++i) EXPECT_NEAR(s4.mean[i], s5.mean[i], 1e-13);
    // Records split the steps' dissipation into separate passes but draw the same
    // numbers: the state at t_end (its S(k)) does not depend on them.
    DtwaConfig sparse = c;
    sparse.record_every = 1;
    EXPECT_EQ(run(sparse).results.sk_sum, run(c).results.sk_sum);
    // And a different seed gives different trajectories.
    c.seed = 12;
    const DtwaSummary other = summarize(c, run(c).results);
    EXPECT_GT(std::abs(other.mean[s4.mean.size() - 4] - s4.mean[s4.mean.size() - 4]), 1e-6);
}

TEST(Dtwa, AKilledRunResumesToTheUninterruptedResultBitForBit) {
    ScratchDir dir;
    DtwaConfig c = dtwa_config(box(2, 6, 6), {4, 2, 1, 1, 0}, "down", 9, 0.5, 0.1, 0.02);
    c.batch = 3;
    const DtwaRun whole = run(c);
    const std::string path = dir.file("d.h5");
    try {
        run(c, "cpu", path, 2);
        FAIL() << "the test hook must stop the run";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
    }
    DtwaConfig ignored;  // a resume takes everything from the file
    const DtwaRun resumed = run(ignored, "cpu", path, -1, true);
    EXPECT_EQ(resumed.done_now, 3);
    EXPECT_EQ(resumed.results.scalar_sum, whole.results.scalar_sum);
    EXPECT_EQ(resumed.results.corr_sum, whole.results.corr_sum);
    EXPECT_EQ(resumed.results.sk_sum, whole.results.sk_sum);
}

TEST(Dtwa, CudaGivesTheCpuTrajectories) {
    XYZMF_REQUIRE_BACKEND(BackendKind::cuda);
    const DtwaConfig c = dtwa_config(box(2, 12, 10), {4, 2, 1, 1, 0.1}, "down", 16, 1, 0.2, 0.02);
    const DtwaSummary cpu = summarize(c, run(c, "cpu").results), gpu = summarize(c, run(c, "cuda").results);
    for (std::size_t i = 0; i < cpu.mean.size(); ++i) EXPECT_NEAR(cpu.mean[i], gpu.mean[i], 1e-12);
    for (std::size_t i = 0; i < cpu.corr.size(); ++i) EXPECT_NEAR(cpu.corr[i], gpu.corr[i], 1e-12);
}

}  // namespace
}  // namespace xyzmf::test

namespace xyzmf::test {
namespace {

// The command: one JSON object with the documented fields, the same numbers
// as the library, refusals in one line (exit 2) that leave no file, resume.
TEST(DtwaCommand, JsonRefusalsAndResume) {
    ScratchDir dir;
    const std::string out = dir.file("d.h5");
    const CommandResult r = run_xyzmf_all_output("dtwa --backend cpu --size 6 --Jx 4 --Jy 2 --Jz 1 --trajectories 6 "
                                                 "--batch 3 --t-end 0.4 --record-every 0.2 --dt 0.02 --json -o " + out);
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const auto j = nlohmann::json::parse(r.stderr_text.substr(r.stderr_text.find('{')));
    for (const char* key : {"t", "sx", "sy", "sz", "sx_err", "sy_err", "sz_err", "cxx1", "cyy1", "czz1", "cxx1_err",
                            "cyy1_err", "czz1_err", "trajectories", "seconds"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["t"].size(), 3u);
    EXPECT_EQ(j["trajectories"], 6);
    EXPECT_EQ(j["sz"][0], -1.0);
    EXPECT_EQ(j["czz1"][0], 1.0);
    EXPECT_LT(j["sz"][2].get<double>(), -0.5);
    // A second writer, and a finished file resumed: nothing to do, the same numbers.
    const CommandResult again = run_xyzmf_all_output("dtwa --resume " + out + " --json");
    ASSERT_EQ(again.exit_code, 0) << again.stderr_text;
    EXPECT_EQ(nlohmann::json::parse(again.stderr_text.substr(again.stderr_text.find('{')))["sz"], j["sz"]);
    const std::pair<std::string, std::string> bad[] = {
        {"--init uniform:1,1,0", "--init"},
        {"--init random", "--init"},  // (a mixed state: DTWA samples pure product states)
        {"--t-end 0.105 --dt 0.01", "--t-end"},
        {"--record-every 0.001", "--record-every"},
        {"--record-every 0.015 --dt 0.01", "--record-every"},  // (was rounded to 0.02, and stored as 0.015)
        {"--record-every 0.2", "--record-every"},               // beyond --t-end 0.1
        {"--trajectories 0", "--trajectories"},
        {"--dt 0", "--dt"},
    };
    for (const auto& [opts, name] : bad) {
        const std::string f = dir.file("bad.h5");
        const CommandResult e = run_xyzmf("dtwa --backend cpu --size 4 --t-end 0.1 " + opts + " -o " + f);
        EXPECT_EQ(e.exit_code, 2) << opts << ": " << e.stderr_text;
        EXPECT_NE(e.stderr_text.find(name), std::string::npos) << opts << ": " << e.stderr_text;
        EXPECT_EQ(std::count(e.stderr_text.begin(), e.stderr_text.end(), '\n'), 1) << e.stderr_text;
        EXPECT_FALSE(std::filesystem::exists(f)) << opts;
    }
    EXPECT_EQ(run_xyzmf("dtwa --backend cpu --size 4 --t-end 0.1 -o " + out).exit_code, 3) << "no overwrite without --overwrite";
    // The pure states quantum takes; a unit vector typed to seven digits is one.
    for (const char* init : {"up", "x", "y", "uniform:0.5773503,0.5773503,0.5773503"})
        EXPECT_EQ(run_xyzmf(std::string("dtwa -q --backend cpu --size 4 --t-end 0.1 --init ") + init).exit_code, 0) << init;
}

// A blow-up (couplings far too strong for --dt): exit 4 in one line, as `run` has it,
// and no NaN stored as a result; the file says what stopped it, and a resume meets
// the same blow-up (it once found a "done" batch of NaN sums and refused the file).
TEST(DtwaCommand, ABlowUpStopsWithExitFourAndStoresNoNaN) {
    ScratchDir dir;
    const std::string out = dir.file("b.h5");
    const std::string args = "dtwa --backend cpu --size 8 --Jx 200 --Jy -200 --trajectories 10 --t-end 1 --record-every 0.5 -o " + out;
    const CommandResult r = run_xyzmf(args);
    EXPECT_EQ(r.exit_code, exit_code::blow_up) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("blow-up at t = 0.5 in trajectories 0-9: "), std::string::npos) << r.stderr_text;
    // (not "finished batches kept": none was)
    EXPECT_NE(r.stderr_text.find("; try a smaller --dt (now 0.01); none finished, " + out + " marked"), std::string::npos)
        << r.stderr_text;
    EXPECT_EQ(r.stderr_text.find("--resume"), std::string::npos) << "a resume would blow up again: " << r.stderr_text;
    EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    {
        h5::Id f = h5::open_file(out, false);
        EXPECT_EQ(h5::attr_string(f, "status").rfind("stopped after 0 trajectories: blow-up at t = 0.5", 0), 0u)
            << h5::attr_string(f, "status");
    }
    const CommandResult again = run_xyzmf("dtwa --resume " + out);
    EXPECT_EQ(again.exit_code, exit_code::blow_up) << again.stderr_text;
}

}  // namespace
}  // namespace xyzmf::test
