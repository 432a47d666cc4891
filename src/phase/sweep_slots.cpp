// A sweep's lattices through a batch of slots, each on its own clock (see sweep_slots.hpp).
#include "sweep_slots.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend_select.hpp"
#include "fixed_step.hpp"
#include "integrators.hpp"
#include "signals.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

template <class Real>
void run_in_slots_t(const Lattice& one, std::int64_t slots, std::int64_t count,
                    const std::function<Couplings(std::int64_t)>& couplings_of,
                    const std::function<HostState(std::int64_t)>& start_of, const FixedStepNumerics& num,
                    BackendKind kind, const std::function<void(SlotEndings&)>& finished,
                    const std::function<void()>& between_passes) {
    if (count <= 0) return;
    const FixedStepPlan plan = FixedStepPlan::make(num.dt, num.t_end);
    const std::int64_t check = plan.stride(1.0);  // a lattice's checks: every 1/gamma of its own time, and its end
    // Refilling a slot mid-batch puts lattices of different ages side by side:
    // every step they take together must be a whole dt for each of them.
    const bool refill = plan.n_total % check == 0 && plan.last_step() == plan.dt;
    Lattice batch = one;
    batch.copies = std::min(slots, count);
    const index_t B = batch.copies, Ns = one.copy_sites(), S = batch.component_stride();

    auto be = make_backend<Real>(kind);
    StateBuffer<Real> y(*be, batch), rate(*be, batch);
    std::vector<Couplings> first;
    for (index_t b = 0; b < B; ++b) first.push_back(couplings_of(b));
    Rk4<Real> rk4(*be, batch, first);
    StageArgs<Real> a{};
    a.k_out = rate.data();
    a.lat = batch;
    a.model = SiteModel<Real>::make(first[0], batch.dim);
    a.models = rk4.models();

    std::vector<std::int64_t> entry(std::size_t(B), -1), start(std::size_t(B), 0);  // slot -> lattice, its first step
    std::vector<Real> slice(3 * std::size_t(Ns));
    auto load = [&](index_t b, std::int64_t i, std::int64_t g) {
        const HostState s0 = start_of(i);
        for (int c = 0; c < 3; ++c) {
            std::copy(s0.begin() + c * Ns, s0.begin() + (c + 1) * Ns, slice.begin() + c * Ns);
            be->upload(y.data() + c * S + b * Ns, slice.data() + c * Ns, std::size_t(Ns));
        }
        if (g > 0) rk4.set_copy_couplings(b, couplings_of(i));  // (the first lattices are rk4's already)
        entry[std::size_t(b)] = i;
        start[std::size_t(b)] = g;
    };
    // A slot left empty holds the paramagnet, a fixed point of every copy's equations.
    auto idle = [&](index_t b) {
        for (int c = 0; c < 3; ++c) {
            std::fill(slice.begin() + c * Ns, slice.begin() + (c + 1) * Ns, Real(c == 2 ? -1 : 0));
            be->upload(y.data() + c * S + b * Ns, slice.data() + c * Ns, std::size_t(Ns));
        }
    };
    std::vector<index_t> freed;  // slots whose lattice ended at this step
    std::int64_t next = 0;
    for (index_t b = 0; b < B; ++b) load(b, next++, 0);

    // Whether slot b's lattice has a check (or its end) at global step g.
    auto checked_at = [&](index_t b, std::int64_t g) {
        const std::int64_t s = g - start[std::size_t(b)];
        return entry[std::size_t(b)] >= 0 && ((s > 0 && s % check == 0) || s == plan.n_total);
    };
    // The lattices that ended at the last check are handed over (analysed and
    // stored by the caller) just before the next check: by then the passes up
    // to it are queued, so on a GPU the host works while the device steps.
    SlotEndings pending;
    auto hand_over = [&] {
        if (pending.empty()) return;
        finished(pending);
        pending.clear();
    };
    for (std::int64_t g = 0;;) {
        bool any_event = false;
        for (index_t b = 0; b < B; ++b) any_event = any_event || checked_at(b, g);
        if (any_event) {
            hand_over();
            a.src = y.data();  // each pass of the fused stepper swaps y's buffers
            be->stage(a);
            const std::vector<Observables> o = be->observe_copies(y.data(), rate.data(), batch);
            for (index_t b = 0; b < B; ++b) {
                if (!checked_at(b, g)) continue;
                const std::int64_t i = entry[std::size_t(b)], s = g - start[std::size_t(b)];
                const Observables& ob = o[std::size_t(b)];
                const bool blown = !bloch_state_ok(ob, num.norm_tol);
                const bool steady = s > 0 && num.steady_tol > 0 && std::isfinite(ob.max_rate2) &&
                                    std::sqrt(ob.max_rate2) < num.steady_tol;
                if (!blown && !steady && s != plan.n_total) continue;
                SlotOutcome out;
                out.steps = s;
                out.t_final = plan.time_of(s);
                if (blown) {
                    out.blow_up_t = out.t_final;
                } else {
                    out.state.resize(3 * std::size_t(Ns));
                    for (int c = 0; c < 3; ++c) be->download(slice.data() + c * Ns, y.data() + c * S + b * Ns, std::size_t(Ns));
                    std::copy(slice.begin(), slice.end(), out.state.begin());
                }
                pending.emplace_back(i, std::move(out));
                entry[std::size_t(b)] = -1;
                freed.push_back(b);
            }
        }
        // Refill: at once where every lattice steps whole dt's, else once the group is done.
        bool active = false;
        for (std::int64_t i : entry) active = active || i >= 0;
        for (index_t b = 0; b < B && next < count; ++b)
            if (entry[std::size_t(b)] < 0 && (refill || !active)) load(b, next++, g);
        // (a slot refilled at once needs no paramagnet first: on a GPU each is three copies)
        for (index_t b : freed)
            if (entry[std::size_t(b)] < 0) idle(b);
        freed.clear();
        index_t lead = -1;  // a running slot (in a group without refill every one has the same age)
        for (index_t b = 0; b < B; ++b)
            if (entry[std::size_t(b)] >= 0) lead = b;
        if (lead < 0) return hand_over();
        if (between_passes) between_passes();
        if (interrupt_requested()) {
            hand_over();  // (what ended is kept)
            throw Error(interruption_text(), interrupt_exit_code());
        }

        // Up to the next check or end of any running lattice.
        std::int64_t g_next = -1;
        for (index_t b = 0; b < B; ++b) {
            if (entry[std::size_t(b)] < 0) continue;
            const std::int64_t s = g - start[std::size_t(b)];
            const std::int64_t e = start[std::size_t(b)] + std::min((s / check + 1) * check, plan.n_total);
            g_next = g_next < 0 ? e : std::min(g_next, e);
        }
        const std::int64_t s = g - start[std::size_t(lead)];
        const std::int64_t n = refill ? std::clamp<std::int64_t>(g_next - g, 1, rk4.steps_per_pass())
                                      : rk4_steps_to_take(s, s + (g_next - g), plan.n_total, rk4.steps_per_pass());
        const double h = !refill && s + 1 == plan.n_total ? plan.last_step() : plan.dt;
        rk4.advance(y, h, n);
        g += n;
    }
}

}  // namespace

void run_in_slots(const Lattice& one, std::int64_t slots, std::int64_t count,
                  const std::function<Couplings(std::int64_t)>& couplings_of,
                  const std::function<HostState(std::int64_t)>& start_of, const FixedStepNumerics& num,
                  Precision precision, BackendKind kind,
                  const std::function<void(SlotEndings&)>& finished, const std::function<void()>& between_passes) {
    if (one.copies != 1) throw Error("run_in_slots: one lattice per slot (internal error)");
    if (slots < 1) throw Error("run_in_slots: no slots (internal error)");
    if (precision == Precision::float32)
        run_in_slots_t<float>(one, slots, count, couplings_of, start_of, num, kind, finished, between_passes);
    else
        run_in_slots_t<double>(one, slots, count, couplings_of, start_of, num, kind, finished, between_passes);
}

}  // namespace xyzmf
