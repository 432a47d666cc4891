// Model parameters of the dissipative XYZ model (physics.md section 1), in
// units of the decay rate: Jx, Jy, Jz, gamma and the optional dephasing gamma_phi.
#pragma once

namespace xyzmf {

struct Couplings {
    double Jx = 0, Jy = 0, Jz = 0;
    double gamma = 1;
    double gamma_phi = 0;

    // Transverse damping G = gamma/2 + 2 gamma_phi (physics.md 3.5).
    double transverse_damping() const { return gamma / 2 + 2 * gamma_phi; }
};

}  // namespace xyzmf
