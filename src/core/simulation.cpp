// The time loop (see simulation.hpp). Fixed-step runs count time in whole
// steps (t = step * dt, the last step shortened to land on t_end), so a
// resumed run takes exactly the same steps as an uninterrupted one.
#include "xyzmf/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "xyzmf/error.hpp"
#include "xyzmf/fixed_step.hpp"
#include "xyzmf/integrators.hpp"
#include "xyzmf/signals.hpp"
#include "xyzmf/write_queue.hpp"

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
    Lattice lat;
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

    Impl(const RunConfig& c, Backend<Real>& b)
        : cfg(c), be(b), lat(c.lattice), model(SiteModel<Real>::make(c.couplings, c.lattice.dim)),
          y(b, c.lattice), dsdt(b, c.lattice) {
        if (c.numerics.integrator == IntegratorKind::rk4)
            rk4 = std::make_unique<Rk4<Real>>(b, lat, c.couplings, c.numerics.stepper, c.numerics.steps_per_pass);
        else
            dopri = std::make_unique<DormandPrince5<Real>>(b, lat, c.couplings, c.numerics.rtol, c.numerics.atol);
    }

    Observables observe() {
        evaluate_rhs(be, lat, model, y.data(), dsdt.data());
        return be.observe(y.data(), dsdt.data(), lat);
    }

    // Blow-up check (issue #2 item 4): NaN/Inf or |s| > 1 + tol anywhere.
    bool state_ok(const Observables& o) const { return bloch_state_ok(o, cfg.numerics.norm_tol); }
    void check_state(const Observables& o, double t, RunSink* out) {
        if (state_ok(o)) return;
        if (out) settle();
        throw blow_up(o, t, out, last_snapshot_t);
    }
    // Marks the file (whose writer must be the caller) and says what happened.
    Error blow_up(const Observables& o, double t, RunSink* out, double last_good_t) const {
        const bool nan = !std::isfinite(o.max_s2) || !std::isfinite(o.max_rate2);
        std::string msg = "blow-up at t = " + fmt("%g", t) + ": " +
                          (nan ? std::string("NaN/Inf in the state")
                               : "|s| reached " + fmt("%.6g", std::sqrt(o.max_s2)) + " > 1 + norm-tol") + "; ";
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
        if (!interrupt_requested()) return;
        std::string msg = std::string("interrupted (") + interrupt_signal_name() + ") at t = " + fmt("%g", t);
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
Simulation<Real>::Simulation(const RunConfig& cfg, Backend<Real>& be) : impl_(std::make_unique<Impl>(cfg, be)) {}

template <class Real>
Simulation<Real>::~Simulation() = default;

template <class Real>
void Simulation<Real>::set_state(const HostState& s) {
    std::vector<Real> r(s.begin(), s.end());
    upload_state(impl_->be, impl_->y, r.data(), impl_->lat);
    if (impl_->dopri) impl_->dopri->invalidate();
}

template <class Real>
HostState Simulation<Real>::state() const {
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
    evaluate_rhs(impl_->be, impl_->lat, impl_->model, impl_->y.data(), impl_->dsdt.data());
    std::vector<Real> r(3 * std::size_t(impl_->lat.sites()));
    download_state(impl_->be, r.data(), impl_->dsdt, impl_->lat);
    return HostState(r.begin(), r.end());
}

template <class Real>
RunSummary Simulation<Real>::run(RunSink* out, const StartPoint& from, const RunHooks& hooks) {
    Impl& m = *impl_;
    const Numerics& num = m.cfg.numerics;
    const double T = num.t_end, rec = num.record_every, snap = m.cfg.snapshot_interval();
    const index_t N = m.lat.sites();
    const bool resumed = from.step > 0 || from.next_snapshot > 0;
    std::int64_t snap_index = from.next_snapshot;
    m.last_snapshot_t = resumed ? from.t : -1;

    RunSummary sum;
    const auto wall0 = std::chrono::steady_clock::now();
    std::int64_t steps_here = 0;
    // Snapshots are written (and compressed, with --compress) by the writer
    // thread while the next steps run; two may wait, each with its own host
    // copy of the state from a pool of reused buffers (fresh ones would cost
    // page faults, or page-locking on CUDA, at every snapshot).
    HostBufferPool<Real> buffers(m.be, 3 * std::size_t(N));
    struct WriterScope {
        Impl& m;
        WriterScope(Impl& impl, RunSink* out) : m(impl) { if (out) m.writer = std::make_unique<WriteQueue>(2, [out] { out->on_writer_thread(); }); }
        ~WriterScope() { m.writer.reset(); }  // finishes whatever is queued, also when unwinding
    } writer_scope(m, out);
    const Precision prec = m.cfg.precision;
    // Queues out->snapshot (or final_state) of the current state, then hooks.on_state.
    auto write_state = [&](std::function<void(const StateView&)> write, const std::string& where, double t) {
        Real* data = buffers.take();
        std::function<void()> landed;
        try {
            landed = m.be.start_download(data, m.y.data(), m.lat);
        } catch (...) {
            buffers.give(data);
            throw;
        }
        m.writer->push([&buffers, data, landed, write, where, t, prec, &hooks]() {
            struct Back {  // the buffer returns to the pool however the job ends
                HostBufferPool<Real>& pool;
                Real* p;
                ~Back() { pool.give(p); }
            } back{buffers, data};
            landed();
            const StateView host{data, prec};
            write(host);
            if (hooks.on_state) hooks.on_state(where, t, host);
        });
    };

    // Work at an event time: record (+ checks), snapshot, maybe stop.
    // Snapshots that are not also records are checked on their host copy by
    // the writer (finite, |s| <= 1 + norm_tol) instead of evaluating ds/dt on
    // the backend, which cost as much as a step. A bad one is not written.
    double written_t = m.last_snapshot_t;  // the writer's: last snapshot it wrote
    auto check_copy = [&m, &written_t, out](const Real* s, index_t n_sites, double t) {
        Observables o;
        for (index_t e = 0; e < n_sites; ++e) {
            const double s2 = double(s[e]) * s[e] + double(s[n_sites + e]) * s[n_sites + e] +
                              double(s[2 * n_sites + e]) * s[2 * n_sites + e];
            o.max_s2 = s2 <= o.max_s2 ? o.max_s2 : (s2 <= 1e300 ? s2 : HUGE_VAL);  // NaN -> inf
        }
        if (!m.state_ok(o)) throw m.blow_up(o, t, out, written_t);
        written_t = t;
    };
    auto at_event = [&](double t, std::int64_t step, double dt_next, bool record, bool snapshot, bool last) {
        bool stop = last;
        if (record || last) {
            const Observables o = m.observe();
            m.check_state(o, t, out);
            if (out) m.writer->push([out, t, o, N] { out->record(t, o, N); });
            sum.residual = std::sqrt(o.max_rate2);
            for (int c = 0; c < 3; ++c) { sum.mean[c] = o.sum[c] / N; sum.staggered[c] = o.stag[c] / N; }
            sum.t = t;
            sum.steps = step;
            sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
            sum.site_steps = steps_here * N;
            if (num.steady_tol > 0 && sum.residual < num.steady_tol && !last) {
                sum.reason = StopReason::steady;
                stop = true;
            }
            if (hooks.on_record) hooks.on_record(t, sum.residual, sum);
        }
        if (snapshot) {
            if (out) {
                const std::int64_t index = snap_index;
                write_state(
                    [=, &check_copy](const StateView& h) {
                        check_copy(static_cast<const Real*>(h.data), N, t);
                        out->snapshot(index, t, step, dt_next, h);
                    },
                    out->snapshot_where(index), t);
            }
            ++snap_index;
            m.last_snapshot_t = t;
        }
        if (stop && out) {
            const std::string reason = to_string(sum.reason);
            const double residual = sum.residual;
            write_state([=](const StateView& h) { out->final_state(t, step, h, reason, residual); }, "/final", t);
            m.writer->drain();  // the file is complete when run() returns
        }
        return stop;
    };

    if (m.rk4) {
        const FixedStepPlan plan = FixedStepPlan::make(num.dt, T);
        const std::int64_t rec_stride = plan.stride(rec), snap_stride = plan.stride(snap);
        run_fixed_steps(
            *m.rk4, m.y, plan, from.step, {rec_stride, snap_stride},
            [&](std::int64_t step) {
                steps_here = step - from.step;
                const bool fresh = !(resumed && step == from.step);
                const bool last = step >= plan.n_total;
                const bool snapshot = fresh && step % snap_stride == 0;
                const bool record = fresh && step % rec_stride == 0;
                if (at_event(plan.time_of(step), step, num.dt, record, snapshot, last)) return true;
                m.stop_if_asked(plan.time_of(step), steps_here, hooks, out);
                return false;
            },
            hooks.kill_after_steps);
    } else {
        double t = from.t, h = from.dt_next > 0 ? from.dt_next : num.dt;
        std::int64_t step = from.step;
        // Record k happens at t = k * rec and snapshot k at t = k * snap; on a
        // resume the ones at the restart time are already in the file.
        std::int64_t rec_k = resumed ? std::int64_t(std::floor(t / rec + 1e-9)) + 1 : 0;
        for (;;) {
            const bool record = t == double(rec_k) * rec;
            const bool snapshot = t == double(snap_index) * snap;
            if (record) ++rec_k;
            if (at_event(t, step, h, record, snapshot, t >= T)) break;
            const double target = std::min({double(rec_k) * rec, double(snap_index) * snap, T});
            for (;;) {  // retry until a step is accepted
                m.stop_if_asked(t, steps_here, hooks, out);
                const bool clipped = h >= target - t;
                const double h_try = clipped ? target - t : h;
                double err = 0, h_next = 0;
                if (m.dopri->attempt(m.y, h_try, err, h_next)) {
                    t = clipped ? target : t + h_try;
                    h = clipped ? std::max(h, h_next) : h_next;
                    ++step;
                    ++steps_here;
                    break;
                }
                ++sum.rejected;
                h = h_next;
                if (h < 1e-12 * std::max(1.0, std::abs(t))) {
                    Observables o;
                    o.max_s2 = HUGE_VAL;
                    m.check_state(o, t, out);  // reports a blow-up
                }
            }
        }
    }
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    sum.site_steps = steps_here * N;
    start_ = {sum.steps, sum.t, 0, snap_index};
    return sum;
}

template class Simulation<float>;
template class Simulation<double>;

}  // namespace xyzmf
