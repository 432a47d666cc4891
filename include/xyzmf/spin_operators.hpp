// The quantum XYZ model (docs/physics.md section 1) on the computational basis
// of N spins, written once for the CPU loops and the CUDA kernels: basis state
// i has spin n up (sz = +1) where bit n of i is 1, down where it is 0.
//
// Matrix elements of the bond operators, derived from the Pauli matrices:
//   sx_m sx_n |i> = |i ^ mask>
//   sy_m sy_n |i> = s |i ^ mask>,  s = -1 if bits m, n are equal, +1 if not
//   sz_m sz_n |i> = s' |i>,        s' = +1 if equal, -1 if not
// so a bond of H = 1/(2d) sum (Jx sx sx + Jy sy sy + Jz sz sz) couples i to
// i ^ mask with the real amplitude (Jx - Jy)/(2d) (equal bits) or
// (Jx + Jy)/(2d) (unequal bits), and adds +-Jz/(2d) on the diagonal. H is
// real and symmetric. The jump operators are sqrt(gamma) s-_n (clear bit n)
// and sqrt(gamma_phi) sz_n; the effective Hamiltonian of the trajectories is
//   H_eff = H - (i/2) sum_n (gamma s+_n s-_n + gamma_phi)
// and its anti-Hermitian part is diagonal: -(i/2)(gamma popcount(i) + gamma_phi N).
#pragma once

#include <cstdint>

#include "xyzmf/hd.hpp"

namespace xyzmf {

// A complex amplitude that both compilers know (std::complex is not usable in
// device code); layout-compatible with std::complex<double>.
struct Amp {
    double re = 0, im = 0;
    Amp() = default;
    XYZMF_HD Amp(double r, double i) : re(r), im(i) {}
};
XYZMF_HD Amp operator+(Amp a, Amp b) { return {a.re + b.re, a.im + b.im}; }
XYZMF_HD Amp operator-(Amp a, Amp b) { return {a.re - b.re, a.im - b.im}; }
XYZMF_HD Amp operator*(double s, Amp a) { return {s * a.re, s * a.im}; }
XYZMF_HD Amp operator*(Amp a, Amp b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
XYZMF_HD Amp conj(Amp a) { return {a.re, -a.im}; }
XYZMF_HD double norm2(Amp a) { return a.re * a.re + a.im * a.im; }
XYZMF_HD Amp times_i(Amp a) { return {-a.im, a.re}; }  // i a
// Re(conj(a) b)
XYZMF_HD double re_conj_dot(Amp a, Amp b) { return a.re * b.re + a.im * b.im; }

using basis_t = std::uint32_t;  // basis index: at most 31 spins

constexpr int kMaxSpins = 26;   // 2^26 amplitudes = 1 GiB per state
constexpr int kMaxBonds = 3 * kMaxSpins;

// The model as the per-amplitude code needs it: bonds as bit pairs, the
// couplings already divided by 2d, and the diagonal shift that centres the
// anti-Hermitian part (the propagator's series then needs fewer terms; the
// shift comes back as a real factor exp(-shift t), see trajectories.cpp).
struct SpinModel {
    int spins = 0;
    int bonds = 0;
    std::uint8_t bond_a[kMaxBonds] = {}, bond_b[kMaxBonds] = {};
    double flip_equal = 0;    // (Jx - Jy)/(2d)
    double flip_unequal = 0;  // (Jx + Jy)/(2d)
    double zz = 0;            // Jz/(2d)
    double gamma = 1, gamma_phi = 0;
    double shift = 0;         // H_eff + i shift is what the series applies

    XYZMF_HD basis_t dimension() const { return basis_t(1) << spins; }
};

XYZMF_HD int bit(basis_t i, int n) { return int((i >> n) & 1u); }
XYZMF_HD int popcount(basis_t i) {
#if defined(__CUDA_ARCH__)
    return __popc(i);
#else
    return __builtin_popcount(i);
#endif
}
XYZMF_HD bool bits_equal(basis_t i, int m, int n) { return bit(i, m) == bit(i, n); }

// <i ^ mask| sy_m sy_n |i>, mask = bits m and n.
XYZMF_HD double yy_sign(basis_t i, int m, int n) { return bits_equal(i, m, n) ? -1.0 : 1.0; }
// <i| sz_m sz_n |i>
XYZMF_HD double zz_sign(basis_t i, int m, int n) { return bits_equal(i, m, n) ? 1.0 : -1.0; }

// Decay rate out of basis state i, gamma * (spins up) + gamma_phi * N: the
// anti-Hermitian part of H_eff is -(i/2) times it.
XYZMF_HD double decay_rate(const SpinModel& m, basis_t i) { return m.gamma * popcount(i) + m.gamma_phi * m.spins; }

// Diagonal of H (real part of H_eff's diagonal).
XYZMF_HD double h_diagonal(const SpinModel& m, basis_t i) {
    double d = 0;
    for (int b = 0; b < m.bonds; ++b) d += zz_sign(i, m.bond_a[b], m.bond_b[b]);
    return m.zz * d;
}

// Off-diagonal element <i ^ mask_b| H |i> of bond b (the same from either side).
XYZMF_HD double h_flip(const SpinModel& m, basis_t i, int b) {
    return bits_equal(i, m.bond_a[b], m.bond_b[b]) ? m.flip_equal : m.flip_unequal;
}
XYZMF_HD basis_t bond_mask(const SpinModel& m, int b) { return (basis_t(1) << m.bond_a[b]) | (basis_t(1) << m.bond_b[b]); }

// (H v)_i for any vector v given by get(j) = v_j: the gather form (no
// scattered writes), so every amplitude is computed independently.
template <class Get>
XYZMF_HD Amp h_apply(const SpinModel& m, basis_t i, Get get) {
    Amp acc = h_diagonal(m, i) * get(i);
    for (int b = 0; b < m.bonds; ++b) acc = acc + h_flip(m, i, b) * get(i ^ bond_mask(m, b));
    return acc;
}

// The diagonal element i of H_eff + i shift: H_ii + i (shift - decay_rate / 2).
XYZMF_HD Amp heff_shifted_diagonal(const SpinModel& m, basis_t i) {
    return {h_diagonal(m, i), m.shift - 0.5 * decay_rate(m, i)};
}

// ((H_eff + i shift) v)_i is built in three parts, in this order (a backend
// may run the bonds in another loop order, bond by bond over many amplitudes,
// and gets the same bits as long as each amplitude sees this order):
//   acc = heff_start(d, v_i)                      the real diagonal
//   acc = heff_add_bond(acc, h_flip(m, i, b), v_{i ^ bond_mask(m, b)})   b = 0 .. bonds-1
//   heff_finish(acc, d, v_i)                      the imaginary diagonal
// with d = heff_shifted_diagonal(m, i).
XYZMF_HD Amp heff_start(Amp d, Amp v) { return d.re * v; }
XYZMF_HD Amp heff_add_bond(Amp acc, double flip, Amp vj) { return acc + flip * vj; }
XYZMF_HD Amp heff_finish(Amp acc, Amp d, Amp v) { return acc + d.im * times_i(v); }
// -i h a: one factor of the series for exp(-i (H_eff + i shift) h).
XYZMF_HD Amp minus_i_times(double h, Amp a) { return {h * a.im, -h * a.re}; }

// ((H_eff + i shift) v)_i with its diagonal element d given: a backend may
// tabulate d once instead of testing 2N bits per amplitude and per term (the
// result is the same to the bit either way).
template <class Get>
XYZMF_HD Amp heff_shifted_apply(const SpinModel& m, basis_t i, Amp d, Get get) {
    const Amp v = get(i);
    Amp acc = heff_start(d, v);
    for (int b = 0; b < m.bonds; ++b) acc = heff_add_bond(acc, h_flip(m, i, b), get(i ^ bond_mask(m, b)));
    return heff_finish(acc, d, v);
}
template <class Get>
XYZMF_HD Amp heff_shifted_apply(const SpinModel& m, basis_t i, Get get) {
    return heff_shifted_apply(m, i, heff_shifted_diagonal(m, i), get);
}

// The one term of the series for exp(-i (H_eff + i shift) h) that turns
// term_k into term_{k+1} = (-i h / (k+1)) (H_eff + i shift) term_k
// (d: the diagonal element, heff_shifted_diagonal).
template <class Get>
XYZMF_HD Amp series_term(const SpinModel& m, basis_t i, Amp d, double h_over_k, Get get) {
    return minus_i_times(h_over_k, heff_shifted_apply(m, i, d, get));
}
template <class Get>
XYZMF_HD Amp series_term(const SpinModel& m, basis_t i, double h_over_k, Get get) {
    return series_term(m, i, heff_shifted_diagonal(m, i), h_over_k, get);
}

// Amplitude i after the decay jump s-_n (clears bit n): psi_{i | bit n} where
// bit n of i is 0, else 0. Unnormalised.
template <class Get>
XYZMF_HD Amp after_decay(basis_t i, int n, Get get) {
    return bit(i, n) ? Amp{} : get(i | (basis_t(1) << n));
}
// Amplitude i after the dephasing jump sz_n.
XYZMF_HD Amp after_dephasing(basis_t i, int n, Amp v) { return bit(i, n) ? v : -1.0 * v; }

// Basis state i's share of Tr(rho sa_m sa_n) for a = x, y, z, given
// off = rho_{i, i^mask} (mask = bits m, n) and diag = rho_ii; summed over i
// they are the three correlations (pure states: rho_ij = psi_i conj(psi_j)).
XYZMF_HD void pair_correlation_terms(basis_t i, int m, int n, Amp off, double diag, double out[3]) {
    if (m == n) {  // sa_m sa_m = 1
        out[0] = out[1] = out[2] = diag;
        return;
    }
    out[0] = off.re;
    out[1] = yy_sign(i, m, n) * off.re;
    out[2] = zz_sign(i, m, n) * diag;
}

// The Lindblad generator (docs/physics.md section 1), row (i, j):
//   L(rho) = -i (H_eff rho - rho H_eff^+) + gamma sum_n s-_n rho s+_n
//            + gamma_phi sum_n sz_n rho sz_n
// as its terms: visit(k, l, c) for each element rho_kl that output (i, j)
// reads, with its coefficient c, so (L rho)_ij = sum c rho_kl. An element may
// be visited more than once (an axis of length 2 has its bonds twice); the
// contributions add. The element-wise product and the sparse matrices (also
// those of the symmetry sectors) are all built from this one function.
template <class Visit>
XYZMF_HD void lindblad_terms(const SpinModel& m, basis_t i, basis_t j, Visit visit) {
    // -i (H rho - rho H) with H real symmetric: its diagonal, then the flips
    // along column j (H rho) and row i (rho H).
    double diag_re = -0.5 * (decay_rate(m, i) + decay_rate(m, j));
    for (int n = 0; n < m.spins; ++n) diag_re += bit(i, n) == bit(j, n) ? m.gamma_phi : -m.gamma_phi;
    visit(i, j, Amp{diag_re, -(h_diagonal(m, i) - h_diagonal(m, j))});
    for (int b = 0; b < m.bonds; ++b) {
        visit(i ^ bond_mask(m, b), j, Amp{0, -h_flip(m, i, b)});
        visit(i, j ^ bond_mask(m, b), Amp{0, h_flip(m, j, b)});
    }
    for (int n = 0; n < m.spins; ++n) {
        const basis_t up = basis_t(1) << n;
        if (!(i & up) && !(j & up)) visit(i | up, j | up, Amp{m.gamma, 0});
    }
}

// (L rho)_ij with rho given by get(k, l) = rho_kl.
template <class Get>
XYZMF_HD Amp lindblad_element(const SpinModel& m, basis_t i, basis_t j, Get get) {
    Amp out{};
    lindblad_terms(m, i, j, [&](basis_t k, basis_t l, Amp c) { out = out + c * get(k, l); });
    return out;
}

}  // namespace xyzmf
