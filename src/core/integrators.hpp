// Time integrators written only against Backend primitives (stage, combine,
// error_norm), so a new tableau touches no kernel.
//   Rk4           classic 4th order, fixed step: fused (whole steps per pass over
//                 memory, include/xyzmf/fused_rk4.hpp) or four-sweep (16 array sweeps/step)
//   DormandPrince5  embedded 5(4) pair with FSAL, max-norm error control
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "xyzmf/backend.hpp"
#include "xyzmf/couplings.hpp"
#include "xyzmf/dtwa_site.hpp"
#include "run_config.hpp"

namespace xyzmf {

template <class Real>
class Rk4 {
public:
    // steps_per_pass: RK4 steps the fused stepper does per pass over memory
    // (1 .. kMaxFusedSteps), or 0: the backend's choice, which may be the
    // four-sweep path where that is faster (small lattices on the CPU);
    // ignored by four-sweep. stepper() says which one runs.
    // scheme: how fused passes walk through memory (FusedScheme; best: the
    // backend's measured choice). Every scheme gives the same numbers.
    Rk4(Backend<Real>& be, const Lattice& lat, const Couplings& c, Rk4Stepper stepper = Rk4Stepper::fused,
        int steps_per_pass = 0, FusedScheme scheme = FusedScheme::best);
    // A batch: lat.copies independent lattices, copy b with couplings per_copy[b].
    Rk4(Backend<Real>& be, const Lattice& lat, const std::vector<Couplings>& per_copy,
        Rk4Stepper stepper = Rk4Stepper::fused, int steps_per_pass = 0, FusedScheme scheme = FusedScheme::best);
    // y <- y + one RK4 step of size h. The fused stepper swaps y with a buffer
    // of its own (y.data() changes; both stay owned by the same backend).
    void step(StateBuffer<Real>& y, double h) { advance(y, h, 1); }
    // DTWA: the jumps (dtwa_site.hpp) applied to y, then one step, in one pass
    // over memory where the fused stepper runs (else a dissipation pass first).
    void step(StateBuffer<Real>& y, double h, const dtwa::BoundaryJumps& jumps);
    // y <- y + n RK4 steps of size h, in passes of up to steps_per_pass().
    // Any grouping gives the same result bit for bit.
    void advance(StateBuffer<Real>& y, double h, std::int64_t n);
    int steps_per_pass() const { return stepper_ == Rk4Stepper::fused ? steps_per_pass_ : 1; }
    Rk4Stepper stepper() const { return stepper_; }
    // The scheme of the fused passes (tiles or stream); meaningless for four-sweep.
    FusedScheme scheme() const { return scheme_; }
    // Per-copy couplings on the backend (null unless a batch), for StageArgs::models.
    const Real* models() const { return models_.data(); }
    // A batch: copy `copy` from now on with couplings c (a sweep refilling a slot).
    void set_copy_couplings(index_t copy, const Couplings& c);

private:
    void four_sweep_step(StateBuffer<Real>& y, double h);
    void allocate_four_sweep();  // acc_, t1_, t2_ (once)
    // One pass of up to `steps` steps; returns how many the backend fused.
    int fused_pass(StateBuffer<Real>& y, double h, int steps, const dtwa::BoundaryJumps& jumps = {});
    const FusedPlan& plan(int steps);  // the plan of a pass of `steps`, made on first use

    Backend<Real>& be_;
    Lattice lat_;
    SiteModel<Real> model_;
    Rk4Stepper stepper_;
    int steps_per_pass_;
    FusedScheme scheme_;
    StateBuffer<Real> acc_, t1_, t2_;  // four-sweep only
    StateBuffer<Real> next_;           // fused only: the pass writes here, then swaps with y
    FusedPlan plans_[kMaxFusedSteps];  // plans_[m - 1]: passes of m steps (made on first use)
    bool planned_[kMaxFusedSteps] = {};
    StateBuffer<Real> models_;  // per-copy couplings on the backend (batches only)
};

template <class Real>
class DormandPrince5 {
public:
    DormandPrince5(Backend<Real>& be, const Lattice& lat, const Couplings& c, double rtol, double atol);
    // Tries one step of size h. On success y advances and the function returns
    // true; either way err is the scaled error norm (<= 1 accepts) and
    // h_next the suggested next step.
    bool attempt(StateBuffer<Real>& y, double h, double& err, double& h_next);
    // Forget the cached f(y) (after y was changed from outside).
    void invalidate() { fsal_valid_ = false; }
    // One block of a lattice spread over processes (src/core/domain.hpp): the
    // error norm over the owned sites [first, last) of each component, merged
    // over the processes by `merge` (their largest, so every process takes the
    // serial run's decision), and f(y) evaluated afresh after an accepted step,
    // since y's ghost rows are refreshed between steps (the same numbers as
    // the serial run's first-same-as-last stage).
    void spread(index_t first, index_t last, std::function<double(double)> merge);

private:
    Backend<Real>& be_;
    Lattice lat_;
    SiteModel<Real> model_;
    double rtol_, atol_;
    StateBuffer<Real> k_[7], tmp_, y_new_;
    bool fsal_valid_ = false;
    index_t owned_first_ = 0, owned_last_ = 0;
    std::function<double(double)> merge_;  // empty: the whole lattice is here
};

// Steps a fixed-step loop at `step` (of n_total, the last one possibly
// shortened) may hand to Rk4::advance at once: up to per_pass, landing on
// next_stop (the next step that records, snapshots or checks) and before the
// last step, which is always taken alone.
inline std::int64_t rk4_steps_to_take(std::int64_t step, std::int64_t next_stop, std::int64_t n_total, int per_pass) {
    if (step + 1 >= n_total || per_pass <= 1) return 1;
    const std::int64_t until = next_stop < n_total - 1 ? next_stop : n_total - 1;
    return std::clamp<std::int64_t>(until - step, 1, per_pass);
}

// ds/dt of a whole state: dsdt = f(s). Shared by integrators and observers.
template <class Real>
void evaluate_rhs(Backend<Real>& be, const Lattice& lat, const SiteModel<Real>& m, const Real* s, Real* dsdt);

// Array buffers each integrator holds besides the state itself (for the
// pre-allocation memory check): dopri5 9, four-sweep RK4 3, fused RK4 1.
inline int integrator_buffers(bool adaptive, Rk4Stepper stepper = Rk4Stepper::four_sweep) {
    return adaptive ? 9 : stepper == Rk4Stepper::fused ? 1 : 3;
}

}  // namespace xyzmf
