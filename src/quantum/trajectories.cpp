// Monte-Carlo wave-function trajectories of the master equation (docs/physics.md
// section 7.2) by the waiting-time algorithm: each trajectory draws r in
// (0, 1), evolves with H_eff until |psi|^2 = r, then jumps by one of the
// 2N channels chosen with probability proportional to |J psi|^2.
//
// The evolution between jumps is exp(-i H_eff h) as a truncated Taylor series
// whose error per step is bounded a priori (plan_series), and the jump time
// is found to 1e-9 in ln|psi|^2 by the Illinois method: a trajectory whose
// step crossed r re-evolves from the step's start to the next trial time.
// The whole batch advances in rounds, one propagator call each, with its own
// step per trajectory; all decisions and random numbers (Philox keyed by
// seed and trajectory index) are taken here on the host, so every backend and
// every batch size follows the same trajectories.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "quantum_file.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/error.hpp"
#include "memory_info.hpp"
#include "output_file.hpp"
#include "progress.hpp"
#include "schema.hpp"
#include "signals.hpp"
#include "xyzmf/trajectory_backend.hpp"

#include <omp.h>

namespace xyzmf {
namespace {

constexpr double kJumpTol = 1e-9;  // |ln|psi|^2 - ln r| at an accepted jump time

struct Trajectory {
    std::int64_t index = -1;  // -1: a padding slot of a short last batch
    bool active = false;
    double t = 0;
    double norm = 1;       // |psi|^2
    double log_r = 0;      // ln of the threshold
    std::uint64_t draws = 0;
    std::int64_t next_sample = 1;
    std::int64_t jumps = 0;
    // Illinois bracket of the jump time within the current step: f = ln|psi|^2 - ln r.
    bool searching = false;
    double lo_s = 0, lo_f = 0, hi_s = 0, hi_f = 0, trial = 0;
    double step = 0;       // the step that crossed the threshold (the bracket lies in it)
    bool kept = false;     // the backend holds that step's terms
    int side = 0;
    std::vector<double> corr_sum;
    std::int64_t corr_samples = 0;
};

double regula_falsi(const Trajectory& tr) {
    const double s = tr.lo_s - tr.lo_f * (tr.hi_s - tr.lo_s) / (tr.hi_f - tr.lo_f);
    // Stay strictly inside the bracket.
    const double w = tr.hi_s - tr.lo_s;
    return std::min(std::max(s, tr.lo_s + 1e-3 * w), tr.hi_s - 1e-3 * w);
}

class BatchRunner {
public:
    BatchRunner(const QuantumConfig& c, TrajectoryBackend& be, TrajectoryResults& res)
        : c_(c), be_(be), res_(res), m_(make_spin_model(c.lattice, c.couplings)), N_(m_.spins),
          nt_(sample_count(c)), plan_(plan_series(heff_norm_bound(m_), c.tol)) {}

    std::int64_t rounds() const { return rounds_; }

    // Runs the trajectories `indices` (at most the backend's batch) to t_end.
    void run(const std::vector<std::int64_t>& indices, const std::function<void(double)>& progress) {
        const int B = be_.batch();
        std::vector<Trajectory> tr(static_cast<std::size_t>(B));
        std::vector<Amp> states(std::size_t(B) << N_);
        for (int b = 0; b < B; ++b) {
            Trajectory& x = tr[std::size_t(b)];
            x.corr_sum.assign(std::size_t(3 * N_), 0.0);
            if (std::size_t(b) >= indices.size()) continue;
            x.index = indices[std::size_t(b)];
            x.active = nt_ > 1;
            x.log_r = std::log(draw(x));
            const std::vector<Amp> psi = product_state(c_.init, N_, c_.seed, x.index);
            std::copy(psi.begin(), psi.end(), states.begin() + (std::ptrdiff_t(b) << N_));
        }
        be_.load(states);
        std::vector<int> sample_now(static_cast<std::size_t>(B), 0), jump_now(sample_now), take(sample_now);
        for (int b = 0; b < B; ++b) sample_now[std::size_t(b)] = tr[std::size_t(b)].index >= 0;
        take_samples(tr, sample_now, /*first=*/true);

        std::vector<double> h(static_cast<std::size_t>(B)), n1, within(static_cast<std::size_t>(B));
        std::vector<int> keep(static_cast<std::size_t>(B), 0);
        // A trial time of the jump search is a point inside the step that crossed
        // the threshold: where the backend kept that step's series, evaluating it
        // there costs no product with H_eff (else the step is redone to the trial).
        const bool keeps = be_.evaluates_within_step();
        auto last_report = std::chrono::steady_clock::now();
        for (;;) {
            bool any = false;
            double t_min = HUGE_VAL;
            for (int b = 0; b < B; ++b) {
                Trajectory& x = tr[std::size_t(b)];
                h[std::size_t(b)] = within[std::size_t(b)] = 0;
                keep[std::size_t(b)] = 0;
                if (!x.active) continue;
                any = true;
                t_min = std::min(t_min, x.t);
                if (x.searching && keeps) {
                    // The crossing step once more, keeping its terms (the first
                    // trial only), then every trial inside it.
                    if (!x.kept) h[std::size_t(b)] = x.step, keep[std::size_t(b)] = 1, x.kept = true;
                    within[std::size_t(b)] = x.trial / x.step;
                } else {
                    h[std::size_t(b)] = x.searching ? x.trial : std::min(plan_.h_max, target(x) - x.t);
                }
            }
            if (!any) break;
            if (interrupt_requested())
                throw Error(interruption_text(), interrupt_exit_code());
            const auto now = std::chrono::steady_clock::now();
            if (progress && now - last_report > std::chrono::seconds(1)) {
                progress(t_min);
                last_report = now;
            }
            if (keeps) be_.keep_terms(keep);
            be_.propagate(h, plan_.terms);
            if (keeps) be_.evaluate_within_step(within);
            be_.out_norms(n1);
            ++rounds_;
            bool any_sample = false, any_jump = false;
            for (int b = 0; b < B; ++b) {
                Trajectory& x = tr[std::size_t(b)];
                const std::size_t i = std::size_t(b);
                take[i] = sample_now[i] = jump_now[i] = 0;
                if (!x.active) continue;
                const double n = n1[i];
                if (!std::isfinite(n))
                    throw Error("trajectory " + std::to_string(x.index) + ": the state vector became " +
                                    (std::isnan(n) ? "NaN" : "infinite") + " at t = " + std::to_string(x.t),
                                exit_code::blow_up);
                const double f = std::log(n) - x.log_r;
                if (!x.searching) {
                    if (f > 0) {
                        take[i] = 1;
                        const double tt = target(x);
                        x.t = h[i] >= tt - x.t ? tt : x.t + h[i];
                        x.norm = n;
                        sample_now[i] = x.t == tt;
                        any_sample |= sample_now[i] != 0;
                    } else {
                        x.searching = true;
                        x.lo_s = 0;
                        x.lo_f = std::log(x.norm) - x.log_r;
                        x.hi_s = x.step = h[i];
                        x.kept = false;
                        x.hi_f = f;
                        x.side = 0;
                        x.trial = regula_falsi(x);
                    }
                } else if (std::abs(f) < kJumpTol || x.hi_s - x.lo_s < 1e-13 * (1 + x.t)) {
                    take[i] = jump_now[i] = 1;
                    any_jump = true;
                    x.t += x.trial;
                    x.norm = n;
                    x.searching = false;
                } else {
                    if (f > 0) {
                        x.lo_s = x.trial, x.lo_f = f;
                        if (x.side == 1) x.hi_f *= 0.5;
                        x.side = 1;
                    } else {
                        x.hi_s = x.trial, x.hi_f = f;
                        if (x.side == -1) x.lo_f *= 0.5;
                        x.side = -1;
                    }
                    x.trial = regula_falsi(x);
                }
            }
            be_.accept(take);
            if (any_sample) take_samples(tr, sample_now, false);
            if (any_jump) do_jumps(tr, jump_now);
        }
        // Into the results, in trajectory order.
        for (const Trajectory& x : tr) {
            if (x.index < 0) continue;
            const std::size_t k = std::size_t(x.index);
            res_.jumps[k] = double(x.jumps);
            for (int v = 0; v < 3 * N_; ++v)
                res_.corr[k * 3 * N_ + std::size_t(v)] =
                    x.corr_samples ? x.corr_sum[std::size_t(v)] / double(x.corr_samples) : NAN;
            // sa_0 sa_0 = 1: exactly, not up to the rounding of the normalisation
            for (int a = 0; a < 3 && x.corr_samples; ++a) res_.corr[k * 3 * N_ + std::size_t(a * N_)] = 1;
        }
    }

private:
    double target(const Trajectory& x) const { return double(x.next_sample) * c_.sample_dt; }
    double draw(Trajectory& x) const { return trajectory_uniform(c_.seed, x.index, x.draws++); }
    bool in_window(double t) const { return t >= c_.burn_in - 1e-9 * c_.sample_dt; }

    void take_samples(std::vector<Trajectory>& tr, std::vector<int>& now, bool first) {
        const int B = int(tr.size());
        std::vector<double> pop, corr;
        be_.populations(now, pop);
        std::vector<int> want(std::size_t(B), 0);
        bool any = false;
        for (int b = 0; b < B; ++b) {
            want[std::size_t(b)] = now[std::size_t(b)] && in_window(tr[std::size_t(b)].t);
            any |= want[std::size_t(b)] != 0;
        }
        if (any) be_.correlations(want, corr);
        for (int b = 0; b < B; ++b) {
            Trajectory& x = tr[std::size_t(b)];
            if (!now[std::size_t(b)]) continue;
            const std::int64_t k = first ? 0 : x.next_sample;
            double sz = 0;
            for (int n = 0; n < N_; ++n) sz += 2 * pop[std::size_t(b) * N_ + n] / x.norm - 1;
            res_.sz_series[std::size_t(x.index * nt_ + k)] = sz / N_;
            if (want[std::size_t(b)]) {
                for (int v = 0; v < 3 * N_; ++v)
                    x.corr_sum[std::size_t(v)] += corr[std::size_t(b) * 3 * N_ + v] / (N_ * x.norm);
                ++x.corr_samples;
            }
            if (!first && ++x.next_sample >= nt_) x.active = false;
        }
    }

    void do_jumps(std::vector<Trajectory>& tr, const std::vector<int>& now) {
        const int B = int(tr.size());
        std::vector<double> pop;
        be_.populations(now, pop);
        std::vector<int> channel(std::size_t(B), -1);
        std::vector<double> scale(std::size_t(B), 1.0);
        for (int b = 0; b < B; ++b) {
            Trajectory& x = tr[std::size_t(b)];
            if (!now[std::size_t(b)]) continue;
            const double* p = pop.data() + std::size_t(b) * N_;
            double total = N_ * c_.couplings.gamma_phi * x.norm;
            for (int n = 0; n < N_; ++n) total += c_.couplings.gamma * p[n];
            double u = draw(x) * total;
            int ch = -1;
            for (int n = 0; n < N_ && ch < 0; ++n) {
                const double w = c_.couplings.gamma * p[n];
                if (u < w && p[n] > 0) ch = n;
                else u -= w;
            }
            if (ch < 0 && c_.couplings.gamma_phi > 0) ch = N_ + std::min(N_ - 1, int(u / (c_.couplings.gamma_phi * x.norm)));
            if (ch < 0)  // rounding at the very end of the list: the last spin with any population
                for (int n = N_ - 1; n >= 0 && ch < 0; --n)
                    if (p[n] > 0) ch = n;
            channel[std::size_t(b)] = ch;
            scale[std::size_t(b)] = ch < N_ ? 1 / std::sqrt(p[ch]) : 1 / std::sqrt(x.norm);
            x.norm = 1;
            x.log_r = std::log(draw(x));
            ++x.jumps;
        }
        be_.jump(channel, scale);
    }

    const QuantumConfig& c_;
    TrajectoryBackend& be_;
    TrajectoryResults& res_;
    SpinModel m_;
    int N_;
    std::int64_t nt_;
    SeriesPlan plan_;
    std::int64_t rounds_ = 0;
};

// `vectors` state buffers of 2^N amplitudes per trajectory.
double bytes_per_trajectory(int spins, int vectors) { return vectors * 16.0 * std::ldexp(1.0, spins); }

int choose_batch(const QuantumConfig& c, bool cuda, std::int64_t todo) {
    const int N = int(c.lattice.copy_sites());
    const double per = bytes_per_trajectory(N, 4);
    const double avail = cuda ? double(cuda_free_memory_bytes()) : double(host_available_bytes());
    const std::int64_t fit = std::int64_t(0.5 * avail / per);
    std::int64_t b = c.batch;
    if (b == 0) {
        // Enough amplitudes per operation to keep the cores (or the GPU) busy
        // without holding more trajectories in memory than that needs.
        const double want = cuda ? std::ldexp(1.0, 26) : std::ldexp(1.0, 20);
        b = std::max<std::int64_t>(cuda ? 1 : omp_get_max_threads(), std::int64_t(want / std::ldexp(1.0, N)));
        b = std::min<std::int64_t>({b, fit, 4096});
    }
    b = std::min(b, todo);
    if (todo > 0) b = std::max<std::int64_t>(b, 1);  // (the automatic choice is 0 where not one fits)
    const double need = double(b) * per;
    if (need > 0.9 * avail)
        throw Error((c.batch == 0 ? "--sites/--size: one trajectory of 2^" + std::to_string(N) + " amplitudes"
                                  : "--batch " + std::to_string(b) + " x 2^" + std::to_string(N) + " amplitudes") +
                        ": needs " + std::to_string(std::int64_t(need / 1048576)) + " MiB of " +
                        (cuda ? "device" : "host") + " memory, " + std::to_string(std::int64_t(avail / 1048576)) +
                        " MiB available",
                    exit_code::usage);
    return int(std::max<std::int64_t>(b, 1));
}

}  // namespace

TrajectorySummary summarize(const QuantumConfig& c, const TrajectoryResults& r) {
    TrajectorySummary s;
    const int N = int(c.lattice.copy_sites());
    const std::size_t nt = r.t.size();
    std::vector<std::size_t> done;
    for (std::size_t k = 0; k < r.batch.size(); ++k)
        if (r.batch[k] >= 0) done.push_back(k);
    s.trajectories = std::int64_t(done.size());
    const double M = double(done.size());
    auto mean_err = [&](auto value, double& mean, double& err) {
        double sum = 0, sum2 = 0;
        for (std::size_t k : done) sum += value(k);
        mean = M > 0 ? sum / M : NAN;
        for (std::size_t k : done) sum2 += (value(k) - mean) * (value(k) - mean);
        err = M > 1 ? std::sqrt(sum2 / (M - 1) / M) : NAN;
    };
    for (int a = 0; a < 3; ++a) {
        s.mean.c[a].assign(std::size_t(N), NAN);
        s.err.c[a].assign(std::size_t(N), NAN);
        for (int rr = 0; rr < N; ++rr)
            mean_err([&](std::size_t k) { return r.corr[(k * 3 + std::size_t(a)) * N + std::size_t(rr)]; },
                     s.mean.c[a][std::size_t(rr)], s.err.c[a][std::size_t(rr)]);
    }
    s.sz_t.assign(nt, NAN);
    s.sz_t_err.assign(nt, NAN);
    for (std::size_t q = 0; q < nt; ++q)
        mean_err([&](std::size_t k) { return r.sz_series[k * nt + q]; }, s.sz_t[q], s.sz_t_err[q]);
    // <sz> over the window: each trajectory's time average is one sample.
    std::size_t first = 0;
    while (first < nt && r.t[first] < c.burn_in - 1e-9 * c.sample_dt) ++first;
    mean_err(
        [&](std::size_t k) {
            double v = 0;
            for (std::size_t q = first; q < nt; ++q) v += r.sz_series[k * nt + q];
            return v / double(nt - first);
        },
        s.sz, s.sz_err);
    double jumps = 0;
    for (std::size_t k : done) jumps += r.jumps[k];
    s.jumps_per_trajectory = M > 0 ? jumps / M : NAN;
    return s;
}

TrajectoryRun run_trajectories(QuantumRunRequest req, const TrajectoryHooks& hooks) {
    ResumableFile file;
    file.path = req.output;
    throw_if_interrupted(req.output.empty() ? "before the first trajectory" : "before " + req.output + " was touched");
    TrajectoryRun out;
    QuantumConfig& c = req.config;
    TrajectoryResults& res = out.results;
    if (req.resume) {
        file.lock = std::make_unique<OutputLock>(req.output);
        file.opened = open_xyzmf(req.output, true);
        c = read_quantum_config(file.opened, req.output);
        res = read_trajectory_results(file.opened, req.output, c);
        if (!req.command_line.empty()) record_resume(file.opened, req.command_line);
    } else {
        validate(c, ParamSource::command_line());
        if (c.method != "trajectories") throw Error("run_trajectories: method is " + c.method);
        res.trajectories = c.trajectories;
        const std::int64_t nt = sample_count(c);
        res.t.resize(std::size_t(nt));
        for (std::int64_t k = 0; k < nt; ++k) res.t[std::size_t(k)] = double(k) * c.sample_dt;
        const std::size_t M = std::size_t(c.trajectories);
        // The results of every trajectory (sz at every sample, the correlations,
        // the jumps): refused before they are allocated if they cannot be held.
        const long double result_bytes =
            8.0L * (long double)M * ((long double)nt + 3.0L * (long double)c.lattice.copy_sites() + 2.0L);
        if (result_bytes > 0.9L * (long double)host_available_bytes())
            throw Error("--trajectories " + std::to_string(c.trajectories) + ": their results (" +
                            std::to_string(nt) + " samples and " + std::to_string(3 * c.lattice.copy_sites()) +
                            " correlations each) need " + format_bytes(double(result_bytes)) +
                            " of host memory but only " + format_bytes(double(host_available_bytes())) +
                            " is available",
                        exit_code::usage);
        res.sz_series.assign(M * std::size_t(nt), NAN);
        res.corr.assign(M * 3 * std::size_t(c.lattice.copy_sites()), NAN);
        res.jumps.assign(M, NAN);
        res.batch.assign(M, -1);
    }
    std::vector<std::int64_t> todo;
    std::int64_t next_batch = 0;
    for (std::size_t k = 0; k < res.batch.size(); ++k) {
        if (res.batch[k] < 0) todo.push_back(std::int64_t(k));
        next_batch = std::max(next_batch, res.batch[k] + 1);
    }
    // The backend and its batch (memory for the state vectors) before the file:
    // a command refused for them leaves nothing behind.
    const SpinModel model = make_spin_model(c.lattice, c.couplings);
    const std::vector<int> partners = displacement_partners(c.lattice);
    const bool cuda = req.backend == "cuda" || (req.backend == "auto" && cuda_device_count() > 0);
    if (cuda && cuda_device_count() == 0)
        throw Error("--backend cuda: no CUDA device is available (use --backend cpu or auto)", exit_code::usage);
    std::unique_ptr<TrajectoryBackend> be;
    if (!todo.empty()) {
        int B = choose_batch(c, cuda, std::int64_t(todo.size()));
        // On the CPU each trajectory keeps every term of its series where that
        // fits with the same batch (the jump search then costs no products).
        int keep = 0;
        if (!cuda) {
            const int K = plan_series(heff_norm_bound(model), c.tol).terms;
            const double avail = double(host_available_bytes());
            if (double(B) * bytes_per_trajectory(int(c.lattice.copy_sites()), 2 + K) <= 0.5 * avail) keep = K;
        }
        be = cuda ? make_cuda_trajectories(model, partners, B) : make_cpu_trajectories(model, partners, B, keep);
        out.backend = be->description();
    }
    if (!req.resume && !req.output.empty()) {
        throw_if_interrupted("before " + req.output + " was created; nothing written");
        file.created = std::make_unique<NewFile>(req.output, req.overwrite);
        write_provenance(file.handle(), req.command_line, "quantum trajectories");
        create_quantum_group(file.handle(), c);
    }
    if (file.is_open()) {
        try {
            if (be) record_backend(file.handle(), out.backend);
            file.set_status("running");
            write_trajectory_results(file.handle(), file.path, c, res);
            if (file.created && !file.created->replaces()) file.created->commit();
        } catch (const Error&) {
            file.abandon();
            throw;
        }
    }
    std::unique_ptr<BatchRunner> runner;
    if (be) runner = std::make_unique<BatchRunner>(c, *be, res);
    const auto t0 = std::chrono::steady_clock::now();
    ProgressLine line(hooks.quiet);
    line.update(0, "quantum: 0/" + std::to_string(todo.size()) + " trajectories done");  // heard at once
    int batches = 0;
    try {
        for (std::size_t first = 0; first < todo.size(); first += std::size_t(be->batch())) {
            const std::size_t last = std::min(todo.size(), first + std::size_t(be->batch()));
            const std::vector<std::int64_t> ids(todo.begin() + std::ptrdiff_t(first), todo.begin() + std::ptrdiff_t(last));
            auto progress = [&](double t_batch) {
                const double frac = (double(first) + double(last - first) * t_batch / std::max(c.t_end, 1e-300)) /
                                    double(todo.size());
                char what[160];
                std::snprintf(what, sizeof what, "quantum: %zu/%zu trajectories done, batch at t = %.3g of %g",
                              t_batch >= c.t_end ? last : first, todo.size(), t_batch, c.t_end);
                line.update(frac, what);
            };
            runner->run(ids, progress);
            for (std::int64_t k : ids) res.batch[std::size_t(k)] = next_batch;
            ++next_batch;
            ++batches;
            out.done_now += std::int64_t(ids.size());
            if (file.is_open()) write_trajectory_results(file.handle(), file.path, c, res);
            progress(c.t_end);
            if (hooks.kill_after_batches >= 0 && batches >= hooks.kill_after_batches)
                throw Error("killed by test hook after " + std::to_string(batches) + " batches", exit_code::interrupted);
        }
    } catch (const Error& e) {
        line.end();
        file.stop(e, std::to_string(out.done_now) + " trajectories", "trajectories",
                  std::any_of(res.batch.begin(), res.batch.end(), [](std::int64_t b) { return b >= 0; }));
    }
    line.end();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.rounds = runner ? runner->rounds() : 0;
    file.finish();
    return out;
}

}  // namespace xyzmf
