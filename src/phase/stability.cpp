// Linear stability map of the paramagnet (see stability.hpp).
#include "stability.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "signals.hpp"

namespace xyzmf {

double growth_rate(const Couplings& c, double u) {
    const double A = c.Jx * u - c.Jz, B = c.Jy * u - c.Jz, G = c.transverse_damping();
    const double q = -A * B;
    return q > 0 ? -G + 2 * std::sqrt(q) : -G;  // q <= 0: a damped oscillation
}

std::vector<AllowedMode> allowed_modes(int dim, const Lattice& lat) {
    std::map<double, AllowedMode> by_u;  // u rounded to 1e-12 -> mode
    for (index_t k = 0; k < lat.L[2]; ++k)
        for (index_t j = 0; j < lat.L[1]; ++j) {
            if (interrupt_requested()) throw_if_interrupted("while listing the lattice's modes; nothing written");
            for (index_t i = 0; i < lat.L[0]; ++i) {
                const index_t n[3] = {i, j, k};
                AllowedMode m;
                for (int a = 0; a < dim; ++a) {
                    m.k[a] = 2 * M_PI * double(n[a]) / double(lat.L[a]);
                    m.u += std::cos(m.k[a]) / dim;
                }
                auto it = by_u.emplace(std::round(m.u * 1e12) / 1e12, m).first;
                ++it->second.count;
            }
        }
    std::vector<AllowedMode> out;
    for (auto& entry : by_u) out.push_back(entry.second);
    return out;
}

StabilityMap::StabilityMap(int dim, const Lattice* finite) : dim_(dim) {
    if (finite) modes_ = allowed_modes(dim, *finite);
}

StabilityPoint StabilityMap::at(const Couplings& c) const {
    StabilityPoint p;
    std::vector<double> candidates;
    if (finite()) {
        for (const AllowedMode& m : modes_) candidates.push_back(m.u);
    } else {
        candidates = {-1.0, 1.0};
        const double ustar = c.modulated_mode_u();  // inside the band (physics.md 3.7)
        if (!std::isnan(ustar)) candidates.push_back(ustar);
    }
    // Largest growth. Between an end of the band and the inside, a tie goes to
    // the end (k = 0 or pi, the uniform orders); k = 0 and k = pi themselves
    // tie exactly on the first-order line Jx = -Jy (-A B is then even in u),
    // which is reported as its own label below, not given to either.
    p.growth = -HUGE_VAL;
    for (double u : candidates) {
        const double g = growth_rate(c, u);
        const bool better = g > p.growth + 1e-14 ||
                            (std::abs(g - p.growth) <= 1e-14 && std::abs(std::abs(u) - 1) < std::abs(std::abs(p.u) - 1));
        if (better) { p.growth = g; p.u = u; }
    }
    if (finite()) {
        const auto m = std::find_if(modes_.begin(), modes_.end(), [&](const AllowedMode& x) { return x.u == p.u; });
        for (int a = 0; a < 3; ++a) p.k[a] = m->k[a];
        for (int a = 0; a < dim_; ++a) if (p.k[a] > M_PI) p.k[a] -= 2 * M_PI;
    } else {
        // Every k of (1/d) sum cos k_a = u grows alike: the one with its later components
        // nearest 0 (a wave along x where there is one, else with k_x = pi, ...), as a
        // finite lattice's first allowed mode in (z, y, x) order is; continuous in u.
        double left = dim_ * p.u;  // sum of the cosines still to place
        for (int a = 0; a < dim_; ++a) {
            const double c = std::clamp(left - (dim_ - a - 1), -1.0, 1.0);
            p.k[a] = std::acos(c);
            left -= c;
        }
    }
    p.period = wavelength(p.k, dim_);  // along the stored k (what analyze calls an SDW's period)

    const bool sxy = c.Jz == 0 && c.Jx * c.Jy < 0;
    bool has_pi = !finite();
    for (const AllowedMode& m : modes_) has_pi = has_pi || m.u <= -1 + 1e-12;
    const double g0 = growth_rate(c, 1.0), gpi = growth_rate(c, -1.0);
    const bool tie = std::abs(std::abs(p.u) - 1) < 1e-12 && has_pi &&
                     std::abs(g0 - gpi) <= 1e-12 * std::max(1.0, std::abs(g0));
    // A mode of growth 0 up to roundoff (a grid point on the boundary itself) is marginal: PM.
    if (!(p.growth > 1e-12)) p.phase = "PM";
    else if (sxy) p.phase = "sXY";  // k = 0 and k = pi grow equally (physics.md section 5)
    else if (tie) p.phase = "FM/AFM";  // first-order line: k = 0 and k = pi grow equally (physics.md 3.3)
    else if (p.u >= 1 - 1e-12) p.phase = "FM";
    else if (p.u <= -1 + 1e-12) p.phase = "AFM";
    // A lattice may lack the fastest mode of the couplings (an odd ring has no
    // k = pi): its best mode off k = 0 and pi is then the nearest to one of them,
    // the seed of FM or AFM with a twist, not of an SDW (which needs a modulated
    // mode, physics.md 3.7; analyze's rule too).
    else if (std::isnan(c.modulated_mode_u())) p.phase = p.u > 0 ? "FM" : "AFM";
    else p.phase = "SDW";
    return p;
}

std::vector<LifshitzPoint> find_lifshitz_points(const Couplings& fixed, const StabilityMap& map, double j_max) {
    auto growth = [&](double jx, double jy) {
        Couplings c = fixed;
        c.Jx = jx;
        c.Jy = jy;
        return map.at(c);
    };
    // Lower boundary at this Jx: the diagonal Jy = Jx is XXZ, always PM; walk
    // down until unstable, then bisect. Returns NaN when nothing is unstable.
    auto boundary = [&](double jx) {
        double stable = jx, unstable = NAN;
        for (double step = 1e-3; step < 4 * j_max; step *= 2)
            if (growth(jx, jx - step).growth > 0) { unstable = jx - step; break; } else stable = jx - step;
        if (std::isnan(unstable)) return std::nan("");
        for (int it = 0; it < 100; ++it) {
            const double mid = 0.5 * (stable + unstable);
            (growth(jx, mid).growth > 0 ? unstable : stable) = mid;
        }
        return unstable;
    };
    // Indicator: the boundary mode is k = 0 (FM side of a Lifshitz point).
    auto fm_mode = [&](double jx, double& jy) {
        jy = boundary(jx);
        return !std::isnan(jy) && growth(jx, jy).u >= 1 - 1e-9;
    };
    // Jx over [-j_max, j_max]: the points lie at Jx > 0 for Jz > 0 and at Jx < 0
    // for Jz < 0 (the map (Jx, Jy, Jz) -> -(Jx, Jy, Jz) keeps every growth rate).
    std::vector<LifshitzPoint> out;
    const int samples = 1200;
    double jy_prev = 0;
    double prev_x = -j_max;
    bool prev = fm_mode(prev_x, jy_prev);
    for (int s = 1; s <= samples; ++s) {
        const double x = -j_max + 2 * j_max * s / samples;
        double jy = 0;
        const bool cur = fm_mode(x, jy);
        if (cur != prev) {
            double a = prev_x, b = x;
            for (int it = 0; it < 60; ++it) {
                const double mid = 0.5 * (a + b);
                double tmp = 0;
                (fm_mode(mid, tmp) == prev ? a : b) = mid;
            }
            // A Lifshitz point only if k leaves 0 continuously: on the other
            // side the boundary mode is inside the band (SDW), not k = pi
            // (that switch is the first-order FM-AFM line).
            // (On a finite lattice the mode nearest pi is off pi too: the couplings
            // there must have a modulated mode.)
            const double other = prev ? b : a;
            double jy_other = 0;
            fm_mode(other, jy_other);
            Couplings c_other = fixed;
            c_other.Jx = other;
            c_other.Jy = jy_other;
            if (!std::isnan(jy_other) && growth(other, jy_other).u > -1 + 1e-6 && !std::isnan(c_other.modulated_mode_u())) {
                double jyb = 0;
                fm_mode(0.5 * (a + b), jyb);
                out.push_back({0.5 * (a + b), jyb});
                out.push_back({jyb, 0.5 * (a + b)});  // mirror: Jx <-> Jy
            }
        }
        prev = cur;
        prev_x = x;
    }
    // The AFM side: the staggered map (Jx, Jy) -> (-Jx, -Jy) turns the mode u into -u
    // at the same growth rate, so each point has an image where k leaves pi. Added
    // where the map itself confirms it (not with dephasing that breaks the symmetry).
    const std::size_t fm = out.size();
    for (std::size_t i = 0; i < fm; ++i) {
        const StabilityPoint p = growth(out[i].Jx, out[i].Jy), q = growth(-out[i].Jx, -out[i].Jy);
        if (std::fabs(p.growth - q.growth) <= 1e-9 * std::max(1.0, std::fabs(p.growth)) && std::fabs(p.u + q.u) <= 1e-9)
            out.push_back({-out[i].Jx, -out[i].Jy, -1});
    }
    return out;
}

}  // namespace xyzmf
