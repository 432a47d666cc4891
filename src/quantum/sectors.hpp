// Symmetry sectors of the operator space (docs/physics.md section 7): the
// lattice translations g act on a density matrix as rho -> U_g rho U_g^+, which
// maps |i><j| to |g(i)><g(j)|, and the Liouvillian commutes with them (every
// bond has its translates) and with the parity P rho P, P the product of sz on
// all sites, which multiplies |i><j| by (-1)^(popcount i + popcount j) (H flips
// spins in pairs; a decay lowers both popcounts at once). So L is block
// diagonal over (momentum k, parity p). The steady state is translation
// invariant and commutes with P: it lies in k = 0, p = even, a sector about
// 2N times smaller than the 4^N elements (ring of 12: 7.0e5 against 1.7e7),
// and is mirror symmetric too: with the mirrors in the group (reflections,
// zero momentum only) its sector halves again on a ring and quarters on a 4x3
// cluster. Where L keeps a spin charge (SpinCharge below), the sectors split
// by it too.
//
// A sector's basis: one representative pair r = (i, j) per orbit (the
// smallest key i 2^N + j over the orbit) whose stabiliser has character 1, and
// the orthonormal vectors |r, k> = sum_g chi_k(g)^* g|r> / sqrt(|G| |Stab r|),
// so g |r, k> = chi_k(g) |r, k> with chi_k(g) = exp(2 pi i sum_d k_d g_d / L_d).
// Row r of L in the sector follows from row r of L in the full space
// (lindblad_terms): each element s it reads lies in the orbit of some r', with
// g(s) = r', and contributes c chi_k(g) sqrt(|Stab r'| / |Stab r|).
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include <array>
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include "quantum.hpp"

namespace xyzmf {

// A spin charge that every term of L keeps in both |i> and <j| of |i><j|,
// so that L splits by q = Q(i) - Q(j) (a decay changes both sides alike):
// - the total sz, Q = popcount, where H moves a spin up for one down (Jx = Jy);
// - the staggered sz, Q = the up spins of one sublattice minus those of the
//   other, where H raises or lowers the two spins of a bond together
//   (Jx = -Jy) and every bond joins the two sublattices (even rings, clusters
//   with even sides): q = 0 holds the steady state of the sXY point.
struct SpinCharge {
    bool conserved = false;
    basis_t flip = 0;  // the sublattice counted negative: 0 for the total sz
    int of(basis_t i) const { return popcount(i & ~flip) - popcount(i & flip); }
};
// The total sz where both hold (Jx = Jy = 0).
SpinCharge conserved_charge(const SpinModel& m);

class OperatorSector {
public:
    using cd = std::complex<double>;

    // momentum: integers k_d in [0, L_d); parity: 0 (even) or 1 (odd).
    // reflections (zero momentum only): the group also holds the mirrors of
    // every axis longer than 2, and the sector is its invariant part, where
    // the steady state lies (L commutes with them: every bond has its mirror
    // image); a ring's is half the size, a 4x3 cluster's a quarter.
    // charge (only where L conserves a spin charge Q, see SpinCharge): the
    // sector's Q(i) - Q(j); parity must be its parity, and a staggered
    // charge must be 0 (the odd translations turn Q into -Q). kAnyCharge: no
    // such split.
    static constexpr int kAnyCharge = -1000;
    OperatorSector(const QuantumConfig& c, std::array<int, 3> momentum, int parity, bool reflections = false,
                   int charge = kAnyCharge);

    std::int64_t dimension() const { return std::int64_t(rep_.size()); }
    bool zero_momentum() const { return k_[0] == 0 && k_[1] == 0 && k_[2] == 0; }
    // Zero momentum and closed under rho -> rho^+ (charge 0 or unsplit): the
    // real Hermitian form below exists.
    bool hermitian_form() const { return zero_momentum() && (charge_ == kAnyCharge || charge_ == 0); }
    const SpinModel& model() const { return m_; }

    // L on the sector's basis (complex, any momentum).
    Eigen::SparseMatrix<cd> matrix() const;

    // hermitian_form() only: the sector's Hermitian matrices form a real space of the same
    // dimension (c_{r+} = conj(c_r), r+ the orbit of (j, i)); x holds Re c_r at
    // r and Im c_r at r+ (r < r+), c_r itself where r = r+. L as a real matrix
    // on x; with trace_row, its row 0 (output (0, 0), redundant since L keeps
    // the trace) is replaced by Tr rho.
    Eigen::SparseMatrix<double> hermitian_matrix(bool trace_row) const;
    // The coefficients c from x, and Tr rho and |rho|^2 (Frobenius) of x.
    std::vector<cd> coefficients(const double* x) const;
    double trace(const double* x) const;
    double norm2(const double* x) const;

    // rho_kl of the operator sum_r c_r |r, k>.
    cd element(const std::vector<cd>& c, basis_t k, basis_t l) const;
    // The whole 2^N x 2^N matrix (row-major): for tests and small N.
    std::vector<cd> full_matrix(const std::vector<cd>& c) const;

private:
    struct Found {
        std::int64_t index;  // -1: the orbit is not in this sector
        int g;               // g(s) = the representative
    };
    Found locate(std::uint64_t key) const;
    cd character(int g) const;

    QuantumConfig config_;
    SpinModel m_;
    int N_ = 0, G_ = 0;                   // sites, group elements
    std::array<int, 3> k_{};
    int parity_ = 0;
    int charge_ = kAnyCharge;
    SpinCharge rule_;                     // which charge (when charge_ is set)
    std::vector<basis_t> image_;          // [g][i]: basis state i moved by g
    std::vector<std::array<int, 3>> shift_;  // g's translation (its character's argument)
    std::vector<std::uint64_t> rep_;      // sorted keys i 2^N + j
    std::vector<int> stab_;               // |Stab r|
    std::vector<std::int64_t> conj_;      // k = 0: the index of r+
};

// The steady state: its coefficients on the k = 0, even sector (charge 0 where
// a spin charge is conserved), the residual
// |L rho| / |rho| and the solver that found it (steady_state.cpp).
struct SectorSteadyState {
    OperatorSector sector;
    std::vector<std::complex<double>> c;
    double residual = 0;
    std::string method;
};
// mirrors = false, charges = false: without those splits (tests).
// progress: a progress line on stderr naming the stage (building L, the incomplete
// LU, BiCGSTAB's iterations) with the elapsed time; no ETA (a stage's length is
// not known beforehand). A stop signal ends any stage at once, the matrix's build
// within seconds, with xyzmf::Error (exit code 128 + signal).
// from_sparse_lu: skip BiCGSTAB (tests: whether the incomplete LU breaks down
// near a singular L depends on the machine's roundoff, so the fallback is
// tested by asking for it).
SectorSteadyState sector_steady_state(const QuantumConfig& c, bool mirrors = true, bool charges = true,
                                      bool progress = false, bool from_sparse_lu = false);

// A sector's L as a real operator (slow_modes.cpp): hermitian_matrix at k = 0;
// elsewhere matrix() M in its real form [Re M, -Im M; Im M, Re M] on [Re; Im],
// whose spectrum is M's and its conjugate, i.e. that of k and -k together.
using SparseRowMajor = Eigen::SparseMatrix<double, Eigen::RowMajor>;
using SparseComplexRows = Eigen::SparseMatrix<std::complex<double>, Eigen::RowMajor>;

// The nev slowest modes of A (largest Re lambda), with their eigenvectors;
// small matrices give every mode. A complex A is taken in its real form
// (products with A itself: a quarter of the real form's stored entries).
struct SlowModes {
    Eigen::VectorXcd lambda;
    Eigen::MatrixXcd vectors;
};
// gpu: the filter's products on the CUDA device (include/xyzmf/packed_filter.hpp).
SlowModes slow_modes(const SparseRowMajor& A, double gamma, int nev, const Eigen::VectorXd& start, bool gpu = false);
SlowModes slow_modes(const SparseComplexRows& A, double gamma, int nev, const Eigen::VectorXd& start, bool gpu = false);

// The Liouvillian gap, -max Re lambda over every sector's modes but the
// steady state, and the six slowest eigenvalues found (the steady state's 0
// first).
struct SectorGap {
    double gap = 0;
    SectorLabel slowest;  // the sector that holds the slowest mode
    std::vector<std::complex<double>> eigenvalues;
};
// progress: a progress line on stderr (sectors done, ETA); a stop signal ends it
// within one filter application with xyzmf::Error (exit code 128 + signal).
SectorGap sector_gap(const QuantumConfig& c, bool gpu = false, bool progress = false);

}  // namespace xyzmf
