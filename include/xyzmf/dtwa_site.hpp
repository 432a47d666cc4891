// Dissipative truncated-Wigner (DTWA) trajectories, per site (docs/physics.md
// section 9): the discrete Wigner sample of a product state, and the exact
// action of decay and dephasing on a site's phase-space vector as Poisson jumps.
// Written once for host and device; the coherent part is bloch_rhs.hpp's
// precession with the damping switched off (SiteModel with G = gamma = 0).
//
// Random numbers: Philox4x32-10 keyed by the seed, counter (site, trajectory,
// step, stream), so that a site's draws depend only on where it is in the run,
// never on the backend, the batch or the thread count.
#pragma once

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>

#include "xyzmf/hd.hpp"
#include "xyzmf/lattice.hpp"
#include "xyzmf/philox_lanes.hpp"
#include "xyzmf/vec3.hpp"

namespace xyzmf {
namespace dtwa {

// Four uniform numbers in (0, 1) from one Philox call; 32 random bits each
// (enough for jump decisions of probability >= 2^-32).
struct Uniforms {
    double u[4];
};
XYZMF_HD Uniforms uniforms(std::uint64_t seed, std::uint64_t site, std::uint64_t trajectory, std::uint32_t step,
                           std::uint32_t stream) {
    r123::Philox4x32 rng;
    const r123::Philox4x32::key_type key = {{std::uint32_t(seed), std::uint32_t(seed >> 32)}};
    // 40 bits of site and 24 of trajectory share the first two words: up to 1.1e12
    // sites per lattice and 1.7e7 trajectories (checked by validate()).
    const std::uint64_t where = site | (trajectory << 40);
    const r123::Philox4x32::ctr_type ctr = {{std::uint32_t(where), std::uint32_t(where >> 32), step, stream}};
    const r123::Philox4x32::ctr_type r = rng(ctr, key);
    Uniforms out;
    for (int k = 0; k < 4; ++k) out.u[k] = (double(r.v[k]) + 0.5) * 0x1.0p-32;
    return out;
}

constexpr std::uint32_t kInitialStep = 0xffffffffu;  // the step number of the initial draws

// The discrete Wigner sample of a spin in the pure state along the unit vector
// n: +1 along n and +-1 (probability 1/2 each) along two axes perpendicular to
// it, so the sample lies on the sphere |s|^2 = 3 and averages to n.
XYZMF_HD Vec3<double> initial_sample(Vec3<double> n, double u1, double u2) {
    // e1, e2: an orthonormal pair perpendicular to n (for n = -z: x and -y, so
    // that "down" samples are (+-1, +-1, -1)).
    Vec3<double> a = (n.x * n.x < 0.5) ? Vec3<double>{1, 0, 0} : Vec3<double>{0, 1, 0};
    const double an = a.x * n.x + a.y * n.y + a.z * n.z;
    Vec3<double> e1{a.x - an * n.x, a.y - an * n.y, a.z - an * n.z};
    const double l1 = 1 / ::sqrt(e1.x * e1.x + e1.y * e1.y + e1.z * e1.z);
    e1 = {e1.x * l1, e1.y * l1, e1.z * l1};
    const Vec3<double> e2{n.y * e1.z - n.z * e1.y, n.z * e1.x - n.x * e1.z, n.x * e1.y - n.y * e1.x};
    const double s1 = u1 < 0.5 ? -1.0 : 1.0, s2 = u2 < 0.5 ? -1.0 : 1.0;
    return {n.x + s1 * e1.x + s2 * e2.x, n.y + s1 * e1.y + s2 * e2.y, n.z + s1 * e1.z + s2 * e2.z};
}

// Number of events of a Poisson process of mean `mean` (small: a few per
// hundred steps), by inversion of its distribution at u; p0 = exp(-mean), the
// chance of none, computed once per pass by the caller.
XYZMF_HD int poisson(double mean, double p0, double u) {
    if (u <= p0) return 0;  // by far the most common case
    double p = p0, cdf = p0;
    int n = 0;
    while (u > cdf && n < 64) {
        ++n;
        p *= mean / n;
        cdf += p;
    }
    return n;
}

// One decay jump (physics.md 8.3): z to -1, and x, y each to +1 with
// probability (1 + s/2) / 2, else -1, so that their means halve and their
// squares are 1: the exact single-spin action of the decay on every Pauli
// string, and the sample stays on |s|^2 = 3.
template <class Real>
XYZMF_HD void decay_jump(Vec3<Real>& s, double ux, double uy) {
    s.x = ux < 0.5 + 0.25 * double(s.x) ? Real(1) : Real(-1);
    s.y = uy < 0.5 + 0.25 * double(s.y) ? Real(1) : Real(-1);
    s.z = Real(-1);
}

// The dissipation of one site over a time tau (physics.md 8.3): Poisson
// numbers of decay jumps (rate gamma) and of dephasing flips (rate gamma_phi,
// each reversing x and y), applied exactly. Its means gamma tau and
// gamma_phi tau, and their exp(-mean), come in `Rates`. `stream` tells the half
// steps of a step apart.
struct Rates {
    double decay = 0, decay_p0 = 1;      // gamma tau, exp(-gamma tau)
    double dephase = 0, dephase_p0 = 1;  // gamma_phi tau, exp(-gamma_phi tau)
    static Rates over(double gamma, double gamma_phi, double tau) {
        return {gamma * tau, ::exp(-gamma * tau), gamma_phi * tau, ::exp(-gamma_phi * tau)};
    }
};

// The dissipation of half a step (physics.md 8.3): Poisson numbers of decay
// jumps and of dephasing flips, from the uniforms ud and uf; a jump's own
// numbers come from the calls `stream`, stream + 2, ... of the boundary's counter.
template <class Real>
XYZMF_HD void dissipate_half(Vec3<Real>& s, const Rates& rates, double ud, double uf, std::uint64_t seed,
                             std::uint64_t site, std::uint64_t trajectory, std::uint32_t boundary, std::uint32_t stream) {
    const int jumps = poisson(rates.decay, rates.decay_p0, ud);
    const int flips = poisson(rates.dephase, rates.dephase_p0, uf);
    Uniforms r{};
    for (int j = 0; j < jumps; ++j) {  // two jumps per call
        if (j % 2 == 0) r = uniforms(seed, site, trajectory, boundary, stream + 2u * std::uint32_t(j / 2));
        decay_jump(s, r.u[2 * (j % 2)], r.u[2 * (j % 2) + 1]);
    }
    if (flips % 2 == 1) {
        s.x = -s.x;
        s.y = -s.y;
    }
}

// The dissipation around the boundary b between steps b - 1 and b: the last half
// of step b - 1 (`before`) and the first half of step b (`after`), each over
// dt/2. One Philox call gives both halves' Poisson numbers, so a step costs one
// call a site; a half applied on its own (before a record) draws the same numbers
// as when both run together, so records never change a trajectory.
template <class Real>
XYZMF_HD void dissipate_boundary(Vec3<Real>& s, const Rates& rates, std::uint64_t seed, std::uint64_t site,
                                 std::uint64_t trajectory, std::uint32_t boundary, bool before, bool after) {
    const Uniforms r = uniforms(seed, site, trajectory, boundary, 0);
    if (before) dissipate_half(s, rates, r.u[0], r.u[1], seed, site, trajectory, boundary, 1);
    if (after) dissipate_half(s, rates, r.u[2], r.u[3], seed, site, trajectory, boundary, 2);
}

// The dissipation around one boundary between steps, as a pass applies it to
// every site it reads (Backend::dissipate, or the fused RK4 pass's load, which
// saves a pass over memory a step). Copy b of a batch is trajectory
// first_trajectory + b.
struct BoundaryJumps {
    bool on = false;                // false: the pass applies nothing
    std::uint64_t seed = 1;
    std::int64_t first_trajectory = 0;
    std::uint32_t boundary = 0;     // between steps boundary - 1 and boundary
    bool before = false, after = false;
    Rates rates;                    // over half a step
    XYZMF_HD std::uint64_t trajectory(index_t copy) const { return std::uint64_t(first_trajectory + copy); }
};

// The jumps at one site of one trajectory.
template <class Real>
XYZMF_HD void dissipate_site(const BoundaryJumps& J, Vec3<Real>& s, std::uint64_t site, std::uint64_t trajectory) {
    dissipate_boundary(s, J.rates, J.seed, site, trajectory, J.boundary, J.before, J.after);
}

// The smallest 32-bit Philox word that can start an event of a process whose
// chance of none is p0: below it, u = (r + 1/2) 2^-32 < p0 for sure (one less
// than exact, so the float arithmetic never matters: a word at the edge only
// takes the exact path).
inline std::uint64_t quiet_below(double p0) {
    const double t = p0 * 0x1.0p32 - 1;  // < 2^32: p0 <= 1
    return t <= 0 ? 0 : std::uint64_t(t);
}

// Applies the jumps to n consecutive sites (site0, site0 + 1, ...) of one
// trajectory, stored at x[i], y[i], z[i]. On an x86 host, Philox runs on
// several sites at once (philox_lanes.hpp) to find the few where an event can
// happen (a few per hundred steps each), and only those take
// dissipate_boundary: the same numbers as calling it on every site, bit for bit.
template <class Real>
XYZMF_HD void dissipate_run(const BoundaryJumps& J, Real* x, Real* y, Real* z, int n, std::uint64_t site0,
                            std::uint64_t trajectory) {
    auto exact = [&](int i) {
        Vec3<Real> v{x[i], y[i], z[i]};
        dissipate_site(J, v, site0 + std::uint64_t(i), trajectory);
        x[i] = v.x;
        y[i] = v.y;
        z[i] = v.z;
    };
#if XYZMF_PHILOX_LANES && !defined(__CUDA_ARCH__)
    using namespace philox_lanes;
    constexpr std::uint64_t kNever = std::uint64_t(1) << 32;  // above every word: no event
    const std::uint64_t qd = quiet_below(J.rates.decay_p0), qf = quiet_below(J.rates.dephase_p0);
    const Lanes q0 = Lanes{} + (J.before ? qd : kNever), q1 = Lanes{} + (J.before ? qf : kNever);
    const Lanes q2 = Lanes{} + (J.after ? qd : kNever), q3 = Lanes{} + (J.after ? qf : kNever);
    const std::uint32_t k0 = std::uint32_t(J.seed), k1 = std::uint32_t(J.seed >> 32);
    const Lanes lanes = iota(), lo = Lanes{} + 0xffffffffu;
    for (int i = 0; i < n; i += kLanes) {
        const Lanes where = (lanes + (site0 + std::uint64_t(i))) | (trajectory << 40);  // as uniforms() packs it
        Lanes c[4] = {where & lo, where >> 32, Lanes{} + J.boundary, Lanes{}};
        philox4x32_10(c, k0, k1);
        const Lanes loud = (c[0] >= q0) | (c[1] >= q1) | (c[2] >= q2) | (c[3] >= q3);
        for (int j = 0; j < kLanes && i + j < n; ++j)
            if (loud[j]) exact(i + j);
    }
#else
    for (int i = 0; i < n; ++i) exact(i);
#endif
}
}  // namespace dtwa

// One dissipation pass over a batch of trajectories (Backend::dissipate): the
// state holds lat.copies trajectories, copy b being trajectory first + b. A pass
// applies the halves around one boundary between steps (both, when no record
// falls there). DTWA's steps fold it into the RK4 pass (FusedArgs::jumps); this
// pass is for the halves before a record, and for steppers that cannot fold.
template <class Real>
struct DissipateArgs {
    Real* s;                        // padded x, y, z blocks (lat.component_stride() apart)
    Lattice lat;
    dtwa::BoundaryJumps jumps;
};

// The pass over copy `copy`'s sites [first, first + n) (element site + copy_sites * copy).
template <class Real>
XYZMF_HD void dissipate_sites(const DissipateArgs<Real>& A, index_t copy, index_t first, int n) {
    const index_t N = A.lat.component_stride(), e = first + A.lat.copy_sites() * copy;
    dtwa::dissipate_run(A.jumps, A.s + e, A.s + N + e, A.s + 2 * N + e, n, std::uint64_t(first),
                        A.jumps.trajectory(copy));
}

}  // namespace xyzmf
