// Order detection against known answers: S(k) of plane waves and Parseval,
// FFT vs a direct sum, planted FM/AFM/SDW/sXY patterns, planted vortices,
// pairs and a 3D vortex ring, and the engine + analysis end to end.
#include <complex>
#include <fstream>
#include <random>

#include "census_checks.hpp"
#include "helpers.hpp"
#include "analysis.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/spectrum_geometry.hpp"
#include "xyzmf/sxy_winding.hpp"
#include "schema.hpp"
#include "run_output.hpp"

namespace xyzmf::test {
namespace {

Lattice lat2(index_t Lx, index_t Ly) {
    Lattice l = lattice(2, Lx);
    l.L[1] = Ly;
    return l;
}

// State with in-plane components (x, y) = f(i, j, k) and z filling the sphere.
template <class F>
HostState planted(const Lattice& lat, F f) {
    const index_t N = lat.sites();
    HostState s(3 * N);
    for (index_t k = 0; k < lat.L[2]; ++k)
        for (index_t j = 0; j < lat.L[1]; ++j)
            for (index_t i = 0; i < lat.L[0]; ++i) {
                const index_t n = lat.site(i, j, k);
                double xy[2];
                f(i, j, k, xy);
                s[n] = xy[0];
                s[N + n] = xy[1];
                s[2 * N + n] = -std::sqrt(std::max(0.0, 1 - xy[0] * xy[0] - xy[1] * xy[1]));
            }
    return s;
}

Classification classify_planted(const Lattice& lat, const Couplings& c, const HostState& s) {
    StructureFactorEngine engine(lat);
    const HostState still(s.size(), 0.0);  // judge the pattern, not its dynamics
    return classify(lat, c, s, engine.compute(s), still, -1, ClassifyThresholds{});
}

TEST(StructureFactor, PlaneWaveGivesTheAnalyticPeak) {
    const Lattice lat = lat2(12, 10);
    const index_t N = lat.sites();
    const double A = 0.6, kx = 2 * M_PI * 5 / 12, ky = 2 * M_PI * 3 / 10, phase = 0.4;
    const HostState s = planted(lat, [&](index_t i, index_t j, index_t, double xy[2]) {
        xy[0] = A * std::cos(kx * i + ky * j + phase);
        xy[1] = 0;
    });
    StructureFactorEngine engine(lat);
    const StructureFactor sf = engine.compute(s);
    const index_t peak = lat.site(5, 3, 0), mirror = lat.site(12 - 5, 10 - 3, 0);
    for (index_t m = 0; m < N; ++m) {
        const double want = (m == peak || m == mirror) ? N * A * A / 4 : 0.0;
        ASSERT_NEAR(sf.S[0][m], want, 1e-10) << "m = " << m;
        ASSERT_NEAR(sf.S[1][m], 0.0, 1e-12);
    }
    EXPECT_NEAR(sf.k(0, peak), kx, 1e-15);
    EXPECT_NEAR(sf.k(1, peak), ky, 1e-15);
}

TEST(StructureFactor, ParsevalAndDirectSumAgreeWithFft) {
    Lattice lat = lattice(3, 5);
    lat.L[1] = 4;
    lat.L[2] = 3;
    const index_t N = lat.sites();
    const HostState s = make_initial_state("random", lat, 31, 0);
    StructureFactorEngine engine(lat);
    const StructureFactor sf = engine.compute(s);
    for (int c = 0; c < 3; ++c) {
        double sum_s = 0, sum_a2 = 0;
        for (index_t m = 0; m < N; ++m) sum_s += sf.S[c][m];
        for (index_t n = 0; n < N; ++n) sum_a2 += s[c * N + n] * s[c * N + n];
        EXPECT_NEAR(sum_s, sum_a2, 1e-12 * sum_a2) << "Parseval, component " << c;
        for (index_t m = 0; m < N; ++m) {  // slow reference: the definition
            std::complex<double> F = 0;
            for (index_t n = 0; n < N; ++n) {
                double phase = 0;
                for (int a = 0; a < 3; ++a) phase += sf.k(a, m) * double(sf.coord(a, n));
                F += std::polar(1.0, -phase) * s[c * N + n];
            }
            ASSERT_NEAR(sf.S[c][m], std::norm(F) / N, 1e-12) << "component " << c << ", m = " << m;
        }
    }
}

TEST(Classify, PlantedFmAfmAndSdwPatterns) {
    const Couplings c{1.5, 0.5, 1.0, 1.0, 0.0};
    const Lattice lat = lat2(16, 16);
    const Classification fm = classify_planted(lat, c, planted(lat, [](index_t, index_t, index_t, double xy[2]) {
        xy[0] = 0.4; xy[1] = 0.3;
    }));
    EXPECT_EQ(fm.phase, "FM");
    EXPECT_NEAR(fm.m_perp, 0.5, 1e-12);
    EXPECT_NEAR(fm.peak.weight, 1.0, 1e-12);
    const Classification afm = classify_planted(lat, c, planted(lat, [](index_t i, index_t j, index_t k, double xy[2]) {
        xy[0] = 0.4 * Lattice::parity(i, j, k); xy[1] = -0.3 * Lattice::parity(i, j, k);
    }));
    EXPECT_EQ(afm.phase, "AFM");
    EXPECT_NEAR(afm.peak.k[0], M_PI, 1e-12);
    EXPECT_NEAR(afm.peak.k[1], M_PI, 1e-12);

    struct SdwCase { int dim; index_t L; int n[2]; };
    for (const SdwCase& sc : {SdwCase{1, 40, {3, 0}}, SdwCase{1, 53, {10, 0}}, SdwCase{2, 16, {2, 0}},
                             SdwCase{2, 16, {3, 5}}, SdwCase{2, 20, {0, 7}}}) {
        const Lattice l = sc.dim == 1 ? lattice(1, sc.L) : lattice(2, sc.L);
        const double kx = 2 * M_PI * sc.n[0] / sc.L, ky = 2 * M_PI * sc.n[1] / sc.L;
        const Classification sdw = classify_planted(l, c, planted(l, [&](index_t i, index_t j, index_t, double xy[2]) {
            const double w = std::cos(kx * i + ky * j + 0.3);
            xy[0] = 0.5 * w; xy[1] = 0.2 * w;
        }));
        SCOPED_TRACE("SDW n = (" + std::to_string(sc.n[0]) + ", " + std::to_string(sc.n[1]) + "), L = " + std::to_string(sc.L));
        EXPECT_EQ(sdw.phase, "SDW");
        EXPECT_NEAR(std::abs(sdw.peak.k[0]), kx, 1e-12);
        EXPECT_NEAR(std::abs(sdw.peak.k[1]), ky, 1e-12);
        EXPECT_NEAR(sdw.peak.weight, 1.0, 1e-12);
        EXPECT_NEAR(sdw.period[0], sc.n[0] ? double(sc.L) / sc.n[0] : 0.0, 1e-9);
        if (sc.dim == 2) EXPECT_NEAR(sdw.period[1], sc.n[1] ? double(sc.L) / sc.n[1] : 0.0, 1e-9);
    }
}

// sXY two-sublattice state of physics.md section 5: phi_A = pi/4 + theta, phi_B = pi/4 - theta.
HostState sxy_state(const Lattice& lat, double amp, double theta) {
    return planted(lat, [&](index_t i, index_t j, index_t k, double xy[2]) {
        const double phi = M_PI / 4 + (Lattice::parity(i, j, k) > 0 ? theta : -theta);
        xy[0] = amp * std::cos(phi); xy[1] = amp * std::sin(phi);
    });
}

TEST(Classify, StationarityIsJudgedByTheShareOfMovingSites) {
    const Couplings c{1.5, 0.5, 1.0, 1.0, 0.0};
    const Lattice lat = lat2(16, 16);
    const index_t N = lat.sites();
    const HostState fm = planted(lat, [](index_t, index_t, index_t, double xy[2]) { xy[0] = 0.4; xy[1] = 0.3; });
    StructureFactorEngine engine(lat);
    const StructureFactor sf = engine.compute(fm);
    HostState rate(3 * N, 0.0);
    for (index_t n = 0; n < N / 4; ++n) rate[n] = 0.5;  // a quarter of the sites move (walls, cores)
    Classification r = classify(lat, c, fm, sf, rate, -1, ClassifyThresholds{});
    EXPECT_EQ(r.phase, "FM");
    EXPECT_NEAR(r.moving_fraction, 0.25, 1e-12);
    EXPECT_NEAR(r.residual, 0.5, 1e-12);
    for (index_t n = 0; n < N; ++n) rate[2 * N + n] = 0.02;  // now every site moves
    r = classify(lat, c, fm, sf, rate, -1, ClassifyThresholds{});
    EXPECT_EQ(r.phase, "not stationary");
    EXPECT_EQ(r.order, "FM");
    ClassifyThresholds loose;
    loose.stationary_residual = 0.03;  // the threshold is an option, and it is used
    EXPECT_EQ(classify(lat, c, fm, sf, rate, -1, loose).phase, "FM");
}

// A state that still moves with uncorrelated neighbours has no order yet: a
// random start's strongest mode is noise, FM, AFM or SDW by chance (it was
// reported as such). Domains of a few sites are an order, and so is a sharp mode
// under strong noise.
TEST(Classify, AMovingUncorrelatedStateHasNoOrderYet) {
    auto moving = [](const Lattice& lat, const Couplings& c, const HostState& s, const ClassifyThresholds& th) {
        const HostState rate(s.size(), 0.5);  // every site moves
        return classify(lat, c, s, StructureFactorEngine(lat).compute(s), rate, -1, th);
    };
    const Couplings fm{2, 0, 1, 1, 0}, afm{-2, 0, 1, 1, 0}, sdw{4, 2, 1, 1, 0}, sxy{1, -1, 0, 1, 0};
    Lattice cube = lattice(3, 12);
    for (const Lattice& lat : {lattice(1, 64), lat2(32, 32), lat2(33, 21), cube})
        for (const Couplings& c : {fm, afm, sdw, sxy})
            for (std::uint64_t seed : {1, 2, 3}) {
                const Classification r = moving(lat, c, make_initial_state("random", lat, seed, 0), ClassifyThresholds{});
                const std::string what = std::to_string(lat.dim) + "D Jx = " + std::to_string(c.Jx) + " seed " +
                                         std::to_string(seed) + ": " + r.reason;
                EXPECT_EQ(r.phase, "not stationary") << what;
                EXPECT_EQ(r.order, "none") << what;
                EXPECT_LT(r.correlation_length, 2) << what;
            }
    // FM domains of side 4 (random signs), still moving: FM so far, unless the
    // threshold asks for domains of 5 sites.
    const Lattice lat = lat2(64, 64);
    std::uint64_t state = 99;
    std::vector<double> sign(256);
    for (double& v : sign) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        v = (state >> 63) ? 1 : -1;
    }
    const HostState domains = planted(lat, [&](index_t i, index_t j, index_t, double* xy) {
        xy[0] = xy[1] = sign[std::size_t(i / 4 + 16 * (j / 4))] * std::sqrt(3.0) / 4;
    });
    const Classification r = moving(lat, fm, domains, ClassifyThresholds{});
    EXPECT_EQ(r.order, "FM") << r.reason;
    EXPECT_GT(r.correlation_length, 3) << r.reason;
    // The threshold is an option, and it is used: below a random state's domain
    // size, its noise peak is read as an order again.
    ClassifyThresholds loose;
    loose.ordered_domain = 0.5;
    EXPECT_NE(moving(lat, fm, make_initial_state("random", lat, 1, 0), loose).order, "none");
    // A sharp modulation under strong site-to-site noise (what some lattices keep at
    // large |J|): the correlation is gone within a site, but one mode pair holds a
    // share no uncorrelated state reaches. It is an SDW so far, not "none".
    const HostState noisy = make_initial_state("random", lat, 7, 0);
    const index_t N = lat.sites();
    const double kx = 2 * M_PI * 24 / 64, ky = 2 * M_PI * 18 / 64;
    const HostState modulated = planted(lat, [&](index_t i, index_t j, index_t, double* xy) {
        const double a = 0.25 * std::cos(kx * double(i) + ky * double(j));
        const index_t n = lat.site(i, j, 0);
        xy[0] = a + 0.6 * noisy[n];
        xy[1] = a + 0.6 * noisy[N + n];
    });
    const Classification m = moving(lat, sdw, modulated, ClassifyThresholds{});
    EXPECT_LT(m.correlation_length, 2) << m.reason;
    EXPECT_GT(m.peak.weight, 5 * noise_peak_weight(N)) << m.reason;
    EXPECT_EQ(m.order, "SDW") << m.reason;
}

// The noise level is a bound: over many random states, the strongest mode pair
// stays below it (uniform spins in the ball; 1D, 2D with odd sides, and 3D).
TEST(Classify, UncorrelatedSpinsStayBelowTheNoisePeakWeight) {
    Lattice cube = lattice(3, 8);
    for (const Lattice& lat : {lattice(1, 64), lat2(16, 9), cube}) {
        double highest = 0;
        StructureFactorEngine engine(lat);
        for (std::uint64_t seed = 1; seed <= 200; ++seed) {
            const HostState s = make_initial_state("random", lat, seed, 0);
            const SpectrumSummary sk = summarize_spectrum(engine.compute(s), false);
            for (const PerpPoint& q : sk.strongest) {
                const bool self = mirror_index(lat, q.index) == q.index;
                highest = std::max(highest, (q.value + (self ? 0 : q.mirror_value)) / sk.total_perp);
            }
        }
        const double bound = noise_peak_weight(lat.sites());
        EXPECT_LT(highest, bound) << lat.dim << "D";
        EXPECT_GT(highest, bound / 4) << lat.dim << "D: the bound is not loose by orders of magnitude";
    }
}

TEST(Classify, PlantedSxyTwoSublatticeStates) {
    const Couplings c{1, -1, 0, 1, 0};
    const Lattice lat = lat2(16, 16);
    for (double theta : {0.0, 0.3, 1.1}) {
        const HostState s = sxy_state(lat, 0.6, theta);
        const Classification r = classify_planted(lat, c, s);
        EXPECT_EQ(r.phase, "sXY") << "theta = " << theta;
        EXPECT_NEAR(r.weight_k0 + r.weight_kpi, 1.0, 1e-12);
        EXPECT_NEAR(r.psi_coherence, 1.0, 1e-12);
        const VortexCensus v = find_vortices(lat, c, s, 0.02);
        EXPECT_EQ(v.vortices + v.antivortices, 0);
        EXPECT_EQ(v.skipped, 0);
    }
}

// Spins whose sXY phase field is psi(i, j, k) at Jx = 1, Jy = -1 (physics.md section 5):
// A sites point along psi; B sites along the direction whose M-image is psi.
HostState from_psi(const Lattice& lat, const Couplings& c, double amp,
                   const std::function<double(double, double, double)>& psi) {
    return planted(lat, [&](index_t i, index_t j, index_t k, double xy[2]) {
        const double p = psi(double(i), double(j), double(k));
        if (Lattice::parity(i, j, k) > 0) { xy[0] = amp * std::cos(p); xy[1] = amp * std::sin(p); }
        else {  // atan2(Jx x, -Jy y) = p
            const double x = std::sin(p) / c.Jx, y = -std::cos(p) / c.Jy, r = std::hypot(x, y);
            xy[0] = amp * x / r; xy[1] = amp * y / r;
        }
    });
}

TEST(Vortices, PlantedPairIsFoundExactly) {
    const Couplings c{1, -2, 0, 1, 0};  // Jx != -Jy: the B-site rule matters
    const Lattice lat = lat2(24, 20);
    const HostState s = from_psi(lat, c, 0.5, [](double x, double y, double) {
        return std::atan2(y - 9.6, x - 7.3) - std::atan2(y - 10.4, x - 15.8);
    });
    const VortexCensus v = find_vortices(lat, c, s, 0.02);
    ASSERT_EQ(v.vortices, 1);
    ASSERT_EQ(v.antivortices, 1);
    EXPECT_EQ(v.skipped, 0);
    for (const Vortex& x : v.list) {
        const bool plus = x.charge > 0;
        EXPECT_EQ(x.pos[0], plus ? 7.5 : 15.5);
        EXPECT_EQ(x.pos[1], plus ? 9.5 : 10.5);
        EXPECT_EQ(x.normal, 2);
    }
    // The plain spin angle is no vortex detector: it winds almost everywhere.
    int plain = 0;
    const index_t N = lat.sites();
    for (index_t j = 0; j < lat.L[1]; ++j)
        for (index_t i = 0; i < lat.L[0]; ++i) {
            const index_t cn[4] = {lat.site(i, j, 0), lat.site((i + 1) % 24, j, 0), lat.site((i + 1) % 24, (j + 1) % 20, 0),
                                   lat.site(i, (j + 1) % 20, 0)};
            double w = 0;
            for (int q = 0; q < 4; ++q) {
                double d = std::atan2(s[N + cn[(q + 1) % 4]], s[cn[(q + 1) % 4]]) - std::atan2(s[N + cn[q]], s[cn[q]]);
                d = std::remainder(d, 2 * M_PI);
                w += d;
            }
            plain += std::lround(w / (2 * M_PI)) != 0;
        }
    EXPECT_GT(plain, 2);
}

TEST(Vortices, SingleVortexCoreIsTheOnlyInteriorWinding) {
    const Couplings c{1, -1, 0, 1, 0};
    const Lattice lat = lat2(30, 30);
    const HostState s = from_psi(lat, c, 0.5, [](double x, double y, double) { return std::atan2(y - 14.2, x - 15.7); });
    const VortexCensus v = find_vortices(lat, c, s, 0.02);
    int interior = 0;
    for (const Vortex& x : v.list)
        if (x.pos[0] > 3 && x.pos[0] < 27 && x.pos[1] > 3 && x.pos[1] < 27) {
            ++interior;
            EXPECT_EQ(x.charge, 1);
            EXPECT_EQ(x.pos[0], 15.5);
            EXPECT_EQ(x.pos[1], 14.5);
        }
    EXPECT_EQ(interior, 1);
}

TEST(Vortices, NoiseBelowTheAmplitudeThresholdIsSkippedNotCounted) {
    const Couplings c{1, -1, 0, 1, 0};
    const Lattice lat = lat2(16, 16);
    const index_t N = lat.sites();
    HostState s = make_initial_state("random", lat, 5, 0);
    for (index_t n = 0; n < N; ++n) {  // random directions, amplitude 0.01
        const double r = std::hypot(s[n], s[N + n]);
        s[n] *= 0.01 / r; s[N + n] *= 0.01 / r; s[2 * N + n] = -1;
    }
    const VortexCensus v = find_vortices(lat, c, s, 0.02);
    EXPECT_EQ(v.vortices + v.antivortices, 0);
    EXPECT_EQ(v.skipped, v.plaquettes);
    EXPECT_EQ(v.plaquettes, N);
    const VortexCensus counted = find_vortices(lat, c, s, 0.001);  // same noise, counted when allowed
    EXPECT_GT(counted.vortices, 0);
    EXPECT_EQ(counted.vortices, counted.antivortices);
}

TEST(Vortices, ThreeDimensionalRingsAreLinesOfKnownLength) {
    // psi = atan2(sin(2 pi (z - zc) / Lz), rho - R) winds around the circle rho = R in the
    // planes z = zc and z = zc + Lz/2 (opposite senses) and is periodic: a ring and an
    // anti-ring, the simplest closed pair a torus allows.
    const Couplings c{1, -1, 0, 1, 0};
    Lattice lat = lattice(3, 20);
    const double xc = 9.3, yc = 10.6, zc = 4.5, R = 4.2;
    const HostState s = from_psi(lat, c, 0.5, [&](double x, double y, double z) {
        return std::atan2(std::sin(2 * M_PI * (z - zc) / 20), std::hypot(x - xc, y - yc) - R);
    });
    const VortexCensus v = find_vortices(lat, c, s, 0.02);
    // Each circle crosses every plane x = integer in (xc - R, xc + R) twice, and likewise y.
    auto crossings = [&](double centre) {
        int n = 0;
        for (int i = 0; i < 20; ++i) n += std::abs(i - centre) < R;
        return 2 * n;
    };
    const int per_ring = crossings(xc) + crossings(yc);
    EXPECT_EQ(v.pierced, 2 * per_ring);
    EXPECT_EQ(v.lines, 2);
    int in_lower = 0;
    for (const Vortex& x : v.list) {
        EXPECT_NE(x.normal, 2) << "rings in xy planes pierce no xy plaquette";
        EXPECT_TRUE(x.pos[2] == zc || x.pos[2] == zc + 10) << x.pos[2];
        in_lower += x.pos[2] == zc;
        const double rho = std::hypot(x.pos[0] - xc, x.pos[1] - yc);
        EXPECT_LT(std::abs(rho - R), 0.75) << "pierced plaquette next to the circle";
    }
    EXPECT_EQ(in_lower, per_ring);
    EXPECT_EQ(v.vortices + v.antivortices, v.pierced);
}

// Domains of side l with independent orientations (a random sign of the FM
// or AFM order, a random theta of the sXY pair) have C(r) = 1 - r/l: the
// domain size is l. Uncorrelated spins give about one lattice spacing.
TEST(DomainSize, RandomStatesAreUncorrelatedAndPlantedDomainsHaveTheirSize) {
    const Lattice lat = lat2(128, 128);
    const Couplings fm{2, 0, 1, 1, 0}, afm{-2, 0, 1, 1, 0}, sxy{1, -1, 0, 1, 0};
    for (const Couplings& c : {fm, afm, sxy})
        for (std::uint64_t seed : {1, 2}) {
            const Classification r = classify_planted(lat, c, make_initial_state("random", lat, seed, 0));
            EXPECT_GT(r.correlation_length, 0.8);
            EXPECT_LT(r.correlation_length, 1.3) << c.Jx << " " << seed;
        }
    for (index_t l : {8, 16, 32}) {
        std::vector<double> sign(4096), theta(4096);
        std::uint64_t state = 12345 + std::uint64_t(l);
        for (std::size_t b = 0; b < sign.size(); ++b) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            theta[b] = 2 * M_PI * double(state >> 11) / 9007199254740992.0;
            sign[b] = theta[b] < M_PI ? 1 : -1;
        }
        auto block = [&](index_t i, index_t j) { return std::size_t(i / l + 64 * (j / l)); };
        const double a = std::sqrt(3.0) / 4;  // FM fixed point of (2, 0, 1): x = y = sqrt(3)/4 (physics.md 3.6)
        const HostState sfm = planted(lat, [&](index_t i, index_t j, index_t, double* xy) {
            xy[0] = xy[1] = sign[block(i, j)] * a;
        });
        const HostState safm = planted(lat, [&](index_t i, index_t j, index_t, double* xy) {
            xy[0] = xy[1] = sign[block(i, j)] * a * ((i + j) % 2 ? -1 : 1);
        });
        // sXY at Jx = -Jy: phi_A = pi/4 + theta, phi_B = pi/4 - theta (physics.md 5).
        const HostState ssxy = planted(lat, [&](index_t i, index_t j, index_t, double* xy) {
            const double phi = M_PI / 4 + ((i + j) % 2 ? -1 : 1) * theta[block(i, j)];
            xy[0] = 0.6 * std::cos(phi);
            xy[1] = 0.6 * std::sin(phi);
        });
        for (const auto& [c, st] : {std::make_pair(fm, &sfm), std::make_pair(afm, &safm), std::make_pair(sxy, &ssxy)}) {
            const Classification r = classify_planted(lat, c, *st);
            EXPECT_NEAR(r.correlation_length / double(l), 1, l == 32 ? 0.35 : 0.2) << "l = " << l << " Jx = " << c.Jx;
        }
    }
    // SDW segments of 64 sites on a ring, each with its own phase: the envelope, not the oscillation, decays.
    const Lattice ring = lattice(1, 1024);
    const double ksdw = 2 * M_PI / 5.3;
    std::vector<double> phase(16);
    for (std::size_t b = 0; b < phase.size(); ++b) phase[b] = std::fmod(2.4 * double(b * b + 1), 2 * M_PI);
    const HostState ssdw = planted(ring, [&](index_t i, index_t, index_t, double* xy) {
        xy[0] = xy[1] = 0.5 * std::cos(ksdw * double(i) + phase[std::size_t(i / 64)]);
    });
    const Classification sdw = classify_planted(ring, Couplings{4, 2, 1, 1, 0}, ssdw);
    EXPECT_EQ(sdw.order, "SDW");
    EXPECT_NEAR(sdw.correlation_length / 64, 1, 0.3);
    // Domains of a two-orientation order whose neighbours are opposite (the FM walls of a
    // chain): C(r) = 1 - 2 r / l, so the size is l/2, not l.
    const Lattice chain = lattice(1, 256);
    for (index_t l : {8, 16}) {
        const Classification z2 = classify_planted(chain, fm, planted(chain, [&](index_t i, index_t, index_t, double* xy) {
            xy[0] = xy[1] = (i / l) % 2 ? -std::sqrt(3.0) / 4 : std::sqrt(3.0) / 4;
        }));
        EXPECT_NEAR(z2.correlation_length, double(l) / 2, 0.05 * double(l)) << "alternating domains of " << l;
    }
    // One domain: no decay within L/2. A paramagnet has no domains.
    const Classification one = classify_planted(lat, fm, planted(lat, [&](index_t, index_t, index_t, double* xy) {
        xy[0] = xy[1] = std::sqrt(3.0) / 4;
    }));
    EXPECT_TRUE(std::isinf(one.correlation_length));
    const Classification pm = classify_planted(lat, fm, make_initial_state("uniform:0,0,-1", lat, 1, 0));
    EXPECT_TRUE(std::isnan(pm.correlation_length));
    // JSON has neither inf nor NaN: both sizes print as null, and one_domain tells them apart.
    Analyzer an(lat, fm, AnalysisOptions{});
    const nlohmann::json j1 = to_json(an.analyze(planted(lat, [&](index_t, index_t, index_t, double* xy) {
        xy[0] = xy[1] = std::sqrt(3.0) / 4;
    }), 0, -1, "/final"));
    const nlohmann::json jp = to_json(an.analyze(make_initial_state("uniform:0,0,-1", lat, 1, 0), 0, -1, "/final"));
    EXPECT_TRUE(j1["correlation_length"].is_null() && jp["correlation_length"].is_null());
    EXPECT_TRUE(j1["one_domain"].get<bool>());
    EXPECT_FALSE(jp["one_domain"].get<bool>());
}

TEST(DomainSize, GrowsWhileSxyDomainsCoarsen) {
    // Averaged over seeds, the domain size grows at every snapshot while vortices annihilate.
    const Lattice lat = lattice(2, 48);
    const double times[] = {10, 30, 80};
    double mean[3] = {0, 0, 0}, vortices[3] = {0, 0, 0};
    const int seeds = 3;
    for (int seed = 1; seed <= seeds; ++seed) {
        HostState s = make_initial_state("random", lat, std::uint64_t(seed), 0);
        double t = 0;
        for (int i = 0; i < 3; ++i) {
            RunConfig cfg = config(lat, 1, -1, 0);
            cfg.numerics.t_end = times[i] - t;
            s = evolve(cfg, BackendKind::cpu, s);
            t = times[i];
            Analyzer an(lat, cfg.couplings, AnalysisOptions{});
            const StateAnalysis a = an.analyze(s, t, -1, "/final");
            mean[i] += a.cls.correlation_length / seeds;
            vortices[i] += double(a.vortices.vortices) / seeds;
        }
    }
    EXPECT_LT(mean[0], mean[1]);
    EXPECT_LT(mean[1], mean[2]);
    EXPECT_GT(vortices[0], vortices[2]);
    EXPECT_GT(mean[0], 2);  // already correlated beyond the lattice spacing
}

TEST(EndToEnd, FmAfmAndSdwCasesClassifyAsPredicted) {
    auto run_and_classify = [](RunConfig cfg, const HostState& s0) {
        cfg.numerics.t_end = 300;
        const HostState fin = evolve(cfg, BackendKind::cpu, s0);
        Analyzer an(cfg.lattice, cfg.couplings, AnalysisOptions{});
        return an.analyze(fin, 300, -1, "/final").cls;
    };
    const Lattice ring = lattice(1, 64), sq = lattice(2, 16);
    // FM at (2, 0, 1) from a uniform start; AFM at (-2, 0, 1) from random; the SDW ring at (4, 2, 1).
    const Classification fm = run_and_classify(config(ring, 2, 0, 1), make_initial_state("uniform:0.1,0.1,-0.9", ring, 1, 0));
    EXPECT_EQ(fm.phase, "FM") << fm.reason;
    const Classification afm = run_and_classify(config(sq, -2, 0, 1), make_initial_state("random", sq, 3, 0));
    EXPECT_EQ(afm.phase, "AFM") << afm.reason;
    const Classification sdw = run_and_classify(config(ring, 4, 2, 1), make_initial_state("pm-noise", ring, 2, 0.01));
    EXPECT_EQ(sdw.phase, "SDW") << sdw.reason;
    // physics.md 3.8: period 2 pi / arccos(3/8) = 5.30; the periods a ring of 64 allows
    // are 64/m, and the nearest is 64/12 = 5.33 (64/11 = 5.82 and 64/13 = 4.92 are not).
    const double m = std::round(64 / (2 * M_PI / std::acos(3.0 / 8)));
    EXPECT_EQ(m, 12);
    EXPECT_NEAR(sdw.period[0], 64 / m, 1e-9);
    const Classification pm = run_and_classify(config(sq, 1.5, 1.5, 1), make_initial_state("random", sq, 4, 0));
    EXPECT_EQ(pm.phase, "PM") << pm.reason;  // XXZ: always PM (physics.md 3.4)
}

// README's domain-wall chain: FM domains at (2, 0, 1) from PM noise, whose walls
// leave the strongest mode of S_perp three grid steps from k = 0 (outside the
// 2.5 a broad peak may stray). These couplings have no modulated mode
// (physics.md 3.7: Jx Jy = 0), so the domains are FM, not an SDW; the
// staggered image of the same state at (-2, 0, 1) is AFM domains, and the same
// pattern read at couplings that do have a modulated mode, (4, 2, 1), is SDW.
TEST(EndToEnd, DomainsOfAUniformOrderAreNotCalledSdw) {
    const Lattice ring = lattice(1, 64);
    RunConfig cfg = config(ring, 2, 0, 1);
    cfg.numerics.t_end = 400;
    const HostState fin = evolve(cfg, BackendKind::cpu, make_initial_state("pm-noise", ring, 1, 0.01));
    const Classification fm = classify_planted(ring, cfg.couplings, fin);
    ASSERT_EQ(fm.phase, "domains") << fm.reason;
    EXPECT_EQ(fm.order, "FM") << fm.reason;
    ASSERT_GT(std::abs(fm.peak.k[0]), 2.5 * 2 * M_PI / 64) << "the peak is off k = 0: the case this test is for";
    EXPECT_TRUE(std::isnan(cfg.couplings.modulated_mode_u()));
    HostState staggered = fin;
    for (index_t n = 1; n < 64; n += 2) staggered[std::size_t(n)] *= -1, staggered[std::size_t(64 + n)] *= -1;
    const Classification afm = classify_planted(ring, {-2, 0, 1, 1, 0}, staggered);
    EXPECT_EQ(afm.phase, "domains") << afm.reason;
    EXPECT_EQ(afm.order, "AFM") << afm.reason;
    const Couplings sdw_couplings{4, 2, 1, 1, 0};
    EXPECT_NEAR(sdw_couplings.modulated_mode_u(), 3.0 / 8, 1e-15);  // physics.md 3.8
    EXPECT_EQ(classify_planted(ring, sdw_couplings, fin).order, "SDW");
    // An odd ring has no k = pi, yet its staggered domains are AFM (they were FM for a while).
    const Lattice odd = lattice(1, 63);
    RunConfig afm_cfg = config(odd, -2, 0, 1);
    afm_cfg.numerics.t_end = 400;
    const Classification odd_afm =
        classify_planted(odd, afm_cfg.couplings, evolve(afm_cfg, BackendKind::cpu, make_initial_state("pm-noise", odd, 1, 0.01)));
    EXPECT_EQ(odd_afm.order, "AFM") << odd_afm.reason;
}

// One domain of staggered order on a lattice with an odd side, which has no k = pi:
// its seam, spread over the ring, leaves one plane wave beside pi (a sweep's 7x7
// state at (-0.5, -2, 1) held 92 % there). Where the couplings have no modulated
// mode that is AFM, as the stability map calls the mode; it was called SDW (a
// false disagreement in sweeps). With a modulated mode it stays SDW.
TEST(EndToEnd, OneStaggeredDomainOnAnOddLatticeIsAfm) {
    for (const Lattice& lat : {lattice(1, 15), lat2(7, 7)}) {
        const double k = 2 * M_PI * double((lat.L[0] - 1) / 2) / double(lat.L[0]);  // the grid's k nearest pi
        const HostState s = planted(lat, [&](index_t i, index_t j, index_t, double xy[2]) {
            xy[0] = 0.6 * std::cos(k * double(i + j));
            xy[1] = 0;
        });
        const Couplings no_modulation{-2, 0, 1, 1, 0};
        ASSERT_TRUE(std::isnan(no_modulation.modulated_mode_u()));
        const Classification afm = classify_planted(lat, no_modulation, s);
        EXPECT_GE(afm.peak.weight, 0.99) << afm.reason;
        EXPECT_EQ(afm.phase, "AFM") << lat.dim << "D: " << afm.reason;
        EXPECT_EQ(afm.order, "AFM") << afm.reason;
        EXPECT_NE(afm.reason.find("an odd side has no k = pi"), std::string::npos) << afm.reason;
        EXPECT_EQ(classify_planted(lat, {4, 2, 1, 1, 0}, s).order, "SDW");
    }
}

TEST(AnalyzeCommand, Large3dStatesStorePrincipalPlanesOfTheFullStructureFactor) {
    ScratchDir dir;
    const std::string run = dir.file("cube.h5"), full = dir.file("full.h5"), planes = dir.file("planes.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --dim 3 --size 6x8x10 --t-end 0 -o " + run).exit_code, 0);
    ASSERT_EQ(run_xyzmf("analyze " + run + " --out " + full).exit_code, 0);
    ASSERT_EQ(run_xyzmf("analyze " + run + " --sk-full-max 100 --out " + planes).exit_code, 0);
    h5::Id f = h5::open_file(full, false), p = h5::open_file(planes, false);
    EXPECT_EQ(h5::attr_string(h5::open_group(f, "/final/structure_factor"), "storage"), "full");
    EXPECT_EQ(h5::attr_string(h5::open_group(p, "/final/structure_factor"), "storage"), "principal planes + radial average");
    std::vector<hsize_t> d;
    const std::vector<double> S = h5::read_array(f, "/final/structure_factor/Sxx", d);  // (Lz, Ly, Lx) = (10, 8, 6)
    ASSERT_EQ(d, (std::vector<hsize_t>{10, 8, 6}));
    const std::vector<double> kz0 = h5::read_array(p, "/final/structure_factor/Sxx_kz0", d);
    ASSERT_EQ(d, (std::vector<hsize_t>{8, 6}));
    for (std::size_t i = 0; i < kz0.size(); ++i) EXPECT_EQ(kz0[i], S[i]);
    const std::vector<double> kx0 = h5::read_array(p, "/final/structure_factor/Sxx_kx0", d);
    ASSERT_EQ(d, (std::vector<hsize_t>{10, 8}));
    for (std::size_t z = 0; z < 10; ++z)
        for (std::size_t y = 0; y < 8; ++y) EXPECT_EQ(kx0[z * 8 + y], S[(z * 8 + y) * 6]);
    const std::vector<double> radial = h5::read_array(p, "/final/structure_factor/Sxx_radial", d),
                              count = h5::read_array(p, "/final/structure_factor/count_radial", d);
    double total = 0, n = 0;
    for (std::size_t b = 0; b < radial.size(); ++b) { total += radial[b] * count[b]; n += count[b]; }
    double want = 0;
    for (double v : S) want += v;
    EXPECT_EQ(n, 480);
    EXPECT_NEAR(total, want, 1e-9 * want);  // the radial average keeps every k
}

TEST(AnalyzeCommand, RadialStorageKeepsEveryWaveVectorOfTheFullGridInItsBins) {
    // --sk-storage radial stores S(|k|) alone; the verdict, read from the whole
    // grid either way, must not change, and the bins, weighted by their
    // counts, must still hold all of sum_k S^xx(k) = sum_n x_n^2 (Parseval).
    ScratchDir dir;
    const std::string run = dir.file("sxy.h5"), full = dir.file("full.h5"), radial = dir.file("radial.h5"),
                      live = dir.file("live.h5");
    const std::string physics = " --Jx 1 --Jy -1 --Jz 0 --size 20x14 --t-end 4 --snapshot-every 2 --seed 5";
    ASSERT_EQ(run_xyzmf("run -q --backend cpu" + physics + " -o " + run).exit_code, 0);
    ASSERT_EQ(run_xyzmf("analyze " + run + " --out " + full).exit_code, 0);
    ASSERT_EQ(run_xyzmf("analyze " + run + " --sk-storage radial --out " + radial).exit_code, 0);
    h5::Id f = h5::open_file(full, false), r = h5::open_file(radial, false), s = h5::open_file(run, false);
    EXPECT_EQ(h5::attr_string(h5::open_group(r, "/final/structure_factor"), "storage"), "radial average");
    EXPECT_FALSE(h5::exists(r, "/final/structure_factor/Sxx"));
    std::vector<hsize_t> d;
    const std::vector<double> x = h5::read_array(s, "/final/spins", d);  // (Ly, Lx, 3)
    double x2 = 0;
    for (std::size_t n = 0; n < x.size(); n += 3) x2 += x[n] * x[n];
    const std::vector<double> S = h5::read_array(f, "/final/structure_factor/Sxx", d),
                              Sr = h5::read_array(r, "/final/structure_factor/Sxx_radial", d),
                              count = h5::read_array(r, "/final/structure_factor/count_radial", d);
    double grid = 0, bins = 0, sites = 0;
    for (double v : S) grid += v;
    for (std::size_t b = 0; b < Sr.size(); ++b) bins += Sr[b] * count[b], sites += count[b];
    EXPECT_EQ(sites, 280);
    EXPECT_NEAR(grid, x2, 1e-12 * x2);
    EXPECT_NEAR(bins, x2, 1e-12 * x2);
    for (const char* a : {"phase", "reason"})
        EXPECT_EQ(h5::attr_string(h5::open_group(r, "/final/analysis"), a), h5::attr_string(h5::open_group(f, "/final/analysis"), a));
    // The same choice while the run goes; a 2D grid is one plane, so planes stores it full.
    ASSERT_EQ(run_xyzmf("run -q --backend cpu" + physics + " --analyze --sk-storage radial -o " + live).exit_code, 0);
    h5::Id l = h5::open_file(live, false);
    EXPECT_EQ(h5::attr_string(h5::open_group(l, "/snapshots/000001/structure_factor"), "storage"), "radial average");
    const std::vector<double> Sl = h5::read_array(l, "/final/structure_factor/Sxx_radial", d);
    EXPECT_EQ(Sl, Sr);
    ASSERT_EQ(run_xyzmf("analyze " + run + " --sk-storage planes --overwrite --out " + radial).exit_code, 0);
    EXPECT_EQ(h5::attr_string(h5::open_group(h5::open_file(radial, false), "/final/structure_factor"), "storage"), "full");
    // Refused in one line naming the option and the value, before anything is written.
    const CommandResult bad = run_xyzmf("analyze " + run + " --sk-storage spherical --out " + dir.file("no.h5"));
    EXPECT_EQ(bad.exit_code, exit_code::usage);
    EXPECT_NE(bad.stderr_text.find("--sk-storage: 'spherical'"), std::string::npos) << bad.stderr_text;
    EXPECT_FALSE(std::filesystem::exists(dir.file("no.h5")));
    EXPECT_EQ(run_xyzmf("run -q --backend cpu" + physics + " --sk-storage radial -o " + dir.file("no.h5")).exit_code,
              exit_code::usage);  // without --analyze it would store nothing
    EXPECT_FALSE(std::filesystem::exists(dir.file("no.h5")));
}

// The deflate level of a dataset's filter pipeline (0: none, the dataset plain).
int deflate_level(hid_t file, const std::string& path) {
    h5::Id d = h5::open_dataset(file, path);
    h5::Id dcpl(H5Dget_create_plist(d), H5Pclose, "dcpl " + path);
    for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
        unsigned flags = 0, values[4] = {0};
        std::size_t nvalues = 4;
        if (H5Pget_filter2(dcpl, unsigned(i), &flags, &nvalues, values, 0, nullptr, nullptr) == H5Z_FILTER_DEFLATE)
            return int(values[0]);
    }
    return 0;
}

// S(k) grids are stored as the run stores its spins: plain by default (deflating
// them cost twice the rest of an analysis), deflated at the run's --compress
// level otherwise, by run --analyze and by analyze alike; the values are the same.
TEST(AnalyzeCommand, StructureFactorGridsAreStoredAsTheRunStoresItsSpins) {
    ScratchDir dir;
    const std::string physics = " --Jx 1 --Jy -1 --Jz 0 --size 40x36 --t-end 2 --snapshot-every 1 --seed 5 --analyze";
    const std::string plain = dir.file("plain.h5"), packed = dir.file("packed.h5"), later = dir.file("later.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu" + physics + " -o " + plain).exit_code, 0);
    ASSERT_EQ(run_xyzmf("run -q --backend cpu" + physics + " --compress 2 -o " + packed).exit_code, 0);
    ASSERT_EQ(run_xyzmf("analyze " + packed + " --snapshot 1 --out " + later).exit_code, 0);
    h5::Id p = h5::open_file(plain, false), c = h5::open_file(packed, false), l = h5::open_file(later, false);
    for (const char* a : {"Sxx", "Syy", "Szz"}) {
        const std::string path = std::string("/snapshots/000001/structure_factor/") + a;
        EXPECT_EQ(deflate_level(p, path), 0) << path;
        EXPECT_EQ(deflate_level(c, path), 2) << path;
        EXPECT_EQ(deflate_level(l, path), 2) << path;
        std::vector<hsize_t> d;
        const std::vector<double> S = h5::read_array(p, path, d);
        EXPECT_EQ(d, (std::vector<hsize_t>{36, 40}));
        EXPECT_EQ(h5::read_array(c, path, d), S) << path;
        EXPECT_EQ(h5::read_array(l, path, d), S) << path;
    }
    // The vortex tables stay deflated (they shrink tenfold, at little cost).
    EXPECT_EQ(deflate_level(p, "/snapshots/000001/analysis/vortex_positions"), 1);
}

TEST(AnalyzeCommand, JsonCountsAndErrors) {
    ScratchDir dir;
    const std::string run = dir.file("sxy.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --Jx 1 --Jy -1 --Jz 0 --size 32 --t-end 20 --snapshot-every 5 -o " + run).exit_code, 0);
    const std::string json = dir.file("out.json");
    ASSERT_EQ(std::system((xyzmf_exe() + " analyze " + run + " --json > " + json).c_str()), 0);
    std::ifstream in(json);
    const nlohmann::json j = nlohmann::json::parse(in);
    EXPECT_EQ(j["vortices"], j["antivortices"]) << j.dump();
    EXPECT_EQ(j["state"], "/final");
    EXPECT_TRUE(j.contains("phase") && j.contains("k") && j.contains("m_perp") && j.contains("residual"));
    {
        h5::Id f = h5::open_file(run, false);
        EXPECT_TRUE(h5::exists(f, "/final/structure_factor/Sxx"));
        EXPECT_EQ(h5::attr_string(h5::open_group(f, "/final/analysis"), "phase"), j["phase"].get<std::string>());
    }
    const CommandResult quiet = run_xyzmf("analyze " + run + " --all-snapshots -q", true);
    EXPECT_EQ(quiet.exit_code, 0) << quiet.stderr_text;
    EXPECT_EQ(quiet.stderr_text, "") << "-q: no table";
    ASSERT_EQ(run_xyzmf("analyze " + run + " --all-snapshots").exit_code, 0);
    {
        h5::Id f = h5::open_file(run, false);
        EXPECT_EQ(h5::table_rows(f, "/analysis/coarsening/t"), 5u);  // snapshots at t = 0, 5, 10, 15, 20
    }

    // --out: a separate file with the same paths and a copy of /parameters
    const std::string other = dir.file("other.h5");
    ASSERT_EQ(run_xyzmf("analyze " + run + " --all-snapshots --out " + other).exit_code, 0);
    {
        h5::Id f = h5::open_file(other, false);
        EXPECT_TRUE(h5::exists(f, "/snapshots/000002/structure_factor/Sxx"));
        EXPECT_TRUE(h5::exists(f, "/final/analysis"));
        EXPECT_EQ(read_run_config(other).lattice.L[0], 32);
    }
    // Each state of the series (read into buffers reused from state to state) is
    // analysed as it is alone, and as the run analysed it while it stepped (its
    // host copy reused too): the same grids and vortices, bit for bit.
    const std::string alone = dir.file("alone.h5"), live = dir.file("live.h5");
    ASSERT_EQ(run_xyzmf("analyze " + run + " --snapshot 2 --out " + alone).exit_code, 0);
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --Jx 1 --Jy -1 --Jz 0 --size 32 --t-end 20 --snapshot-every 5 --analyze -o " +
                        live).exit_code, 0);
    {
        h5::Id series = h5::open_file(other, false), one = h5::open_file(alone, false), l = h5::open_file(live, false);
        for (const char* path : {"/snapshots/000002/structure_factor/Sxx", "/snapshots/000002/analysis/vortex_positions",
                                 "/snapshots/000003/structure_factor/Szz", "/snapshots/000003/analysis/vortex_charges"}) {
            std::vector<hsize_t> d;
            const std::vector<double> want = h5::read_array(series, path, d);
            EXPECT_FALSE(want.empty()) << path;
            EXPECT_EQ(h5::read_array(l, path, d), want) << path;
            if (std::string(path).rfind("/snapshots/000002", 0) == 0) EXPECT_EQ(h5::read_array(one, path, d), want) << path;
        }
    }
    EXPECT_EQ(run_xyzmf("analyze " + run + " --out " + other).exit_code, exit_code::io);  // exists: no overwrite

    const std::string text = dir.file("text.h5"), foreign = dir.file("foreign.h5"), empty = dir.file("empty.h5");
    { std::ofstream(text) << "garbage"; }
    H5Fclose(H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    {
        RunConfig c = config(lattice(2, 4), 1, 1, 1);
        c.output = empty;
        h5::Id f = h5::create_file(empty);  // parameters, no snapshots, no final
        write_provenance(f, "test", "run");
        write_run_parameters(f, c, "cpu");
    }
    struct Case { std::string args, expect; };
    for (const Case& k : {Case{"analyze " + text, "not an HDF5 file"}, Case{"analyze " + foreign, "not an xyzmf file"},
                          Case{"analyze " + empty, "no state to analyse"},
                          Case{"analyze " + empty + " --all-snapshots", "no snapshots"},
                          Case{"analyze " + run + " --snapshot 99", "has no snapshot 99"},
                          Case{"analyze " + dir.file("missing.h5"), "no such file"}}) {
        const CommandResult r = run_xyzmf(k.args);
        EXPECT_NE(r.exit_code, 0) << k.args;
        EXPECT_NE(r.stderr_text.find(k.expect), std::string::npos) << k.args << " -> " << r.stderr_text;
        EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    }
}

// ---- The device analysis (include/xyzmf/device_analysis.hpp) ----------------

// States the device analysis must agree on with the host: planted vortex
// pairs and rings, random sXY states with and without skipped plaquettes,
// odd sizes, 2D and 3D.
struct CensusCase {
    std::string name;
    Lattice lat;
    Couplings c;
    HostState s;
    double min_amplitude;
};
std::vector<CensusCase> census_cases() {
    std::vector<CensusCase> cases;
    const Couplings pair_c{1, -2, 0, 1, 0}, sxy{1, -1, 0, 1, 0};
    cases.push_back({"planted pair 24x20", lat2(24, 20), pair_c,
                     from_psi(lat2(24, 20), pair_c, 0.5, [](double x, double y, double) {
                         return std::atan2(y - 9.6, x - 7.3) - std::atan2(y - 10.4, x - 15.8);
                     }),
                     0.02});
    const Lattice cube = lattice(3, 20);
    cases.push_back({"ring pair 20^3", cube, sxy, from_psi(cube, sxy, 0.5, [](double x, double y, double z) {
                         return std::atan2(std::sin(2 * M_PI * (z - 4.5) / 20), std::hypot(x - 9.3, y - 10.6) - 4.2);
                     }),
                     0.02});
    const Lattice odd2 = lat2(33, 21);
    cases.push_back({"random 33x21", odd2, sxy, make_initial_state("random", odd2, 7, 0), 0.02});
    cases.push_back({"random 33x21, amplitude 0.5 (skips)", odd2, pair_c, make_initial_state("random", odd2, 8, 0), 0.5});
    Lattice odd3 = lattice(3, 9);
    odd3.L[1] = 8;
    odd3.L[2] = 7;
    cases.push_back({"random 9x8x7", odd3, sxy, make_initial_state("random", odd3, 9, 0), 0.02});
    return cases;
}

// What every device thread does for its plaquette (plaquette_winding_at), done
// here on the host plaquette by plaquette, then the compaction and the census
// the device analysis hands back: it must be the host census, vortex for
// vortex, in the same order. Runs everywhere; the kernels themselves are
// checked against the host on a GPU (DeviceAnalysis.EqualsTheHostAnalysis).
TEST(DeviceAnalysisLogic, PlaquetteByPlaquetteWindingsGiveTheHostCensus) {
    for (const CensusCase& k : census_cases()) {
        const VortexCensus host = find_vortices(k.lat, k.c, k.s, k.min_amplitude);
        const std::vector<double> psi = sxy_phase_field(k.lat, k.c, k.s, k.min_amplitude);
        std::int64_t skipped = 0;
        std::vector<std::int64_t> wound;
        std::vector<int> winding;
        for (index_t q = 0; q < plaquette_count(k.lat); ++q) {
            const PlaquetteWinding w = plaquette_winding_at(k.lat, psi.data(), q);
            skipped += w.skipped;
            if (!w.skipped && w.winding != 0) wound.push_back(q), winding.push_back(w.winding);
        }
        const VortexCensus device_way = census_from_windings(k.lat, plaquette_count(k.lat), skipped, wound, winding);
        expect_same_census(device_way, host, k.name);
        EXPECT_GT(host.vortices, 0) << k.name << ": a case with nothing to find checks nothing";
        if (k.min_amplitude > 0.1) EXPECT_GT(host.skipped, 0) << k.name;
    }
}

// The summary a device reduction gives (unfolded by summary_of_reduced_spectrum)
// against the host's summary of the full grid: the same strongest points,
// values at k = 0 and pi and radial counts; sums to roundoff. Of the same
// spectrum (exact): the values too, and every strongest point; of a cuFFT
// and an FFTW spectrum of one state, which differ in roundoff: the values to
// 1e-12 of the sum, and the strongest point alone (the next ones can be
// roundoff noise, ranked differently).
void expect_same_summary(const SpectrumSummary& d, const SpectrumSummary& h, const std::string& what, bool exact = true) {
    auto near = [&](double a, double b, double scale, const std::string& name) {
        EXPECT_NEAR(a, b, 1e-12 * scale + 1e-300) << what << ": " << name;
    };
    const double scale = std::max(h.total_perp, 1e-300);
    near(d.total_perp, h.total_perp, scale, "total");
    ASSERT_EQ(d.strongest.size(), h.strongest.size()) << what;
    if (exact) {
        EXPECT_EQ(d.perp_k0, h.perp_k0) << what;
        EXPECT_EQ(d.perp_kpi, h.perp_kpi) << what;
        for (std::size_t i = 0; i < h.strongest.size(); ++i) {
            EXPECT_EQ(d.strongest[i].index, h.strongest[i].index) << what << ", strongest point " << i;
            EXPECT_EQ(d.strongest[i].value, h.strongest[i].value) << what << ", strongest point " << i;
            EXPECT_EQ(d.strongest[i].mirror_value, h.strongest[i].mirror_value) << what << ", strongest point " << i;
        }
    } else {
        near(d.perp_k0, h.perp_k0, scale, "S_perp(0)");
        near(d.perp_kpi, h.perp_kpi, scale, "S_perp(pi)");
        EXPECT_EQ(d.strongest[0].index, h.strongest[0].index) << what;
        near(d.strongest[0].value, h.strongest[0].value, scale, "strongest");
        near(d.strongest[0].mirror_value, h.strongest[0].mirror_value, scale, "strongest's mirror");
    }
    for (int a = 0; a < 3; ++a) {
        ASSERT_EQ(d.marginal[a].size(), h.marginal[a].size()) << what;
        for (std::size_t b = 0; b < h.marginal[a].size(); ++b)
            near(d.marginal[a][b], h.marginal[a][b], scale, "marginal " + std::to_string(a) + "/" + std::to_string(b));
    }
    EXPECT_EQ(d.radial.count, h.radial.count) << what;
    EXPECT_EQ(d.radial.k, h.radial.k) << what;
    for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(d.radial.S[c].size(), h.radial.S[c].size()) << what;
        for (std::size_t b = 0; b < h.radial.S[c].size(); ++b) near(d.radial.S[c][b], h.radial.S[c][b], scale, "radial");
    }
}

// What the device does to a half spectrum (kernels/analysis_kernels.cu:
// headline_partials, per thread then per block; headline_final; the marginal
// and radial kernels, bin by bin), done on the host with the same functions
// (spectrum_geometry.hpp), in `blocks` x `threads` grid-stride slices.
ReducedSpectrum reduce_like_the_device(const Lattice& lat, const std::vector<double> (&P)[3], int blocks, int threads) {
    using Strongest = StrongestPoints<kStrongestPoints>;
    const index_t N = lat.sites(), H = half_columns(lat), count = N / lat.L[0] * H;
    const double *px = P[0].data(), *py = P[1].data();
    Strongest all;
    all.clear();
    ReducedSpectrum d;
    for (int blk = 0; blk < blocks; ++blk) {
        Strongest block;
        block.clear();
        double block_total = 0;
        for (int t = 0; t < threads; ++t) {
            Strongest mine;
            mine.clear();
            double total = 0;
            for (index_t e = index_t(blk) * threads + t; e < count; e += index_t(blocks) * threads) {
                const double v = perp_at(px, py, e, N);
                total += grid_points_of(lat, e) * v;
                if (mine.count < kStrongestPoints || v >= mine.value[kStrongestPoints - 1]) mine.offer(v, half_point_key(lat, e));
            }
            block_total += total;
            for (int i = 0; i < mine.count; ++i) block.offer(mine.value[i], mine.key[i]);
        }
        d.total_perp += block_total;
        for (int i = 0; i < block.count; ++i) all.offer(block.value[i], block.key[i]);
    }
    d.perp_k0 = perp_at(px, py, 0, N);
    d.perp_kpi = perp_at(px, py, half_point_pi(lat), N);
    for (int i = 0; i < all.count; ++i) {
        const index_t m = inner_mirror_point(lat, half_point_of_key(lat, all.key[i]));
        d.strongest.push_back({all.value[i], all.key[i], m < 0 ? all.value[i] : perp_at(px, py, m, N)});
    }
    for (int a = 0; a < lat.dim; ++a)
        for (index_t b = 0; b < lat.L[a]; ++b) {
            double sum = 0;
            for (index_t o = 0; o < marginal_terms(lat, a); ++o) sum += marginal_term(px, py, lat, a, b, o);
            d.marginal[a].push_back(sum);
        }
    const RadialLayout layout = radial_layout(lat);
    for (int c = 0; c < 3; ++c)
        for (std::size_t b = 0; b + 1 < layout.offsets.size(); ++b) {
            double sum = 0;
            for (int i = layout.offsets[b]; i < layout.offsets[b + 1]; ++i) {
                const index_t e = layout.order[std::size_t(i)];
                sum += grid_points_of(lat, e) * (P[c][std::size_t(e)] / double(N));
            }
            d.radial_sum[c].push_back(sum);
        }
    d.radial_count = layout.count;
    return d;
}

// The same reduction as MPI ranks do it (src/mpi/slab_analysis.cpp): each of
// `blocks` consecutive blocks of points reduced on its own, merged in order,
// then the values at k = 0, pi and the strongest points' mirrors read where
// they lie.
ReducedSpectrum reduce_in_blocks(const Lattice& lat, const std::vector<double> (&P)[3], int blocks) {
    const index_t count = index_t(P[0].size());
    ReducedSpectrum total;
    for (int b = 0; b < blocks; ++b) {
        HalfSpectrumBlock block;
        block.e0 = count * b / blocks;
        block.e1 = count * (b + 1) / blocks;
        for (int c = 0; c < 3; ++c) block.p[c] = P[c].data() + block.e0;
        merge_reduced_spectra(total, reduce_half_spectrum_block(lat, block, true));
    }
    std::vector<double> values;
    for (index_t e : points_to_read(lat, total)) values.push_back(perp_at(P[0].data(), P[1].data(), e, lat.sites()));
    fill_read_points(lat, total, values);
    return total;
}

// The device's reduction of a half spectrum, and the ranks' in blocks, unfolded,
// are the host's summary of the unfolded grid: the strongest points point for point (ties among equal
// values broken by index, mirrors outside the half included), on even, odd and
// tiny lattices in 1D, 2D and 3D, spectra with hundreds of tied values, a single
// peak (every other value tied at 0) and columns 0 and Lx/2 whose mirrors
// differ (the device reads them separately). Runs everywhere; the kernels
// themselves are checked on a GPU (DeviceAnalysis.EqualsTheHostAnalysis).
TEST(DeviceAnalysisLogic, HalfSpectrumReductionGivesTheHostSummary) {
    std::vector<Lattice> lattices = {lattice(1, 1031), lattice(1, 16), lat2(67, 45), lat2(64, 48), lat2(6, 4), lattice(3, 8)};
    Lattice odd3 = lattice(3, 19);
    odd3.L[1] = 11;
    odd3.L[2] = 13;
    lattices.push_back(odd3);
    std::mt19937_64 rng(12);
    for (const Lattice& lat : lattices) {
        const index_t count = lat.sites() / lat.L[0] * half_columns(lat);
        for (const char* kind : {"tied values", "one peak", "random"}) {
            std::vector<double> P[3];
            for (auto& p : P) {
                p.resize(std::size_t(count));
                for (double& v : p) {
                    const std::string k = kind;
                    v = k == "tied values" ? double(rng() % 4) : k == "one peak" ? 0.0 : std::ldexp(double(rng() >> 11), -40);
                }
            }
            if (std::string(kind) == "one peak") P[0][0] = P[1][0] = double(lat.sites());
            StructureFactor sf;
            sf.lattice = lat;
            unfold_half_spectrum(P, sf);
            const SpectrumSummary host = summarize_spectrum(sf, true);
            const std::string what = lattice_text(lat) + ", " + kind;
            for (const auto& [blocks, threads] : {std::pair{1, 1}, std::pair{3, 7}, std::pair{512, 256}})
                expect_same_summary(summary_of_reduced_spectrum(lat, reduce_like_the_device(lat, P, blocks, threads)), host,
                                    what + ", " + std::to_string(blocks) + " x " + std::to_string(threads));
            for (int blocks : {1, 3, 7})
                expect_same_summary(summary_of_reduced_spectrum(lat, reduce_in_blocks(lat, P, blocks)), host,
                                    what + ", in " + std::to_string(blocks) + " blocks");
            EXPECT_EQ(host.strongest.size(), std::min<std::size_t>(8, std::size_t(lat.sites()))) << what;
        }
    }
}

// S(k) to 1e-12 of its largest value (cuFFT and FFTW add in other orders).
void expect_close_spectra(const StructureFactor& a, const StructureFactor& b, const std::string& what) {
    for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(a.S[c].size(), b.S[c].size()) << what;
        double top = 0;
        for (double v : b.S[c]) top = std::max(top, v);
        for (std::size_t m = 0; m < a.S[c].size(); ++m)
            ASSERT_NEAR(a.S[c][m], b.S[c][m], 1e-12 * top + 1e-300) << what << ", component " << c << ", k index " << m;
    }
}

// The census cases and orders without vortices, 1D included (FM, AFM with
// odd sides, the SDW ring), and a coarsening sXY state (the run that vortex
// studies analyse).
std::vector<CensusCase> analysis_cases() {
    std::vector<CensusCase> cases = census_cases();
    const Lattice ring = lattice(1, 61), afm = lat2(15, 9);
    cases.push_back({"FM ring 61", ring, Couplings{2, 0, 1, 1, 0}, make_initial_state("uniform:0.3,0.1,-0.9", ring, 1, 0), 0.02});
    cases.push_back({"AFM 15x9", afm, Couplings{-2, 0, 1, 1, 0}, make_initial_state("random", afm, 3, 0), 0.02});
    cases.push_back({"SDW ring 61", ring, Couplings{4, 2, 1, 1, 0}, make_initial_state("pm-noise", ring, 2, 0.01), 0.02});
    RunConfig coarse = config(lat2(48, 40), 1, -1, 0);
    coarse.numerics.t_end = 10;
    cases.push_back({"sXY coarsening 48x40 at t = 10", coarse.lattice, coarse.couplings,
                     evolve(coarse, BackendKind::cpu, make_initial_state("random", coarse.lattice, 4, 0)), 0.02});
    return cases;
}

// With only the radial average stored, the host reduces its half spectrum
// (as a device or the MPI ranks do) instead of unfolding the grid, and the
// sXY phase field's marginals likewise: the same summary as the full grid's
// (the same points and values; sums to roundoff) and the same verdict.
TEST(Analysis, RadialStorageReducesTheHalfSpectrumToTheFullGridsSummary) {
    int with_psi = 0;
    for (const CensusCase& k : analysis_cases()) {
        AnalysisOptions full_opt, radial_opt;
        full_opt.thresholds.vortex_amplitude = radial_opt.thresholds.vortex_amplitude = k.min_amplitude;
        full_opt.sk_storage = SkStorage::full;
        radial_opt.sk_storage = SkStorage::radial;
        Analyzer full(k.lat, k.c, full_opt), radial(k.lat, k.c, radial_opt);
        const StateAnalysis f = full.analyze(k.s, 1, -1, "/final"), r = radial.analyze(k.s, 1, -1, "/final");
        EXPECT_TRUE(r.sf.S[0].empty()) << k.name << ": the grid was unfolded though only the radial average is stored";
        expect_same_summary(r.sk, summarize_spectrum(f.sf, true), k.name);
        EXPECT_EQ(r.cls.phase, f.cls.phase) << k.name;
        EXPECT_EQ(r.cls.order, f.cls.order) << k.name;
        EXPECT_EQ(r.cls.reason, f.cls.reason) << k.name;
        for (int a = 0; a < 3; ++a) EXPECT_EQ(r.cls.peak.k[a], f.cls.peak.k[a]) << k.name;
        EXPECT_NEAR(r.cls.peak.weight, f.cls.peak.weight, 1e-12) << k.name;
        EXPECT_NEAR(r.cls.psi_coherence, f.cls.psi_coherence, 1e-12) << k.name;
        if (std::isfinite(f.cls.correlation_length)) {
            ++with_psi;
            EXPECT_NEAR(r.cls.correlation_length, f.cls.correlation_length, 1e-12 * f.cls.correlation_length) << k.name;
        } else {
            EXPECT_EQ(std::isnan(r.cls.correlation_length), std::isnan(f.cls.correlation_length)) << k.name;
        }
    }
    EXPECT_GE(with_psi, 2) << "too few cases with a domain size from the phase field's marginals";
}

TEST(DeviceAnalysis, EqualsTheHostAnalysis) {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device present (or built without CUDA): GPU case skipped";
    for (const CensusCase& k : analysis_cases()) {
        AnalysisOptions host_opt, device_opt;
        host_opt.thresholds.vortex_amplitude = device_opt.thresholds.vortex_amplitude = k.min_amplitude;
        device_opt.on_device = true;
        Analyzer host(k.lat, k.c, host_opt), device(k.lat, k.c, device_opt);
        const StateAnalysis h = host.analyze(k.s, 1, -1, "/final"), d = device.analyze(k.s, 1, -1, "/final");
        expect_close_spectra(d.sf, h.sf, k.name);
        EXPECT_EQ(d.cls.phase, h.cls.phase) << k.name;
        EXPECT_EQ(d.cls.order, h.cls.order) << k.name;
        for (int a = 0; a < 3; ++a) EXPECT_EQ(d.cls.peak.k[a], h.cls.peak.k[a]) << k.name;
        EXPECT_NEAR(d.cls.peak.weight, h.cls.peak.weight, 1e-12) << k.name;
        EXPECT_NEAR(d.cls.m_perp, h.cls.m_perp, 1e-12) << k.name;
        EXPECT_NEAR(d.cls.mean_z, h.cls.mean_z, 1e-12) << k.name;
        EXPECT_NEAR(d.cls.residual, h.cls.residual, 1e-12 * std::max(1.0, h.cls.residual)) << k.name;
        EXPECT_EQ(d.cls.moving_fraction, h.cls.moving_fraction) << k.name;
        EXPECT_NEAR(d.cls.psi_coherence, h.cls.psi_coherence, 1e-12) << k.name;
        if (std::isfinite(h.cls.correlation_length))
            EXPECT_NEAR(d.cls.correlation_length, h.cls.correlation_length, 1e-9 * h.cls.correlation_length) << k.name;
        else
            EXPECT_EQ(std::isnan(d.cls.correlation_length), std::isnan(h.cls.correlation_length)) << k.name;
        EXPECT_EQ(d.has_vortices, h.has_vortices) << k.name;
        if (h.has_vortices) expect_same_census(d.vortices, h.vortices, k.name);
        // The radial average alone stored: the grid stays on the device, the
        // summary and radial sums come back.
        host_opt.sk_storage = device_opt.sk_storage = SkStorage::radial;
        Analyzer host_radial(k.lat, k.c, host_opt), device_radial(k.lat, k.c, device_opt);
        const StateAnalysis hr = host_radial.analyze(k.s, 1, -1, "/final"), dr = device_radial.analyze(k.s, 1, -1, "/final");
        EXPECT_TRUE(dr.sf.S[0].empty()) << k.name << ": the grid came back though only the radial average is stored";
        expect_same_summary(dr.sk, hr.sk, k.name + ", radial storage", false);
        EXPECT_EQ(dr.cls.phase, hr.cls.phase) << k.name;
        EXPECT_EQ(dr.cls.reason.substr(0, 20), hr.cls.reason.substr(0, 20)) << k.name;
    }
}


// run --analyze on a GPU with the analysis on the device: each snapshot's
// analysis, read from the run's page-locked snapshot buffer in place (a float
// run's widened on the device), is the host analysis of the same run (verdict,
// census, radial S(k)).
TEST(DeviceAnalysis, RunAnalyzeOnTheDeviceWritesTheHostsAnalysis) {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device present (or built without CUDA): GPU case skipped";
    ScratchDir dir;
    for (const std::string precision : {"double", "float"}) {
        const std::string physics = "run -q --backend cuda --precision " + precision +
                                    " --Jx 1 --Jy -1 --Jz 0 --size 96x80 --t-end 6 --snapshot-every 2 --seed 5 --analyze "
                                    "--sk-storage radial --overwrite --analysis-backend ";
        const std::string host = dir.file("host.h5"), device = dir.file("device.h5");
        ASSERT_EQ(run_xyzmf(physics + "cpu -o " + host).exit_code, 0) << precision;
        ASSERT_EQ(run_xyzmf(physics + "cuda -o " + device).exit_code, 0) << precision;
        h5::Id h = h5::open_file(host, false), d = h5::open_file(device, false);
        for (const char* where : {"/snapshots/000000", "/snapshots/000001", "/snapshots/000002", "/final"}) {
            const std::string w = precision + " " + where, at = where;
            const h5::Id ha = h5::open_group(h, at + "/analysis"), da = h5::open_group(d, at + "/analysis");
            EXPECT_EQ(h5::attr_string(da, "phase"), h5::attr_string(ha, "phase")) << w;
            for (const char* n : {"vortices", "antivortices", "skipped_plaquettes"})
                EXPECT_EQ(h5::attr_double(da, n), h5::attr_double(ha, n)) << w << " " << n;
            std::vector<hsize_t> dims;
            EXPECT_EQ(h5::read_array(d, at + "/analysis/vortex_positions", dims),
                      h5::read_array(h, at + "/analysis/vortex_positions", dims)) << w;
            EXPECT_EQ(h5::read_array(d, at + "/structure_factor/count_radial", dims),
                      h5::read_array(h, at + "/structure_factor/count_radial", dims)) << w;
            const std::vector<double> hs = h5::read_array(h, at + "/structure_factor/Sxx_radial", dims),
                                      ds = h5::read_array(d, at + "/structure_factor/Sxx_radial", dims);
            ASSERT_EQ(ds.size(), hs.size()) << w;
            const double top = *std::max_element(hs.begin(), hs.end());
            for (std::size_t b = 0; b < hs.size(); ++b) EXPECT_NEAR(ds[b], hs[b], 1e-12 * top) << w << ", bin " << b;
        }
    }
}

}  // namespace
}  // namespace xyzmf::test
