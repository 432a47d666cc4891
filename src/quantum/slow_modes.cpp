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
#include <Spectra/GenEigsSolver.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "sectors.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

using cd = std::complex<double>;

// Sectors up to this dimension are diagonalised densely.
constexpr Eigen::Index kDenseMaxDimension = 64;
// Arnoldi's tolerance on the propagator's eigenvalues: the eigenvalues of L
// themselves are Rayleigh quotients (more accurate than this), and the steady
// state's residual is checked. 1e-9 against 1e-11: a ring of 8's gap in 3/4
// of the time, the same to 1e-12.
constexpr double kArnoldiTolerance = 1e-9;
constexpr Eigen::Index kArnoldiVectors = 20;
// The filter exp(L tau): tau = 1/gamma and a series accurate to 1e-4 (against
// 2/gamma and 1e-6: a ring of 8 at (2, 0.6, 1) in 7.5 s instead of 12, the same
// to 1e-15). Two modes per sector: 10.2 s instead of 13.4 at (4, 2, 1), the gap
// the same to 4e-11.
constexpr double kFilterTime = 1.0, kFilterTolerance = 1e-4;

struct SectorPropagator {
    using Scalar = double;
    const SparseRowMajor& A;
    SeriesPlan plan;
    double tau;
    mutable Eigen::VectorXd v, term, next, sum;
    Eigen::Index rows() const { return A.rows(); }
    Eigen::Index cols() const { return A.cols(); }
    void perform_op(const double* x, double* y) const {
        v = Eigen::Map<const Eigen::VectorXd>(x, A.rows());
        for (double t = tau; t > 0;) {
            const double h = std::min(t, plan.h_max);
            t -= h;
            sum = v;
            term = v;
            for (int k = 1; k <= plan.terms; ++k) {
                next.noalias() = A * term;
                term = next * (h / k);
                sum += term;
            }
            v.swap(sum);
        }
        Eigen::Map<Eigen::VectorXd>(y, A.rows()) = v;
    }
};

double max_row_sum(const SparseRowMajor& A) {  // bounds the norm (max norm)
    double bound = 0;
    for (Eigen::Index r = 0; r < A.rows(); ++r) {
        double row = 0;
        for (SparseRowMajor::InnerIterator it(A, r); it; ++it) row += std::abs(it.value());
        bound = std::max(bound, row);
    }
    return bound;
}

}  // namespace

SlowModes slow_modes(const SparseRowMajor& A, double gamma, int nev, const Eigen::VectorXd& start) {
    SlowModes out;
    const Eigen::Index n = A.rows();
    if (n <= kDenseMaxDimension) {
        Eigen::EigenSolver<Eigen::MatrixXd> es(Eigen::MatrixXd(A), true);
        out.lambda = es.eigenvalues();
        out.vectors = es.eigenvectors();
        return out;
    }
    SectorPropagator op{A, plan_series(max_row_sum(A), kFilterTolerance), kFilterTime / gamma, {}, {}, {}, {}};
    const Eigen::Index ncv = std::min<Eigen::Index>(n, kArnoldiVectors);
    Spectra::GenEigsSolver<SectorPropagator> eigs(op, std::min<Eigen::Index>(nev, ncv - 2), ncv);
    eigs.init(start.data());
    eigs.compute(Spectra::SortRule::LargestMagn, 2000, kArnoldiTolerance, Spectra::SortRule::LargestMagn);
    if (eigs.info() != Spectra::CompInfo::Successful)
        throw Error("exact: the Arnoldi iteration did not converge (" + std::to_string(eigs.num_iterations()) +
                    " restarts); the spectrum's slow part may be too crowded for this N");
    out.vectors = eigs.eigenvectors();
    out.lambda.resize(out.vectors.cols());
    for (Eigen::Index k = 0; k < out.vectors.cols(); ++k) {
        const Eigen::VectorXcd v = out.vectors.col(k);
        const Eigen::VectorXd ar = A * v.real(), ai = A * v.imag();
        const Eigen::VectorXcd Av = ar.cast<cd>() + cd(0, 1) * ai.cast<cd>();
        out.lambda[k] = v.dot(Av) / v.squaredNorm();  // Eigen's dot conjugates v
    }
    return out;
}

SparseRowMajor realified(const Eigen::SparseMatrix<cd>& M) {
    const Eigen::Index n = M.rows();
    std::vector<Eigen::Triplet<double>> t;
    t.reserve(std::size_t(4 * M.nonZeros()));
    for (Eigen::Index col = 0; col < M.outerSize(); ++col)
        for (Eigen::SparseMatrix<cd>::InnerIterator it(M, col); it; ++it) {
            const Eigen::Index r = it.row(), c = it.col();
            const double re = it.value().real(), im = it.value().imag();
            t.emplace_back(r, c, re);
            t.emplace_back(n + r, n + c, re);
            if (im != 0) t.emplace_back(r, n + c, -im), t.emplace_back(n + r, c, im);
        }
    SparseRowMajor R(2 * n, 2 * n);
    R.setFromTriplets(t.begin(), t.end());
    return R;
}

SectorGap sector_gap(const QuantumConfig& c) {
    const Lattice& lat = c.lattice;
    SectorGap out;
    out.gap = HUGE_VAL;
    // One task per sector, run side by side (each sector's products are too
    // small to split well), merged in a fixed order.
    std::vector<std::pair<std::array<int, 3>, int>> tasks;
    for (int kz = 0; kz < lat.L[2]; ++kz)
        for (int ky = 0; ky < lat.L[1]; ++ky)
            for (int kx = 0; kx < lat.L[0]; ++kx) {
                // k and -k have conjugate spectra (L commutes with rho -> rho^+): one
                // of each pair; the real form of a k != 0 sector holds both anyway.
                const std::array<int, 3> k{kx, ky, kz};
                const std::array<int, 3> minus{int((lat.L[0] - kx) % lat.L[0]), int((lat.L[1] - ky) % lat.L[1]),
                                               int((lat.L[2] - kz) % lat.L[2])};
                if (!(minus < k)) tasks.emplace_back(k, 0), tasks.emplace_back(k, 1);
            }
    std::vector<std::vector<cd>> found(tasks.size());
    std::vector<double> slowest(tasks.size(), -HUGE_VAL);
    std::vector<std::string> failed(tasks.size());
    std::vector<char> complete(tasks.size(), 1);  // every mode of the sector found
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t t = 0; t < tasks.size(); ++t) {
        try {
            const auto& [k, parity] = tasks[t];
            const OperatorSector s(c, k, parity);
            if (s.dimension() == 0) continue;
            const bool real_form = s.zero_momentum();
            const SparseRowMajor A = real_form ? SparseRowMajor(s.hermitian_matrix(false)) : realified(s.matrix());
            Eigen::VectorXd start(A.rows());
            for (Eigen::Index e = 0; e < A.rows(); ++e) start[e] = 1.0 + 1e-3 * std::sin(1.0 + 0.7 * double(e));
            const SlowModes m = slow_modes(A, c.couplings.gamma, 2, start);
            complete[t] = m.lambda.size() == A.rows();
            // The steady state: the eigenvalue nearest 0 of the k = 0, even sector.
            Eigen::Index ss = -1;
            if (real_form && parity == 0) m.lambda.array().abs().minCoeff(&ss);
            for (Eigen::Index e = 0; e < m.lambda.size(); ++e) {
                found[t].push_back(m.lambda[e]);
                if (e != ss) slowest[t] = std::max(slowest[t], m.lambda[e].real());
            }
        } catch (const std::exception& e) {
            failed[t] = e.what();
        }
    }
    // Every eigenvalue above a sector's fastest mode found is found; above the
    // largest of those bounds, none is missing from the list.
    std::vector<cd> all;
    double complete_above = -HUGE_VAL;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
        if (!failed[t].empty()) throw Error(failed[t]);
        all.insert(all.end(), found[t].begin(), found[t].end());
        out.gap = std::min(out.gap, -slowest[t]);
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
