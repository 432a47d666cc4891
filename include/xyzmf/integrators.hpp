// Time integrators written only against Backend primitives (stage, combine,
// error_norm), so a new tableau touches no kernel.
//   Rk4           classic 4th order, fixed step, fused stages (16 array sweeps/step)
//   DormandPrince5  embedded 5(4) pair with FSAL, max-norm error control
#pragma once

#include "xyzmf/backend.hpp"
#include <vector>

#include "xyzmf/couplings.hpp"

namespace xyzmf {

template <class Real>
class Rk4 {
public:
    Rk4(Backend<Real>& be, const Lattice& lat, const Couplings& c);
    // A batch: lat.copies independent lattices, copy b with couplings per_copy[b].
    Rk4(Backend<Real>& be, const Lattice& lat, const std::vector<Couplings>& per_copy);
    // y <- y + one RK4 step of size h.
    void step(StateBuffer<Real>& y, double h);
    // Per-copy couplings on the backend (null unless a batch), for StageArgs::models.
    const Real* models() const { return models_.data(); }

private:
    Backend<Real>& be_;
    Lattice lat_;
    SiteModel<Real> model_;
    StateBuffer<Real> acc_, t1_, t2_;
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

private:
    Backend<Real>& be_;
    Lattice lat_;
    SiteModel<Real> model_;
    double rtol_, atol_;
    StateBuffer<Real> k_[7], tmp_, y_new_;
    bool fsal_valid_ = false;
};

// ds/dt of a whole state: dsdt = f(s). Shared by integrators and observers.
template <class Real>
void evaluate_rhs(Backend<Real>& be, const Lattice& lat, const SiteModel<Real>& m, const Real* s, Real* dsdt);

// Array buffers each integrator holds besides the state itself (for the
// pre-allocation memory check).
inline int integrator_buffers(bool adaptive) { return adaptive ? 9 : 3; }

}  // namespace xyzmf
