// The mean-field equations of motion, physics.md section 2, written ONCE for
// host and device. Everything else (CPU loops, CUDA kernels, integrators) only
// calls these functions. Included by g++ and nvcc.
#pragma once

#include <type_traits>

#include "xyzmf/couplings.hpp"
#include "xyzmf/hd.hpp"
#include "xyzmf/lattice.hpp"
#include "xyzmf/vec3.hpp"

namespace xyzmf {

// Couplings folded for the inner loop: the 1/(2d) of the effective field is
// applied once here rather than at every site.
template <class Real>
struct SiteModel {
    Real jx, jy, jz;  // J_a / (2d)
    Real g_perp;      // gamma/2 + 2 gamma_phi
    Real gamma;

    static SiteModel make(const Couplings& c, int dim) {
        const double s = 1.0 / (2.0 * dim);
        return {Real(c.Jx * s), Real(c.Jy * s), Real(c.Jz * s), Real(c.transverse_damping()), Real(c.gamma)};
    }
    // Per-copy models of a batch are stored as kFields Reals each.
    static constexpr int kFields = 5;
    void store(Real* p) const { p[0] = jx; p[1] = jy; p[2] = jz; p[3] = g_perp; p[4] = gamma; }
    XYZMF_HD static SiteModel load(const Real* p, index_t copy) {
        p += kFields * copy;
        return {p[0], p[1], p[2], p[3], p[4]};
    }
};

// Structure-of-arrays view of one state: x, y, z blocks of N values each.
template <class Real>
struct SpinsView {
    Real* x;
    Real* y;
    Real* z;

    using Value = std::remove_const_t<Real>;  // a view of const spins yields plain Vec3<Real> values

    XYZMF_HD static SpinsView from(Real* base, index_t n) { return {base, base + n, base + 2 * n}; }
    XYZMF_HD Vec3<Value> operator[](index_t n) const { return {x[n], y[n], z[n]}; }
    XYZMF_HD void set(index_t n, Vec3<Value> v) const { x[n] = v.x; y[n] = v.y; z[n] = v.z; }
};

// ds/dt of one spin s given the SUM of its neighbours' Bloch vectors:
// precession about h = (jx Sx, jy Sy, jz Sz) plus decay toward (0, 0, -1).
template <class Real>
XYZMF_HD Vec3<Real> bloch_rhs(Vec3<Real> s, Vec3<Real> nsum, const SiteModel<Real>& m) {
    const Real hx = m.jx * nsum.x, hy = m.jy * nsum.y, hz = m.jz * nsum.z;
    return {Real(2) * (hy * s.z - hz * s.y) - m.g_perp * s.x,
            Real(2) * (hz * s.x - hx * s.z) - m.g_perp * s.y,
            Real(2) * (hx * s.y - hy * s.x) - m.gamma * (s.z + Real(1))};
}

}  // namespace xyzmf
