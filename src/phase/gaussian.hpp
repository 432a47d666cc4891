// Gaussian fluctuations of the paramagnet (docs/physics.md section 6).
//
// Deep in the paramagnet every spin is nearly down, so s+ -> b^+ and
// sz -> 2 b^+ b - 1 turn the model into free bosons with the quadratic
// Hamiltonian sum_k [w_k b_k^+ b_k + g_k (b_k^+ b_-k^+ + h.c.)] and decay
// gamma per mode. Each pair (k, -k) is then independent; its steady state
// (the solution of the Lyapunov equation for the second moments) has the
// closed forms derived in docs/physics.md 6.2, and everything depends on k
// only through u = (1/d) sum_l cos k_l:
//
//   w = (Jx + Jy) u - 2 Jz,  g = (Jx - Jy) u / 2,  D = gamma^2 + 4 w^2 - 16 g^2
//   poles  lambda = -G +- sqrt(4 g^2 - w^2)     (the growth rates of 3.5, G = gamma/2 + 2 gamma_phi)
//   <b_k^+ b_k> = 8 g^2 / D,   <b_k b_-k> = -2 g (2 w + i gamma) / D
//   xi^2 (k = -k) = 1 / (1 + 4 |g| / sqrt(gamma^2 + 4 w^2))
//
// The theory holds only where the paramagnet is linearly stable (D > 0 for
// every allowed k); elsewhere no numbers are given. Dephasing (gamma_phi)
// adds decay 2 gamma_phi to the poles and couples all k through the on-site
// means, solved self-consistently (docs/physics.md 6.4).
#pragma once

#include <complex>
#include <string>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"
#include "stability.hpp"

namespace xyzmf {

// The steady state of one mode pair (k, -k), or of a self-conjugate mode
// (k = -k: each component 0 or pi), at a given u. Units of gamma.
struct GaussianMode {
    double u = 0;
    double w = 0, g = 0;                       // w_k and g_k
    std::complex<double> poles[2];             // d<b_k>/dt = lambda <b_k>: the two lambda, larger real part first
    bool stable = false;                       // both Re lambda < 0 (equivalently D > 0)
    double n = NAN;                            // occupation <b_k^+ b_k>
    std::complex<double> anomalous{NAN, NAN};  // <b_k b_-k>
    double xi2 = NAN;                          // squeezing 1 + 2 n - 2 |<b_k b_-k>|, meaningful for k = -k
};
// With dephasing every mode is fed by the on-site means <b_n^+ b_n> and
// <b_n b_n> (zone averages of all modes; docs/physics.md 6.4); without, they
// do not enter.
struct OnSiteMeans {
    double nbar = 0;
    std::complex<double> abar{0, 0};
};
GaussianMode gaussian_mode(const Couplings& c, double u, const OnSiteMeans& s = {});

struct GaussianPoint {
    bool applies = false;         // the paramagnet is linearly stable: the theory holds
    std::string reason;           // why it does not apply (empty when it does)
    double relaxation_rate = NAN; // slowest rate over k: min -Re lambda (gamma); <= 0 where it does not apply
    double slowest_u = NAN;       // u of that mode
    GaussianMode k0, kpi;         // the self-conjugate modes k = 0 and k = (pi, .., pi) (kpi.u is NaN where
                                  // a finite lattice with an odd side has no k = pi)
    double sz = NAN;              // <sz> = -1 + (2/N) sum_k <b_k^+ b_k>
    double sz_error = NAN;        // error estimate of sz (0 for a finite lattice's exact sum)
    bool sz_converged = false;    // the integral reached its tolerance
    OnSiteMeans on_site;          // the self-consistent on-site means (gamma_phi > 0)
};

// The allowed k of a finite lattice, or (finite == nullptr) the infinite
// lattice, where the Brillouin-zone average is an integral computed by nested
// adaptive Gauss-Kronrod quadrature to the relative tolerance rel_tol.
class GaussianTheory {
public:
    GaussianTheory(int dim, const Lattice* finite, double rel_tol = 1e-9);
    GaussianPoint at(const Couplings& c) const;
    // The steady state per mode: every distinct u of a finite lattice, or
    // `samples` values of u evenly spaced in [-1, 1] on the infinite lattice;
    // s: the point's on-site means (at(c).on_site; they matter with dephasing).
    std::vector<GaussianMode> modes(const Couplings& c, const OnSiteMeans& s, int samples = 21) const;
    bool finite() const { return !modes_.empty(); }
    double rel_tol() const { return rel_tol_; }

private:
    int dim_;
    double rel_tol_;
    index_t sites_ = 0;
    bool has_kpi_ = true;
    std::vector<AllowedMode> modes_;
};

}  // namespace xyzmf
