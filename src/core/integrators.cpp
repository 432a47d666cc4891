// RK4 and Dormand-Prince 5(4) over Backend primitives (see integrators.hpp).
#include "integrators.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "xyzmf/error.hpp"

namespace xyzmf {

template <class Real>
void evaluate_rhs(Backend<Real>& be, const Lattice& lat, const SiteModel<Real>& m, const Real* s, Real* dsdt) {
    StageArgs<Real> a{};
    a.src = s;
    a.k_out = dsdt;
    a.lat = lat;
    a.model = m;
    be.stage(a);
}

// ---- RK4 ---------------------------------------------------------------------
// Low-storage form: acc accumulates y + h/6 (k1 + 2k2 + 2k3 + k4) while the
// next stage's input is written alongside, so no k_i is ever stored.

template <class Real>
Rk4<Real>::Rk4(Backend<Real>& be, const Lattice& lat, const Couplings& c, Rk4Stepper stepper, int steps_per_pass,
               FusedScheme scheme)
    : be_(be), lat_(lat), model_(SiteModel<Real>::make(c, lat.dim)), stepper_(stepper),
      steps_per_pass_(std::min(steps_per_pass > 0 ? steps_per_pass : be.fused_steps_per_pass(lat), kMaxFusedSteps)),
      scheme_(scheme) {
    // The backend's choice may be 0: the four-sweep path is faster on this lattice.
    if (steps_per_pass_ < 1) stepper_ = Rk4Stepper::four_sweep;
    if (stepper_ == Rk4Stepper::fused) {
        // The plan of a whole pass, made now so that steps_per_pass() and
        // scheme() say what runs: the backend may fuse fewer steps than asked.
        const FusedPlan& p = plan(steps_per_pass_);
        if (p.steps >= 1) {
            steps_per_pass_ = p.steps;
            scheme_ = p.scheme;
        }
        next_ = StateBuffer<Real>(be, lat);
    } else {
        allocate_four_sweep();
    }
}

template <class Real>
const FusedPlan& Rk4<Real>::plan(int steps) {
    if (!planned_[steps - 1]) {
        plans_[steps - 1] = be_.fused_plan(lat_, steps, scheme_);
        planned_[steps - 1] = true;
    }
    return plans_[steps - 1];
}

template <class Real>
void Rk4<Real>::allocate_four_sweep() {
    if (acc_.data()) return;
    acc_ = StateBuffer<Real>(be_, lat_);
    t1_ = StateBuffer<Real>(be_, lat_);
    t2_ = StateBuffer<Real>(be_, lat_);
}

template <class Real>
Rk4<Real>::Rk4(Backend<Real>& be, const Lattice& lat, const std::vector<Couplings>& per_copy, Rk4Stepper stepper,
               int steps_per_pass, FusedScheme scheme)
    : Rk4(be, lat, per_copy.at(0), stepper, steps_per_pass, scheme) {
    std::vector<Real> host(std::size_t(SiteModel<Real>::kFields) * per_copy.size());
    for (std::size_t b = 0; b < per_copy.size(); ++b)
        SiteModel<Real>::make(per_copy[b], lat.dim).store(host.data() + SiteModel<Real>::kFields * b);
    models_ = StateBuffer<Real>(be, host.size());
    be.upload(models_.data(), host.data(), host.size());
}

template <class Real>
void Rk4<Real>::set_copy_couplings(index_t copy, const Couplings& c) {
    if (!models_.data() || copy < 0 || copy >= lat_.copies)
        throw Error("Rk4::set_copy_couplings: copy " + std::to_string(copy) + " of a batch of " +
                    std::to_string(lat_.copies) + " (internal error)");
    Real m[SiteModel<Real>::kFields];
    SiteModel<Real>::make(c, lat_.dim).store(m);
    be_.upload(models_.data() + SiteModel<Real>::kFields * copy, m, SiteModel<Real>::kFields);
}

template <class Real>
void Rk4<Real>::advance(StateBuffer<Real>& y, double h, std::int64_t n) {
    if (stepper_ == Rk4Stepper::four_sweep) {
        for (std::int64_t i = 0; i < n; ++i) four_sweep_step(y, h);
        return;
    }
    while (n > 0) {
        const int m = fused_pass(y, h, int(std::min<std::int64_t>(n, steps_per_pass_)));
        n -= m;
    }
}

template <class Real>
void Rk4<Real>::step(StateBuffer<Real>& y, double h, const dtwa::BoundaryJumps& jumps) {
    if (jumps.on && stepper_ == Rk4Stepper::fused && plan(1).steps == 1) {
        fused_pass(y, h, 1, jumps);
        return;
    }
    if (jumps.on) be_.dissipate({y.data(), lat_, jumps});
    step(y, h);
}

// The stage weights are rounded to Real exactly as four_sweep_step rounds
// them, so both steppers do the same arithmetic.
template <class Real>
int Rk4<Real>::fused_pass(StateBuffer<Real>& y, double h, int steps, const dtwa::BoundaryJumps& jumps) {
    const FusedPlan& plan = this->plan(steps);
    if (plan.steps == 0) {  // the backend cannot fuse this lattice: the reference path
        allocate_four_sweep();
        four_sweep_step(y, h);
        return 1;
    }
    FusedArgs<Real> f{};
    f.y = y.data();
    f.out = next_.data();
    f.lat = lat_;
    f.model = model_;
    f.models = models_.data();
    f.a[0] = f.a[3] = Real(h / 6);
    f.a[1] = f.a[2] = Real(h / 3);
    f.b[0] = f.b[1] = Real(h / 2);
    f.b[2] = Real(h);
    f.plan = plan;
    f.jumps = jumps;
    be_.rk4_fused(f);
    y.swap(next_);
    return plan.steps;
}

template <class Real>
void Rk4<Real>::four_sweep_step(StateBuffer<Real>& y, double h) {
    StageArgs<Real> s{};
    s.lat = lat_;
    s.model = model_;
    s.models = models_.data();  // null for a single lattice
    s.y = y.data();
    const Real h2 = Real(h / 2), h3 = Real(h / 3), h6 = Real(h / 6), h1 = Real(h);

    // k1 = f(y):   acc = y + h/6 k1,   t1 = y + h/2 k1
    s.src = y.data(); s.acc_in = y.data(); s.acc_out = acc_.data(); s.a = h6; s.tmp_out = t1_.data(); s.b = h2;
    be_.stage(s);
    // k2 = f(t1):  acc += h/3 k2,      t2 = y + h/2 k2
    s.src = t1_.data(); s.acc_in = acc_.data(); s.a = h3; s.tmp_out = t2_.data(); s.b = h2;
    be_.stage(s);
    // k3 = f(t2):  acc += h/3 k3,      t1 = y + h k3
    s.src = t2_.data(); s.tmp_out = t1_.data(); s.b = h1;
    be_.stage(s);
    // k4 = f(t1):  y = acc + h/6 k4   (y is not read in this stage)
    s.src = t1_.data(); s.acc_out = y.data(); s.a = h6; s.tmp_out = nullptr;
    be_.stage(s);
}

// ---- Dormand-Prince 5(4) ---------------------------------------------------------

namespace {
// Butcher tableau (Dormand & Prince 1980); row s holds a_{s+1, 0..s}.
constexpr double kA[6][6] = {
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
    {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
// 5th-order weights minus the embedded 4th-order ones.
constexpr double kE[7] = {71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40};
}  // namespace

template <class Real>
DormandPrince5<Real>::DormandPrince5(Backend<Real>& be, const Lattice& lat, const Couplings& c, double rtol,
                                     double atol)
    : be_(be), lat_(lat), model_(SiteModel<Real>::make(c, lat.dim)), rtol_(rtol), atol_(atol) {
    for (auto& k : k_) k = StateBuffer<Real>(be, lat);
    tmp_ = StateBuffer<Real>(be, lat);
    y_new_ = StateBuffer<Real>(be, lat);
}

template <class Real>
bool DormandPrince5<Real>::attempt(StateBuffer<Real>& y, double h, double& err, double& h_next) {
    const index_t count = 3 * lat_.component_stride();  // the zero padding stays zero
    if (!fsal_valid_) evaluate_rhs(be_, lat_, model_, y.data(), k_[0].data());
    fsal_valid_ = true;

    for (int s = 1; s <= 6; ++s) {
        CombineArgs<Real> c{};
        c.out = s == 6 ? y_new_.data() : tmp_.data();
        c.y = y.data();
        c.stages = s;
        for (int r = 0; r < s; ++r) { c.k[r] = k_[r].data(); c.c[r] = Real(h * kA[s - 1][r]); }
        be_.combine(c, count);
        evaluate_rhs(be_, lat_, model_, c.out, k_[s].data());
    }

    ErrorArgs<Real> e{};
    e.y = y.data();
    e.y_new = y_new_.data();
    e.stages = 7;
    for (int r = 0; r < 7; ++r) { e.k[r] = k_[r].data(); e.e[r] = Real(h * kE[r]); }
    e.rtol = rtol_;
    e.atol = atol_;
    if (merge_) {
        // The owned sites of each component, then the largest over the processes.
        double mine = 0;
        const index_t S = lat_.component_stride();
        for (int c = 0; c < 3; ++c) {
            ErrorArgs<Real> part = e;
            const index_t at = c * S + owned_first_;
            part.y += at;
            part.y_new += at;
            for (int r = 0; r < 7; ++r) part.k[r] += at;
            mine = std::max(mine, be_.error_norm(part, owned_last_ - owned_first_));
        }
        err = merge_(mine);
    } else {
        err = be_.error_norm(e, count);
    }

    // Standard controller: safety 0.9, growth limited to [0.2, 5].
    const double factor = err > 0 ? 0.9 * std::pow(err, -0.2) : 5.0;
    h_next = h * std::clamp(std::isfinite(factor) ? factor : 0.2, 0.2, 5.0);
    if (!(err <= 1)) return false;
    y.swap(y_new_);
    k_[0].swap(k_[6]);  // first same as last
    if (merge_) fsal_valid_ = false;  // y's ghost rows are refreshed before the next step
    return true;
}

template <class Real>
void DormandPrince5<Real>::spread(index_t first, index_t last, std::function<double(double)> merge) {
    owned_first_ = first;
    owned_last_ = last;
    merge_ = std::move(merge);
}

template class Rk4<float>;
template class Rk4<double>;
template class DormandPrince5<float>;
template class DormandPrince5<double>;
template void evaluate_rhs(Backend<float>&, const Lattice&, const SiteModel<float>&, const float*, float*);
template void evaluate_rhs(Backend<double>&, const Lattice&, const SiteModel<double>&, const double*, double*);

}  // namespace xyzmf
