// The CPU trajectory backend (src/backends/trajectory_cpu.cpp) against the
// per-amplitude form of the shared physics (spin_operators.hpp): its chunked
// product with H_eff, the kept series evaluated inside a step, and results
// that do not depend on how the threads share the batch.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>

#include "helpers.hpp"
#include "quantum.hpp"
#include "xyzmf/trajectory_backend.hpp"

namespace xyzmf {
namespace {

// Random complex states (not normalised), batch x 2^N amplitudes.
std::vector<Amp> random_states(int N, int batch, unsigned seed) {
    std::mt19937_64 g(seed);
    std::normal_distribution<double> n;
    std::vector<Amp> s(std::size_t(batch) << N);
    for (Amp& a : s) a = {n(g), n(g)};
    return s;
}

// exp(-shift h) sum_{k <= terms} (-i (H_eff + i shift) h)^k / k! psi, amplitude by
// amplitude with series_term (the form the GPU kernel runs).
std::vector<Amp> reference_series(const SpinModel& m, const Amp* psi, double h, int terms) {
    const basis_t D = m.dimension();
    std::vector<Amp> out(psi, psi + D), term(psi, psi + D), next(D);
    for (int k = 1; k <= terms; ++k) {
        for (basis_t i = 0; i < D; ++i) next[i] = series_term(m, i, h / k, [&](basis_t j) { return term[j]; });
        for (basis_t i = 0; i < D; ++i) out[i] = out[i] + next[i];
        term.swap(next);
    }
    for (Amp& a : out) a = std::exp(-m.shift * h) * a;
    return out;
}

struct Measured {
    double norm = 0;
    std::vector<double> pop, corr;
};

Measured measure(const std::vector<Amp>& v, int N, const std::vector<int>& partners) {
    Measured r;
    r.pop.assign(std::size_t(N), 0.0);
    r.corr.assign(std::size_t(3 * N), 0.0);
    for (basis_t i = 0; i < basis_t(v.size()); ++i) {
        const double w = norm2(v[i]);
        r.norm += w;
        for (int n = 0; n < N; ++n) r.pop[std::size_t(n)] += bit(i, n) ? w : 0;
        for (int d = 0; d < N; ++d)
            for (int s = 0; s < N; ++s) {
                const int t = partners[std::size_t(d * N + s)];
                double terms[3];
                pair_correlation_terms(i, s, t, v[i] * conj(v[i ^ ((basis_t(1) << s) | (basis_t(1) << t))]), w, terms);
                for (int a = 0; a < 3; ++a) r.corr[std::size_t(a * N + d)] += terms[a];
            }
    }
    return r;
}

// A ring (bonds across the chunk boundary and the wrap-around bond) and a 2D
// cluster (bonds of every span), with dephasing: one series step of every
// trajectory of a batch, then norms, populations and correlations, equal the
// per-amplitude reference to rounding. A wrong matrix element of any bond moves
// them by far more.
TEST(TrajectoryCpu, SeriesStepEqualsPerAmplitudeForm) {
    Lattice cluster = test::lattice(2, 4);
    cluster.L[1] = 3;
    for (const Lattice& lat : {test::lattice(1, 9), cluster}) {
        const SpinModel m = make_spin_model(lat, {4, -2.5, 1.3, 1, 0.2});
        const std::vector<int> partners = displacement_partners(lat);
        const int N = m.spins, B = 3, terms = 18;
        const std::vector<Amp> psi = random_states(N, B, 7);
        const std::vector<double> h = {0.05, 0.11, 0.0};  // the last one stays
        for (int keep : {0, terms}) {
            auto be = make_cpu_trajectories(m, partners, B, keep);
            be->load(psi);
            if (keep) be->keep_terms({1, 1, 1});
            be->propagate(h, terms);
            std::vector<double> norms, pop, corr;
            be->out_norms(norms);
            be->accept({1, 1, 0});
            be->populations({1, 1, 1}, pop);
            be->correlations({1, 1, 1}, corr);
            for (int b = 0; b < B; ++b) {
                const Amp* start = psi.data() + (std::size_t(b) << N);
                const std::vector<Amp> ref = h[std::size_t(b)] > 0 ? reference_series(m, start, h[std::size_t(b)], terms)
                                                                   : std::vector<Amp>(start, start + (std::size_t(1) << N));
                const Measured r = measure(ref, N, partners);
                const double scale = r.norm;
                if (h[std::size_t(b)] > 0) EXPECT_NEAR(norms[std::size_t(b)], r.norm, 1e-13 * scale);
                for (int n = 0; n < N; ++n)
                    EXPECT_NEAR(pop[std::size_t(b * N + n)], r.pop[std::size_t(n)], 1e-13 * scale)
                        << "N " << N << " trajectory " << b << " spin " << n;
                for (int v = 0; v < 3 * N; ++v)
                    EXPECT_NEAR(corr[std::size_t(b * 3 * N + v)], r.corr[std::size_t(v)], 1e-12 * scale)
                        << "N " << N << " trajectory " << b << " correlation " << v;
            }
        }
    }
}

// The kept terms of a step evaluated at a fraction s of it equal a step of s h
// (the same series, truncated at the same order), to rounding.
TEST(TrajectoryCpu, KeptSeriesInsideTheStepEqualsAShorterStep) {
    const Lattice lat = test::lattice(1, 8);
    const SpinModel m = make_spin_model(lat, {4, 2, 1, 1, 0.1});
    const std::vector<int> partners = displacement_partners(lat);
    const int B = 2, terms = 24;
    const std::vector<Amp> psi = random_states(m.spins, B, 3);
    auto kept = make_cpu_trajectories(m, partners, B, terms);
    ASSERT_TRUE(kept->evaluates_within_step());
    kept->load(psi);
    kept->keep_terms({1, 1});
    kept->propagate({0.09, 0.06}, terms);
    const std::vector<double> s = {0.3, 0.85};
    kept->evaluate_within_step(s);
    std::vector<double> n_kept, p_kept;
    kept->out_norms(n_kept);
    kept->accept({1, 1});
    kept->populations({1, 1}, p_kept);

    auto plain = make_cpu_trajectories(m, partners, B, 0);
    EXPECT_FALSE(plain->evaluates_within_step());
    plain->load(psi);
    plain->propagate({0.3 * 0.09, 0.85 * 0.06}, terms);
    std::vector<double> n_plain, p_plain;
    plain->out_norms(n_plain);
    plain->accept({1, 1});
    plain->populations({1, 1}, p_plain);
    for (int b = 0; b < B; ++b) {
        EXPECT_NEAR(n_kept[std::size_t(b)], n_plain[std::size_t(b)], 1e-13 * n_plain[std::size_t(b)]);
        // and the state moved: a step of 0 would fail this
        EXPECT_GT(std::abs(n_plain[std::size_t(b)] - measure(std::vector<Amp>(psi.begin() + (b << 8), psi.begin() + ((b + 1) << 8)), 8, partners).norm), 1e-3);
    }
    for (std::size_t k = 0; k < p_kept.size(); ++k) EXPECT_NEAR(p_kept[k], p_plain[k], 1e-13 * n_plain[k / 8]);
}

// Whole trajectories per thread, or a team on one trajectory (3 trajectories on
// 2 threads, 4096 amplitudes each), give the same numbers bit for bit.
TEST(TrajectoryCpu, SameResultsOnAnyThreadCount) {
    QuantumConfig c;
    c.lattice = test::lattice(1, 12);
    c.couplings = {4, 2, 1, 1, 0};
    c.init = "random";
    c.trajectories = 3;
    c.batch = 3;
    c.t_end = 1.5;
    c.burn_in = 0.5;
    c.sample_dt = 0.5;
    const int threads = omp_get_max_threads();
    std::vector<TrajectoryResults> r;
    for (int t : {1, 2, 3}) {
        omp_set_num_threads(t);
        r.push_back(test::quantum_trajectories(c).results);
    }
    omp_set_num_threads(threads);
    double jumps = 0;
    for (double j : r[0].jumps) jumps += j;
    EXPECT_GT(jumps, 0) << "no jump: the search was not exercised";
    for (std::size_t k = 1; k < r.size(); ++k) {
        EXPECT_EQ(r[0].sz_series, r[k].sz_series) << "threads " << k + 1;
        EXPECT_EQ(r[0].corr, r[k].corr) << "threads " << k + 1;
        EXPECT_EQ(r[0].jumps, r[k].jumps) << "threads " << k + 1;
    }
}

}  // namespace
}  // namespace xyzmf
