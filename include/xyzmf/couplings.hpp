// Model parameters of the dissipative XYZ model (physics.md section 1), in
// units of the decay rate: Jx, Jy, Jz, gamma and the optional dephasing gamma_phi.
#pragma once

#include <cmath>

namespace xyzmf {

struct Couplings {
    double Jx = 0, Jy = 0, Jz = 0;
    double gamma = 1;
    double gamma_phi = 0;

    // Transverse damping G = gamma/2 + 2 gamma_phi (physics.md 3.5).
    double transverse_damping() const { return gamma / 2 + 2 * gamma_phi; }

    // The modulated mode of the paramagnet (physics.md 3.5, 3.7): -A B =
    // -(Jx u - Jz)(Jy u - Jz) is largest at u* = Jz (Jx + Jy) / (2 Jx Jy) when
    // Jx Jy > 0; where u* lies inside the band (-1, 1) and -A B > 0 there, the
    // fastest growing transverse wave has 0 < |k| < pi, the seed of an SDW.
    // NaN where the fastest mode is k = 0 or pi (or none grows faster than the rest).
    double modulated_mode_u() const {
        if (!(Jx * Jy > 0)) return NAN;
        const double u = Jz * (Jx + Jy) / (2 * Jx * Jy);
        return u > -1 && u < 1 && -(Jx * u - Jz) * (Jy * u - Jz) > 0 ? u : NAN;
    }
};

}  // namespace xyzmf
