// The trajectory backend in host memory. Each trajectory's four state vectors
// are its own, and the propagator works on one trajectory at a time through
// all the terms of its series, so a trajectory of up to 2^12 amplitudes
// (4 x 64 KiB) stays in a core's cache for the whole step. OpenMP splits the
// batch by trajectories when there are enough of them for the threads, and
// the amplitudes of one trajectory (one barrier per series term) otherwise.
//
// The product with H_eff is accumulated in registers over chunks of 8
// amplitudes: a bond whose two bits are both above the chunk's has one matrix
// element over it and reads a whole chunk of partners (a vector axpy), and the
// few bonds with a bit inside the chunk read a permuted chunk. Each amplitude
// still sees the shared physics (spin_operators.hpp) in its fixed order
// (diagonal, bonds 0..B-1, imaginary diagonal), so the result is the
// per-amplitude form's to the bit.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "xyzmf/trajectory_backend.hpp"

namespace xyzmf {
namespace {

// Amplitudes per tile (the unit of work of a team of threads on one trajectory).
constexpr int kTileBits = 9;
// Amplitudes accumulated together: every bond whose two bits are both 5 or
// higher has one matrix element over such a chunk, and its partners are a
// chunk too. 32 amplitudes are enough independent sums to hide the latency of
// each one's chain of bonds (with 8, the propagator took 15 % longer on the
// 2-core EPYC).
constexpr int kChunkBits = 5;
constexpr basis_t kChunk = basis_t(1) << kChunkBits;

class CpuTrajectories final : public TrajectoryBackend {
public:
    CpuTrajectories(const SpinModel& m, const std::vector<int>& partners, int batch, int keep_terms)
        : m_(m), partners_(partners), B_(batch), D_(m.dimension()), N_(m.spins), keep_(std::max(keep_terms, 0)) {
        // psi, out, then the terms: two in turn, or every one of the series.
        const std::size_t per = std::size_t(2 + std::max(keep_, 2));
        store_.resize(per * std::size_t(B_) * D_);
        for (int b = 0; b < B_; ++b) {
            Amp* base = store_.data() + per * std::size_t(b) * D_;
            psi_.push_back(base);
            out_.push_back(base + D_);
            terms_.push_back(base + 2 * D_);
        }
        step_.assign(std::size_t(B_), 0.0);
        tile_ = std::min<std::uint64_t>(D_, std::uint64_t(1) << kTileBits);
        for (int b = 0; b < m_.bonds; ++b) {
            mask_[b] = bond_mask(m_, b);
            upper_[b] = std::max(m_.bond_a[b], m_.bond_b[b]);
            for (basis_t hb = 0; hb < 2; ++hb)
                for (basis_t l = 0; l < kChunk; ++l)
                    low_flip_[b][hb][l] = upper_[b] < kChunkBits ? h_flip(m_, l, b) : h_flip(m_, (hb << upper_[b]) | l, b);
        }
        // The diagonal of H_eff, shared by the batch: recomputing it costs 2N bit
        // tests per amplitude and per series term, more than the N flips.
        diag_.resize(D_);
        for (std::uint64_t i = 0; i < D_; ++i) diag_[i] = heff_shifted_diagonal(m_, basis_t(i));
        pair_of_.assign(std::size_t(N_) * N_, -1);
        for (int r = 0; r < N_; ++r)
            for (int s = 0; s < N_; ++s) {
                const int t = partners_[std::size_t(r * N_ + s)];
                const int lo = std::min(s, t), hi = std::max(s, t);
                int q = 0;
                while (q < int(pair_s_.size()) && !(pair_s_[std::size_t(q)] == lo && pair_t_[std::size_t(q)] == hi)) ++q;
                if (q == int(pair_s_.size())) pair_s_.push_back(lo), pair_t_.push_back(hi);
                pair_of_[std::size_t(r * N_ + s)] = q;
            }
        // Below this many amplitudes a trajectory is not worth a team of threads.
        wide_ = D_ >= (std::uint64_t(1) << 12);
    }
    std::string description() const override {
        const int t = omp_get_max_threads();
        return "cpu (OpenMP, " + std::to_string(t) + (t == 1 ? " thread)" : " threads)");
    }
    int batch() const override { return B_; }

    void load(const std::vector<Amp>& states) override {
        for (int b = 0; b < B_; ++b) std::copy_n(states.data() + std::size_t(b) * D_, D_, psi_[std::size_t(b)]);
    }

    void propagate(const std::vector<double>& h, int terms) override {
        std::vector<int> act;
        for (int b = 0; b < B_; ++b)
            if (h[std::size_t(b)] > 0) act.push_back(b);
        const int n = int(act.size()), threads = omp_get_max_threads();
        kept_ = keep_ >= terms ? terms : 0;
        if (kept_ == 0) keeping_.clear();
        // Whole trajectories per thread when they share out evenly (or are too
        // small for a team); else a team on each trajectory in turn.
        const bool by_trajectory = threads == 1 || !wide_ || (n >= threads && (n % threads == 0 || n >= 3 * threads));
        if (by_trajectory) {
#pragma omp parallel for schedule(dynamic, 1) if (n > 1 && threads > 1)
            for (int k = 0; k < n; ++k) propagate_one(act[std::size_t(k)], h[std::size_t(act[std::size_t(k)])], terms, false);
        } else {
            for (int b : act) propagate_one(b, h[std::size_t(b)], terms, true);
        }
    }

    bool evaluates_within_step() const override { return keep_ > 0; }
    void keep_terms(const std::vector<int>& keep) override { keeping_ = keep; }

    void evaluate_within_step(const std::vector<double>& fraction) override {
        std::vector<int> act;
        for (int b = 0; b < B_; ++b)
            if (fraction[std::size_t(b)] > 0) act.push_back(b);
        const int n = int(act.size());
        const std::int64_t D = std::int64_t(D_);
#pragma omp parallel for schedule(static) if (n * D >= (std::int64_t(1) << 14))
        for (std::int64_t e = 0; e < n * D; ++e) {
            const int b = act[std::size_t(e / D)];
            const std::int64_t i = e % D;
            const double s = fraction[std::size_t(b)];
            const Amp* term = terms_[std::size_t(b)];
            // as propagate sums them: psi + term 1, + term 2, ..., then the damping
            double pw = s;
            Amp o = psi_[std::size_t(b)][i] + pw * term[i];
            for (int k = 2; k <= kept_; ++k) {
                pw *= s;
                o = o + pw * term[std::size_t(k - 1) * D_ + std::size_t(i)];
            }
            out_[std::size_t(b)][i] = std::exp(-m_.shift * s * step_[std::size_t(b)]) * o;
        }
    }

    void out_norms(std::vector<double>& n) override { norms(out_, n); }

    void accept(const std::vector<int>& take) override {
        for (int b = 0; b < B_; ++b)
            if (take[std::size_t(b)]) std::swap(psi_[std::size_t(b)], out_[std::size_t(b)]);
    }

    void populations(const std::vector<int>& want, std::vector<double>& p) override {
        p.assign(std::size_t(B_) * N_, 0.0);
        const int N = N_;
        const std::int64_t D = std::int64_t(D_);
        int wanted = 0;
        for (int b = 0; b < B_; ++b) wanted += want[std::size_t(b)] != 0;
#pragma omp parallel for schedule(dynamic, 1) if (wanted > 1)
        for (int b = 0; b < B_; ++b) {
            if (!want[std::size_t(b)]) continue;
            const Amp* v = psi_[std::size_t(b)];
            double* pb = p.data() + std::size_t(b) * N;
            for (std::int64_t i = 0; i < D; ++i) {
                const double w = norm2(v[i]);
                for (int s = 0; s < N; ++s)
                    if (bit(basis_t(i), s)) pb[s] += w;
            }
        }
    }

    void jump(const std::vector<int>& channel, const std::vector<double>& scale) override {
        for (int b = 0; b < B_; ++b) {
            const int c = channel[std::size_t(b)];
            if (c < 0) continue;
            Amp* v = psi_[std::size_t(b)];
            const double s = scale[std::size_t(b)];
            const std::int64_t D = std::int64_t(D_);
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
        const int P = int(pair_s_.size());
        c.assign(std::size_t(B_) * 3 * N, 0.0);
        // Each (trajectory, pair of spins) is a task whose three sums are
        // added into c afterwards in a fixed order: the same numbers on any
        // number of threads.
        std::vector<double> sums(std::size_t(B_) * P * 3, 0.0);
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
        for (int b = 0; b < B_; ++b)
            for (int q = 0; q < P; ++q)
                if (want[std::size_t(b)])
                    pair_sums(psi_[std::size_t(b)], pair_s_[std::size_t(q)], pair_t_[std::size_t(q)],
                              sums.data() + (std::size_t(b) * P + q) * 3);
        for (int b = 0; b < B_; ++b) {
            if (!want[std::size_t(b)]) continue;
            double* cb = c.data() + std::size_t(b) * 3 * N;
            for (int r = 0; r < N; ++r)
                for (int s = 0; s < N; ++s) {
                    const double* p = sums.data() + (std::size_t(b) * P + pair_of_[std::size_t(r * N + s)]) * 3;
                    cb[r] += p[0];
                    cb[N + r] += p[1];
                    cb[2 * N + r] += p[2];
                }
        }
    }

private:
    // out = exp(-shift h) sum_{k <= terms} (-i (H_eff + i shift) h)^k / k! psi for
    // trajectory b; with `team`, the calling thread opens a team that splits
    // every term's tiles (the end of each term is a barrier: the next one reads
    // amplitudes of every tile).
    void propagate_one(int b, double h, int terms, bool team) {
        const Amp* psi = psi_[std::size_t(b)];
        Amp* out = out_[std::size_t(b)];
        // Term k goes to slot k - 1 where every term is kept, else to slots 0
        // and 1 in turn (which stay in cache).
        const bool keep = kept_ > 0 && std::size_t(b) < keeping_.size() && keeping_[std::size_t(b)];
        Amp* const ta = terms_[std::size_t(b)];
        Amp* const tb = ta + D_;
        if (keep) step_[std::size_t(b)] = h;
        const double damp = std::exp(-m_.shift * h);
        const std::int64_t tiles = std::int64_t(D_ / tile_);
#pragma omp parallel if (team)
        {
            // term 1 straight from psi: out = psi + term
#pragma omp for schedule(static)
            for (std::int64_t x = 0; x < tiles; ++x) term_tile(psi, ta, out, psi, basis_t(x) * basis_t(tile_), h, terms <= 1, damp);
            Amp* cur = ta;
            Amp* next = tb;
            for (int k = 2; k <= terms; ++k) {
#pragma omp for schedule(static)
                for (std::int64_t x = 0; x < tiles; ++x)
                    term_tile(cur, next, out, nullptr, basis_t(x) * basis_t(tile_), h / k, k == terms, damp);
                if (keep) {
                    cur = next;
                    next += D_;
                } else {
                    std::swap(cur, next);
                }
            }
        }
    }

    // One series term on the tile of amplitudes [i0, i0 + tile): next =
    // -i hk (H_eff + i shift) cur there, out = (base, else out) + next, and on
    // the last term out *= damp. Chunks of kChunk amplitudes are accumulated
    // in registers over all bonds (in bond order, as heff_shifted_apply does).
    void term_tile(const Amp* cur, Amp* next, Amp* out, const Amp* base, basis_t i0, double hk, bool last,
                   double damp) const {
        const basis_t n = basis_t(tile_);
        if (n < kChunk) {  // fewer than 5 spins: the per-amplitude form
            for (basis_t i = i0; i < i0 + n; ++i) {
                const Amp t = minus_i_times(hk, heff_shifted_apply(m_, i, diag_[i], [cur](basis_t j) { return cur[j]; }));
                next[i] = t;
                const Amp x = (base ? base[i] : out[i]) + t;
                out[i] = last ? damp * x : x;
            }
            return;
        }
        for (basis_t c = i0; c < i0 + n; c += kChunk) {
            const Amp* d = diag_.data() + c;
            const Amp* v = cur + c;
            Amp acc[kChunk];
#pragma omp simd
            for (basis_t l = 0; l < kChunk; ++l) acc[l] = heff_start(d[l], v[l]);
            for (int b = 0; b < m_.bonds; ++b) {
                const basis_t low = mask_[b] & (kChunk - 1);
                const Amp* src = cur + ((c ^ mask_[b]) & ~(kChunk - 1));  // the partners' chunk
                if (low == 0) {  // both bits above the chunk: one element, partners in order
                        const double f = h_flip(m_, c, b);
#pragma omp simd
                        for (basis_t l = 0; l < kChunk; ++l) acc[l] = heff_add_bond(acc[l], f, src[l]);
                } else {
                    (this->*low_bond_[low])(acc, c, b, src);
                }
            }
            Amp* nx = next + c;
            Amp* o = out + c;
            const Amp* from = base ? base + c : o;
            for (basis_t l = 0; l < kChunk; ++l) {
                const Amp t = minus_i_times(hk, heff_finish(acc[l], d[l], v[l]));
                nx[l] = t;
                const Amp x = from[l] + t;
                o[l] = last ? damp * x : x;
            }
        }
    }

    // Bond b on a chunk where it flips bits inside the chunk (Low: those bits):
    // amplitude l's partner is element l ^ Low of the partners' chunk, and its
    // matrix element depends on l.
    // Its elements over a chunk come from a table (h_flip of the chunk's first
    // amplitudes, for either value of the bond's upper bit).
    template <basis_t Low>
    void add_low_bond(Amp (&acc)[kChunk], basis_t c, int b, const Amp* src) const {
        const double* f = low_flip_[b][(c >> upper_[b]) & 1u];
        for (basis_t l = 0; l < kChunk; ++l) acc[l] = heff_add_bond(acc[l], f[l], src[l ^ Low]);
    }

    // add_low_bond<Low> and pair_lanes<Low> by the bits of the mask inside a chunk.
    using LowBond = void (CpuTrajectories::*)(Amp (&)[kChunk], basis_t, int, const Amp*) const;
    using PairLanes = void (CpuTrajectories::*)(const Amp*, int, int, double (&)[3][kChunk]) const;
    template <basis_t... L>
    static constexpr std::array<LowBond, kChunk> low_bonds(std::integer_sequence<basis_t, L...>) {
        return {{&CpuTrajectories::add_low_bond<L>...}};
    }
    template <basis_t... L>
    static constexpr std::array<PairLanes, kChunk> pair_lanes_table(std::integer_sequence<basis_t, L...>) {
        return {{&CpuTrajectories::pair_lanes<L>...}};
    }
    const std::array<LowBond, kChunk> low_bond_ = low_bonds(std::make_integer_sequence<basis_t, kChunk>{});
    const std::array<PairLanes, kChunk> pair_lanes_ = pair_lanes_table(std::make_integer_sequence<basis_t, kChunk>{});

    // sum_i of pair_correlation_terms(i, s, t, psi_i conj(psi_j), |psi_i|^2), j = i with
    // bits s and t flipped, into out[0..3): lanes of kChunk amplitudes (the
    // partners a chunk, permuted where a bit is inside it), added up in order.
    void pair_sums(const Amp* v, int s, int t, double out[3]) const {
        const basis_t mask = (basis_t(1) << s) | (basis_t(1) << t);
        if (D_ < kChunk) {
            for (basis_t i = 0; i < basis_t(D_); ++i) {
                double terms[3];
                pair_correlation_terms(i, s, t, v[i] * conj(v[i ^ mask]), norm2(v[i]), terms);
                for (int a = 0; a < 3; ++a) out[a] += terms[a];
            }
            return;
        }
        double lanes[3][kChunk] = {};
        (this->*pair_lanes_[mask & (kChunk - 1)])(v, s, t, lanes);
        for (int a = 0; a < 3; ++a)
            for (basis_t l = 0; l < kChunk; ++l) out[a] += lanes[a][l];
    }
    template <basis_t Low>
    void pair_lanes(const Amp* v, int s, int t, double (&lanes)[3][kChunk]) const {
        const basis_t mask = (basis_t(1) << s) | (basis_t(1) << t);
        for (basis_t c = 0; c < basis_t(D_); c += kChunk) {
            const Amp* src = v + ((c ^ mask) & ~(kChunk - 1));
            for (basis_t l = 0; l < kChunk; ++l) {
                const basis_t i = c + l;
                double terms[3];
                pair_correlation_terms(i, s, t, v[i] * conj(src[l ^ Low]), norm2(v[i]), terms);
                lanes[0][l] += terms[0];
                lanes[1][l] += terms[1];
                lanes[2][l] += terms[2];
            }
        }
    }

    // |x_b|^2 of every trajectory, each summed in amplitude order (the same
    // number on any thread count).
    void norms(const std::vector<Amp*>& x, std::vector<double>& n) const {
        n.assign(std::size_t(B_), 0.0);
        const std::int64_t D = std::int64_t(D_);
#pragma omp parallel for schedule(static) if (B_ > 1)
        for (int b = 0; b < B_; ++b) {
            const Amp* v = x[std::size_t(b)];
            double s = 0;
            for (std::int64_t i = 0; i < D; ++i) s += norm2(v[i]);
            n[std::size_t(b)] = s;
        }
    }

    SpinModel m_;
    std::vector<int> partners_;
    int B_;
    std::uint64_t D_;
    int N_;
    std::vector<Amp> store_;                 // 4 vectors of 2^N amplitudes per trajectory
    std::vector<Amp*> psi_, out_, terms_;  // each trajectory's (psi and out swap on accept)
    int keep_ = 0;                         // terms kept per trajectory (0: two, in turn)
    int kept_ = 0;                         // terms the last propagate kept (0: none)
    std::vector<double> step_;             // each trajectory's h of its last propagate that kept terms
    std::vector<int> keeping_;             // keep_terms: which trajectories keep them next
    std::vector<Amp> diag_;                  // heff_shifted_diagonal of every basis state
    std::uint64_t tile_ = 1;
    basis_t mask_[kMaxBonds] = {};  // each bond's two bits
    basis_t upper_[kMaxBonds] = {};  // its upper bit
    // A bond with a bit inside a chunk: its element on amplitude l of a chunk
    // whose first amplitude has the upper bit 0 or 1.
    double low_flip_[kMaxBonds][2][kChunk] = {};
    // The pairs of spins the correlations need, each once: sa_s sa_t = sa_t sa_s,
    // so (s, t) and (t, s) share one sum; pair_of_[r N + s] is the pair of
    // (s, partner(r, s)).
    std::vector<int> pair_s_, pair_t_, pair_of_;
    bool wide_ = true;
};

}  // namespace

std::unique_ptr<TrajectoryBackend> make_cpu_trajectories(const SpinModel& m, const std::vector<int>& partners,
                                                        int batch, int keep_terms) {
    return std::make_unique<CpuTrajectories>(m, partners, batch, keep_terms);
}

}  // namespace xyzmf
