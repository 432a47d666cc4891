// Gaussian fluctuations of the paramagnet (see gaussian.hpp; derivation in
// docs/physics.md 6.2).
#include "xyzmf/gaussian.hpp"

#include <algorithm>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <cmath>
#include <functional>

#include "xyzmf/error.hpp"

namespace xyzmf {

GaussianMode gaussian_mode(const Couplings& c, double u) {
    GaussianMode m;
    m.u = u;
    m.w = (c.Jx + c.Jy) * u - 2 * c.Jz;
    m.g = (c.Jx - c.Jy) * u / 2;
    const double gamma = c.gamma, w = m.w, g = m.g;
    // d/dt (b_k, b_-k^+) = [[-i w - gamma/2, -2 i g], [2 i g, i w - gamma/2]] (b_k, b_-k^+)
    // 4 g^2 - w^2 = (2g - w)(2g + w) = 4 (Jz - Jy u)(Jx u - Jz): the factors from the couplings directly,
    // since the difference of squares loses all digits where it vanishes and the root magnifies that.
    const double disc = 4 * (c.Jz - c.Jy * u) * (c.Jx * u - c.Jz);
    const std::complex<double> root = std::sqrt(std::complex<double>(disc, 0));
    m.poles[0] = -gamma / 2 + root;
    m.poles[1] = -gamma / 2 - root;
    const double D = gamma * gamma - 4 * disc;
    m.stable = m.poles[0].real() < 0 && D > 0;
    if (!m.stable) return m;
    m.n = 8 * g * g / D;
    m.anomalous = std::complex<double>(-4 * g * w, -2 * g * gamma) / D;
    // 1 + 2n - 2|a| simplifies to 1 / (1 + 4|g| / sqrt(gamma^2 + 4 w^2)) (no cancellation near D = 0).
    m.xi2 = 1 / (1 + 4 * std::abs(g) / std::sqrt(gamma * gamma + 4 * w * w));
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
            out.error = err + 2 * tol * std::abs(v);  // outer estimate plus what the inner levels allowed
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

}  // namespace

GaussianPoint GaussianTheory::at(const Couplings& c) const {
    if (c.gamma_phi != 0)
        throw Error("gaussian: gamma_phi must be 0 (dephasing couples all k through on-site terms; the Gaussian "
                    "theory here has decay only)",
                    exit_code::usage);
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

std::vector<GaussianMode> GaussianTheory::modes(const Couplings& c, int samples) const {
    std::vector<GaussianMode> out;
    if (finite()) {
        for (const AllowedMode& m : modes_) out.push_back(gaussian_mode(c, m.u));
    } else {
        for (int i = 0; i < samples; ++i) out.push_back(gaussian_mode(c, samples == 1 ? 1.0 : -1 + 2.0 * i / (samples - 1)));
    }
    return out;
}

}  // namespace xyzmf
