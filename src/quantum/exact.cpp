// The exact method for small systems. The steady state and the gap come from
// the Liouvillian's symmetry sectors (sectors.hpp, steady_state.cpp,
// slow_modes.cpp); this file holds the time series from an initial state,
// which needs the whole density matrix (2^N x 2^N) under the Lindblad
// generator L of docs/physics.md section 1, applied matrix-free element by
// element (lindblad_element in spin_operators.hpp) and propagated by its
// truncated series, and the correlations of a density matrix.

#include <algorithm>
#include <cmath>
#include <utility>

#include "xyzmf/error.hpp"
#include "quantum.hpp"
#include "sectors.hpp"

namespace xyzmf {
namespace {

using cd = std::complex<double>;

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

private:
    SpinModel m_;
    basis_t D_;
    double lambda_ = 0;
};

double site_mean_sz(const std::vector<cd>& rho, basis_t D, int N) {
    double s = 0;
    for (basis_t i = 0; i < D; ++i) s += rho[std::size_t(i) * D + i].real() * (2.0 * popcount(i) - N) / N;
    return s;
}

// <sx> and <sy> averaged over the sites: Tr(rho sigma) = sum_i rho_{i, i^m} sigma_{i^m, i},
// with <down|sy|up> = i and <up|sy|down> = -i (a set bit is up).
void site_mean_sx_sy(const std::vector<cd>& rho, basis_t D, int N, double& sx, double& sy) {
    sx = sy = 0;
    for (int n = 0; n < N; ++n)
        for (basis_t i = 0; i < D; ++i) {
            const cd r = rho[std::size_t(i) * D + (i ^ (basis_t(1) << n))];
            sx += r.real() / N;
            sy += (bit(i, n) ? -r.imag() : r.imag()) / N;  // Re(r i) = -Im r, Re(r (-i)) = Im r
        }
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

namespace {

// The site-averaged correlations from rho given element-wise, get(k, l) = rho_kl.
template <class Get>
Correlations correlations_of(const Lattice& lat, Get get) {
    const int N = int(lat.copy_sites());
    const basis_t D = basis_t(1) << N;
    const std::vector<int> partner = displacement_partners(lat);
    Correlations out;
    for (auto& v : out.c) v.assign(std::size_t(N), 0.0);
    for (basis_t i = 0; i < D; ++i) {
        const double diag = get(i, i).real();
        for (int r = 0; r < N; ++r)
            for (int s = 0; s < N; ++s) {
                const int t = partner[std::size_t(r) * N + s];
                const cd off = get(i, i ^ ((basis_t(1) << s) | (basis_t(1) << t)));
                double terms[3];
                pair_correlation_terms(i, s, t, Amp{off.real(), off.imag()}, diag, terms);
                for (int a = 0; a < 3; ++a) out.c[a][std::size_t(r)] += terms[a] / N;
            }
    }
    return out;
}

}  // namespace

Correlations density_correlations(const Lattice& lat, const std::vector<cd>& rho) {
    const basis_t D = basis_t(1) << lat.copy_sites();
    return correlations_of(lat, [&](basis_t k, basis_t l) { return rho[std::size_t(k) * D + l]; });
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
        double sx = 0, sy = 0;
        site_mean_sx_sy(rho, D, N, sx, sy);
        out.sx_t.push_back(sx);
        out.sy_t.push_back(sy);
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

ExactResults solve_exact(const QuantumConfig& c, bool gap_on_gpu, bool progress) {
    validate(c, ParamSource::command_line());
    ExactResults out;
    if (c.series) add_series(c, Liouvillian(c), out);
    // The steady state in its symmetry sector, the gap over all sectors.
    const SectorSteadyState st = sector_steady_state(c, true, true, progress);
    const auto get = [&st](basis_t k, basis_t l) { return st.sector.element(st.c, k, l); };
    const int N = int(c.lattice.copy_sites());
    out.residual = st.residual;
    out.corr = correlations_of(c.lattice, get);
    for (basis_t i = 0; i < (basis_t(1) << N); ++i) out.sz += get(i, i).real() * (2.0 * popcount(i) - N) / N;
    if (c.gap) {
        const SectorGap g = sector_gap(c, gap_on_gpu, progress);
        out.gap = g.gap;
        out.gap_sector = g.slowest;
        out.eigenvalues = g.eigenvalues;
    }
    return out;
}

}  // namespace xyzmf
