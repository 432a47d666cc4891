// The fixed-step (rk4) time loop of `run` (Simulation), its plan (shared with
// the sweep's slots, src/phase/sweep_slots.cpp) and the one blow-up rule both
// apply. Time is counted in whole steps, t = step * dt with the last step
// shortened to land on t_end, so a resumed run takes exactly the steps of an
// uninterrupted one.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "bloch_ball.hpp"
#include "integrators.hpp"

namespace xyzmf {

// A state is a set of Bloch vectors: finite, |s| <= 1 + norm_tol, finite ds/dt.
inline bool bloch_state_ok(const Observables& o, double norm_tol) {
    return in_bloch_ball(o.max_s2, norm_tol) && std::isfinite(o.max_rate2);
}

struct FixedStepPlan {
    double dt = 0, t_end = 0;
    std::int64_t n_total = 0;  // steps to t_end

    static FixedStepPlan make(double dt, double t_end) {
        FixedStepPlan p{dt, t_end, 0};
        // At least one step when t_end > 0, however large dt is.
        if (t_end > 0) p.n_total = std::max<std::int64_t>(1, std::int64_t(std::ceil(t_end / dt - 1e-9)));
        return p;
    }
    double time_of(std::int64_t step) const { return step >= n_total ? t_end : double(step) * dt; }
    // The last step lands on t_end: shortened when t_end is not a whole number
    // of steps, exactly dt when it is (to roundoff), so that a run carried on
    // from t_end (run --continue-from) takes the steps an uninterrupted run takes.
    double last_step() const {
        const double h = t_end - double(n_total - 1) * dt;
        return std::abs(h - dt) <= 1e-9 * dt ? dt : h;
    }
    // Events every `interval` (1/gamma), in steps: >= 1, and never more than
    // n_total + 1 (an interval beyond t_end means "only at step 0").
    std::int64_t stride(double interval) const {
        const double s = std::round(interval / dt);
        return s < 1 ? 1 : s > double(n_total + 1) ? n_total + 1 : std::int64_t(s);
    }
    // The interval those events keep: the nearest whole number of steps (at least
    // one), or the one asked for where that is whole already or lies beyond t_end.
    double interval_in_use(double interval) const {
        const std::int64_t k = stride(interval);
        return k > n_total || std::abs(double(k) * dt - interval) <= 1e-9 * interval ? interval : double(k) * dt;
    }
};

// Advances y from step `from` to plan.n_total, never stepping over `from`, a
// multiple of a stride, n_total, or max_steps steps into this call (max_steps
// < 0: no limit). at_event(step) runs at each of those and after every pass in
// between (so a caller can poll for Ctrl-C; it tests step % stride itself) and
// returns true to stop there. Returns the step reached. advance (if set)
// takes the place of rk4.advance(y, h, n): a lattice spread over processes
// steps its block and refreshes its ghost rows there (at most one pass of
// steps each time, Domain::advance).
template <class Real>
std::int64_t run_fixed_steps(Rk4<Real>& rk4, StateBuffer<Real>& y, const FixedStepPlan& plan, std::int64_t from,
                             const std::vector<std::int64_t>& strides, const std::function<bool(std::int64_t)>& at_event,
                             std::int64_t max_steps = -1, const std::function<void(double, std::int64_t)>& advance = {}) {
    const int per_pass = rk4.steps_per_pass();
    for (std::int64_t step = from;;) {
        if (at_event(step) || step >= plan.n_total) return step;
        std::int64_t next = plan.n_total;
        for (std::int64_t s : strides) next = std::min(next, (step / s + 1) * s);
        if (max_steps >= 0) next = std::min(next, std::max(step + 1, from + max_steps));
        const std::int64_t n = rk4_steps_to_take(step, next, plan.n_total, per_pass);
        const double h = step + 1 == plan.n_total ? plan.last_step() : plan.dt;
        if (advance)
            advance(h, n);
        else
            rk4.advance(y, h, n);
        step += n;
    }
}

}  // namespace xyzmf
