// Gaussian fluctuations of the paramagnet (docs/physics.md section 6): the
// closed forms against a direct solution of the real-space second-moment
// (Lyapunov) equations, squeezing where w_k = 0 and at the PM boundary, the
// poles against the stability map, and the excitation density's singular
// behaviour at the boundary in d = 1, 2, 3.
#include <Eigen/LU>
#include <complex>

#include "helpers.hpp"
#include "gaussian.hpp"
#include "param_grid.hpp"
#include "signals.hpp"
#include "xyzmf/error.hpp"
#include "stability.hpp"

namespace xyzmf::test {
namespace {

using cplx = std::complex<double>;

// Steady state of N_ml = <b_m^+ b_l> and F_ml = <b_m b_l> for the real-space
// boson Hamiltonian of docs/physics.md 6.1,
//   H = sum_ml h_ml b_m^+ b_l + (1/2) sum_ml Delta_ml (b_m^+ b_l^+ + b_l b_m),
//   h_mm = -2 Jz, h_ml = (Jx + Jy) / (2d), Delta_ml = (Jx - Jy) / (2d) per bond,
// with decay gamma and dephasing gamma_phi D[sz_n] = 4 gamma_phi D[b_n^+ b_n]
// on every site: the linear equations d<.>/dt = 0 written from the
// Heisenberg equations, solved densely. Nothing here uses k.
// A small dense complex matrix (N <= 16 here): plain loops keep this test's
// compile time down; Eigen does only the real linear solve.
struct CMat {
    int N = 0;
    std::vector<cplx> a;
    explicit CMat(int n = 0) : N(n), a(std::size_t(n) * std::size_t(n)) {}
    cplx& operator()(int i, int j) { return a[std::size_t(i) + std::size_t(N) * std::size_t(j)]; }
    cplx operator()(int i, int j) const { return a[std::size_t(i) + std::size_t(N) * std::size_t(j)]; }
};

struct RealSpaceMoments {
    int N;
    CMat n, f;
};

RealSpaceMoments real_space_moments(const Lattice& lat, const Couplings& c) {
    const int N = int(lat.sites());
    CMat h(N), D(N);
    for (index_t k = 0; k < lat.L[2]; ++k)
        for (index_t j = 0; j < lat.L[1]; ++j)
            for (index_t i = 0; i < lat.L[0]; ++i) {
                const int m = int(lat.site(i, j, k));
                index_t nb[6];
                lat.neighbours(i, j, k, nb);
                h(m, m) = -2 * c.Jz;
                for (int q = 0; q < lat.coordination(); ++q) {
                    h(m, int(nb[q])) += (c.Jx + c.Jy) / lat.coordination();
                    D(m, int(nb[q])) += (c.Jx - c.Jy) / lat.coordination();
                }
            }
    const cplx I(0, 1);
    const double G = c.gamma / 2 + 2 * c.gamma_phi, gp = c.gamma_phi;
    // The homogeneous part of d/dt (N, F) as a function of (N, F), element by
    // element (h and Delta are real and symmetric). It involves conj(F), so it
    // is linear over the reals only: the unknowns are real and imaginary parts.
    auto rate = [&](const CMat& n, const CMat& f, CMat& dn, CMat& df) {
        for (int m = 0; m < N; ++m)
            for (int l = 0; l < N; ++l) {
                cplx hn = 0, Df = 0, nh = 0, fD = 0, hf = 0, Dn = 0, fh = 0, nD = 0;
                for (int p = 0; p < N; ++p) {
                    hn += h(m, p) * n(p, l);
                    Df += D(m, p) * f(p, l);
                    nh += n(m, p) * h(p, l);
                    fD += std::conj(f(p, m)) * D(p, l);  // (F^+ Delta)_ml
                    hf += h(m, p) * f(p, l);
                    Dn += D(m, p) * n(p, l);
                    fh += f(m, p) * h(p, l);
                    nD += n(p, m) * D(p, l);  // (N^T Delta)_ml
                }
                // d<b_m^+ b_l>/dt = i (h N) + i (Delta F) - i (N h) - i (F^+ Delta) - gamma N,
                // dephasing -4 gamma_phi (1 - delta_ml) N_ml (the on-site density commutes with n_m).
                dn(m, l) = I * hn + I * Df - I * nh - I * fD - 2 * G * n(m, l) + (m == l ? 4 * gp * n(m, l) : 0.0);
                // d<b_m b_l>/dt = -i (h F) - i (Delta N) - i (F h) - i (N^T Delta) - gamma F   [- i Delta_lm],
                // dephasing -4 gamma_phi (1 + delta_ml) F_ml.
                df(m, l) = -I * hf - I * Dn - I * fh - I * nD - 2 * G * f(m, l) - (m == l ? 4 * gp * f(m, l) : 0.0);
            }
    };
    const int NN = N * N, M = 4 * NN;  // [Re N, Im N, Re F, Im F], element (m, l) at m + N l
    auto unpack = [&](const Eigen::VectorXd& x, CMat& n, CMat& f) {
        n = CMat(N);
        f = CMat(N);
        for (int r = 0; r < NN; ++r) {
            n(r % N, r / N) = cplx(x(r), x(NN + r));
            f(r % N, r / N) = cplx(x(2 * NN + r), x(3 * NN + r));
        }
    };
    Eigen::MatrixXd L(M, M);
    CMat n, f, dn(N), df(N);
    for (int col = 0; col < M; ++col) {
        Eigen::VectorXd e = Eigen::VectorXd::Zero(M);
        e(col) = 1;
        unpack(e, n, f);
        rate(n, f, dn, df);
        for (int r = 0; r < NN; ++r) {
            L(r, col) = dn(r % N, r / N).real();
            L(NN + r, col) = dn(r % N, r / N).imag();
            L(2 * NN + r, col) = df(r % N, r / N).real();
            L(3 * NN + r, col) = df(r % N, r / N).imag();
        }
    }
    Eigen::VectorXd src = Eigen::VectorXd::Zero(M);
    for (int r = 0; r < NN; ++r) src(3 * NN + r) = -D(r / N, r % N).real();  // -i Delta_lm (b_m b_p^+ = N_pm + delta_mp)
    const Eigen::VectorXd x = L.partialPivLu().solve(-src);
    RealSpaceMoments out{N, CMat(), CMat()};
    unpack(x, out.n, out.f);
    return out;
}

// <b_k^+ b_k> and <b_k b_-k> from the real-space moments, b_k = N^(-1/2) sum_n e^(-i k.r_n) b_n.
void mode_moments(const Lattice& lat, const RealSpaceMoments& m, const double k[3], double& n, cplx& a) {
    std::vector<cplx> phase(std::size_t(m.N));
    for (index_t z = 0; z < lat.L[2]; ++z)
        for (index_t y = 0; y < lat.L[1]; ++y)
            for (index_t x = 0; x < lat.L[0]; ++x)
                phase[std::size_t(lat.site(x, y, z))] = std::polar(1.0, k[0] * double(x) + k[1] * double(y) + k[2] * double(z));
    cplx nn = 0, aa = 0;
    for (int p = 0; p < m.N; ++p)
        for (int q = 0; q < m.N; ++q) {
            nn += phase[std::size_t(p)] * std::conj(phase[std::size_t(q)]) * m.n(p, q);
            aa += std::conj(phase[std::size_t(p)]) * phase[std::size_t(q)] * m.f(p, q);
        }
    n = (nn / double(m.N)).real();
    a = aa / double(m.N);
}

Lattice sized(int dim, index_t a, index_t b = 1, index_t c = 1) {
    Lattice lat;
    lat.dim = dim;
    lat.L[0] = a;
    lat.L[1] = b;
    lat.L[2] = c;
    return lat;
}

TEST(Gaussian, ClosedFormsEqualTheRealSpaceLyapunovSolution) {
    const Couplings points[] = {{0.3, 0.1, 1, 1, 0},      {1, -0.05, 0, 1, 0},   {-0.2, 0.4, 0.5, 1, 0},
                                {4, 3.5, 1, 1, 0},        {0.5, -0.1, -0.3, 0.7, 0}, {0.3, 0.1, 1, 1, 0.05},
                                {0.4, -0.1, 0, 1, 0.2},   {-0.2, 0.4, 0.5, 1, 0.1}, {4, 3.5, 1, 1, 0.3}};
    const Lattice lattices[] = {sized(1, 6), sized(1, 5), sized(2, 4, 3), sized(3, 2, 2, 2)};
    int checked = 0;
    for (const Lattice& lat : lattices)
        for (const Couplings& c : points) {
            const GaussianTheory theory(lat.dim, &lat);
            const GaussianPoint p = theory.at(c);
            if (!p.applies) continue;
            const RealSpaceMoments m = real_space_moments(lat, c);
            // <sz> = -1 + 2 <b_n^+ b_n>, the same on every site.
            for (int s = 0; s < m.N; ++s) EXPECT_NEAR(-1 + 2 * m.n(s, s).real(), p.sz, 1e-10 * (1 + std::abs(p.sz)));
            for (const AllowedMode& mode : allowed_modes(lat.dim, lat)) {
                double n;
                cplx a;
                mode_moments(lat, m, mode.k, n, a);
                const GaussianMode g = gaussian_mode(c, mode.u, p.on_site);
                EXPECT_NEAR(n, g.n, 1e-10 * (1 + g.n)) << "u = " << mode.u;
                EXPECT_NEAR(std::abs(a - g.anomalous), 0, 1e-10 * (1 + g.n)) << "u = " << mode.u;
                ++checked;
            }
            // Squeezing of k = 0 from its moments (<b> = 0 in the paramagnet).
            double n0;
            cplx a0;
            const double zero[3] = {0, 0, 0};
            mode_moments(lat, m, zero, n0, a0);
            EXPECT_NEAR(1 + 2 * n0 - 2 * std::abs(a0), p.k0.xi2, 1e-10);
        }
    EXPECT_GT(checked, 60);
}

TEST(Gaussian, SqueezingWhereTheModeFrequencyVanishes) {
    // w_0 = Jx + Jy - 2 Jz = 0 and w_pi = -(Jx + Jy) - 2 Jz = 0: xi^2 = 1 / (1 + 4 |g| / gamma).
    const GaussianTheory theory(2, nullptr);
    for (double gamma : {1.0, 0.6})
        for (double Jz : {0.0, 0.3, -0.4}) {
            const Couplings c0{0.1 + Jz, -0.1 + Jz, Jz, gamma, 0};  // w_0 = 0, g_0 = 0.1
            const GaussianPoint p0 = theory.at(c0);
            ASSERT_TRUE(p0.applies);
            EXPECT_NEAR(p0.k0.w, 0, 1e-15);
            EXPECT_NEAR(p0.k0.xi2, 1 / (1 + 4 * 0.1 / gamma), 1e-14);
            const Couplings cpi{0.12 - Jz, -0.12 - Jz, Jz, gamma, 0};  // w_pi = 0, g_pi = -0.12
            const GaussianPoint ppi = theory.at(cpi);
            ASSERT_TRUE(ppi.applies);
            EXPECT_NEAR(ppi.kpi.w, 0, 1e-15);
            EXPECT_NEAR(ppi.kpi.xi2, 1 / (1 + 4 * 0.12 / gamma), 1e-14);
        }
}

TEST(Gaussian, SqueezingTendsToOneHalfAtThePmBoundary) {
    // Jz = 0: PM is unstable for 16 Jx Jy < -gamma^2, at k = 0 and k = pi together.
    for (int dim : {1, 2, 3}) {
        const GaussianTheory theory(dim, nullptr, 1e-6);
        double last = 1;
        for (double eps : {1e-1, 1e-2, 1e-4, 1e-6, 1e-8}) {
            const Couplings c{1.5, (eps - 1) / (16 * 1.5), 0, 1, 0};
            const GaussianPoint p = theory.at(c);
            ASSERT_TRUE(p.applies) << eps;
            EXPECT_LT(p.k0.xi2, last);
            EXPECT_NEAR(p.k0.xi2, p.kpi.xi2, 1e-14);
            // k = 0 (u = 1): g = (Jx - Jy) / 2, w = Jx + Jy (physics.md 6.2), so
            // xi^2 = sqrt(S) / (sqrt(S) + 4 |g|) with S = gamma^2 + 4 w^2, which
            // is 1/2 + O(eps) at 16 g^2 = S.
            const double g = (c.Jx - c.Jy) / 2, w = c.Jx + c.Jy, rS = std::sqrt(c.gamma * c.gamma + 4 * w * w);
            EXPECT_NEAR(p.k0.xi2, rS / (rS + 4 * std::abs(g)), 1e-12) << "eps = " << eps;
            last = p.k0.xi2;
        }
        EXPECT_NEAR(last, 0.5, 1e-8);
        EXPECT_GT(last, 0.5);
        // Past the boundary the theory does not apply and gives no numbers.
        const GaussianPoint beyond = theory.at(Couplings{1.5, -1.01 / 24, 0, 1, 0});
        EXPECT_FALSE(beyond.applies);
        EXPECT_TRUE(std::isnan(beyond.sz) && std::isnan(beyond.k0.xi2));
    }
}

TEST(Gaussian, PolesAreTheStabilityGrowthRatesEverywhere) {
    Lattice lat = sized(2, 12, 10);
    for (double Jz : {0.0, 1.0, -0.7})
        for (double gamma : {1.0, 0.4}) {
            const double gamma_phi = gamma == 1 ? 0 : 0.1;
            const char* xs = gamma_phi == 0 ? "Jx:-4:4:41" : "Jx:-4:4:15";  // dephasing: zone integrals of 12
            const char* ys = gamma_phi == 0 ? "Jy:-4:4:41" : "Jy:-4:4:15";  // functions, so a coarser grid
            ParamGrid grid{parse_axis(xs, "--x"), parse_axis(ys, "--y"), Couplings{0, 0, Jz, gamma, gamma_phi}};
            for (const Lattice* l : {static_cast<const Lattice*>(nullptr), static_cast<const Lattice*>(&lat)}) {
                const StabilityMap map(2, l);
                const GaussianTheory theory(2, l, 1e-6);
                for (int p = 0; p < grid.points(); ++p) {
                    const Couplings c = grid.at(p);
                    for (double u = -1; u <= 1.0001; u += 0.125) {
                        const GaussianMode m = gaussian_mode(c, u);
                        EXPECT_NEAR(std::max(m.poles[0].real(), m.poles[1].real()), growth_rate(c, u), 1e-12);
                        // ... and they are the eigenvalues of the drift matrix of (b_k, b_-k^+),
                        // from its characteristic polynomial l^2 - tr l + det = 0.
                        const double G = c.gamma / 2 + 2 * c.gamma_phi;
                        const cplx m00(-G, -m.w), m01(0, -2 * m.g), m10(0, 2 * m.g), m11(-G, m.w);
                        const cplx tr = m00 + m11, det = m00 * m11 - m01 * m10;
                        const cplx sq = std::sqrt(tr * tr - 4.0 * det);
                        const double top = std::max(((tr + sq) / 2.0).real(), ((tr - sq) / 2.0).real());
                        EXPECT_NEAR(m.poles[0].real(), top, 1e-7);  // a root near a double eigenvalue: sqrt(eps)
                    }
                    const StabilityPoint s = map.at(c);
                    const GaussianPoint g = theory.at(c);
                    EXPECT_NEAR(g.relaxation_rate, -s.growth, 1e-12);
                    if (c.gamma_phi == 0) EXPECT_EQ(g.applies, s.growth < 0) << c.Jx << " " << c.Jy;
                    else if (s.growth >= 0) EXPECT_FALSE(g.applies);  // dephasing can end it earlier (below)
                }
            }
        }
}

// Jz = 0, 16 Jx Jy = eps - gamma^2: the occupation is 2 Delta^2 u^2 / (eps + 16 |Jx Jy| (1 - u^2)),
// peaked at k = 0 and pi. Expanding around them (u^2 = 1 - k^2/d) gives the singular part of
// n = (sz + 1) / 2 ~ eps^((d - 2) / 2) with the coefficients below (docs/physics.md 6.3).
double occupation(int dim, double eps, double Jx = 1.0) {
    const GaussianTheory theory(dim, nullptr, 1e-9);
    const GaussianPoint p = theory.at(Couplings{Jx, (eps - 1) / (16 * Jx), 0, 1, 0});
    EXPECT_TRUE(p.applies && p.sz_converged);
    return (p.sz + 1) / 2;
}

TEST(Gaussian, ExcitationDensityDivergesInOneDimension) {
    // n sqrt(eps) -> Delta^2 / (2 sqrt|Jx Jy|)
    for (double Jx : {1.0, 2.0}) {
        const double Jy = -1 / (16 * Jx), Delta = Jx - Jy;
        const double limit = Delta * Delta / (2 * std::sqrt(std::abs(Jx * Jy)));
        EXPECT_NEAR(occupation(1, 1e-6, Jx) * std::sqrt(1e-6) / limit, 1, 1e-2);
        EXPECT_NEAR(occupation(1, 1e-10, Jx) * std::sqrt(1e-10) / limit, 1, 1e-4);
    }
}

TEST(Gaussian, ExcitationDensityGrowsLogarithmicallyInTwoDimensions) {
    // dn / d ln(1/eps) -> Delta^2 / (8 pi |Jx Jy|)
    const double Jy = -1.0 / 16, Delta = 1 - Jy;
    const double slope = (occupation(2, 1e-8) - occupation(2, 1e-6)) / std::log(100.0);
    EXPECT_NEAR(slope / (Delta * Delta / (8 * M_PI * std::abs(Jy))), 1, 1e-3);
}

TEST(Gaussian, ExcitationDensityStaysFiniteInThreeDimensions) {
    // n(eps) = n(0) - C sqrt(eps), C = Delta^2 / (pi c^(3/2)), c = 16 |Jx Jy| / 3
    const double Jy = -1.0 / 16, Delta = 1 - Jy, cc = 16 * std::abs(Jy) / 3;
    const double C = Delta * Delta / (M_PI * std::pow(cc, 1.5));
    const double n4 = occupation(3, 1e-4), n6 = occupation(3, 1e-6), n8 = occupation(3, 1e-8);
    EXPECT_LT(n8 - n6, n6 - n4);  // converging, not diverging
    EXPECT_NEAR((n8 - n6) / (std::sqrt(1e-6) - std::sqrt(1e-8)) / C, 1, 2e-2);
    EXPECT_NEAR((n6 - n4) / (std::sqrt(1e-4) - std::sqrt(1e-6)) / C, 1, 5e-2);
}

TEST(Gaussian, InfiniteLatticeIntegralIsTheLimitOfFiniteSums) {
    // Away from the boundary the zone sum converges exponentially in L.
    for (int dim : {1, 2, 3}) {
        const index_t L = dim == 1 ? 1000 : dim == 2 ? 200 : 96;
        Lattice lat = sized(dim, L, dim > 1 ? L : 1, dim > 2 ? L : 1);
        const GaussianTheory infinite(dim, nullptr, 1e-9), finite(dim, &lat);
        for (const Couplings& c : {Couplings{1, -0.05, 0, 1, 0}, Couplings{4, 3, 1, 1, 0}, Couplings{0.5, 0.2, -0.3, 1, 0},
                                   Couplings{0.4, -0.1, 0, 1, 0.1}, Couplings{0.5, 0.2, -0.3, 1, 0.05}}) {
            const GaussianPoint inf = infinite.at(c), fin = finite.at(c);
            ASSERT_TRUE(inf.applies && fin.applies);
            EXPECT_NEAR(inf.sz, fin.sz, 1e-8) << dim << " " << c.Jx << " " << c.Jy;
            EXPECT_LT(inf.sz_error, 1e-8);
        }
    }
}

// A stop reaches a point inside its Brillouin-zone integral (a 3D point at
// --tol 1e-13 ran for minutes deaf to Ctrl-C) and the listing of a finite
// lattice's modes (a 256^3 lattice takes a minute), with the stop's exit code.
TEST(Gaussian, AStopReachesAPointInsideItsIntegralAndTheModeListing) {
    StopScope call(false);
    call.request_stop("this test");
    const GaussianTheory infinite(3, nullptr, 1e-9);
    try {
        (void)infinite.at(Couplings{0.9, 0.5, 1, 1, 0});
        ADD_FAILURE() << "the point ran to its end";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 130);
        EXPECT_NE(std::string(e.what()).find("Brillouin-zone integral"), std::string::npos) << e.what();
    }
    const Lattice lat = sized(3, 40, 40, 40);
    try {
        const GaussianTheory finite(3, &lat);
        ADD_FAILURE() << "the modes were listed";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 130);
        EXPECT_NE(std::string(e.what()).find("listing the lattice's modes"), std::string::npos) << e.what();
    }
}

TEST(Gaussian, DephasingHeatsTheModesBeforeTheBoundaryInOneDimension) {
    // The on-site density that dephasing redistributes over all k feeds back through
    // <1/D>, which diverges at the boundary in d = 1: the self-consistent occupation
    // turns negative while PM is still linearly stable, and the theory says it does not apply.
    const GaussianTheory theory(1, nullptr, 1e-8);
    const double gamma_phi = 0.05, G = 0.5 + 2 * gamma_phi;
    const double boundary = -(4 * G * G) / 16;  // Jx Jy at the boundary, Jz = 0: 16 Jx Jy = -4 G^2
    const GaussianPoint far = theory.at(Couplings{1, 0.5 * boundary, 0, 1, gamma_phi});
    EXPECT_TRUE(far.applies) << far.reason;
    EXPECT_GT(far.on_site.nbar, 0);
    const GaussianPoint near = theory.at(Couplings{1, 0.9999 * boundary, 0, 1, gamma_phi});
    EXPECT_GT(near.relaxation_rate, 0);  // linearly stable ...
    EXPECT_FALSE(near.applies);          // ... but no Gaussian steady state
    EXPECT_NE(near.reason.find("dephasing"), std::string::npos);
}

}  // namespace
}  // namespace xyzmf::test
