// A 2D grid over two of the model parameters (Jx, Jy, Jz, gamma_phi), shared
// by `xyzmf stability` and `xyzmf sweep`: "--x Jx:-6:6:41 --y Jy:-6:6:41".
#pragma once

#include <string>
#include <vector>

#include "xyzmf/couplings.hpp"

namespace xyzmf {

struct GridAxis {
    std::string name;  // Jx, Jy, Jz or gamma_phi
    double lo = 0, hi = 0;
    int n = 1;
    // Weighted so that a grid symmetric about 0 is exactly so (value(n-1-i) = -value(i)),
    // as the staggered map (Jx, Jy) -> (-Jx, -Jy) needs; both ends exact.
    double value(int i) const {
        if (n == 1 || i == 0) return lo;
        if (i == n - 1) return hi;
        return (lo * double(n - 1 - i) + hi * double(i)) / double(n - 1);
    }
    std::vector<double> values() const;
};

// At most this many grid points (a map of 10^7 points already takes hours).
constexpr long long kMaxGridPoints = 10000000;

// "Jx:-6:6:41" -> {Jx, -6, 6, 41}; throws xyzmf::Error naming `option`.
GridAxis parse_axis(const std::string& text, const std::string& option);

struct ParamGrid {
    GridAxis x, y;
    Couplings fixed;  // values of the parameters on neither axis
    int points() const { return x.n * y.n; }
    // Couplings at point p = ix + nx * iy.
    Couplings at(int p) const;
};

}  // namespace xyzmf
