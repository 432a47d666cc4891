// The exact method for small systems: the density matrix (2^N x 2^N) under
// the Lindblad generator L of docs/physics.md section 1, applied matrix-free
// element by element (lindblad_element in spin_operators.hpp).
//
// L maps Hermitian matrices to Hermitian matrices, so it is a real operator
// on the real vector space of Hermitian matrices (dimension 4^N) with the same
// spectrum. Arnoldi (Spectra) runs on the propagator exp(L tau) there: its
// eigenvalues e^(lambda tau) of largest modulus are those of lambda with the
// largest real part, i.e. the steady state (lambda = 0) and the slowest
// decaying modes, while the fast modes are squeezed towards 0, which is what
// Arnoldi converges on quickly. The gap is -max Re lambda over lambda != 0.
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <Spectra/GenEigsSolver.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "xyzmf/error.hpp"
#include "quantum.hpp"

namespace xyzmf {
namespace {

using cd = std::complex<double>;

// Up to this many spins the steady state alone is one sparse LU solve of L
// (4^N unknowns: N = 6 takes 1.2 s and 0.1 GB against 6.4 s by Arnoldi, but the
// LU fills in: N = 7 took 57 s and 1.2 GB, N = 8 79 min and 24 GB, 2-core VM);
// beyond, and for the gap, the
// Arnoldi iteration below.
constexpr int kDirectMaxSpins = 6;

// Below this many elements a loop runs on one thread: the team's start and
// barrier cost more than the work (and much more on a busy machine).
constexpr std::int64_t kParallelMin = 1 << 15;

class Liouvillian {
public:
    explicit Liouvillian(const QuantumConfig& c)
        : m_(make_spin_model(c.lattice, c.couplings)), D_(m_.dimension()) {
        // |L| <= 2 |H| + gamma N (both anticommutator halves) + gamma N (jumps) + 2 gamma_phi N.
        SpinModel plain = m_;
        plain.gamma = 0;
        const double h = heff_norm_bound(plain);
        lambda_ = 2 * h + 2 * c.couplings.gamma * m_.spins + 2 * c.couplings.gamma_phi * m_.spins;
    }
    basis_t dimension() const { return D_; }
    double norm_bound() const { return lambda_; }

    void apply(const std::vector<cd>& rho, std::vector<cd>& out) const {
        out.resize(rho.size());
        const Amp* r = reinterpret_cast<const Amp*>(rho.data());
        const std::int64_t D = D_;
        const SpinModel& m = m_;
#pragma omp parallel for schedule(static) if (D * D > kParallelMin)
        for (std::int64_t i = 0; i < D; ++i)
            for (std::int64_t j = 0; j < D; ++j) {
                const Amp a = lindblad_element(m, basis_t(i), basis_t(j),
                                               [r, D](basis_t k, basis_t l) { return r[std::int64_t(k) * D + l]; });
                out[std::size_t(i * D + j)] = cd(a.re, a.im);
            }
    }

    // rho <- exp(L t) rho by the truncated series in steps of at most h_max.
    void propagate(std::vector<cd>& rho, double t, double tol) const {
        const SeriesPlan plan = plan_series(lambda_, tol);
        std::vector<cd> term, next, sum;
        while (t > 0) {
            const double h = std::min(t, plan.h_max);
            t -= h;
            sum = rho;
            term = rho;
            for (int k = 1; k <= plan.terms; ++k) {
                apply(term, next);
                const double f = h / k;
#pragma omp parallel for schedule(static) if (std::int64_t(next.size()) > kParallelMin)
                for (std::int64_t e = 0; e < std::int64_t(next.size()); ++e) {
                    next[std::size_t(e)] *= f;
                    sum[std::size_t(e)] += next[std::size_t(e)];
                }
                std::swap(term, next);
            }
            rho.swap(sum);
        }
    }

    // Hermitian matrix <-> real vector: x[iD+j] = Re rho_ij (i <= j), Im rho_ji (i > j).
    void decode(const double* x, std::vector<cd>& rho) const {
        const std::size_t D = D_;
        rho.resize(D * D);
        for (std::size_t i = 0; i < D; ++i) {
            rho[i * D + i] = x[i * D + i];
            for (std::size_t j = i + 1; j < D; ++j) {
                rho[i * D + j] = cd(x[i * D + j], x[j * D + i]);
                rho[j * D + i] = cd(x[i * D + j], -x[j * D + i]);
            }
        }
    }
    void encode(const std::vector<cd>& rho, double* x) const {
        const std::size_t D = D_;
        for (std::size_t i = 0; i < D; ++i) {
            x[i * D + i] = rho[i * D + i].real();
            for (std::size_t j = i + 1; j < D; ++j) {
                // the Hermitian part, so rounding cannot leave it
                const cd v = 0.5 * (rho[i * D + j] + std::conj(rho[j * D + i]));
                x[i * D + j] = v.real();
                x[j * D + i] = v.imag();
            }
        }
    }

    // L as a sparse real matrix on the vectors of encode/decode. Row by row: the
    // elements of rho that lindblad_element reads for output (i, j), then the
    // coefficient of each (the element evaluated on that unit matrix), so the
    // matrix is the shared physics itself, not a second copy of it.
    // skip_row: a row left out (to be replaced by the trace), -1 for none.
    Eigen::SparseMatrix<double> sparse(std::int64_t skip_row = -1) const {
        const std::int64_t D = D_;
        const SpinModel& m = m_;
        std::vector<std::vector<Eigen::Triplet<double>>> parts{std::size_t(omp_get_max_threads())};
#pragma omp parallel
        {
            std::vector<Eigen::Triplet<double>>& trip = parts[std::size_t(omp_get_thread_num())];
            std::vector<std::pair<basis_t, basis_t>> touched;
#pragma omp for schedule(dynamic, 16)
            for (std::int64_t i = 0; i < D; ++i)
                for (std::int64_t j = i; j < D; ++j) {
                    touched.clear();
                    lindblad_element(m, basis_t(i), basis_t(j), [&](basis_t k, basis_t l) {
                        touched.emplace_back(k, l);
                        return Amp{};
                    });
                    std::sort(touched.begin(), touched.end());
                    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
                    const std::int64_t re_row = i * D + j, im_row = j * D + i;
                    for (const auto& [k, l] : touched) {
                        const Amp c = lindblad_element(m, basis_t(i), basis_t(j), [k = k, l = l](basis_t a, basis_t b) {
                            return a == k && b == l ? Amp{1, 0} : Amp{};
                        });
                        if (c.re == 0 && c.im == 0) continue;
                        // rho_kl = a + i b in terms of x (decode)
                        const std::int64_t K = k, Lc = l;
                        std::int64_t a_at = -1, b_at = -1;
                        double b_sign = 1;
                        if (K == Lc) {
                            a_at = K * D + K;
                        } else if (K < Lc) {
                            a_at = K * D + Lc, b_at = Lc * D + K;
                        } else {
                            a_at = Lc * D + K, b_at = K * D + Lc, b_sign = -1;
                        }
                        // Re(c rho) = c.re a - c.im b, Im(c rho) = c.re b + c.im a
                        if (re_row != skip_row) {
                            trip.emplace_back(re_row, a_at, c.re);
                            if (b_at >= 0) trip.emplace_back(re_row, b_at, -c.im * b_sign);
                        }
                        if (i != j && im_row != skip_row) {
                            trip.emplace_back(im_row, a_at, c.im);
                            if (b_at >= 0) trip.emplace_back(im_row, b_at, c.re * b_sign);
                        }
                    }
                }
        }
        std::size_t total = 0;
        for (const auto& p : parts) total += p.size();
        std::vector<Eigen::Triplet<double>> all;
        all.reserve(total);
        for (auto& p : parts) all.insert(all.end(), p.begin(), p.end()), std::vector<Eigen::Triplet<double>>().swap(p);
        Eigen::SparseMatrix<double> A(D * D, D * D);
        A.setFromTriplets(all.begin(), all.end());
        return A;
    }

private:
    SpinModel m_;
    basis_t D_;
    double lambda_ = 0;
};

// exp(L tau) on the real Hermitian vector space, for Spectra.
struct PropagatorOp {
    using Scalar = double;
    const Liouvillian& L;
    double tau, tol;
    mutable std::vector<cd> rho;
    Eigen::Index rows() const { return Eigen::Index(L.dimension()) * L.dimension(); }
    Eigen::Index cols() const { return rows(); }
    void perform_op(const double* x, double* y) const {
        L.decode(x, rho);
        L.propagate(rho, tau, tol);
        L.encode(rho, y);
    }
};

// The steady state by one sparse LU solve: L x = 0 with the row of output
// (0, 0) replaced by Tr rho = 1 (the diagonal rows of L sum to zero, since L
// preserves the trace, so that row is redundant and the system is regular when
// the steady state is unique).
std::vector<cd> direct_steady_state(const Liouvillian& L) {
    const std::int64_t D = L.dimension(), n = D * D;
    Eigen::SparseMatrix<double> A = L.sparse(/*skip_row=*/0);
    std::vector<Eigen::Triplet<double>> trace;
    for (std::int64_t i = 0; i < D; ++i) trace.emplace_back(0, i * D + i, 1.0);
    Eigen::SparseMatrix<double> T(n, n);
    T.setFromTriplets(trace.begin(), trace.end());
    A += T;
    A.makeCompressed();
    Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>> lu;
    lu.compute(A);
    if (lu.info() != Eigen::Success)
        throw Error("exact: the sparse LU of the Liouvillian failed (" + lu.lastErrorMessage() +
                    "): the steady state may not be unique at these couplings");
    Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
    b[0] = 1;
    const Eigen::VectorXd x = lu.solve(b);
    std::vector<cd> rho;
    L.decode(x.data(), rho);
    return rho;
}

double site_mean_sz(const std::vector<cd>& rho, basis_t D, int N) {
    double s = 0;
    for (basis_t i = 0; i < D; ++i) s += rho[std::size_t(i) * D + i].real() * (2.0 * popcount(i) - N) / N;
    return s;
}

std::vector<cd> initial_density(const QuantumConfig& c, int N) {
    const basis_t D = basis_t(1) << N;
    std::vector<cd> rho(std::size_t(D) * D, 0.0);
    if (c.init == "random") {  // the average over uniformly random product states
        for (basis_t i = 0; i < D; ++i) rho[std::size_t(i) * D + i] = 1.0 / D;
        return rho;
    }
    const std::vector<Amp> psi = product_state(c.init, N, c.seed, 0);
    for (basis_t i = 0; i < D; ++i)
        for (basis_t j = 0; j < D; ++j)
            rho[std::size_t(i) * D + j] = cd(psi[i].re, psi[i].im) * cd(psi[j].re, -psi[j].im);
    return rho;
}

}  // namespace

Correlations density_correlations(const Lattice& lat, const std::vector<cd>& rho) {
    const int N = int(lat.copy_sites());
    const basis_t D = basis_t(1) << N;
    const std::vector<int> partner = displacement_partners(lat);
    Correlations out;
    for (auto& v : out.c) v.assign(std::size_t(N), 0.0);
    for (basis_t i = 0; i < D; ++i)
        for (int r = 0; r < N; ++r)
            for (int s = 0; s < N; ++s) {
                const int t = partner[std::size_t(r) * N + s];
                const basis_t j = i ^ ((basis_t(1) << s) | (basis_t(1) << t));
                const cd off = rho[std::size_t(i) * D + j];
                double terms[3];
                pair_correlation_terms(i, s, t, Amp{off.real(), off.imag()}, rho[std::size_t(i) * D + i].real(), terms);
                for (int a = 0; a < 3; ++a) out.c[a][std::size_t(r)] += terms[a] / N;
            }
    return out;
}

namespace {

// <sz>(t) and the correlations from c's initial state every sample_dt.
void add_series(const QuantumConfig& c, const Liouvillian& L, ExactResults& out) {
    const int N = int(c.lattice.copy_sites());
    const basis_t D = L.dimension();
    std::vector<cd> rho = initial_density(c, N);
    const std::int64_t nt = std::int64_t(std::floor(c.t_end / c.sample_dt + 1e-9)) + 1;
    for (std::int64_t k = 0; k < nt; ++k) {
        if (k > 0) L.propagate(rho, c.sample_dt, c.tol);
        out.t.push_back(double(k) * c.sample_dt);
        out.sz_t.push_back(site_mean_sz(rho, D, N));
        out.corr_t.push_back(density_correlations(c.lattice, rho));
    }
}

}  // namespace

ExactResults exact_series(const QuantumConfig& c) {
    validate(c, ParamSource::command_line());
    ExactResults out;
    add_series(c, Liouvillian(c), out);
    return out;
}

ExactResults solve_exact(const QuantumConfig& c) {
    validate(c, ParamSource::command_line());
    const Liouvillian L(c);
    const basis_t D = L.dimension();
    const Eigen::Index n = Eigen::Index(D) * D;
    ExactResults out;

    // Time series from the initial state, when asked.
    if (c.series) add_series(c, L, out);

    // The steady state alone: one sparse LU solve, where L's matrix fits.
    std::vector<cd> rho;
    Eigen::VectorXcd mu;
    Eigen::MatrixXcd vecs;
    Eigen::Index ss = 0;
    if (!c.gap && int(c.lattice.copy_sites()) <= kDirectMaxSpins) {
        rho = direct_steady_state(L);
        cd trace = 0;
        for (basis_t i = 0; i < D; ++i) trace += rho[std::size_t(i) * D + i];
        for (cd& e : rho) e /= trace.real();
    } else {
    // Steady state and the slowest modes. tau = 2/gamma puts the slow modes
    // (|mu| near 1) well apart from the fast ones (Re lambda ~ -gamma N / 2).
    const double tau = 2.0 / c.couplings.gamma;
    // The series only needs to be a good filter: a polynomial in L has L's
    // eigenvectors whatever its accuracy, and the eigenvalues are taken from
    // Rayleigh quotients of those (below), so 1e-6 keeps the ordering by Re lambda
    // at a third less work than an accurate exponential.
    PropagatorOp op{L, tau, 1e-6, {}};
    const Eigen::Index ncv = std::min<Eigen::Index>(n, 24);
    const Eigen::Index nev = std::min<Eigen::Index>(c.gap ? 6 : 2, ncv - 2);
    // Start from the identity (every mode present, Hermitian).
    Eigen::VectorXd start = Eigen::VectorXd::Zero(n);
    for (basis_t i = 0; i < D; ++i) start[Eigen::Index(i) * D + i] = 1.0;
    for (Eigen::Index e = 0; e < n; ++e) start[e] += 1e-3 * std::sin(1.0 + 0.7 * double(e));  // no symmetry left out
    Spectra::GenEigsSolver<PropagatorOp> eigs(op, nev, ncv);
    eigs.init(start.data());
    // 1e-11: the eigenvalues' relative accuracy; the steady state's residual
    // |L rho| comes out near rounding (it is checked and reported).
    eigs.compute(Spectra::SortRule::LargestMagn, 2000, 1e-11, Spectra::SortRule::LargestMagn);
    if (eigs.info() != Spectra::CompInfo::Successful)
        throw Error("exact: the Arnoldi iteration did not converge (" + std::to_string(eigs.num_iterations()) +
                    " restarts); the spectrum's slow part may be too crowded for this N");
    mu = eigs.eigenvalues();
    vecs = eigs.eigenvectors();
    // The steady state: the eigenvalue closest to 1.
    for (Eigen::Index k = 1; k < mu.size(); ++k)
        if (std::abs(mu[k] - 1.0) < std::abs(mu[ss] - 1.0)) ss = k;
    {
        Eigen::VectorXcd v = vecs.col(ss);
        // Real up to a phase: rotate by the phase of its largest entry.
        Eigen::Index big = 0;
        v.cwiseAbs().maxCoeff(&big);
        const cd phase = std::abs(v[big]) > 0 ? v[big] / std::abs(v[big]) : cd(1);
        Eigen::VectorXd x = (v / phase).real();
        L.decode(x.data(), rho);
        cd trace = 0;
        for (basis_t i = 0; i < D; ++i) trace += rho[std::size_t(i) * D + i];
        for (cd& e : rho) e /= trace.real();
    }
    }
    std::vector<cd> lr;
    L.apply(rho, lr);
    double num = 0, den = 0;
    for (std::size_t e = 0; e < rho.size(); ++e) num += std::norm(lr[e]), den += std::norm(rho[e]);
    out.residual = std::sqrt(num / den);
    out.corr = density_correlations(c.lattice, rho);
    out.sz = site_mean_sz(rho, D, int(c.lattice.copy_sites()));
    if (c.gap) {
        double slowest = -HUGE_VAL;
        std::vector<cd> re_v, lre;
        for (Eigen::Index k = 0; k < mu.size(); ++k) {
            // lambda = v^H L v / v^H v for the eigenvector v (ln(mu) / tau would
            // carry the filter's error and know Im lambda only modulo 2 pi / tau);
            // L is real on this space: apply it to Re v and Im v.
            const Eigen::VectorXcd v = vecs.col(k);
            auto apply_real = [&](const Eigen::VectorXd& part, Eigen::VectorXd& result) {
                L.decode(part.data(), re_v);
                L.apply(re_v, lre);
                result.resize(n);
                L.encode(lre, result.data());
            };
            Eigen::VectorXd ar, ai;
            apply_real(v.real(), ar);
            apply_real(v.imag(), ai);
            const Eigen::VectorXcd Av = ar.cast<cd>() + cd(0, 1) * ai.cast<cd>();
            const cd rq = v.dot(Av) / v.squaredNorm();  // Eigen's dot conjugates the first vector
            const cd lambda = rq;
            out.eigenvalues.push_back(lambda);
            if (k != ss) slowest = std::max(slowest, lambda.real());
        }
        out.gap = -slowest;
    }
    return out;
}

}  // namespace xyzmf
