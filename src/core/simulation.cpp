// The time loop (see simulation.hpp). Fixed-step runs count time in whole
// steps (t = step * dt, the last step shortened to land on t_end), so a
// resumed run takes exactly the same steps as an uninterrupted one.
#include "simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "xyzmf/error.hpp"
#include "bloch_ball.hpp"
#include "fixed_step.hpp"
#include "integrators.hpp"
#include "signals.hpp"
#include "write_queue.hpp"

namespace xyzmf {

const char* to_string(StopReason r) {
    switch (r) {
        case StopReason::t_end: return "reached t_end";
        case StopReason::steady: return "stationary (residual below steady_tol)";
        case StopReason::interrupted: return "interrupted";
    }
    return "?";
}

int simulation_buffers(const RunConfig& cfg) {
    // state + ds/dt scratch + the integrator's own buffers
    return 2 + integrator_buffers(cfg.numerics.integrator == IntegratorKind::dopri5, cfg.numerics.stepper);
}

namespace {
std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}
}  // namespace

// Host buffers for snapshots on their way to the writer thread.
template <class Real>
class HostBufferPool {
public:
    HostBufferPool(Backend<Real>& be, std::size_t count) : be_(be), count_(count) {}
    ~HostBufferPool() {
        for (Real* p : all_) be_.release_host(p);
    }
    Real* take() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!free_.empty()) {
                Real* p = free_.back();
                free_.pop_back();
                return p;
            }
        }
        Real* p = be_.allocate_host(count_);
        std::lock_guard<std::mutex> lock(mutex_);
        all_.push_back(p);
        return p;
    }
    void give(Real* p) {
        std::lock_guard<std::mutex> lock(mutex_);
        free_.push_back(p);
    }

private:
    Backend<Real>& be_;
    std::size_t count_;
    std::mutex mutex_;
    std::vector<Real*> free_, all_;
};

template <class Real>
struct Simulation<Real>::Impl {
    RunConfig cfg;
    Backend<Real>& be;
    Domain<Real>* domain;  // null: the whole lattice is here
    Lattice lat;           // the lattice stepped here: the whole one, or this process's block
    SiteModel<Real> model;
    StateBuffer<Real> y, dsdt;
    std::unique_ptr<Rk4<Real>> rk4;
    std::unique_ptr<DormandPrince5<Real>> dopri;
    double last_snapshot_t = -1;
    // While run() writes a file: its writer thread. The time loop only queues
    // jobs; it settles the queue before it touches the file itself.
    std::unique_ptr<WriteQueue> writer;

    void settle() {
        if (!writer) return;
        if (std::exception_ptr e = writer->drain_quietly()) std::rethrow_exception(e);
    }

    Impl(const RunConfig& c, Backend<Real>& b, Domain<Real>* d)
        : cfg(c), be(b), domain(d), lat(d ? d->local() : c.lattice),
          model(SiteModel<Real>::make(c.couplings, c.lattice.dim)), y(b, lat), dsdt(b, lat) {
        if (c.numerics.integrator == IntegratorKind::dopri5) {
            dopri = std::make_unique<DormandPrince5<Real>>(b, lat, c.couplings, c.numerics.rtol, c.numerics.atol);
            if (d) dopri->spread(d->owned_first(), d->owned_last(), [d](double e) { return d->max(e); });
        } else if (d) {  // the stepper the serial run would choose for the whole lattice
            rk4 = std::make_unique<Rk4<Real>>(b, lat, c.couplings, d->stepper(), d->steps_per_pass(), d->scheme());
        } else {
            rk4 = std::make_unique<Rk4<Real>>(b, lat, c.couplings, c.numerics.stepper, c.numerics.steps_per_pass);
        }
    }

    Observables observe() {
        evaluate_rhs(be, lat, model, y.data(), dsdt.data());
        return domain ? domain->observe(be, y.data(), dsdt.data()) : be.observe(y.data(), dsdt.data(), lat);
    }
    // Over MPI ranks: a stop signal that reached any of them stops all, each
    // telling it by its own name and exit code (not as a SIGINT).
    bool interrupted() {
        if (!domain) return interrupt_requested();
        const int sig = domain->largest(interrupt_signal());
        adopt_stop_signal(sig);
        if (sig != 0) mark_stop_agreed();
        return sig != 0;
    }

    // Blow-up check: NaN/Inf or |s| > 1 + tol anywhere.
    bool state_ok(const Observables& o) const { return bloch_state_ok(o, cfg.numerics.norm_tol); }
    void check_state(const Observables& o, double t, RunSink* out) {
        if (state_ok(o)) return;
        if (out) settle();
        throw blow_up(o, t, out, last_snapshot_t);
    }
    // Marks the file (whose writer must be the caller) and says what happened.
    // `cause`, if given, says what happened instead of the state's norm.
    Error blow_up(const Observables& o, double t, RunSink* out, double last_good_t, const std::string& cause = "") const {
        const bool nan = !std::isfinite(o.max_s2) || !std::isfinite(o.max_rate2);
        std::string msg = "blow-up at t = " + fmt("%g", t) + ": " +
                          (!cause.empty() ? cause
                           : nan          ? std::string("NaN/Inf in the state")
                                          : "|s| reached " + fmt("%.6g", std::sqrt(o.max_s2)) + " > 1 + --norm-tol " +
                                       fmt("%g", cfg.numerics.norm_tol)) + "; ";
        if (out) {
            out->set_status("blow-up at t = " + fmt("%g", t));
            msg += last_good_t >= 0 ? "last good snapshot (t = " + fmt("%g", last_good_t) + ") kept in " + out->path() + "; "
                                    : "";
        }
        msg += cfg.numerics.integrator == IntegratorKind::rk4
                   ? "try a smaller --dt (now " + fmt("%g", cfg.numerics.dt) + ")"
                   : "try a smaller --rtol (now " + fmt("%g", cfg.numerics.rtol) + ")";
        return Error(msg, exit_code::blow_up);
    }

    void stop_if_asked(double t, std::int64_t steps_here, const RunHooks& hooks, RunSink* out) {
        if (hooks.kill_after_steps >= 0 && steps_here >= hooks.kill_after_steps)
            throw Error("killed by test hook at t = " + fmt("%g", t), exit_code::interrupted);
        if (!interrupted()) return;
        std::string msg = interruption_text() + " at t = " + fmt("%g", t);
        if (out) {
            settle();
            out->set_status(msg);
            msg += "; snapshots up to t = " + fmt("%g", last_snapshot_t) + " kept in " + out->path() +
                   " (continue with --resume " + out->path() + ")";
        }
        throw Error(msg, interrupt_exit_code());
    }
};

template <class Real>
Simulation<Real>::Simulation(const RunConfig& cfg, Backend<Real>& be, Domain<Real>* domain)
    : impl_(std::make_unique<Impl>(cfg, be, domain)) {}

template <class Real>
Simulation<Real>::~Simulation() = default;

template <class Real>
void Simulation<Real>::set_state(const HostState& s) {
    if (impl_->domain) return impl_->domain->scatter(s, impl_->y);
    std::vector<Real> r(s.begin(), s.end());
    upload_state(impl_->be, impl_->y, r.data(), impl_->lat);
    if (impl_->dopri) impl_->dopri->invalidate();
}

template <class Real>
void Simulation<Real>::set_own_state(const HostState& mine) {
    if (!impl_->domain) throw Error("Simulation::set_own_state: only for a lattice spread over processes", exit_code::usage);
    impl_->domain->set_own_sites(mine, impl_->y);
    if (impl_->dopri) impl_->dopri->invalidate();
}

template <class Real>
HostState Simulation<Real>::state() const {
    if (Domain<Real>* d = impl_->domain) {
        std::vector<Real> r(d->root() ? 3 * std::size_t(impl_->cfg.lattice.sites()) : 0);
        d->gather(impl_->y, r.data());
        return HostState(r.begin(), r.end());
    }
    std::vector<Real> r(3 * std::size_t(impl_->lat.sites()));
    download_state(impl_->be, r.data(), impl_->y, impl_->lat);
    return HostState(r.begin(), r.end());
}

template <class Real>
std::string Simulation<Real>::method() const {
    const Rk4<Real>* rk4 = impl_->rk4.get();
    if (!rk4) return "dopri5";
    if (rk4->stepper() == Rk4Stepper::four_sweep) return "rk4 (four-sweep)";
    const int m = rk4->steps_per_pass();
    return "rk4 (fused, " + std::to_string(m) + (m == 1 ? " step" : " steps") + " per pass)";
}

template <class Real>
HostState Simulation<Real>::rate() const {
    if (impl_->domain) throw Error("Simulation::rate: not for a lattice spread over processes", exit_code::usage);
    evaluate_rhs(impl_->be, impl_->lat, impl_->model, impl_->y.data(), impl_->dsdt.data());
    std::vector<Real> r(3 * std::size_t(impl_->lat.sites()));
    download_state(impl_->be, r.data(), impl_->dsdt, impl_->lat);
    return HostState(r.begin(), r.end());
}

// One call of Simulation::run: the events of a run (records, snapshots, the final
// state, with their checks and the writer thread) and its two time loops, fixed-step
// (rk4) and adaptive (dopri5), which call at_event at each record and snapshot time.
template <class Real>
class RunLoop {
public:
    using Impl = typename Simulation<Real>::Impl;
    RunLoop(Impl& m, RunSink* out, const StartPoint& from, const RunHooks& hooks)
        : m_(m), num_(m.cfg.numerics), out_(out), from_(from), hooks_(hooks), N_(m.cfg.lattice.sites()),
          resumed_(from.step > 0 || from.next_snapshot > 0), snap_index_(from.next_snapshot),
          buffers_(m.be, 3 * std::size_t(N_)), writer_scope_(m, out) {
        m_.last_snapshot_t = resumed_ ? from.t : -1;
        written_t_ = m_.last_snapshot_t;
        // The processes write their own sites (MPI-IO; compressed: their own chunks)
        // unless the root's hooks want the whole state (on_state, which `xyzmf run`
        // over ranks no longer sets) or it has no file: one decision for all.
        if (m_.domain) own_sites_ = !m_.domain->any(m_.domain->root() && (hooks_.on_state || !out_));
    }

    RunSummary run() {
        if (m_.rk4)
            run_fixed_steps_loop();
        else
            run_adaptive_loop();
        sum_.seconds = seconds();
        sum_.site_steps = steps_here_ * N_;
        return sum_;
    }
    std::int64_t next_snapshot() const { return snap_index_; }

private:
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count(); }

    // rk4: time in whole steps; records and snapshots every so many steps.
    void run_fixed_steps_loop() {
        const FixedStepPlan plan = FixedStepPlan::make(num_.dt, num_.t_end);
        const std::int64_t rec_stride = plan.stride(num_.record_every), snap_stride = plan.stride(m_.cfg.snapshot_interval());
        run_fixed_steps(
            *m_.rk4, m_.y, plan, from_.step, {rec_stride, snap_stride},
            [&](std::int64_t step) {
                steps_here_ = step - from_.step;
                const bool fresh = !(resumed_ && step == from_.step);
                const bool last = step >= plan.n_total;
                const bool snapshot = fresh && step % snap_stride == 0;
                const bool record = fresh && step % rec_stride == 0;
                if (at_event(plan.time_of(step), step, num_.dt, record, snapshot, last)) return true;
                m_.stop_if_asked(plan.time_of(step), steps_here_, hooks_, out_);
                return false;
            },
            hooks_.kill_after_steps,
            m_.domain ? std::function<void(double, std::int64_t)>(
                            [this](double h, std::int64_t n) { m_.domain->advance(*m_.rk4, m_.y, h, n); })
                      : nullptr);
    }

    // dopri5: steps clipped to land on each record and snapshot time and on t_end.
    void run_adaptive_loop() {
        const double T = num_.t_end, rec = num_.record_every, snap = m_.cfg.snapshot_interval();
        double t = from_.t, h = from_.dt_next > 0 ? from_.dt_next : num_.dt;
        std::int64_t step = from_.step;
        // Record k happens at t = k * rec and snapshot k at t = k * snap. Products
        // that differ by rounding (6 x 0.051 and 18 x 0.017; 3 x 0.3 and t_end 0.9)
        // are one event, at the first of them, or at t_end: each was two, a step of
        // 1e-16 apart (a duplicated last row), and a resume at the first skipped the
        // second.
        const auto same = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); };
        // On a resume the events at the restart time are already in the file.
        std::int64_t rec_k = 0;
        if (resumed_) {
            rec_k = std::max<std::int64_t>(0, std::int64_t(std::floor(t / rec)) - 1);
            while (double(rec_k) * rec < t || same(double(rec_k) * rec, t)) ++rec_k;
        }
        for (;;) {
            const bool record = same(t, double(rec_k) * rec);
            const bool snapshot = same(t, double(snap_index_) * snap);
            if (record) ++rec_k;
            if (at_event(t, step, h, record, snapshot, t >= T)) break;
            double target = std::min({double(rec_k) * rec, double(snap_index_) * snap, T});
            if (same(target, T)) target = T;  // (the run ends at t_end exactly)
            for (;;) {  // retry until a step is accepted
                m_.stop_if_asked(t, steps_here_, hooks_, out_);
                const bool clipped = h >= target - t || same(t + h, target);  // (not 1e-10 short of it)
                const double h_try = clipped ? target - t : h;
                double err = 0, h_next = 0;
                if (m_.dopri->attempt(m_.y, h_try, err, h_next)) {
                    if (m_.domain) m_.domain->exchange(m_.y);  // the ghost rows the step spoiled
                    t = clipped ? target : t + h_try;
                    h = clipped ? std::max(h, h_next) : h_next;
                    ++step;
                    ++steps_here_;
                    break;
                }
                ++sum_.rejected;
                h = h_next;
                if (h < 1e-12 * std::max(1.0, std::abs(t))) {  // (its state may be finite: it was said to be NaN)
                    if (out_) m_.settle();
                    throw m_.blow_up(Observables{}, t, out_, m_.last_snapshot_t,
                                     "dopri5's step fell to " + fmt("%.3g", h) +
                                         " (below 1e-12 of max(1, t)): the state runs away or the equations are too "
                                         "stiff here");
                }
            }
        }
    }

    // Work at an event time: record (+ checks), snapshot, maybe stop. Returns true to stop.
    bool at_event(double t, std::int64_t step, double dt_next, bool record, bool snapshot, bool last) {
        bool stop = last;
        if (record || last) {
            const Observables o = m_.observe();
            m_.check_state(o, t, out_);
            if (out_) m_.writer->push([out = out_, t, o, N = N_] { out->record(t, o, N); });
            sum_.residual = std::sqrt(o.max_rate2);
            for (int c = 0; c < 3; ++c) { sum_.mean[c] = o.sum[c] / N_; sum_.staggered[c] = o.stag[c] / N_; }
            sum_.t = t;
            sum_.steps = step;
            sum_.seconds = seconds();
            sum_.site_steps = steps_here_ * N_;
            if (num_.steady_tol > 0 && sum_.residual < num_.steady_tol && !last) {
                sum_.reason = StopReason::steady;
                stop = true;
            }
            if (hooks_.on_record) hooks_.on_record(t, sum_.residual, sum_);
        }
        if (snapshot) {
            if (out_ || m_.domain) {
                const std::int64_t index = snap_index_;
                write_state(
                    [this, out = out_, index, t, step, dt_next](const StateView& h) {
                        if (!m_.domain) check_copy(static_cast<const Real*>(h.data), t);
                        out->snapshot(index, t, step, dt_next, h);
                    },
                    out_ ? out_->snapshot_where(index) : std::string(), t);
            }
            ++snap_index_;
            m_.last_snapshot_t = t;
        }
        if (stop && (out_ || m_.domain)) {
            const std::string reason = to_string(sum_.reason);
            const double residual = sum_.residual;
            write_state([=, out = out_](const StateView& h) { out->final_state(t, step, h, reason, residual); }, "/final", t);
            if (out_) m_.writer->drain();  // the file is complete when run() returns
        }
        return stop;
    }

    // Queues write (out->snapshot or final_state) of the current state, then hooks.on_state.
    // Snapshots are written (and compressed, with --compress) by the writer thread while
    // the next steps run; two may wait, each with its own host copy of the state from a
    // pool of reused buffers (fresh ones would cost page faults, or page-locking on CUDA,
    // at every snapshot).
    void write_state(std::function<void(const StateView&)> write, const std::string& where, double t) {
        if (m_.domain) return gather_and_write(std::move(write), where, t);
        Real* data = buffers_.take();
        std::function<void()> landed;
        try {
            landed = m_.be.start_download(data, m_.y.data(), m_.lat);
        } catch (...) {
            buffers_.give(data);
            throw;
        }
        m_.writer->push([this, data, landed, write, where, t, prec = m_.cfg.precision]() {
            struct Back {  // the buffer returns to the pool however the job ends
                HostBufferPool<Real>& pool;
                Real* p;
                ~Back() { pool.give(p); }
            } back{buffers_, data};
            landed();
            const StateView host{data, prec};
            write(host);
            if (hooks_.on_state) hooks_.on_state(where, t, host);
            if (hooks_.on_written) hooks_.on_written(where, t);
        });
    }

    // A lattice spread over processes: the state checked on every process
    // before it is written, so that all of them stop on a blow-up together;
    // then written by all of them (own_sites_), or gathered on the root (the
    // only one with a file) and written there.
    void gather_and_write(std::function<void(const StateView&)> write, const std::string& where, double t) {
        if (own_sites_) return write_own_sites(std::move(write), where, t);
        Real* data = out_ ? buffers_.take() : nullptr;
        Observables o;
        try {
            o.max_s2 = m_.domain->gather(m_.y, data);
            check_spread_state(o, where, t);
        } catch (...) {
            if (data) buffers_.give(data);
            throw;
        }
        if (!out_) return;
        m_.writer->push([this, data, write, where, t, prec = m_.cfg.precision]() {
            struct Back {
                HostBufferPool<Real>& pool;
                Real* p;
                ~Back() { pool.give(p); }
            } back{buffers_, data};
            const StateView host{data, prec};
            write(host);
            if (hooks_.on_state) hooks_.on_state(where, t, host);
            if (hooks_.on_written) hooks_.on_written(where, t);
        });
    }

    void check_spread_state(const Observables& o, const std::string& where, double t) {
        if (!m_.state_ok(o)) {
            if (out_) m_.settle();
            throw m_.blow_up(o, t, out_, m_.last_snapshot_t);
        }
        if (hooks_.on_spread_state) hooks_.on_spread_state(where, t, owned_sites());
    }

    // This process's owned sites of the state (x, y, z blocks).
    HostState owned_sites() {
        const index_t first = m_.domain->owned_first(), n = m_.domain->owned_last() - first,
                      stride = m_.domain->local().component_stride();
        std::vector<Real> mine(3 * std::size_t(n));
        for (int c = 0; c < 3; ++c) m_.be.download(mine.data() + c * n, m_.y.data() + c * stride + first, std::size_t(n));
        return HostState(mine.begin(), mine.end());
    }

    // The root's writer finishes what it has and allocates the state's spins in
    // the file; every process writes its own sites there (MPI-IO), or with
    // --compress compresses its own chunks, which the root's writer stores a
    // batch at a time; the root's writer finishes the state's group (write
    // with no data). No process holds much more than its own sites.
    void write_own_sites(std::function<void(const StateView&)> write, const std::string& where, double t) {
        Observables o;
        o.max_s2 = m_.domain->stage_own_sites(m_.y);
        check_spread_state(o, where, t);
        const bool compressed = m_.cfg.compress > 0;
        SpinsOnDisk disk;
        SpinChunking how;
        std::exception_ptr failed;
        if (out_) {
            try {
                m_.writer->push([&, out = out_, where] {
                    if (compressed)
                        how = out->prepare_chunked_spins(where);
                    else
                        disk = out->prepare_spins(where);
                });
                m_.writer->drain();
            } catch (...) {
                failed = std::current_exception();
                disk = {};
                how = {};
            }
        }
        // collective; an empty name or shape on the root: nothing written
        if (compressed)
            m_.domain->write_staged_compressed(how, [&, out = out_, where](const FilteredChunks& batch) {
                m_.writer->push([&batch, out, where] { out->write_spin_chunks(where, batch); });
                m_.writer->drain();
            });
        else
            m_.domain->write_staged(disk.path, disk.offset);
        if (failed) std::rethrow_exception(failed);
        if (out_)
            m_.writer->push([this, write, where, t, prec = m_.cfg.precision]() {
                write(StateView{nullptr, prec});
                if (hooks_.on_written) hooks_.on_written(where, t);
            });
        if (hooks_.on_spread_written)
            hooks_.on_spread_written(where, t, owned_sites(), [this](const std::function<void()>& job) {
                if (!out_) return job();
                m_.writer->push(job);
                m_.writer->drain();
            });
    }

    // On the writer thread: snapshots that are not also records are checked on their
    // host copy (finite, |s| <= 1 + norm_tol) instead of evaluating ds/dt on the
    // backend, which cost as much as a step. A bad one is not written.
    void check_copy(const Real* s, double t) {
        Observables o;
        o.max_s2 = max_norm2(s, N_, 0, N_);
        if (!m_.state_ok(o)) throw m_.blow_up(o, t, out_, written_t_);
        written_t_ = t;
    }

    struct WriterScope {
        Impl& m;
        WriterScope(Impl& impl, RunSink* out) : m(impl) {
            if (out) m.writer = std::make_unique<WriteQueue>(2, [out] { out->on_writer_thread(); });
        }
        ~WriterScope() { m.writer.reset(); }  // finishes whatever is queued, also when unwinding
    };

    Impl& m_;
    const Numerics& num_;
    RunSink* out_;
    const StartPoint from_;
    const RunHooks& hooks_;
    const index_t N_;
    const bool resumed_;
    std::int64_t snap_index_;
    RunSummary sum_;
    const std::chrono::steady_clock::time_point wall0_ = std::chrono::steady_clock::now();
    std::int64_t steps_here_ = 0;
    double written_t_ = -1;  // the writer's: last snapshot it wrote
    bool own_sites_ = false;  // spread over processes that write their own sites
    HostBufferPool<Real> buffers_;
    WriterScope writer_scope_;  // last: the writer finishes before the members its jobs use go
};

template <class Real>
RunSummary Simulation<Real>::run(RunSink* out, const StartPoint& from, const RunHooks& hooks) {
    RunLoop<Real> loop(*impl_, out, from, hooks);
    const RunSummary sum = loop.run();
    start_ = {sum.steps, sum.t, 0, loop.next_snapshot()};
    return sum;
}

template class Simulation<float>;
template class Simulation<double>;

}  // namespace xyzmf
