// The exact steady state in the sector that holds it (zero momentum, even
// parity, mirror symmetric; sectors.hpp): L x = 0 with one redundant row
// replaced by Tr rho = 1, on the sector's real Hermitian form.
//
// Solvers, cheapest first, each accepted only when its residual is small:
//   1. BiCGSTAB preconditioned by an incomplete LU (drop tolerance 0.1, fill
//      factor 2): at the SDW point a ring of 10 in 1.3 s, of 12 in 79 s (56 s
//      of them the incomplete LU) and 1.75 GB, the 4x3 cluster in 36 s (2-core machine; in the
//      translations' sector alone, without the mirrors, the 4x3 cluster's
//      incomplete LU took 4 min and BiCGSTAB had not converged 6 min later);
//   2. the sparse LU, for sectors up to kDirectMaxDimension;
//   3. Arnoldi on the sector's propagator exp(L tau), which converges whatever
//      the couplings (the slow modes are the propagator's largest eigenvalues)
//      but needs thousands of products: the last resort, for couplings much
//      larger than gamma, where L is nearly singular and the incomplete LU fails,
//      up to kArnoldiMaxDimension; beyond it the run stops with a message.
#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseLU>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "progress.hpp"
#include "sectors.hpp"
#include "signals.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

using cd = std::complex<double>;
using SparseD = SparseRowMajor;

constexpr std::int64_t kDirectMaxDimension = 8000;
// Arnoldi needs thousands of products: beyond a ring of 10's sector (5.3e4)
// that is hours, so there the run stops with a message instead.
constexpr std::int64_t kArnoldiMaxDimension = 60000;
constexpr int kIterativeMaxIterations = 400;
// Relative to |b| = 1, i.e. to Tr rho: |L rho| / |rho| comes out near 1e-12.
constexpr double kIterativeTolerance = 1e-13;
constexpr double kAcceptResidual = 1e-9;
// Nothing is written before the steady state is known.
const std::string kStopContext = "during the exact steady state; nothing written";

// BiCGSTAB's preconditioner: an incomplete LU factorised beforehand (by
// run_stoppably, as Ctrl-C cannot reach into Eigen's factorisation), shared,
// and a stop looked for each time BiCGSTAB applies it (twice an iteration).
class FactorisedIlu {
public:
    using Factors = Eigen::IncompleteLUT<double>;
    // on_apply: called each time, before the stop is looked for (a progress line).
    void use(std::shared_ptr<const Factors> f, std::function<void()> on_apply) {
        f_ = std::move(f);
        on_apply_ = std::move(on_apply);
    }
    // BiCGSTAB's compute(A) asks its preconditioner to factorise A: done already.
    template <typename M>
    FactorisedIlu& analyzePattern(const M&) { return *this; }
    template <typename M>
    FactorisedIlu& factorize(const M&) { return *this; }
    template <typename M>
    FactorisedIlu& compute(const M&) { return *this; }
    Eigen::ComputationInfo info() const { return f_ ? f_->info() : Eigen::InvalidInput; }
    template <typename Rhs>
    Eigen::VectorXd solve(const Rhs& b) const {
        if (on_apply_) on_apply_();
        throw_if_interrupted(kStopContext);
        return f_->solve(b);
    }

private:
    std::shared_ptr<const Factors> f_;
    std::function<void()> on_apply_;
};

Eigen::VectorXd arnoldi_steady_state(const SparseD& A, const OperatorSector& s, double gamma) {
    Eigen::VectorXd start = Eigen::VectorXd::Constant(A.rows(), 1.0);
    for (Eigen::Index e = 0; e < A.rows(); ++e) start[e] += 1e-3 * std::sin(1.0 + 0.7 * double(e));
    const SlowModes m = slow_modes(A, gamma, 2, start);
    Eigen::Index ss = 0;
    m.lambda.array().abs().minCoeff(&ss);
    Eigen::VectorXcd v = m.vectors.col(ss);
    Eigen::Index big = 0;
    v.cwiseAbs().maxCoeff(&big);
    const Eigen::VectorXd x = (v * (std::abs(v[big]) / v[big])).real();
    return x / s.trace(x.data());
}

}  // namespace

SectorSteadyState sector_steady_state(const QuantumConfig& c, bool mirrors, bool charges, bool progress,
                                      bool from_sparse_lu) {
    ProgressLine line(!progress);
    std::string stage = "building the zero-momentum sector";
    // Fraction 0 throughout: no ETA, the stage and the elapsed time only.
    const auto tell = [&line, &stage] { line.update(0, "quantum exact: steady state, " + stage); };
    tell();
    SectorSteadyState out{OperatorSector(c, {0, 0, 0}, 0, mirrors,
                                         charges && conserved_charge(make_spin_model(c.lattice, c.couplings)).conserved
                                             ? 0
                                             : OperatorSector::kAnyCharge),
                          {}, 0, ""};
    const OperatorSector& s = out.sector;
    const std::string unknowns = std::to_string(s.dimension()) + " unknowns";
    stage = "building L on " + unknowns;
    tell();
    throw_if_interrupted(kStopContext);
    const SparseD L = s.hermitian_matrix(false);
    // Column-major for the factorisations; shared with the one that may outlive a stop.
    const auto shared_A = std::make_shared<Eigen::SparseMatrix<double>>(s.hermitian_matrix(true));
    shared_A->makeCompressed();
    const Eigen::SparseMatrix<double>& A = *shared_A;
    const Eigen::Index n = A.rows();
    Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
    b[0] = 1;
    auto residual = [&](const Eigen::VectorXd& x) {
        const Eigen::VectorXd lx = L * x;
        return std::sqrt(s.norm2(lx.data()) / s.norm2(x.data()));
    };
    double last_residual = NAN;
    auto accept = [&](const Eigen::VectorXd& x, const char* method) {
        if (!x.allFinite()) return false;
        const Eigen::VectorXd y = x / s.trace(x.data());
        const double r = residual(y);
        last_residual = r;
        if (!(r < kAcceptResidual)) return false;
        out.c = s.coefficients(y.data());
        out.residual = r;
        out.method = method;
        return true;
    };

    if (!from_sparse_lu) {
        auto ilu = std::make_shared<FactorisedIlu::Factors>();
        ilu->setDroptol(0.1);
        ilu->setFillfactor(2);
        stage = "incomplete LU of " + unknowns;
        tell();
        run_stoppably([ilu, shared_A] { ilu->compute(*shared_A); }, kStopContext, tell);
        Eigen::BiCGSTAB<Eigen::SparseMatrix<double>, FactorisedIlu> solver;
        int applied = 0;  // twice an iteration
        solver.preconditioner().use(ilu, [&] {
            stage = "BiCGSTAB on " + unknowns + ", iteration " + std::to_string(applied++ / 2 + 1);
            tell();
        });
        solver.setTolerance(kIterativeTolerance);
        solver.setMaxIterations(kIterativeMaxIterations);
        solver.compute(A);
        if (solver.info() == Eigen::Success && accept(solver.solve(b), "BiCGSTAB, incomplete LU")) return out;
    }
    if (n <= kDirectMaxDimension) {
        stage = "sparse LU of " + unknowns;
        tell();
        Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>> lu;
        lu.compute(A);
        if (lu.info() == Eigen::Success && accept(lu.solve(b), "sparse LU")) return out;
    }
    if (n > kArnoldiMaxDimension)
        throw Error("exact: BiCGSTAB with an incomplete LU did not converge in " +
                    std::to_string(kIterativeMaxIterations) + " iterations (|L rho| / |rho| = " +
                    std::to_string(last_residual) + ") on a sector of " + std::to_string(n) +
                    " unknowns, too large for the slower solvers; use --method trajectories");
    stage = "Arnoldi on exp(L tau) over " + unknowns;
    tell();
    if (accept(arnoldi_steady_state(L, s, c.couplings.gamma), "Arnoldi on exp(L tau)")) return out;
    throw Error("exact: the steady state found has |L rho| / |rho| = " + std::to_string(last_residual) +
                "; the couplings may leave it not unique");
}

}  // namespace xyzmf
