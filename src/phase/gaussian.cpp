// Gaussian fluctuations of the paramagnet (see gaussian.hpp; derivation in
// docs/physics.md 6.2).
#include "gaussian.hpp"

#include <algorithm>
#include <array>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <cmath>
#include <functional>

#include "signals.hpp"

namespace xyzmf {

namespace {

// The steady state of one mode given the on-site means s = (nbar, Re abar,
// Im abar) that dephasing feeds back (docs/physics.md 6.4), as an affine
// function of s: n = n0 + N.s, a = a0 + A.s. Without dephasing N = A = 0.
struct ModeResponse {
    double n0 = 0, N[3] = {0, 0, 0};
    std::complex<double> a0, A[3];
};

ModeResponse mode_response(const Couplings& c, double w, double g) {
    const double Gam = c.gamma + 4 * c.gamma_phi, gp = c.gamma_phi;
    const double S = Gam * Gam + 4 * w * w, D = S - 16 * g * g;
    ModeResponse r;
    r.n0 = 8 * g * g / D;
    r.N[0] = 4 * gp * S / (Gam * D);
    r.N[1] = -32 * g * gp * w / (Gam * D);
    r.N[2] = 16 * g * gp / D;
    const std::complex<double> I(0, 1), den(Gam, 2 * w);
    r.a0 = -2.0 * I * g * (2 * r.n0 + 1) / den;
    for (int j = 0; j < 3; ++j) r.A[j] = -4.0 * I * g * r.N[j] / den;
    r.A[1] += -4 * gp / den;
    r.A[2] += -4.0 * I * gp / den;
    return r;
}

}  // namespace

GaussianMode gaussian_mode(const Couplings& c, double u, const OnSiteMeans& s) {
    GaussianMode m;
    m.u = u;
    m.w = (c.Jx + c.Jy) * u - 2 * c.Jz;
    m.g = (c.Jx - c.Jy) * u / 2;
    const double G = c.transverse_damping(), w = m.w, g = m.g;
    // d/dt (b_k, b_-k^+) = [[-i w - G, -2 i g], [2 i g, i w - G]] (b_k, b_-k^+), G = gamma/2 + 2 gamma_phi.
    // 4 g^2 - w^2 = (2g - w)(2g + w) = 4 (Jz - Jy u)(Jx u - Jz): the factors from the couplings directly,
    // since the difference of squares loses all digits where it vanishes and the root magnifies that.
    const double disc = 4 * (c.Jz - c.Jy * u) * (c.Jx * u - c.Jz);
    const std::complex<double> root = std::sqrt(std::complex<double>(disc, 0));
    m.poles[0] = -G + root;
    m.poles[1] = -G - root;
    const double D = 4 * G * G - 4 * disc;
    m.stable = m.poles[0].real() < 0 && D > 0;
    if (!m.stable) return m;
    if (c.gamma_phi == 0) {
        const double gamma = c.gamma;
        m.n = 8 * g * g / D;
        m.anomalous = std::complex<double>(-4 * g * w, -2 * g * gamma) / D;
        // 1 + 2n - 2|a| simplifies to 1 / (1 + 4|g| / sqrt(gamma^2 + 4 w^2)) (no cancellation near D = 0).
        m.xi2 = 1 / (1 + 4 * std::abs(g) / std::sqrt(gamma * gamma + 4 * w * w));
        return m;
    }
    const ModeResponse r = mode_response(c, w, g);
    const double sv[3] = {s.nbar, s.abar.real(), s.abar.imag()};
    m.n = r.n0;
    m.anomalous = r.a0;
    for (int j = 0; j < 3; ++j) {
        m.n += r.N[j] * sv[j];
        m.anomalous += r.A[j] * sv[j];
    }
    m.xi2 = 1 + 2 * m.n - 2 * std::abs(m.anomalous);
    return m;
}

GaussianTheory::GaussianTheory(int dim, const Lattice* finite, double rel_tol) : dim_(dim), rel_tol_(rel_tol) {
    if (!finite) return;
    modes_ = allowed_modes(dim, *finite);
    sites_ = finite->copy_sites();
    for (int a = 0; a < dim; ++a) has_kpi_ = has_kpi_ && finite->L[a] % 2 == 0;
}

namespace {

// An average over k in [0, pi]^axes of f(a, b), a = sum_l (1 - cos k_l),
// b = sum_l (1 + cos k_l) (kept apart so that the distance to a band edge is
// not lost to rounding next to k = 0 or pi), by nested adaptive
// Gauss-Kronrod quadrature, one axis at a time (f of u is even in every k_l,
// so [0, pi] stands for the whole zone). The inner integrals get a tighter
// tolerance than the outer one so that their errors stay below its estimate.
template <class T>
struct ZoneAverage {
    T value{};
    double error = 0;
    bool converged = true;
};

template <class T>
ZoneAverage<T> zone_average(int axes, const std::function<T(double, double)>& f, double rel_tol) {
    using GK = boost::math::quadrature::gauss_kronrod<double, 15>;
    constexpr unsigned kMaxDepth = 18;  // deeper only adds rounding to Boost's error estimate
    ZoneAverage<T> out;
    if (axes == 0) {
        out.value = f(0.0, 0.0);
        return out;
    }
    std::function<T(int, double, double)> level = [&](int axis, double a, double b) -> T {
        if (axis == axes) return f(a, b);
        // A stop is looked for before each axis's integral: a 3D point at --tol 1e-13 runs
        // for many minutes, and the innermost integral is at most 15 x 2^18 values (< 1 s).
        if (interrupt_requested()) throw_if_interrupted("in the Brillouin-zone integral of a point; nothing written");
        const double tol = rel_tol * std::pow(0.1, double(axes - 1 - axis));
        double err = 0, l1 = 0;
        // k = pi (t - sin(2 pi t) / (2 pi)), t in [0, 1]: dk/dt vanishes at both ends, which widens the peaks
        // at k = 0 and pi (the band edges u = +-1, where the PM boundary is at Jz = 0) from sqrt(distance)
        // to its cube root.
        const T v = GK::integrate(
            [&](double t) {
                const double k = M_PI * t - 0.5 * std::sin(2 * M_PI * t);
                const double s = std::sin(k / 2), c = std::cos(k / 2);
                return level(axis + 1, a + 2 * s * s, b + 2 * c * c) * (1 - std::cos(2 * M_PI * t));
            },
            0.0, 1.0, kMaxDepth, tol, &err, &l1);
        if (axis == 0) {
            using std::abs;
            out.error = err + 2 * tol * abs(v);  // outer estimate plus what the inner levels allowed
            out.converged = err <= rel_tol * l1 * 1.0000001 || err <= 1e-300;
        }
        return v;
    };
    out.value = level(0, 0.0, 0.0);
    return out;
}

// <1 / (cos k - z)> over k, for z off the segment [-1, 1] (branch cut there;
// -> -1/z far away), given z - 1 and z + 1.
std::complex<double> chain_green(std::complex<double> zm1, std::complex<double> zp1) {
    return -1.0 / (std::sqrt(zm1) * std::sqrt(zp1));
}

// The lattice Green's function <1 / (u - z)> over the zone of the d-dim
// lattice: the last axis in closed form, 1/(u - z) = d / (cos k_d - (d z - s)).
// With a, b the sums over the first d - 1 axes: d z - s - 1 = d (z - 1) + a and
// d z - s + 1 = d (z + 1) - b.
ZoneAverage<std::complex<double>> lattice_green(int dim, std::complex<double> z, double rel_tol) {
    const std::complex<double> zm1 = double(dim) * (z - 1.0), zp1 = double(dim) * (z + 1.0);
    const std::function<std::complex<double>(double, double)> inner = [&](double a, double b) {
        return double(dim) * chain_green(zm1 + a, zp1 - b);
    };
    return zone_average<std::complex<double>>(dim - 1, inner, rel_tol);
}

// Distance of z from the segment [-1, 1], where u lives.
double band_distance(std::complex<double> z) {
    const double x = std::abs(z.real());
    return x <= 1 ? std::abs(z.imag()) : std::hypot(x - 1, z.imag());
}

// The zone average of the occupation n(u) = 8 g^2 / D = 2 Delta^2 u^2 / Q(u),
// Q(u) = alpha u^2 + beta u + c0. Smooth n (the zeros of Q far from the band)
// is integrated directly. Near the PM boundary n has a sharp peak that nested
// quadrature resolves only slowly in d = 3; there partial fractions,
//   u^2 / Q = (1/alpha) [1 - r1 / (u - u1) - r2 / (u - u2)],
// turn the average into lattice Green's functions at the zeros u1, u2 of Q,
// whose last axis is done in closed form.
ZoneAverage<double> mean_occupation(int dim, const Couplings& c, double rel_tol) {
    const double S = c.Jx + c.Jy, Delta = c.Jx - c.Jy;
    const double alpha = 16 * c.Jx * c.Jy, beta = -16 * S * c.Jz, c0 = c.gamma * c.gamma + 16 * c.Jz * c.Jz;
    const std::complex<double> disc = std::sqrt(std::complex<double>(beta * beta - 4 * alpha * c0, 0));
    const std::complex<double> u1 = (-beta + disc) / (2 * alpha), u2 = (-beta - disc) / (2 * alpha);
    const bool near_band = alpha != 0 && std::min(band_distance(u1), band_distance(u2)) < 4 &&
                           std::abs(u1 - u2) > 1e-6 * std::abs(u1);
    if (!near_band) {
        const std::function<double(double, double)> n = [&](double a, double b) {
            return gaussian_mode(c, (b - a) / (2 * dim)).n;
        };
        return zone_average<double>(dim, n, rel_tol);
    }
    const std::complex<double> r1 = (beta * u1 + c0) / (alpha * (u1 - u2)), r2 = (beta * u2 + c0) / (alpha * (u2 - u1));
    const auto G1 = lattice_green(dim, u1, rel_tol * 0.1), G2 = lattice_green(dim, u2, rel_tol * 0.1);
    const double scale = 2 * Delta * Delta / alpha;
    ZoneAverage<double> out;
    out.value = scale * (1.0 - r1 * G1.value - r2 * G2.value).real();
    out.error = std::abs(scale) * (std::abs(r1) * G1.error + std::abs(r2) * G2.error) +
                1e-15 * std::abs(scale) * (1 + std::abs(r1 * G1.value) + std::abs(r2 * G2.value));
    out.converged = G1.converged && G2.converged && out.error <= std::max(rel_tol * std::abs(out.value), 1e-300) * 10;
    return out;
}

// The twelve zone averages the dephasing self-consistency needs (n0, N,
// a0, A of mode_response, complex parts apart), as one integrand so the
// quadrature walks the zone once. Boost's Gauss-Kronrod needs +, scaling and
// an abs() for its error estimate.
struct Responses {
    std::array<double, 12> v{};
    Responses() = default;
    Responses(double x) { v.fill(x); }  // NOLINT: Boost initialises results from 0
    Responses& operator+=(const Responses& o) { for (std::size_t i = 0; i < v.size(); ++i) v[i] += o.v[i]; return *this; }
    friend Responses operator+(Responses a, const Responses& b) { return a += b; }
    friend Responses operator-(Responses a, const Responses& b) { for (std::size_t i = 0; i < a.v.size(); ++i) a.v[i] -= b.v[i]; return a; }
    friend Responses operator-(Responses a) { return a * -1.0; }
    friend Responses operator*(Responses a, double x) { for (double& e : a.v) e *= x; return a; }
    friend Responses operator*(double x, Responses a) { return a * x; }
    friend Responses operator/(Responses a, double x) { return a * (1 / x); }
    friend double abs(const Responses& a) {
        double m = 0;
        for (double e : a.v) m = std::max(m, std::abs(e));
        return m;
    }
};

Responses responses_at(const Couplings& c, double u) {
    const ModeResponse r = mode_response(c, (c.Jx + c.Jy) * u - 2 * c.Jz, (c.Jx - c.Jy) * u / 2);
    Responses out;
    out.v = {r.n0, r.N[0], r.N[1], r.N[2], r.a0.real(), r.a0.imag(), r.A[0].real(), r.A[0].imag(),
             r.A[1].real(), r.A[1].imag(), r.A[2].real(), r.A[2].imag()};
    return out;
}

// Solves s = <n0, a0> + M s for s = (nbar, Re abar, Im abar) (Cramer's rule
// on I - M). Returns false when I - M is singular.
bool solve_on_site(const Responses& avg, OnSiteMeans& s, double& det_out) {
    const auto& v = avg.v;
    const double b[3] = {v[0], v[4], v[5]};
    const double M[3][3] = {{v[1], v[2], v[3]}, {v[6], v[8], v[10]}, {v[7], v[9], v[11]}};
    double A[3][3];
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) A[i][j] = (i == j) - M[i][j];
    auto det3 = [](const double m[3][3]) {
        return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
               m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    };
    const double det = det3(A);
    det_out = det;
    if (!(std::abs(det) > 1e-14)) return false;
    double x[3];
    for (int k = 0; k < 3; ++k) {
        double Ak[3][3];
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) Ak[i][j] = j == k ? b[i] : A[i][j];
        x[k] = det3(Ak) / det;
    }
    s.nbar = x[0];
    s.abar = {x[1], x[2]};
    return true;
}

}  // namespace

GaussianPoint GaussianTheory::at(const Couplings& c) const {
    GaussianPoint p;
    // Slowest relaxation: 4 g^2 - w^2 = alpha u^2 + beta u + c0 is largest at
    // an end of the band or at its vertex (when alpha < 0).
    std::vector<double> candidates;
    if (finite()) {
        for (const AllowedMode& m : modes_) candidates.push_back(m.u);
    } else {
        candidates = {-1.0, 1.0};
        const double alpha = (c.Jx - c.Jy) * (c.Jx - c.Jy) - (c.Jx + c.Jy) * (c.Jx + c.Jy);
        const double beta = 4 * c.Jz * (c.Jx + c.Jy);
        if (alpha < 0) {
            const double vertex = -beta / (2 * alpha);
            if (vertex > -1 && vertex < 1) candidates.push_back(vertex);
        }
    }
    p.relaxation_rate = HUGE_VAL;
    bool stable = true;
    for (double u : candidates) {
        const GaussianMode m = gaussian_mode(c, u);
        const double rate = -m.poles[0].real();
        stable = stable && m.stable;
        if (rate < p.relaxation_rate) {
            p.relaxation_rate = rate;
            p.slowest_u = u;
        }
    }
    p.applies = stable;
    if (!stable) {
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "the paramagnet is unstable (mode u = %.6g grows at rate %.6g gamma): no Gaussian steady state",
                      p.slowest_u, -p.relaxation_rate);
        p.reason = buf;
        return p;
    }
    // On the boundary itself (to rounding) the occupations diverge and no
    // quadrature resolves the peak: say so rather than print noise.
    if (p.relaxation_rate < 1e-12 * c.gamma) {
        p.applies = false;
        char buf[160];
        std::snprintf(buf, sizeof buf, "on the PM boundary (slowest rate %.3g gamma): the occupations diverge",
                      p.relaxation_rate);
        p.reason = buf;
        return p;
    }
    if (c.gamma_phi == 0) {
        p.k0 = gaussian_mode(c, 1.0);
        if (has_kpi_) p.kpi = gaussian_mode(c, -1.0);
        else p.kpi.u = NAN;
        if (finite()) {
            double sum = 0;
            for (const AllowedMode& m : modes_) sum += double(m.count) * gaussian_mode(c, m.u).n;
            p.sz = -1 + 2 * sum / double(sites_);
            p.sz_error = 0;
            p.sz_converged = true;
        } else {
            const ZoneAverage<double> avg = mean_occupation(dim_, c, rel_tol_);
            p.sz = -1 + 2 * avg.value;
            p.sz_error = 2 * avg.error;
            p.sz_converged = avg.converged;
        }
        return p;
    }

    // Dephasing: every mode depends on the on-site means, which are zone
    // averages of the modes; solve that linear self-consistency.
    Responses avg;
    double avg_error = 0;
    if (finite()) {
        for (const AllowedMode& m : modes_) avg += responses_at(c, m.u) * (double(m.count) / double(sites_));
        p.sz_converged = true;
    } else {
        const std::function<Responses(double, double)> f = [&](double a, double b) {
            return responses_at(c, (b - a) / (2 * dim_));
        };
        const ZoneAverage<Responses> z = zone_average<Responses>(dim_, f, rel_tol_);
        avg = z.value;
        avg_error = z.error;
        p.sz_converged = z.converged;
    }
    double det = 0;
    const bool solved = solve_on_site(avg, p.on_site, det);
    bool physical = solved && p.on_site.nbar >= 0;
    for (double u : candidates) physical = physical && gaussian_mode(c, u, p.on_site).n >= 0;
    if (!physical) {
        p.applies = false;
        p.reason = "dephasing feeds the modes faster than they decay (self-consistent <b^+ b> < 0, det = " +
                   std::to_string(det) + "): no Gaussian steady state";
        return p;
    }
    p.k0 = gaussian_mode(c, 1.0, p.on_site);
    if (has_kpi_) p.kpi = gaussian_mode(c, -1.0, p.on_site);
    else p.kpi.u = NAN;
    p.sz = -1 + 2 * p.on_site.nbar;
    // The quadrature error, amplified by the self-consistency (1 / det) and by the size of s.
    p.sz_error = finite() ? 0 : 2 * avg_error * (1 + p.on_site.nbar + std::abs(p.on_site.abar)) / std::abs(det);
    return p;
}

std::vector<GaussianMode> GaussianTheory::modes(const Couplings& c, const OnSiteMeans& s, int samples) const {
    std::vector<GaussianMode> out;
    if (finite()) {
        for (const AllowedMode& m : modes_) out.push_back(gaussian_mode(c, m.u, s));
    } else {
        for (int i = 0; i < samples; ++i)
            out.push_back(gaussian_mode(c, samples == 1 ? 1.0 : -1 + 2.0 * i / (samples - 1), s));
    }
    return out;
}

}  // namespace xyzmf
