// Linear stability of the paramagnet (physics.md 3.5-3.8): for every allowed
// wave vector, lambda(k) = -G + 2 sqrt(-A B) with u = (1/d) sum_l cos k_l,
// A = Jx u - Jz, B = Jy u - Jz, G = gamma/2 + 2 gamma_phi. The growth rate
// depends on k only through u, so the map is a maximisation over u.
#pragma once

#include <string>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

// Real part of the larger eigenvalue at a given u (units of gamma).
double growth_rate(const Couplings& c, double u);

// The distinct values of u among the wave vectors k_l = 2 pi n_l / L_l of a
// finite lattice (every quantity of the linear theory depends on k only
// through u), each with how many k share it and the first such k (smallest
// index, components in [0, 2 pi)). Sorted by u.
struct AllowedMode {
    double u = 0;
    double k[3] = {0, 0, 0};
    index_t count = 0;
};
std::vector<AllowedMode> allowed_modes(int dim, const Lattice& lat);

struct StabilityPoint {
    double growth = 0;        // max over allowed k of Re lambda(k)
    double u = 1;             // u of the most unstable mode
    double k[3] = {0, 0, 0};  // a wave vector with that u (the representative k, below)
    double period = 0;        // the wavelength 2 pi / |k| along the representative k (0 for k = 0)
    std::string phase;        // PM, FM, AFM, SDW, sXY, or FM/AFM where k = 0 and k = pi grow equally
                              // (the first-order line Jx = -Jy at Jz != 0)
};

// The wave vectors a lattice allows: every k_l = 2 pi n_l / L_l of a finite
// lattice, or (size 0) the infinite lattice, where u is continuous in [-1, 1].
// Representative k: finite lattice, the allowed k of that u with the smallest
// index; infinite lattice, the k of that u whose later components are nearest 0
// (in d > 1 every k on the surface u = const grows equally fast, and their
// wavelengths differ: at u = 0 in 2D from 2 to 4 sites).
class StabilityMap {
public:
    StabilityMap(int dim, const Lattice* finite);  // finite == nullptr: infinite lattice
    StabilityPoint at(const Couplings& c) const;
    bool finite() const { return !modes_.empty(); }

private:
    int dim_;
    std::vector<AllowedMode> modes_;  // finite lattice: its distinct u
};

struct LifshitzPoint {
    double Jx, Jy;
    int side = 1;  // +1: the boundary mode leaves k = 0 (FM | SDW); -1: it leaves k = pi (AFM | SDW)
};
// Points on the PM boundary in the (Jx, Jy) plane at fixed Jz, gamma,
// gamma_phi where the most unstable k leaves 0 (physics.md 3.7), found
// numerically: the boundary below the XXZ diagonal is traced by bisection in
// Jy, and the change of the boundary mode from u = 1 to u < 1 by bisection in
// Jx; mirrored points (Jx <-> Jy) are included, and so are the points where k
// leaves pi (the AFM side), the images of those under the staggered map
// (Jx, Jy) -> (-Jx, -Jy), u -> -u, each checked on the map itself.
std::vector<LifshitzPoint> find_lifshitz_points(const Couplings& fixed, const StabilityMap& map, double j_max = 6);

}  // namespace xyzmf
