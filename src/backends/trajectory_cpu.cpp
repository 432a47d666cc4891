// The trajectory backend in host memory: OpenMP over trajectories and
// amplitudes together, each amplitude computed by the shared per-amplitude
// physics (spin_operators.hpp).
#include <omp.h>

#include <cmath>
#include <utility>

#include "xyzmf/trajectory_backend.hpp"

namespace xyzmf {
namespace {

class CpuTrajectories final : public TrajectoryBackend {
public:
    CpuTrajectories(const SpinModel& m, const std::vector<int>& partners, int batch)
        : m_(m), partners_(partners), B_(batch), D_(m.dimension()), N_(m.spins) {
        const std::size_t n = std::size_t(B_) * D_;
        psi_.resize(n);
        out_.resize(n);
        ta_.resize(n);
        tb_.resize(n);
        // Below this many amplitudes per operation one thread is faster than a team.
        parallel_ = n >= (std::size_t(1) << 14);
        // One trajectory is enough work for the team: per-trajectory sums
        // split its amplitudes; otherwise they split the trajectories.
        wide_ = D_ >= (std::uint64_t(1) << 12);
        // The diagonal of H_eff, shared by the batch: recomputing it costs 2N bit
        // tests per amplitude and per series term, more than the N flips.
        diag_.resize(D_);
        for (std::uint64_t i = 0; i < D_; ++i) diag_[i] = heff_shifted_diagonal(m_, basis_t(i));
    }
    std::string description() const override {
        const int t = omp_get_max_threads();
        return "cpu (OpenMP, " + std::to_string(t) + (t == 1 ? " thread)" : " threads)");
    }
    int batch() const override { return B_; }

    void load(const std::vector<Amp>& states) override { psi_ = states; }

    void propagate(const std::vector<double>& h, int terms) override {
        const std::int64_t total = std::int64_t(B_) * D_;
        const SpinModel& m = m_;
        const std::uint64_t D = D_;
        const Amp* diag = diag_.data();
        const int N = N_;  // D = 2^N: element e is amplitude e & (D - 1) of trajectory e >> N
        // term 1 straight from psi: out = psi + term
#pragma omp parallel for schedule(static) if (parallel_)
        for (std::int64_t e = 0; e < total; ++e) {
            const std::int64_t b = e >> N;
            if (h[b] <= 0) continue;
            const Amp* v = psi_.data() + b * D;
            const basis_t i = basis_t(e & std::int64_t(D - 1));
            const Amp t = series_term(m, i, diag[i], h[b], [v](basis_t j) { return v[j]; });
            ta_[e] = t;
            out_[e] = psi_[e] + t;
        }
        Amp* cur = ta_.data();
        Amp* next = tb_.data();
        for (int k = 2; k <= terms; ++k) {
            const bool last = k == terms;
#pragma omp parallel for schedule(static) if (parallel_)
            for (std::int64_t e = 0; e < total; ++e) {
                const std::int64_t b = e >> N;
                if (h[b] <= 0) continue;
                const Amp* v = cur + b * D;
                const basis_t i = basis_t(e & std::int64_t(D - 1));
                const Amp t = series_term(m, i, diag[i], h[b] / k, [v](basis_t j) { return v[j]; });
                next[e] = t;
                Amp o = out_[e] + t;
                if (last) o = std::exp(-m.shift * h[b]) * o;
                out_[e] = o;
            }
            std::swap(cur, next);
        }
        if (terms < 2) {
#pragma omp parallel for schedule(static) if (parallel_)
            for (std::int64_t e = 0; e < total; ++e) {
                const std::int64_t b = e / std::int64_t(D);
                if (h[b] > 0) out_[e] = std::exp(-m.shift * h[b]) * out_[e];
            }
        }
    }

    void out_norms(std::vector<double>& n) override { norms(out_, n); }

    void accept(const std::vector<int>& take) override {
        const std::int64_t total = std::int64_t(B_) * D_;
#pragma omp parallel for schedule(static) if (parallel_)
        for (std::int64_t e = 0; e < total; ++e)
            if (take[e / std::int64_t(D_)]) psi_[e] = out_[e];
    }

    void populations(std::vector<double>& p) override {
        p.assign(std::size_t(B_) * N_, 0.0);
#pragma omp parallel for schedule(static) if (parallel_ && !wide_)
        for (int b = 0; b < B_; ++b) {
            const Amp* v = psi_.data() + std::size_t(b) * D_;
            double* pb = p.data() + std::size_t(b) * N_;
            const int N = N_;
            const std::int64_t D = D_;
#pragma omp parallel for reduction(+ : pb[:N]) schedule(static) if (wide_)
            for (std::int64_t i = 0; i < D; ++i) {
                const double w = norm2(v[i]);
                for (int n = 0; n < N; ++n)
                    if (bit(basis_t(i), n)) pb[n] += w;
            }
        }
    }

    void jump(const std::vector<int>& channel, const std::vector<double>& scale) override {
        for (int b = 0; b < B_; ++b) {
            const int c = channel[b];
            if (c < 0) continue;
            Amp* v = psi_.data() + std::size_t(b) * D_;
            const double s = scale[b];
            const std::int64_t D = D_;
            if (c < N_) {
                const basis_t up = basis_t(1) << c;
#pragma omp parallel for schedule(static) if (wide_)
                for (std::int64_t i = 0; i < D; ++i) {
                    if (basis_t(i) & up) continue;  // each pair (i, i | up) handled once, in place
                    const auto get = [v](basis_t j) { return v[j]; };
                    v[i] = s * after_decay(basis_t(i), c, get);
                    v[i | up] = Amp{};
                }
            } else {
                const int n = c - N_;
#pragma omp parallel for schedule(static) if (wide_)
                for (std::int64_t i = 0; i < D; ++i) v[i] = s * after_dephasing(basis_t(i), n, v[i]);
            }
        }
    }

    void correlations(const std::vector<int>& want, std::vector<double>& c) override {
        const int N = N_;
        c.assign(std::size_t(B_) * 3 * N, 0.0);
#pragma omp parallel for schedule(dynamic) if (parallel_ && !wide_)
        for (int b = 0; b < B_; ++b) {
            if (!want[b]) continue;
            const Amp* v = psi_.data() + std::size_t(b) * D_;
            double* cb = c.data() + std::size_t(b) * 3 * N;
            const std::int64_t D = D_;
            const int* partner = partners_.data();
#pragma omp parallel for reduction(+ : cb[:3 * N]) schedule(static) if (wide_)
            for (std::int64_t ii = 0; ii < D; ++ii) {
                const basis_t i = basis_t(ii);
                const double diag = norm2(v[i]);
                for (int r = 0; r < N; ++r)
                    for (int s = 0; s < N; ++s) {
                        const int t = partner[r * N + s];
                        const basis_t j = i ^ ((basis_t(1) << s) | (basis_t(1) << t));
                        const Amp off = v[i] * conj(v[j]);
                        double terms[3];
                        pair_correlation_terms(i, s, t, off, diag, terms);
                        cb[r] += terms[0];
                        cb[N + r] += terms[1];
                        cb[2 * N + r] += terms[2];
                    }
            }
        }
    }

private:
    void norms(const std::vector<Amp>& x, std::vector<double>& n) const {
        n.assign(std::size_t(B_), 0.0);
#pragma omp parallel for schedule(static) if (parallel_ && !wide_)
        for (int b = 0; b < B_; ++b) {
            const Amp* v = x.data() + std::size_t(b) * D_;
            double s = 0;
            const std::int64_t D = D_;
#pragma omp parallel for reduction(+ : s) schedule(static) if (wide_)
            for (std::int64_t i = 0; i < D; ++i) s += norm2(v[i]);
            n[std::size_t(b)] = s;
        }
    }

    SpinModel m_;
    std::vector<int> partners_;
    int B_;
    std::uint64_t D_;
    int N_;
    std::vector<Amp> psi_, out_, ta_, tb_;
    std::vector<Amp> diag_;  // heff_shifted_diagonal of every basis state
    bool parallel_ = true, wide_ = true;
};

}  // namespace

std::unique_ptr<TrajectoryBackend> make_cpu_trajectories(const SpinModel& m, const std::vector<int>& partners,
                                                        int batch) {
    return std::make_unique<CpuTrajectories>(m, partners, batch);
}

}  // namespace xyzmf
