// The slowest modes of L in a symmetry sector and the Liouvillian gap over
// all sectors.
//
// Arnoldi (Spectra) runs on the propagator exp(L tau), tau = 1/gamma: its
// eigenvalues e^(lambda tau) of largest modulus are those of lambda with the
// largest real part, i.e. the steady state and the slowest decaying modes,
// while the fast modes are squeezed towards 0 (Arnoldi on L itself is no good:
// L is far from normal and its Ritz values wander outside the spectrum). The
// series only needs to be a good filter: a polynomial in L has L's
// eigenvectors whatever its accuracy, and each eigenvalue is taken as the
// Rayleigh quotient of its eigenvector with L, so 1e-4 is enough.
#include <Eigen/Eigenvalues>
#include <Spectra/GenEigsSolver.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "xyzmf/packed_filter.hpp"
#include "xyzmf/packed_rows.hpp"
#include "progress.hpp"
#include "sectors.hpp"
#include "signals.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

using cd = std::complex<double>;

// Sectors up to this dimension are diagonalised densely.
constexpr Eigen::Index kDenseMaxDimension = 64;
// Arnoldi's tolerance on the propagator's eigenvalues: the eigenvalues of L
// themselves are Rayleigh quotients of the Ritz vectors, and for a matrix as far
// from normal as L their error follows the vectors' residual linearly: at 1e-9
// a ring of 6 with dephasing (4, 2, 1, 0.1) had its gap 3e-10 from QuTiP's, at
// 1e-10 2e-14. 20 vectors for 2 modes converge in 2-6 restarts; where the
// slowest modes come in degenerate groups (Jx = Jy, where the total sz is
// conserved) they stall for thousands, and 40 vectors for 4 modes converge at
// once (a ring of 7 at (2, 2, 1): 1 restart).
constexpr double kArnoldiTolerance = 1e-10;
constexpr Eigen::Index kArnoldiVectors = 20, kQuickRestarts = 12;
constexpr Eigen::Index kWideVectors = 40, kWideModes = 4, kWideRestarts = 2000;
// The filter exp(L tau), tau = 1/gamma, as a Chebyshev series (below), cut
// where the terms left fall below 1e-4.
constexpr double kFilterTime = 1.0, kFilterTolerance = 1e-4;

// Where A's numerical range W(A) lies (it holds the spectrum, and bounds the
// norm of any polynomial in A: Crouzeix): Re in [re_lo, re_hi], the extreme
// eigenvalues of the Hermitian part (A + A^+)/2, Im in [im_lo, im_hi], those
// of (A - A^+)/2i. For L the Hamiltonian's commutator is anti-Hermitian, so
// the real range is the dissipation's alone (a few gamma) while the imaginary
// one is the couplings' (tens of gamma).
struct NumericalRange {
    double re_lo, re_hi, im_lo, im_hi;
};

// A box that surely holds W(A): the Gershgorin discs of the two Hermitian parts.
template <class Matrix>
NumericalRange gershgorin_range(const Matrix& A) {
    using Rows = Eigen::SparseMatrix<typename Matrix::Scalar, Eigen::RowMajor>;
    const Rows adjoint = A.adjoint();  // row r: conj(A_jr), columns j sorted like A's
    NumericalRange w{HUGE_VAL, -HUGE_VAL, HUGE_VAL, -HUGE_VAL};
    for (Eigen::Index r = 0; r < A.outerSize(); ++r) {
        // Row r of (A + A^+)/2 and (A - A^+)/2i, merged from the rows of A and A^+.
        double re_centre = 0, re_radius = 0, im_centre = 0, im_radius = 0;
        typename Rows::InnerIterator a(A, r), b(adjoint, r);
        while (a || b) {
            const Eigen::Index j = !b || (a && a.col() < b.col()) ? a.col() : b.col();
            cd x = 0, y = 0;
            if (a && a.col() == j) x = cd(a.value()), ++a;
            if (b && b.col() == j) y = cd(b.value()), ++b;
            const cd h = 0.5 * (x + y), s = cd(0, -0.5) * (x - y);
            if (j == r) {
                re_centre = h.real();
                im_centre = s.real();
            } else {
                re_radius += std::abs(h);
                im_radius += std::abs(s);
            }
        }
        w.re_lo = std::min(w.re_lo, re_centre - re_radius);
        w.re_hi = std::max(w.re_hi, re_centre + re_radius);
        w.im_lo = std::min(w.im_lo, im_centre - im_radius);
        w.im_hi = std::max(w.im_hi, im_centre + im_radius);
    }
    return w;
}

// A x or A^+ x for a complex x, A real or complex.
template <class Matrix>
Eigen::VectorXcd times(const Matrix& A, const Eigen::VectorXcd& x, bool adjoint) {
    if constexpr (std::is_same_v<typename Matrix::Scalar, double>) {
        const Eigen::VectorXd re = x.real(), im = x.imag();
        Eigen::VectorXd a, b;
        if (adjoint) a = A.transpose() * re, b = A.transpose() * im;
        else a = A * re, b = A * im;
        return a.cast<cd>() + cd(0, 1) * b.cast<cd>();
    } else {
        return adjoint ? Eigen::VectorXcd(A.adjoint() * x) : Eigen::VectorXcd(A * x);
    }
}

// The extreme eigenvalues of the Hermitian operator h (a function of x) from
// kLanczosSteps of Lanczos: its Ritz values lie inside the spectrum and reach
// the ends first.
constexpr int kLanczosSteps = 60;
template <class Apply>
std::pair<double, double> lanczos_extremes(Eigen::Index n, Apply h) {
    std::uint64_t state = 0x9E3779B97F4A7C15ull;  // a fixed start vector (splitmix64)
    Eigen::VectorXcd v(n), previous = Eigen::VectorXcd::Zero(n);
    for (Eigen::Index e = 0; e < n; ++e) {
        state += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        v[e] = double((z ^ (z >> 31)) >> 11) * 0x1.0p-53 - 0.5;
    }
    v.normalize();
    std::vector<double> alpha, beta;
    double b = 0;
    for (int k = 0; k < std::min<Eigen::Index>(kLanczosSteps, n); ++k) {
        Eigen::VectorXcd w = h(v) - b * previous;
        alpha.push_back(v.dot(w).real());
        w -= alpha.back() * v;
        b = w.norm();
        if (!(b > 1e-12 * std::abs(alpha.back()) + 1e-300)) break;  // an invariant subspace: exact
        beta.push_back(b);
        previous.swap(v);
        v = w / b;
    }
    const Eigen::Index m = Eigen::Index(alpha.size());
    Eigen::MatrixXd T = Eigen::MatrixXd::Zero(m, m);
    for (Eigen::Index k = 0; k < m; ++k) {
        T(k, k) = alpha[std::size_t(k)];
        if (k + 1 < m) T(k, k + 1) = T(k + 1, k) = beta[std::size_t(k)];
    }
    const Eigen::VectorXd ritz = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(T, Eigen::EigenvaluesOnly).eigenvalues();
    return {ritz[0], ritz[m - 1]};
}

// W(A)'s box from Lanczos on the two Hermitian parts, widened by kRangeMargin
// of its width on each side (the Ritz values come from inside), and never
// wider than Gershgorin's. Gershgorin alone overestimates the imaginary width
// by half (ring of 10 at (2, 0.6, 1): 65 against 44), and the filter's length
// grows with it (70 products against 53). The imaginary range is made
// symmetric about 0: Arnoldi sees the real form, which holds A's conjugate
// too (k and -k), so the true box is; and the filter's centre must be real,
// or a real eigenvalue's e^(lambda tau) would come out as a complex pair of
// equal modulus, which Arnoldi cannot separate (a ring of 8: the quick
// Arnoldi ran out of restarts in 5 sectors of 10 with a centre 0.01i off).
constexpr double kRangeMargin = 0.03;
template <class Matrix>
NumericalRange numerical_range(const Matrix& A) {
    const NumericalRange g = gershgorin_range(A);
    const auto re = lanczos_extremes(A.rows(), [&](const Eigen::VectorXcd& x) -> Eigen::VectorXcd {
        return 0.5 * (times(A, x, false) + times(A, x, true));
    });
    const auto im = lanczos_extremes(A.rows(), [&](const Eigen::VectorXcd& x) -> Eigen::VectorXcd {
        return cd(0, -0.5) * (times(A, x, false) - times(A, x, true));
    });
    const double re_pad = kRangeMargin * (re.second - re.first), im_pad = kRangeMargin * (im.second - im.first);
    const double im_half = std::min(std::max(-g.im_lo, g.im_hi), std::max(-im.first, im.second) + im_pad);
    return {std::max(g.re_lo, re.first - re_pad), std::min(g.re_hi, re.second + re_pad), -im_half, im_half};
}

// exp(tau A) = exp(tau c) sum_k a_k P_k(Y), Y = (A - c)/beta, with c the centre
// of W(A), beta its imaginary half-width, a_0 = J_0(beta tau), a_k = 2 J_k(beta
// tau), and P_{k+1} = 2 Y P_k + P_{k-1} (P_0 = 1, P_1 = Y): the Jacobi-Anger
// expansion e^{i z x} = sum (2 - delta_k0) i^k J_k(z) T_k(x) with x = -i Y,
// T_k(x) = (-i)^k P_k(Y); real for a real A. Where W(A) is a thin box along the
// imaginary axis (L's, above) it needs about beta tau + 40 products, against
// about 4 |A|_inf tau for the Taylor series in steps (ring of 8 at the SDW
// point: 90 against 225 per filter, the gap 1.7x faster in all). The factor
// exp(tau c) is left out (Arnoldi wants eigenvectors, not eigenvalues).
struct ChebyshevFilter {
    cd centre;
    double beta = 0;
    std::vector<double> a;
};

ChebyshevFilter chebyshev_filter(const NumericalRange& w, double tau, double tol) {
    ChebyshevFilter f;
    const double half_re = 0.5 * (w.re_hi - w.re_lo), half_im = 0.5 * (w.im_hi - w.im_lo);
    f.centre = cd(0.5 * (w.re_hi + w.re_lo), 0.5 * (w.im_hi + w.im_lo));
    f.beta = std::max({half_im, half_re, 1e-12});
    // Y's range, in x = -i Y: [-1, 1] x i[-r, r]; the Bernstein ellipse
    // (cosh eta, sinh eta) through its corners, where |T_k| <= rho^k, rho = e^eta.
    const double r = half_re / f.beta;
    double lo = 1e-6, hi = 20;
    for (int it = 0; it < 200; ++it) {
        const double eta = 0.5 * (lo + hi), c = std::cosh(eta), s = std::sinh(eta);
        (1 / (c * c) + r * r / (s * s) <= 1 ? hi : lo) = eta;
    }
    const double rho = std::exp(hi), z = f.beta * tau;
    // Each term is at most |a_k| rho^k on W(A), next to values of order
    // e^{z r} there; stop once a term past k = z is below tol of that.
    // (In logarithms: rho^k and e^{z r} may overflow, J_k underflow to 0.)
    for (int k = 0; k < 100000; ++k) {
        const double J = std::cyl_bessel_j(double(k), z);
        f.a.push_back(k == 0 ? J : 2 * J);
        if (k > z && (J == 0 || std::log(std::abs(f.a.back())) + k * std::log(rho) < std::log(tol) + z * r)) break;
    }
    return f;
}

// The filter on the real vectors Spectra sees: A itself (k = 0, real
// Hermitian form), or a complex A on [Re; Im] (k != 0: the real form's
// products, with a quarter of its stored entries).
template <class Matrix>
struct SectorPropagator {
    using Scalar = double;
    using Vector = Eigen::Matrix<typename Matrix::Scalar, Eigen::Dynamic, 1>;
    static constexpr bool kComplex = !std::is_same_v<typename Matrix::Scalar, double>;
    const Matrix& A;
    ChebyshevFilter f;
    std::unique_ptr<PackedRows<typename Matrix::Scalar>> packed;  // A for the filter's products, where it fits
    std::unique_ptr<PackedFilter<typename Matrix::Scalar>> device;  // the whole filter on a GPU
    mutable Vector p0, p1, p2, sum;
    Eigen::Index rows() const { return kComplex ? 2 * A.rows() : A.rows(); }
    Eigen::Index cols() const { return rows(); }
    void multiply(const Vector& x, Vector& y) const {
        if (!packed || !packed->fits()) {
            y.noalias() = A * x;
            return;
        }
        y.resize(A.rows());
        packed->multiply(x.data(), y.data());
    }
    void perform_op(const double* x, double* y) const {
        // A stop signal ends the gap within one filter (a ring of 12: about a second).
        throw_if_interrupted("during the Liouvillian gap; nothing written");
        using S = typename Matrix::Scalar;
        const S c = S(real_or_complex(f.centre));
        const double scale = 1 / f.beta;
        load(x, p0);
        if (device) {
            sum.resize(A.rows());
            device->apply(p0.data(), sum.data());
            store(sum, y);
            return;
        }
        multiply(p0, p1);
        p1 = (p1 - c * p0) * scale;
        sum = f.a[0] * p0 + f.a[1] * p1;
        for (std::size_t k = 2; k < f.a.size(); ++k) {
            multiply(p1, p2);
            p2 = (p2 - c * p1) * (2 * scale) + p0;
            sum += f.a[k] * p2;
            p0.swap(p1);
            p1.swap(p2);
        }
        store(sum, y);
    }
    static auto real_or_complex(cd c) {
        if constexpr (kComplex) return c;
        else return c.real();
    }
    void load(const double* x, Vector& out) const {
        const Eigen::Index n = A.rows();
        if constexpr (kComplex)
            out = Eigen::Map<const Eigen::VectorXd>(x, n).cast<cd>() + cd(0, 1) * Eigen::Map<const Eigen::VectorXd>(x + n, n).cast<cd>();
        else
            out = Eigen::Map<const Eigen::VectorXd>(x, n);
    }
    void store(const Vector& in, double* y) const {
        const Eigen::Index n = A.rows();
        if constexpr (kComplex) {
            Eigen::Map<Eigen::VectorXd>(y, n) = in.real();
            Eigen::Map<Eigen::VectorXd>(y + n, n) = in.imag();
        } else {
            Eigen::Map<Eigen::VectorXd>(y, n) = in;
        }
    }
    // The real operator's product with a real vector u (rows() long).
    Eigen::VectorXd product(const Eigen::VectorXd& u) const {
        Vector z, w;
        load(u.data(), z);
        w = A * z;
        Eigen::VectorXd out(rows());
        store(w, out.data());
        return out;
    }
};

template <class Matrix>
SlowModes slow_modes_of(const Matrix& A, double gamma, int nev, const Eigen::VectorXd& start, bool gpu) {
    SlowModes out;
    SectorPropagator<Matrix> op{A, {}, {}, {}, {}, {}, {}, {}};
    const Eigen::Index n = op.rows();
    if (n > kDenseMaxDimension) {
        op.f = chebyshev_filter(numerical_range(A), kFilterTime / gamma, kFilterTolerance);
        op.packed = std::make_unique<PackedRows<typename Matrix::Scalar>>(A);
        // (A matrix that does not pack is filtered on the host: none of the gap's sizes.)
        if (gpu && op.packed->fits()) {
            op.device = make_cuda_packed_filter(*op.packed, {op.f.centre, 1 / op.f.beta, op.f.a});
            op.packed.reset();  // the device holds its own copy
        }
    }
    if (n <= kDenseMaxDimension) {
        Eigen::MatrixXd dense(n, n);
        for (Eigen::Index e = 0; e < n; ++e) dense.col(e) = op.product(Eigen::VectorXd::Unit(n, e));
        Eigen::EigenSolver<Eigen::MatrixXd> es(dense, true);
        out.lambda = es.eigenvalues();
        out.vectors = es.eigenvectors();
        return out;
    }
    // Arnoldi on the filter: 20 vectors for nev modes, or 40 for twice as many
    // where those stall (see kArnoldiTolerance).
    auto arnoldi = [&](Eigen::Index vectors, Eigen::Index modes, Eigen::Index restarts) {
        const Eigen::Index ncv = std::min<Eigen::Index>(n, vectors);
        auto eigs = std::make_unique<Spectra::GenEigsSolver<SectorPropagator<Matrix>>>(
            op, std::min<Eigen::Index>(modes, ncv - 2), ncv);
        eigs->init(start.data());
        eigs->compute(Spectra::SortRule::LargestMagn, restarts, kArnoldiTolerance, Spectra::SortRule::LargestMagn);
        return eigs;
    };
    auto eigs = arnoldi(kArnoldiVectors, nev, kQuickRestarts);
    if (eigs->info() != Spectra::CompInfo::Successful)
        eigs = arnoldi(kWideVectors, std::max<Eigen::Index>(kWideModes, 2 * nev), kWideRestarts);
    if (eigs->info() != Spectra::CompInfo::Successful)
        throw Error("exact: the Arnoldi iteration did not converge (" + std::to_string(eigs->num_iterations()) +
                    " restarts); the spectrum's slow part may be too crowded for this N");
    out.vectors = eigs->eigenvectors();
    out.lambda.resize(out.vectors.cols());
    for (Eigen::Index k = 0; k < out.vectors.cols(); ++k) {
        const Eigen::VectorXcd v = out.vectors.col(k);
        const Eigen::VectorXd ar = op.product(v.real()), ai = op.product(v.imag());
        const Eigen::VectorXcd Av = ar.cast<cd>() + cd(0, 1) * ai.cast<cd>();
        out.lambda[k] = v.dot(Av) / v.squaredNorm();  // Eigen's dot conjugates v
    }
    return out;
}

}  // namespace

SlowModes slow_modes(const SparseRowMajor& A, double gamma, int nev, const Eigen::VectorXd& start, bool gpu) {
    return slow_modes_of(A, gamma, nev, start, gpu);
}

SlowModes slow_modes(const SparseComplexRows& A, double gamma, int nev, const Eigen::VectorXd& start, bool gpu) {
    return slow_modes_of(A, gamma, nev, start, gpu);
}

namespace {
std::string gap_progress_text(std::size_t done, std::size_t total, std::size_t ruled_out) {
    std::string s = "quantum exact: gap, " + std::to_string(done) + " of " + std::to_string(total) + " sectors";
    if (ruled_out > 0) s += " (" + std::to_string(ruled_out) + " ruled out by the charge bound)";
    return s;
}
}  // namespace

SectorGap sector_gap(const QuantumConfig& c, bool gpu, bool progress) {
    const Lattice& lat = c.lattice;
    SectorGap out;
    out.gap = HUGE_VAL;
    // One task per sector, run side by side (each sector's products are too
    // small to split well), merged in a fixed order.
    // Sectors (k, parity), or (k, charge) where the total sz is conserved.
    struct Task {
        std::array<int, 3> k;
        int parity, charge;
    };
    std::vector<Task> tasks;
    const int N = int(lat.copy_sites());
    // (Only the total sz: the bound below needs it, and a staggered charge's
    // sectors q != 0 are not closed under the odd translations.)
    const SpinCharge charge = conserved_charge(make_spin_model(lat, c.couplings));
    const bool charged = charge.conserved && charge.flip == 0;
    for (int kz = 0; kz < lat.L[2]; ++kz)
        for (int ky = 0; ky < lat.L[1]; ++ky)
            for (int kx = 0; kx < lat.L[0]; ++kx) {
                // (k, q) and (-k, -q) have conjugate spectra (L commutes with
                // rho -> rho^+): one of each pair; the real form of a complex
                // sector holds both anyway.
                const std::array<int, 3> k{kx, ky, kz};
                const std::array<int, 3> minus{int((lat.L[0] - kx) % lat.L[0]), int((lat.L[1] - ky) % lat.L[1]),
                                               int((lat.L[2] - kz) % lat.L[2])};
                if (!charged) {
                    if (minus < k) continue;
                    for (int parity : {0, 1}) tasks.push_back({k, parity, OperatorSector::kAnyCharge});
                    continue;
                }
                for (int q = -N; q <= N; ++q)
                    if (std::make_pair(minus, -q) >= std::make_pair(k, q)) tasks.push_back({k, std::abs(q) % 2, q});
            }
    std::vector<std::vector<cd>> found(tasks.size());
    std::vector<double> slowest(tasks.size(), -HUGE_VAL);
    std::vector<std::exception_ptr> failed(tasks.size());
    std::vector<char> complete(tasks.size(), 1);  // every mode of the sector found
    ProgressLine line(!progress);
    // The fraction done: every sector counts from the start, weighted by its
    // size (the operators |i><j| of charge q: C(2N, N + |q|) over all k, so
    // about that over the ring's size each), and one that the bound below
    // rules out counts as done, so that the fraction never goes back.
    std::vector<double> weight(tasks.size(), 1.0);
    double weight_total = 0, weight_done = 0;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
        if (tasks[t].charge != OperatorSector::kAnyCharge)
            for (int j = 1, q = std::abs(tasks[t].charge); j <= N - q; ++j) weight[t] *= double(N + q + j) / double(j);
        weight_total += weight[t];
    }
    const std::size_t total = tasks.size();
    std::size_t done = 0, ruled_out = 0;
    StopScope* const call = current_stop_scope();  // the workers stop with the call
    auto solve = [&](const std::vector<std::size_t>& which) {
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t w = 0; w < which.size(); ++w) {
        const std::size_t t = which[w];
        const SharedStopScope same_stop(call);
        try {
            throw_if_interrupted("during the Liouvillian gap; nothing written");
            const Task& task = tasks[t];
            const OperatorSector s(c, task.k, task.parity, false, task.charge);
            if (s.dimension() > 0) {  // (an empty sector counts as done)
                const bool real_form = s.hermitian_form();
                const Eigen::Index n = real_form ? s.dimension() : 2 * s.dimension();
                Eigen::VectorXd start(n);
                for (Eigen::Index e = 0; e < n; ++e) start[e] = 1.0 + 1e-3 * std::sin(1.0 + 0.7 * double(e));
                const SlowModes m = real_form
                                        ? slow_modes(SparseRowMajor(s.hermitian_matrix(false)), c.couplings.gamma, 2, start, gpu)
                                        : slow_modes(SparseComplexRows(s.matrix()), c.couplings.gamma, 2, start, gpu);
                complete[t] = m.lambda.size() == n;
                // The steady state: the eigenvalue nearest 0 of the k = 0, even sector.
                Eigen::Index ss = -1;
                if (real_form && task.parity == 0) m.lambda.array().abs().minCoeff(&ss);
                for (Eigen::Index e = 0; e < m.lambda.size(); ++e) {
                    found[t].push_back(m.lambda[e]);
                    if (e != ss) slowest[t] = std::max(slowest[t], m.lambda[e].real());
                }
            }
#pragma omp critical(gap_progress)
            {
                ++done;
                weight_done += weight[t];
                // (the last sector's report is the forced one at the end, not a second 1)
                if (done < total) line.update(weight_done / weight_total, gap_progress_text(done, total, ruled_out));
            }
        } catch (...) {
            failed[t] = std::current_exception();
        }
    }
    };
    // Charge q: every mode of the sector has Re lambda <= -gamma |q| / 2 (L is
    // block triangular in the popcounts (n, m) of |i><j|, decays lowering both,
    // and each diagonal block is -i[H, .] - gamma (n + m) / 2 plus a dephasing
    // part whose numerical range is <= 0; n + m >= |q|). So the sectors of
    // |q| >= 2 are solved only where that bound lies above the gap of |q| <= 1
    // (without the bound, their large clusters of modes with one real part,
    // -gamma (n + m) / 2 apart from dephasing, stall Arnoldi: ring of 9 at
    // (2, 2, 1)).
    const double gamma = c.couplings.gamma;
    std::vector<std::size_t> first, later;
    for (std::size_t t = 0; t < tasks.size(); ++t)
        (tasks[t].charge == OperatorSector::kAnyCharge || std::abs(tasks[t].charge) <= 1 ? first : later).push_back(t);
    solve(first);
    double gap_first = HUGE_VAL;
    for (std::size_t t : first) gap_first = std::min(gap_first, -slowest[t]);
    std::vector<std::size_t> needed;
    double complete_above = -HUGE_VAL;
    for (std::size_t t : later) {
        const double bound = -gamma * std::abs(tasks[t].charge) / 2;
        if (-bound < gap_first + 1e-9) needed.push_back(t);
        else complete_above = std::max(complete_above, bound + 1e-9);  // its modes, all <= bound, are not listed
    }
    ruled_out = later.size() - needed.size();
    done += ruled_out;
    for (std::size_t t : later)
        if (std::find(needed.begin(), needed.end(), t) == needed.end()) weight_done += weight[t];
    solve(needed);
    if (std::none_of(failed.begin(), failed.end(), [](const std::exception_ptr& e) { return bool(e); }))
        line.update(1.0, gap_progress_text(done, total, ruled_out), true);  // the last report
    // Every eigenvalue above a sector's fastest mode found is found; above the
    // largest of those bounds, none is missing from the list.
    std::vector<cd> all;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
        if (failed[t]) {
            line.end();
            std::rethrow_exception(failed[t]);
        }
        all.insert(all.end(), found[t].begin(), found[t].end());
        if (-slowest[t] < out.gap) {
            out.gap = -slowest[t];
            const Task& task = tasks[t];
            const bool split = task.charge != OperatorSector::kAnyCharge;
            out.slowest = {task.k, task.parity, split, split ? task.charge : 0};
        }
        if (!complete[t] && !found[t].empty()) {
            double fastest = HUGE_VAL;
            for (const cd& l : found[t]) fastest = std::min(fastest, l.real());
            complete_above = std::max(complete_above, fastest - 1e-9);
        }
    }
    all.erase(std::remove_if(all.begin(), all.end(), [&](cd l) { return l.real() < complete_above; }), all.end());
    std::sort(all.begin(), all.end(), [](cd a, cd b) { return a.real() > b.real(); });
    all.resize(std::min<std::size_t>(all.size(), 6));
    out.eigenvalues = all;
    return out;
}

}  // namespace xyzmf
