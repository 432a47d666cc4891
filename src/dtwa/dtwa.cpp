// Dissipative truncated-Wigner trajectories (dtwa.hpp, docs/physics.md 8):
// batches of trajectories as copies of the lattice on the mean-field engine.
// A step of dt is Strang-split: the dissipation of dt/2 (Poisson jumps,
// Backend::dissipate), one RK4 step of the undamped precession (Rk4 with
// gamma = gamma_phi = 0), the dissipation of dt/2. Observables are taken on
// the host at every record; a batch's sums go to the file when it finishes.
#include "dtwa.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include "dtwa_file.hpp"
#include "backend_select.hpp"
#include "xyzmf/dtwa_site.hpp"
#include "xyzmf/error.hpp"
#include "classify.hpp"
#include "integrators.hpp"
#include "initial_state.hpp"
#include "memory_info.hpp"
#include "output_file.hpp"
#include "progress.hpp"
#include "run_config.hpp"
#include "schema.hpp"
#include "signals.hpp"
#include "structure_factor.hpp"
#include "vortices.hpp"

namespace xyzmf {

namespace {
using V = ParamValue;
constexpr std::int64_t kMaxTrajectories = std::int64_t(1) << 24;  // 24 bits of the random counter
constexpr std::int64_t kMaxDtwaSites = std::int64_t(1) << 40;     // 40 bits of it
}  // namespace

const ParamTable<DtwaConfig>& dtwa_parameters() {
    auto number = [](const ParamSpec& spec, auto field) { return number_param<DtwaConfig>(spec, field); };
    static const ParamTable<DtwaConfig> table = [&] {
        ParamTable<DtwaConfig> t;
        append_part(t, couplings_parameters(), [](auto& c) -> auto& { return c.couplings; });
        append_part(t, lattice_parameters(), [](auto& c) -> auto& { return c.lattice; });
        const ParamTable<DtwaConfig> rest = {
            {ParamSpec{"init", "--init", ParamKind::text, "", 0, 0},
             [](const DtwaConfig& c) -> V { return c.init; },
             [](DtwaConfig& c, const V& v) { c.init = as_text(v); }},
            number({"trajectories", "--trajectories", ParamKind::integer, "", 1, double(kMaxTrajectories)},
                   [](auto& c) -> auto& { return c.trajectories; }),
            number({"batch", "--batch", ParamKind::integer, "", 0, 1e6}, [](auto& c) -> auto& { return c.batch; }),
            number({"seed", "--seed", ParamKind::integer, "", 0, kMaxSeed - 1000}, [](auto& c) -> auto& { return c.seed; }),
            number(ParamSpec{"dt", "--dt", ParamKind::real, "1/gamma", 0, 1}.lo_excluded(), [](auto& c) -> auto& { return c.dt; }),
            number({"t_end", "--t-end", ParamKind::real, "1/gamma", 0, kMaxTime}, [](auto& c) -> auto& { return c.t_end; }),
            number(ParamSpec{"record_every", "--record-every", ParamKind::real, "1/gamma", 0, kMaxTime}.lo_excluded(),
                   [](auto& c) -> auto& { return c.record_every; }),
        };
        t.insert(t.end(), rest.begin(), rest.end());
        return t;
    }();
    return table;
}

Vec3<double> dtwa_init_direction(const std::string& init) {
    const std::array<double, 3> v = pure_state_direction(init);  // (DTWA samples pure product states)
    return {v[0], v[1], v[2]};
}

void validate(const DtwaConfig& c, const ParamSource& src) {
    const auto& table = dtwa_parameters();
    check_all(table, c, src);
    check_lattice(c.lattice, src, "--size");
    if (c.lattice.copy_sites() > kMaxDtwaSites)
        refuse(src, "--size", "at most 2^40 sites (the random numbers' counter; got " +
                                  std::to_string(c.lattice.copy_sites()) + ")");
    try {
        dtwa_init_direction(c.init);
    } catch (const Error& e) {
        refuse(src, find_param(table, "init"), std::string(e.what()).substr(std::string("--init: ").size()));
    }
    if (c.t_end / c.dt > 4e9) refuse(src, find_param(table, "dt"), "gives more than 4e9 steps (the random numbers' counter)");
    const double steps = std::round(c.t_end / c.dt);
    if (std::abs(steps * c.dt - c.t_end) > 1e-9 * std::max(1.0, c.t_end))
        refuse(src, find_param(table, "t_end"),
               "must be a whole number of steps of --dt (got " + value_text(c.t_end) + " / " + value_text(c.dt) + ")");
    if (c.record_every < c.dt * (1 - 1e-12))
        refuse(src, find_param(table, "record_every"), "must be at least --dt (got " + value_text(c.record_every) + ")");
    if (c.t_end / c.record_every > 1e6) refuse(src, find_param(table, "record_every"), "gives more than 1e6 records");
    // As --t-end: records fall on steps, and the file stores the interval it was given.
    const double every = std::round(c.record_every / c.dt);
    if (std::abs(every * c.dt - c.record_every) > 1e-9 * c.record_every)
        refuse(src, find_param(table, "record_every"),
               "must be a whole number of steps of --dt (got " + value_text(c.record_every) + " / " + value_text(c.dt) + ")");
    if (c.record_every > c.t_end * (1 + 1e-12) && c.t_end > 0)
        refuse(src, find_param(table, "record_every"),
               "must be at most --t-end (got " + value_text(c.record_every) + " > " + value_text(c.t_end) + ")");
}

std::int64_t dtwa_steps(const DtwaConfig& c) { return std::int64_t(std::llround(c.t_end / c.dt)); }

std::vector<std::int64_t> dtwa_record_steps(const DtwaConfig& c) {
    const std::int64_t n = dtwa_steps(c), K = std::max<std::int64_t>(1, std::llround(c.record_every / c.dt));
    std::vector<std::int64_t> r;
    for (std::int64_t s = 0; s < n; s += K) r.push_back(s);
    r.push_back(n);
    return r;
}

std::int64_t dtwa_batch_size(const DtwaConfig& c) {
    if (c.batch > 0) return std::min(c.batch, c.trajectories);
    // About 2^20 sites per batch: enough to keep the cores or a GPU's stepping
    // busy on small lattices, one trajectory at a time on large ones.
    const std::int64_t per = std::max<std::int64_t>(1, (std::int64_t(1) << 20) / std::max<index_t>(1, c.lattice.copy_sites()));
    return std::max<std::int64_t>(1, std::min(per, c.trajectories));
}

// Where run's analysis counts them: psi is the order field of sXY points alone
// (physics.md 5); elsewhere its windings count nothing physical (83.7 a trajectory at
// the SDW point (4, 2, 1) on 16^2 were printed).
bool dtwa_counts_vortices(const DtwaConfig& c) { return c.lattice.dim >= 2 && is_sxy_point(c.couplings); }

DtwaSummary summarize(const DtwaConfig& c, const DtwaResults& r) {
    DtwaSummary s;
    const std::size_t nt = r.t.size(), nr = std::size_t(r.correlation_lengths), N = std::size_t(c.lattice.copy_sites());
    for (std::int64_t b = 0; b < r.batches; ++b) s.trajectories += r.done[std::size_t(b)];
    const double M = double(s.trajectories);
    auto reduce = [&](const std::vector<double>& sum, const std::vector<double>& sum2, std::size_t per,
                      std::vector<double>& mean, std::vector<double>& err) {
        mean.assign(per, NAN);
        err.assign(per, NAN);
        if (M <= 0) return;
        for (std::size_t i = 0; i < per; ++i) {
            double a = 0, a2 = 0;
            for (std::int64_t b = 0; b < r.batches; ++b)
                if (r.done[std::size_t(b)] > 0) {
                    a += sum[std::size_t(b) * per + i];
                    a2 += sum2[std::size_t(b) * per + i];
                }
            mean[i] = a / M;
            const double var = M > 1 ? std::max(0.0, (a2 - a * a / M) / (M - 1)) : NAN;
            err[i] = std::sqrt(var / M);
        }
    };
    reduce(r.scalar_sum, r.scalar_sum2, nt * kDtwaScalars, s.mean, s.err);
    reduce(r.corr_sum, r.corr_sum2, nt * 3 * nr, s.corr, s.corr_err);
    if (M > 0 && dtwa_counts_vortices(c)) {
        double a = 0, a2 = 0;
        for (std::int64_t b = 0; b < r.batches; ++b)
            if (r.done[std::size_t(b)] > 0) a += r.vortex_sum[std::size_t(b)], a2 += r.vortex_sum2[std::size_t(b)];
        s.vortices = a / M;
        s.vortices_err = M > 1 ? std::sqrt(std::max(0.0, (a2 - a * a / M) / (M - 1)) / M) : NAN;
    }
    s.sk.assign(3 * N, NAN);
    if (M > 0)
        for (std::size_t i = 0; i < 3 * N; ++i) {
            double a = 0;
            for (std::int64_t b = 0; b < r.batches; ++b)
                if (r.done[std::size_t(b)] > 0) a += r.sk_sum[std::size_t(b) * 3 * N + i];
            s.sk[i] = a / M;
        }
    return s;
}

namespace {

// A batch of trajectories stepping together as copies of the lattice.
template <class Real>
class BatchStepper {
public:
    BatchStepper(const DtwaConfig& c, Backend<Real>& be, std::int64_t first, std::int64_t count)
        : c_(c), be_(be), first_(first) {
        lat_ = c.lattice;
        lat_.copies = count;
        y_ = StateBuffer<Real>(be, lat_);
        Couplings coherent = c.couplings;  // the precession alone: dissipation is the jumps
        coherent.gamma = 0;
        coherent.gamma_phi = 0;
        // The backend's stepper for this lattice, as a run's: on the CPU the four-sweep
        // path below 64 sites a side, where a fused pass computes its 4-site halos
        // around every copy (a 4x4 cluster stepped 12x12 sites and took 5.7x the
        // time it takes now). A fused pass takes one step with its jumps.
        rk4_ = std::make_unique<Rk4<Real>>(be, lat_, coherent, Rk4Stepper::fused, 0);
        sample();
    }

    // Step n -> n + 1: dissipation dt/2, precession dt, dissipation dt/2. The
    // last half waits for the next step's first, so that both ride on the
    // next step's RK4 pass, applied as it loads the state (one pass over memory
    // a step); settle() applies the pending half alone before a record.
    void step(std::int64_t n) {
        rk4_->step(y_, c_.dt, jumps(n, pending_, true));
        pending_ = true;
    }
    void settle(std::int64_t n) {  // n: the steps done
        if (pending_) dissipate(n, true, false);
        pending_ = false;
    }

    // The batch's state on the host (x, y, z blocks of all copies).
    const std::vector<double>& download() {
        std::vector<Real> host(3 * std::size_t(lat_.sites()));
        download_state(be_, host.data(), y_, lat_);
        host_.assign(host.begin(), host.end());
        return host_;
    }
    const Lattice& lattice() const { return lat_; }

private:
    void sample() {
        const index_t per = c_.lattice.copy_sites(), N = lat_.sites();
        const Vec3<double> n = dtwa_init_direction(c_.init);
        std::vector<Real> host(3 * std::size_t(N));
#pragma omp parallel for schedule(static) if (N >= 32768)
        for (index_t e = 0; e < N; ++e) {
            const index_t copy = e / per, site = e - copy * per;
            const dtwa::Uniforms u = dtwa::uniforms(std::uint64_t(c_.seed), std::uint64_t(site),
                                                    std::uint64_t(first_ + copy), dtwa::kInitialStep, 0);
            const Vec3<double> s = dtwa::initial_sample(n, u.u[0], u.u[1]);
            host[std::size_t(e)] = Real(s.x);
            host[std::size_t(N + e)] = Real(s.y);
            host[std::size_t(2 * N + e)] = Real(s.z);
        }
        upload_state(be_, y_, host.data(), lat_);
    }
    // The halves around boundary b (between steps b - 1 and b).
    dtwa::BoundaryJumps jumps(std::int64_t b, bool before, bool after) const {
        dtwa::BoundaryJumps j;
        j.on = c_.couplings.gamma > 0 || c_.couplings.gamma_phi > 0;
        j.seed = std::uint64_t(c_.seed);
        j.first_trajectory = first_;
        j.boundary = std::uint32_t(b);
        j.before = before;
        j.after = after;
        j.rates = dtwa::Rates::over(c_.couplings.gamma, c_.couplings.gamma_phi, c_.dt / 2);
        return j;
    }
    void dissipate(std::int64_t b, bool before, bool after) {
        const dtwa::BoundaryJumps j = jumps(b, before, after);
        if (j.on) be_.dissipate({y_.data(), lat_, j});
    }

    const DtwaConfig& c_;
    Backend<Real>& be_;
    std::int64_t first_;
    Lattice lat_;
    StateBuffer<Real> y_;
    std::unique_ptr<Rk4<Real>> rk4_;
    std::vector<double> host_;
    bool pending_ = false;  // the last step's second half of dissipation is still to come
};

// What one record adds to a batch's sums (dtwa.hpp: DtwaResults).
struct RecordSums {
    double* scalar;   // [kDtwaScalars]
    double* scalar2;
    double* corr;     // [3][nr]
    double* corr2;
};

// C_aa(r e_x) of a state from its structure factor (Wiener-Khinchin): with
// S_cl(k) = |sum_n e^(-i k.r_n) s_a(n)|^2 / N, (1/N) sum_n s_a(n) s_a(n + r e_x)
// = (1/N) sum_k S_cl(k) cos(k_x r) = (1/N) sum_kx P(kx) cos(2 pi kx r / Lx), P
// summed over the other k axes: O(N log N) a state instead of O(N Lx).
class AxisCorrelation {
public:
    AxisCorrelation(const Lattice& lat, std::int64_t nr) : sf_(lat), Lx_(lat.L[0]), nr_(nr) {
        cosines_.resize(std::size_t(nr * Lx_));
        for (std::int64_t r = 0; r < nr; ++r)
            for (index_t kx = 0; kx < Lx_; ++kx)
                cosines_[std::size_t(r * Lx_ + kx)] = std::cos(2 * M_PI * double((kx * r) % Lx_) / double(Lx_));
    }
    // corr[a * nr + r] for a state (x, y, z blocks of one lattice).
    void compute(const HostState& one, double* corr) {
        const StructureFactor S = sf_.compute(one);
        const index_t N = index_t(one.size() / 3);
        std::vector<double> P(static_cast<std::size_t>(Lx_));
        for (int a = 0; a < 3; ++a) {
            std::fill(P.begin(), P.end(), 0.0);
            for (index_t m = 0; m < N; ++m) P[std::size_t(m % Lx_)] += S.S[a][std::size_t(m)];
            for (std::int64_t r = 0; r < nr_; ++r) {
                double v = 0;
                for (index_t kx = 0; kx < Lx_; ++kx) v += P[std::size_t(kx)] * cosines_[std::size_t(r * Lx_ + kx)];
                corr[a * nr_ + r] = v / double(N);
            }
        }
    }

private:
    StructureFactorEngine sf_;
    index_t Lx_;
    std::int64_t nr_;
    std::vector<double> cosines_;
};

void add_record(const DtwaConfig& c, const std::vector<double>& s, const Lattice& batch, AxisCorrelation& axis,
                std::int64_t nr, RecordSums out) {
    const index_t per = c.lattice.copy_sites(), N = batch.sites(), Lx = c.lattice.L[0];
    HostState one(3 * std::size_t(per));
    std::vector<double> corr(3 * std::size_t(nr));
    for (index_t b = 0; b < batch.copies; ++b) {
        double v[kDtwaScalars] = {0, 0, 0, 0, 0, 0};
        for (int a = 0; a < 3; ++a) {
            const double* x = s.data() + a * N + b * per;
            double m = 0, c1 = 0;
            for (index_t n = 0; n < per; ++n) {
                const index_t i = n % Lx, row = n - i;
                m += x[n];
                c1 += x[n] * x[row + (i + 1 == Lx ? 0 : i + 1)];
                one[std::size_t(a * per + n)] = x[n];
            }
            v[a] = m / double(per);
            v[3 + a] = c1 / double(per);
        }
        axis.compute(one, corr.data());
        for (int a = 0; a < 3; ++a) corr[std::size_t(a * nr)] = 1;  // r = 0: the identity, s_a s_a -> 1 (physics.md 8.4)
        for (int k = 0; k < kDtwaScalars; ++k) {
            out.scalar[k] += v[k];
            out.scalar2[k] += v[k] * v[k];
        }
        for (std::size_t k = 0; k < corr.size(); ++k) {
            out.corr[k] += corr[k];
            out.corr2[k] += corr[k] * corr[k];
        }
    }
}

// The sXY vortices and antivortices of every trajectory of the batch (psi of
// physics.md 5 from the sampled vectors; every plaquette counts: a DTWA vector
// has |s| = sqrt 3, so no corner is too small), summed and squared.
void add_vortices(const DtwaConfig& c, const std::vector<double>& s, const Lattice& batch, double& sum, double& sum2) {
    const index_t per = c.lattice.copy_sites(), N = batch.sites();
    HostState one(3 * std::size_t(per));
    for (index_t b = 0; b < batch.copies; ++b) {
        for (int a = 0; a < 3; ++a)
            for (index_t n = 0; n < per; ++n) one[std::size_t(a * per + n)] = s[std::size_t(a * N + b * per + n)];
        const VortexCensus v = find_vortices(c.lattice, c.couplings, one, 0.0);
        const double k = double(v.vortices + v.antivortices);
        sum += k;
        sum2 += k * k;
    }
}

// S_aa(k) of every trajectory of the batch, summed: the classical |FT|^2 / N
// with the self term replaced by the identity's, 1 (physics.md 8.4).
void add_structure_factor(const DtwaConfig& c, const std::vector<double>& s, const Lattice& batch, double* out) {
    const index_t per = c.lattice.copy_sites(), N = batch.sites();
    StructureFactorEngine sf(c.lattice);
    HostState one(3 * std::size_t(per));
    for (index_t b = 0; b < batch.copies; ++b) {
        double self[3] = {0, 0, 0};
        for (int a = 0; a < 3; ++a)
            for (index_t n = 0; n < per; ++n) {
                const double x = s[std::size_t(a * N + b * per + n)];
                one[std::size_t(a * per + n)] = x;
                self[a] += x * x;
            }
        const StructureFactor S = sf.compute(one);
        for (int a = 0; a < 3; ++a)
            for (index_t m = 0; m < per; ++m)
                out[std::size_t(a * per + m)] += S.S[a][std::size_t(m)] + 1 - self[a] / double(per);
    }
}

// A blow-up, as `run` has it: NaN or Inf anywhere, or a vector far off the sphere
// |s|^2 = 3 on which the jumps keep it exactly and the precession to RK4's order
// (physics.md 8.2-8.3), so that no sum of a batch is ever NaN.
void check_blow_up(const DtwaConfig& c, const std::vector<double>& s, const Lattice& batch, std::int64_t first, double t) {
    const index_t N = batch.sites();
    bool finite = true;
    double worst = 0;
    for (index_t n = 0; n < N; ++n) {
        const double r2 = s[std::size_t(n)] * s[std::size_t(n)] + s[std::size_t(N + n)] * s[std::size_t(N + n)] +
                          s[std::size_t(2 * N + n)] * s[std::size_t(2 * N + n)];
        finite = finite && std::isfinite(r2);
        worst = std::max(worst, r2);
    }
    if (finite && worst <= 2 * 3) return;
    char where[96];
    std::snprintf(where, sizeof where, "blow-up at t = %g in trajectories %lld-%lld: ", t, (long long)first,
                  (long long)(first + batch.copies - 1));
    char what[96];
    std::snprintf(what, sizeof what, "|s|^2 reached %.6g (the Wigner sphere has 3)", worst);
    char advice[64];
    std::snprintf(advice, sizeof advice, "; try a smaller --dt (now %g)", c.dt);
    throw Error(std::string(where) + (finite ? what : "NaN/Inf in the state") + advice, exit_code::blow_up);
}

template <class Real>
void run_batch(const DtwaConfig& c, Backend<Real>& be, std::int64_t b, DtwaResults& r,
               const std::function<void(double)>& progress) {
    const std::int64_t first = b * r.batch_size, count = std::min(r.batch_size, c.trajectories - first);
    BatchStepper<Real> st(c, be, first, count);
    const std::vector<std::int64_t> records = dtwa_record_steps(c);
    const std::size_t nt = records.size(), nr = std::size_t(r.correlation_lengths), N = std::size_t(c.lattice.copy_sites());
    double* ss = r.scalar_sum.data() + std::size_t(b) * nt * kDtwaScalars;
    double* ss2 = r.scalar_sum2.data() + std::size_t(b) * nt * kDtwaScalars;
    double* cs = r.corr_sum.data() + std::size_t(b) * nt * 3 * nr;
    double* cs2 = r.corr_sum2.data() + std::size_t(b) * nt * 3 * nr;
    std::fill(ss, ss + nt * kDtwaScalars, 0.0);
    std::fill(ss2, ss2 + nt * kDtwaScalars, 0.0);
    std::fill(cs, cs + nt * 3 * nr, 0.0);
    std::fill(cs2, cs2 + nt * 3 * nr, 0.0);
    double* sk = r.sk_sum.data() + std::size_t(b) * 3 * N;
    std::fill(sk, sk + 3 * N, 0.0);
    AxisCorrelation axis(c.lattice, std::int64_t(nr));
    std::int64_t n = 0;
    const std::int64_t total = records.back();
    for (std::size_t q = 0; q < nt; ++q) {
        for (; n < records[q]; ++n) {
            if (interrupt_requested())
                throw Error(interruption_text(), interrupt_exit_code());
            st.step(n);
            if ((n & 63) == 0) progress(double(n) / double(std::max<std::int64_t>(1, total)));
        }
        st.settle(n);
        const std::vector<double>& s = st.download();
        check_blow_up(c, s, st.lattice(), first, double(n) * c.dt);
        add_record(c, s, st.lattice(), axis, std::int64_t(nr),
                   {ss + q * kDtwaScalars, ss2 + q * kDtwaScalars, cs + q * 3 * nr, cs2 + q * 3 * nr});
        if (q + 1 == nt) {
            add_structure_factor(c, s, st.lattice(), sk);
            if (dtwa_counts_vortices(c)) {
                r.vortex_sum[std::size_t(b)] = r.vortex_sum2[std::size_t(b)] = 0;
                add_vortices(c, s, st.lattice(), r.vortex_sum[std::size_t(b)], r.vortex_sum2[std::size_t(b)]);
            }
        }
    }
    r.done[std::size_t(b)] = count;
}

// Refuses (exit 2 from the command line, 3 for a file's settings) a run whose
// results or batch would not fit: the sums of every batch (S(k) is a lattice's
// worth of numbers each), and on the backend the batch's state with the
// stepper's buffer; on the host the batch downloaded at each record (twice).
void check_dtwa_memory(const DtwaConfig& c, BackendKind kind, std::int64_t batch_size, int code) {
    const double N = double(c.lattice.copy_sites()), B = std::ceil(double(c.trajectories) / double(batch_size));
    const double nt = double(dtwa_record_steps(c).size()), nr = double(c.lattice.L[0] / 2 + 1);
    const double results = 8 * B * (2 * nt * kDtwaScalars + 2 * nt * 3 * nr + 3 * N + 3);
    const double host = results + 8 * 2 * 3 * N * double(batch_size) + 8 * 6 * N;
    const std::string what = lattice_text(c.lattice) + ", " + std::to_string(c.trajectories) + " trajectories in batches of " +
                             std::to_string(batch_size);
    check_memory(host < 1e19 ? std::size_t(host) : std::size_t(-1), host_available_bytes(), "host", what, code);
    RunConfig mem;
    mem.lattice = c.lattice;
    mem.lattice.copies = batch_size;
    check_run_memory(mem, kind, 2, code);
}

DtwaResults empty_results(const DtwaConfig& c) {
    DtwaResults r;
    for (std::int64_t s : dtwa_record_steps(c)) r.t.push_back(double(s) * c.dt);
    r.batch_size = dtwa_batch_size(c);
    r.batches = (c.trajectories + r.batch_size - 1) / r.batch_size;
    r.correlation_lengths = c.lattice.L[0] / 2 + 1;
    const std::size_t B = std::size_t(r.batches), nt = r.t.size(), nr = std::size_t(r.correlation_lengths);
    r.scalar_sum.assign(B * nt * kDtwaScalars, NAN);
    r.scalar_sum2.assign(B * nt * kDtwaScalars, NAN);
    r.corr_sum.assign(B * nt * 3 * nr, NAN);
    r.corr_sum2.assign(B * nt * 3 * nr, NAN);
    r.sk_sum.assign(B * 3 * std::size_t(c.lattice.copy_sites()), NAN);
    r.vortex_sum.assign(B, NAN);
    r.vortex_sum2.assign(B, NAN);
    r.done.assign(B, 0);
    return r;
}

template <class Real>
void run_batches(const DtwaConfig& c, BackendKind kind, DtwaRun& out, ResumableFile& file, const DtwaHooks& hooks) {
    DtwaResults& r = out.results;
    std::vector<std::int64_t> todo;
    for (std::int64_t b = 0; b < r.batches; ++b)
        if (r.done[std::size_t(b)] == 0) todo.push_back(b);
    if (todo.empty()) return;
    auto be = make_backend<Real>(kind);
    out.backend = be->description();
    if (file.is_open()) record_backend(file.handle(), out.backend);
    ProgressLine line(hooks.quiet);
    line.update(0, "dtwa: " + std::to_string(todo.size()) + " batches to run");  // heard at once
    const auto t0 = std::chrono::steady_clock::now();
    int batches = 0;
    for (std::size_t i = 0; i < todo.size(); ++i) {
        const std::int64_t b = todo[i];
        auto progress = [&](double frac_batch) {
            char what[160];
            std::snprintf(what, sizeof what, "dtwa: batch %lld of %lld, t = %.4g of %g", (long long)(b + 1),
                          (long long)r.batches, frac_batch * c.t_end, c.t_end);
            line.update((double(i) + frac_batch) / double(todo.size()), what);
        };
        run_batch<Real>(c, *be, b, r, progress);
        const std::int64_t count = r.done[std::size_t(b)];
        out.done_now += count;
        out.site_steps += double(count) * double(c.lattice.copy_sites()) * double(dtwa_steps(c));
        ++batches;
        if (file.is_open()) write_dtwa_results(file.handle(), file.path, c, r);
        progress(1.0);
        if (hooks.kill_after_batches >= 0 && batches >= hooks.kill_after_batches)
            throw Error("killed by test hook after " + std::to_string(batches) + " batches", exit_code::interrupted);
    }
    line.end();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

DtwaRun run_dtwa(DtwaRequest req, const DtwaHooks& hooks) {
    ResumableFile file;
    file.path = req.output;
    throw_if_interrupted(req.output.empty() ? "before the first trajectory" : "before " + req.output + " was touched");
    DtwaRun out;
    DtwaConfig& c = out.config;
    c = req.config;
    const BackendKind kind = choose_backend(req.backend == "cuda"  ? BackendRequest::cuda
                                            : req.backend == "cpu" ? BackendRequest::cpu
                                                                   : BackendRequest::automatic);
    if (req.resume) {
        file.lock = std::make_unique<OutputLock>(req.output);
        file.opened = open_xyzmf(req.output, true);
        c = read_dtwa_config(file.opened, req.output);
        h5::Id g = h5::open_group(file.opened, "/dtwa");
        const std::int64_t stored = h5::has_attr(g, "batch_size") ? h5::attr_int(g, "batch_size") : 0;
        if (stored < 1 || stored > c.trajectories)
            throw Error(req.output + ": /dtwa: batch_size " + std::to_string(stored) + " is not 1 to trajectories",
                        exit_code::io);
        check_dtwa_memory(c, kind, stored, exit_code::io);
        out.results = read_dtwa_results(file.opened, req.output, c);
        if (!req.command_line.empty()) record_resume(file.opened, req.command_line);
    } else {
        validate(c, ParamSource::command_line());
        check_dtwa_memory(c, kind, dtwa_batch_size(c), exit_code::usage);
        out.results = empty_results(c);
        if (!req.output.empty()) {
            throw_if_interrupted("before " + req.output + " was created; nothing written");
            file.created = std::make_unique<NewFile>(req.output, req.overwrite);
            write_provenance(file.handle(), req.command_line, "dtwa");
            create_dtwa_group(file.handle(), c, out.results);
        }
    }
    if (file.is_open()) {
        try {
            file.set_status("running");
            write_dtwa_results(file.handle(), file.path, c, out.results);
            if (file.created && !file.created->replaces()) file.created->commit();
        } catch (const Error&) {
            file.abandon();
            throw;
        }
    }
    try {
        run_batches<double>(c, kind, out, file, hooks);
    } catch (const Error& e) {
        file.stop(e, std::to_string(out.done_now) + " trajectories", "batches",
                  std::any_of(out.results.done.begin(), out.results.done.end(), [](std::int64_t d) { return d > 0; }));
    }
    file.finish();
    return out;
}

}  // namespace xyzmf
