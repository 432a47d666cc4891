// Linear stability of PM (physics.md 3.5-3.8): growth rates against the 2x2
// matrix, the closed-form PM boundary, the Lifshitz point, the SDW period,
// sXY only at Jz = 0, and the XXZ line always PM.
#include <complex>
#include <map>

#include "helpers.hpp"
#include "xyzmf/bloch_rhs.hpp"
#include "param_grid.hpp"
#include "stability.hpp"

namespace xyzmf::test {
namespace {

// Largest real part of the eigenvalues of [[-G, -2B], [2A, -G]], from the characteristic polynomial.
double matrix_growth(const Couplings& c, double u) {
    const double A = c.Jx * u - c.Jz, B = c.Jy * u - c.Jz, G = c.gamma / 2 + 2 * c.gamma_phi;
    const std::complex<double> disc = std::sqrt(std::complex<double>(-4 * A * B));  // (l + G)^2 = -4AB
    return std::max((-G + disc).real(), (-G - disc).real());
}

TEST(Stability, GrowthRateIsTheLargerEigenvalueOfTheLinearisedFlow) {
    for (const Couplings& c : {Couplings{4, 2, 1, 1, 0}, Couplings{-3, 1.5, 0.7, 1, 0.2}, Couplings{1, -1, 0, 1, 0.05},
                               Couplings{2, 2, -1, 0.5, 0}})
        for (int m = -20; m <= 20; ++m) EXPECT_NEAR(growth_rate(c, m / 20.0), matrix_growth(c, m / 20.0), 1e-13);  // u in [-1, 1], both ends
    // A finite lattice maximises over exactly its allowed k.
    Lattice lat = lattice(2, 12);
    lat.L[1] = 10;
    const StabilityMap map(2, &lat);
    const Couplings c{4, 2, 1, 1, 0.1};
    double best = -1e9;
    for (int i = 0; i < 12; ++i)
        for (int j = 0; j < 10; ++j)
            best = std::max(best, matrix_growth(c, (std::cos(2 * M_PI * i / 12) + std::cos(2 * M_PI * j / 10)) / 2));
    const StabilityPoint p = map.at(c);
    EXPECT_NEAR(p.growth, best, 1e-13);
    EXPECT_NEAR(p.u, (std::cos(p.k[0]) + std::cos(p.k[1])) / 2, 1e-12);
}

// Independently of the closed form's A and B: the Jacobian of the whole
// lattice's mean-field flow (bloch_rhs with periodic neighbour sums) at PM, by
// central differences (exact up to roundoff, the flow being bilinear). It
// commutes with translations, so each allowed plane wave e^{i k.r} spans an
// invariant (x, y) pair whose 2x2 block is read off the Jacobian itself; the
// largest real eigenvalue over all blocks is the map's growth rate on that
// lattice. (A general eigensolver here cost 19 s of the sanitizer build.)
TEST(Stability, GrowthRateIsTheLargestEigenvalueOfTheLatticeJacobian) {
    using cd = std::complex<double>;
    struct Box { int dim; index_t Lx, Ly; };
    for (const Box b : {Box{1, 12, 1}, Box{1, 7, 1}, Box{2, 6, 4}, Box{2, 5, 3}})
        for (const Couplings& c : {Couplings{4, 2, 1, 1, 0}, Couplings{-3, 1.5, 0.7, 1, 0.2}, Couplings{1, -1, 0, 1, 0.05},
                                   Couplings{2, 2, -1, 0.5, 0}, Couplings{0.9, 1.1, 1, 1, 0}, Couplings{-2, -1.5, 1, 1, 0}}) {
            const index_t N = b.Lx * b.Ly;
            const SiteModel<double> m = SiteModel<double>::make(c, b.dim);
            auto site = [&](index_t i, index_t j) { return ((i + b.Lx) % b.Lx) + b.Lx * ((j + b.Ly) % b.Ly); };
            auto flow = [&](const std::vector<Vec3<double>>& s) {  // (dx, dy) of every site
                std::vector<double> f(static_cast<std::size_t>(2 * N));
                for (index_t j = 0; j < b.Ly; ++j)
                    for (index_t i = 0; i < b.Lx; ++i) {
                        Vec3<double> sum = s[std::size_t(site(i - 1, j))] + s[std::size_t(site(i + 1, j))];
                        if (b.dim == 2) sum = sum + s[std::size_t(site(i, j - 1))] + s[std::size_t(site(i, j + 1))];
                        const Vec3<double> d = bloch_rhs(s[std::size_t(site(i, j))], sum, m);
                        f[std::size_t(site(i, j))] = d.x, f[std::size_t(N + site(i, j))] = d.y;
                    }
                return f;
            };
            std::vector<double> jac(static_cast<std::size_t>(4 * N * N));  // jac[row * 2N + column]
            const double h = 1e-3;
            for (index_t v = 0; v < 2 * N; ++v) {
                std::vector<Vec3<double>> up(std::size_t(N), Vec3<double>{0, 0, -1}), down = up;
                (v < N ? up[std::size_t(v)].x : up[std::size_t(v - N)].y) += h;
                (v < N ? down[std::size_t(v)].x : down[std::size_t(v - N)].y) -= h;
                const std::vector<double> fu = flow(up), fd = flow(down);
                for (index_t r = 0; r < 2 * N; ++r) jac[std::size_t(r * 2 * N + v)] = (fu[std::size_t(r)] - fd[std::size_t(r)]) / (2 * h);
            }
            double largest = -HUGE_VAL, off_block = 0;
            for (index_t ky = 0; ky < b.Ly; ++ky)
                for (index_t kx = 0; kx < b.Lx; ++kx) {
                    std::vector<cd> wave(static_cast<std::size_t>(N));
                    for (index_t j = 0; j < b.Ly; ++j)
                        for (index_t i = 0; i < b.Lx; ++i)
                            wave[std::size_t(site(i, j))] = std::polar(1.0 / std::sqrt(double(N)),
                                                                       2 * M_PI * (double(kx * i) / b.Lx + double(ky * j) / b.Ly));
                    // block(a, b') = <wave, a| J |wave, b'>, and what J sends outside the pair
                    cd M[2][2];
                    for (int a = 0; a < 2; ++a)
                        for (int bb = 0; bb < 2; ++bb) {
                            std::vector<cd> image(static_cast<std::size_t>(N));
                            for (index_t r = 0; r < N; ++r)
                                for (index_t q = 0; q < N; ++q)
                                    image[std::size_t(r)] += jac[std::size_t((a * N + r) * 2 * N + bb * N + q)] * wave[std::size_t(q)];
                            cd proj = 0;
                            for (index_t r = 0; r < N; ++r) proj += std::conj(wave[std::size_t(r)]) * image[std::size_t(r)];
                            M[a][bb] = proj;
                            for (index_t r = 0; r < N; ++r) off_block = std::max(off_block, std::abs(image[std::size_t(r)] - proj * wave[std::size_t(r)]));
                        }
                    const cd half = (M[0][0] + M[1][1]) / 2.0, det = M[0][0] * M[1][1] - M[0][1] * M[1][0];
                    const cd root = std::sqrt(half * half - det);
                    largest = std::max({largest, (half + root).real(), (half - root).real()});
                }
            EXPECT_LT(off_block, 1e-9) << "translations do not block-diagonalise the Jacobian";
            Lattice lat = lattice(b.dim, b.Lx);
            if (b.dim == 2) lat.L[1] = b.Ly;
            // 1e-7: where A B = 0 the pair -G is a Jordan block, whose eigenvalues
            // roundoff moves by sqrt(1e-16).
            EXPECT_NEAR(StabilityMap(b.dim, &lat).at(c).growth, largest, 1e-7)
                << b.dim << "D " << b.Lx << "x" << b.Ly << ", J = (" << c.Jx << ", " << c.Jy << ", " << c.Jz << ")";
        }
}

// The staggered map (Jx, Jy) -> (-Jx, -Jy) (u -> -u) turns FM into AFM point for
// point, on a grid symmetric about 0 too: its values are exactly symmetric, so points
// on the PM boundary (growth 0 up to roundoff) fall on the same side in both halves
// (-3:3:121 once counted 4226 AFM and 4224 FM points).
TEST(Stability, SymmetricGridsMirrorFmAndAfmPointForPoint) {
    const GridAxis x{"Jx", -3, 3, 121}, y{"Jy", -3, 3, 121};
    const StabilityMap map(2, nullptr);
    const std::map<std::string, std::string> mirror = {{"FM", "AFM"}, {"AFM", "FM"}, {"PM", "PM"}, {"SDW", "SDW"}, {"FM/AFM", "FM/AFM"}};
    std::map<std::string, int> count;
    for (int i = 0; i < x.n; ++i) {
        ASSERT_EQ(x.value(x.n - 1 - i), -x.value(i)) << i;
        for (int j = 0; j < y.n; ++j) {
            const std::string p = map.at({x.value(i), y.value(j), 1, 1, 0}).phase;
            const std::string q = map.at({x.value(x.n - 1 - i), y.value(y.n - 1 - j), 1, 1, 0}).phase;
            ASSERT_TRUE(mirror.count(p)) << p;
            EXPECT_EQ(q, mirror.at(p)) << "Jx = " << x.value(i) << ", Jy = " << y.value(j);
            ++count[p];
        }
    }
    EXPECT_EQ(count["FM"], count["AFM"]);
    EXPECT_GT(count["FM"], 1000);
    EXPECT_EQ(x.value(0), -3.0);
    EXPECT_EQ(x.value(120), 3.0);
}

TEST(Stability, PmBoundaryAtJzOneMatchesTheClosedForm) {
    const StabilityMap map(2, nullptr);
    const double G = 0.5;
    for (double Jx : {0.9, 1.1, 1.5, 2.0, 3.0, 5.0}) {
        // bisect the boundary below the XXZ diagonal
        double stable = Jx, unstable = Jx - 6;
        for (int it = 0; it < 200; ++it) {
            const double mid = 0.5 * (stable + unstable);
            (map.at({Jx, mid, 1, 1, 0}).growth > 0 ? unstable : stable) = mid;
        }
        const double Jy = 0.5 * (stable + unstable);
        const StabilityPoint at = map.at({Jx, Jy - 1e-9, 1, 1, 0});
        if (at.phase == "FM") {  // k = 0 boundary: -(Jx - Jz)(Jy - Jz) = G^2/4
            EXPECT_NEAR(-(Jx - 1) * (Jy - 1), G * G / 4, 1e-9) << "Jx = " << Jx;
        } else if (at.phase == "AFM") {  // k = pi boundary (u = -1): -(Jx + Jz)(Jy + Jz) = G^2/4
            EXPECT_NEAR(-(Jx + 1) * (Jy + 1), G * G / 4, 1e-9) << "Jx = " << Jx;
        } else {  // SDW boundary: (Jx - Jy)^2 / (Jx Jy) = G^2 / Jz^2
            ASSERT_EQ(at.phase, "SDW") << "Jx = " << Jx;
            EXPECT_NEAR((Jx - Jy) * (Jx - Jy) / (Jx * Jy), G * G, 1e-9) << "Jx = " << Jx;
        }
    }
}

TEST(Stability, LifshitzPointAtJzEqualsGamma) {
    const StabilityMap map(1, nullptr);
    const std::vector<LifshitzPoint> pts = find_lifshitz_points({0, 0, 1, 1, 0}, map);
    ASSERT_EQ(pts.size(), 4u);
    // roots of t^2 - (17/8) t + 17/16 = 0 (physics.md 3.7)
    const double hi = (17.0 / 8 + std::sqrt(289.0 / 64 - 17.0 / 4)) / 2, lo = 17.0 / 8 - hi;
    EXPECT_NEAR(pts[0].Jx, hi, 1e-4);
    EXPECT_NEAR(pts[0].Jy, lo, 1e-4);
    EXPECT_NEAR(pts[0].Jx, 1.3202, 1e-4);
    EXPECT_NEAR(pts[1].Jx, lo, 1e-4);
    // the AFM side, where k leaves pi: the staggered images (-Jx, -Jy)
    EXPECT_EQ(pts[2].side, -1);
    EXPECT_NEAR(pts[2].Jx, -hi, 1e-4);
    EXPECT_NEAR(pts[2].Jy, -lo, 1e-4);
    const StabilityPoint near = map.at({pts[2].Jx, pts[2].Jy - 1e-3, 1, 1, 0});
    EXPECT_NEAR(near.u, -1, 1e-2) << "the boundary mode at the AFM-side point is k = pi";
    const CommandResult r = run_xyzmf_all_output("stability --Jz 1 --lifshitz --x Jx:-6:6:13 --y Jy:-6:6:13");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.stderr_text.find("Lifshitz point: Jx = 1.3202, Jy = 0.8048"), std::string::npos) << r.stderr_text;
    // On a map of other axes the (Jx, Jy) plane's points would read as its own: refused.
    const CommandResult other = run_xyzmf("stability --lifshitz --x Jx:-3:3:7 --y Jz:-3:3:7");
    EXPECT_EQ(other.exit_code, 2);
    EXPECT_NE(other.stderr_text.find("--lifshitz: locates the Lifshitz points of the (Jx, Jy) plane, and this map's axes "
                                     "are Jx and Jz"),
              std::string::npos)
        << other.stderr_text;
}

// (Jx, Jy, Jz) -> -(Jx, Jy, Jz) turns A and B into -A and -B at the same u: every growth
// rate, and so every Lifshitz point, is kept (with its side), at negated couplings. At
// Jz = -1 the points lie at Jx < 0 (none was found there: only Jx > 0 was scanned).
TEST(Stability, LifshitzPointsAtNegativeJzAreTheNegatedOnes) {
    const StabilityMap map(1, nullptr);
    const std::vector<LifshitzPoint> up = find_lifshitz_points({0, 0, 1, 1, 0}, map);
    const std::vector<LifshitzPoint> down = find_lifshitz_points({0, 0, -1, 1, 0}, map);
    ASSERT_EQ(up.size(), 4u);
    ASSERT_EQ(down.size(), 4u);
    for (const LifshitzPoint& q : up) {
        const auto image = std::find_if(down.begin(), down.end(), [&](const LifshitzPoint& d) {
            return std::abs(d.Jx + q.Jx) < 1e-6 && std::abs(d.Jy + q.Jy) < 1e-6 && d.side == q.side;
        });
        EXPECT_NE(image, down.end()) << "no image of (" << q.Jx << ", " << q.Jy << ", side " << q.side << ") at Jz = -1";
    }
}

// An odd ring has no k = pi: at AFM couplings its fastest mode is the one nearest pi,
// the seed of AFM with a twist (what analyze then finds), not an SDW, which needs a
// modulated mode (Jx Jy > 0, physics.md 3.7). SDW couplings stay SDW on it, and its
// PM boundary has no Lifshitz point but the true ones.
TEST(Stability, AnOddRingCallsTheModeNearestPiAfm) {
    const Lattice ring = lattice(1, 15);
    const StabilityMap odd(1, &ring);
    const StabilityPoint afm = odd.at({-2, 0, 1, 1, 0});
    EXPECT_NEAR(afm.u, std::cos(M_PI * 14 / 15), 1e-12);
    EXPECT_EQ(afm.phase, "AFM");
    EXPECT_EQ(odd.at({2, 0, 1, 1, 0}).phase, "FM");
    EXPECT_EQ(odd.at({4, 2, 1, 1, 0}).phase, "SDW");
    for (const LifshitzPoint& q : find_lifshitz_points({0, 0, 1, 1, 0}, odd))
        EXPECT_GT(q.Jx * q.Jy, 0) << "a Lifshitz point where no mode is modulated: (" << q.Jx << ", " << q.Jy << ")";
}

// --size AxBxC names the dimension, for maps as for run (it was refused: "--dim is 2");
// an axis of one value must say which (Jx:-1:1:1 took -1 silently).
TEST(Stability, SizeSetsTheDimensionAndOneValueAxesAreOneValue) {
    const CommandResult s = run_xyzmf_all_output("stability --size 4x4x4 --x Jx:-1:1:3 --y Jy:0:1:2 --json");
    EXPECT_EQ(s.exit_code, 0) << s.stderr_text;
    EXPECT_NE(s.stderr_text.find("\"lattice\":\"4x4x4 (3D)\""), std::string::npos) << s.stderr_text;
    const CommandResult g = run_xyzmf_all_output("gaussian --size 4x4x4 --Jx 0.5 --Jy 0.3");
    EXPECT_EQ(g.exit_code, 0) << g.stderr_text;
    EXPECT_NE(g.stderr_text.find("4x4x4 (3D)"), std::string::npos) << g.stderr_text;
    EXPECT_EQ(run_xyzmf("stability --size 4x4x4 --dim 2").exit_code, 2);
    const CommandResult one = run_xyzmf("stability --x Jx:-1:1:1");
    EXPECT_EQ(one.exit_code, 2);
    EXPECT_NE(one.stderr_text.find("--x: N = 1 is one value; give it as MIN and MAX alike, e.g. Jx:-1:-1:1"),
              std::string::npos)
        << one.stderr_text;
}

TEST(Stability, SdwPeriodAtFourTwoOne) {
    const StabilityPoint p = StabilityMap(1, nullptr).at({4, 2, 1, 1, 0});
    EXPECT_EQ(p.phase, "SDW");
    EXPECT_NEAR(p.u, 3.0 / 8, 1e-14);
    EXPECT_NEAR(p.period, 5.30, 0.005);
    // On a 53-site ring the allowed k nearest cos k = 3/8 is 2 pi 10/53: period 5.3 exactly.
    const Lattice ring = lattice(1, 53);
    const StabilityPoint q = StabilityMap(1, &ring).at({4, 2, 1, 1, 0});
    EXPECT_NEAR(q.period, 5.3, 1e-12);
}

// In 2D every k of the same u grows alike; the map's period is the wavelength 2 pi / |k|
// along the k it stores (analyze's SDW period), on the infinite lattice a wave along x:
// cos k_x = 2 u* - 1 = -1/4 at (4, 2, 1). (It was 2 pi / max |k_a| of k = (k, k), 5.30.)
TEST(Stability, TheMapsPeriodIsTheWavelengthAlongItsK) {
    const StabilityPoint p = StabilityMap(2, nullptr).at({4, 2, 1, 1, 0});
    EXPECT_EQ(p.phase, "SDW");
    EXPECT_NEAR(p.k[0], std::acos(-0.25), 1e-12);
    EXPECT_EQ(p.k[1], 0);
    EXPECT_NEAR(p.period, 2 * M_PI / std::acos(-0.25), 1e-12);
    // Continuous in u across u = 0, where no wave along x has it: (pi, acos(2u + 1)) below.
    const StabilityMap inf2(2, nullptr);
    const StabilityPoint above = inf2.at({-4, -2, 1e-9, 1, 0}), below = inf2.at({-4, -2, -1e-9, 1, 0});
    EXPECT_NEAR(above.period, below.period, 1e-3);  // (acos near -1: a step of sqrt(du))
    EXPECT_NEAR(below.k[0], M_PI, 1e-3);
    EXPECT_NEAR(above.period, 2, 1e-3);  // (it jumped to 2 sqrt 2 with the diagonal's k)
    for (index_t L : {32, 40}) {
        const Lattice sq = lattice(2, L);
        const StabilityPoint q = StabilityMap(2, &sq).at({4, 2, 1, 1, 0});
        EXPECT_EQ(q.phase, "SDW");
        EXPECT_NEAR(q.period, 2 * M_PI / std::hypot(q.k[0], q.k[1]), 1e-12) << L;
        EXPECT_NEAR((std::cos(q.k[0]) + std::cos(q.k[1])) / 2, q.u, 1e-12) << L;
    }
}

TEST(Stability, SxyOnlyAtJzZeroAndXxzAlwaysPm) {
    const StabilityMap map(2, nullptr);
    ParamGrid grid{parse_axis("Jx:-6:6:49", "--x"), parse_axis("Jy:-6:6:49", "--y"), {0, 0, 0, 1, 0}};
    for (double Jz : {-1.0, 0.0, 0.5, 1.0}) {
        grid.fixed.Jz = Jz;
        int sxy = 0;
        for (int p = 0; p < grid.points(); ++p) sxy += map.at(grid.at(p)).phase == "sXY";
        if (Jz == 0) EXPECT_GT(sxy, 0);
        else EXPECT_EQ(sxy, 0) << "Jz = " << Jz;
    }
    for (double J = -6; J <= 6; J += 0.25)
        for (double Jz : {-2.0, 0.0, 1.0, 3.0})
            for (double gphi : {0.0, 0.3}) EXPECT_EQ(map.at({J, J, Jz, 1, gphi}).phase, "PM") << J << " " << Jz;
}

TEST(Stability, FmAndAfmCountsAreMirrorImagesWithTheTieOnItsOwn) {
    // physics.md 3.3: (Jx, Jy, Jz) -> (-Jx, -Jy, Jz) exchanges FM and AFM. On Jx = -Jy (Jz != 0)
    // k = 0 and k = pi grow exactly equally: that line is FM/AFM, not either.
    Lattice ring = lattice(2, 32);
    for (const Lattice* l : {static_cast<const Lattice*>(nullptr), static_cast<const Lattice*>(&ring)}) {
        const StabilityMap map(2, l);
        ParamGrid grid{parse_axis("Jx:-6:6:121", "--x"), parse_axis("Jy:-6:6:121", "--y"), Couplings{0, 0, 1, 1, 0}};
        std::map<std::string, int> counts;
        int tie_on_line = 0, unstable_on_line = 0;
        for (int p = 0; p < grid.points(); ++p) {
            const Couplings c = grid.at(p);
            const StabilityPoint s = map.at(c);
            ++counts[s.phase];
            const bool on_line = std::abs(c.Jx + c.Jy) < 1e-12;  // the grid values are -6 + 12 i / 120, rounded
            if (on_line && s.growth > 0) {
                ++unstable_on_line;
                tie_on_line += s.phase == "FM/AFM";
            }
            if (s.phase == "FM/AFM") EXPECT_TRUE(on_line) << c.Jx << " " << c.Jy;
        }
        EXPECT_EQ(counts["FM"], counts["AFM"]);
        EXPECT_GT(counts["FM"], 1000);
        EXPECT_EQ(tie_on_line, unstable_on_line);
        EXPECT_GT(tie_on_line, 60);
    }
}

}  // namespace
}  // namespace xyzmf::test
