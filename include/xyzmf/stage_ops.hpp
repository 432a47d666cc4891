// Per-site and per-element building blocks of the Runge-Kutta integrators,
// shared by the CPU loops (src/backends/cpu_backend.cpp) and the CUDA kernels
// (kernels/*.cu). The integrators in src/ are written only against these.
#pragma once

#include <cmath>
#include <type_traits>

#include "xyzmf/bloch_rhs.hpp"

namespace xyzmf {

// Fused RK stage at one site: k = f(src), then optionally
//   acc_out = acc_in + a k,   tmp_out = y + b k,   k_out = k.
// Fusing the right-hand side with the stage updates lets classic RK4 touch
// each array 16 times per step instead of ~39 (see docs/ARCHITECTURE.md).
template <class Real>
struct StageArgs {
    const Real* src;
    const Real* y;       // base state of the step (read only when tmp_out is set)
    const Real* acc_in;  // read only when acc_out is set
    Real* acc_out;       // may be null
    Real* tmp_out;       // may be null
    Real* k_out;         // may be null
    Real a, b;
    Lattice lat;
    SiteModel<Real> model;  // the couplings of every copy...
    const Real* models;     // ...unless this is set: SiteModel::kFields Reals per copy (batched sweeps)

    XYZMF_HD SiteModel<Real> model_of_layer(index_t kk) const {
        return models ? SiteModel<Real>::load(models, lat.copy_of(kk)) : model;
    }
};

// Compile-time shape of a stage: lattice dimension and which outputs are
// written. Fixing them per launch removes every branch from the site loop,
// which is what lets the CPU loop vectorise and keeps GPU kernels lean.
template <int Dim, bool Acc, bool Tmp, bool K>
struct StageShape {
    static constexpr int dim = Dim;
    static constexpr bool acc = Acc, tmp = Tmp, k = K;
};

// The stage at site n whose 2d neighbours are nb[0..2d-1].
template <class Shape, class Real>
XYZMF_HD void stage_at(const StageArgs<Real>& A, const SiteModel<Real>& model, index_t n, const index_t nb[6]) {
    const index_t N = A.lat.component_stride();
    const SpinsView<const Real> s = SpinsView<const Real>::from(A.src, N);
    Vec3<Real> sum = s[nb[0]] + s[nb[1]];
    if constexpr (Shape::dim >= 2) sum = sum + s[nb[2]] + s[nb[3]];
    if constexpr (Shape::dim >= 3) sum = sum + s[nb[4]] + s[nb[5]];
    const Vec3<Real> d = bloch_rhs(s[n], sum, model);
    if constexpr (Shape::acc) {
        const SpinsView<const Real> acc = SpinsView<const Real>::from(A.acc_in, N);
        SpinsView<Real>::from(A.acc_out, N).set(n, {acc.x[n] + A.a * d.x, acc.y[n] + A.a * d.y, acc.z[n] + A.a * d.z});
    }
    if constexpr (Shape::tmp) {
        const SpinsView<const Real> y = SpinsView<const Real>::from(A.y, N);
        SpinsView<Real>::from(A.tmp_out, N).set(n, {y.x[n] + A.b * d.x, y.y[n] + A.b * d.y, y.z[n] + A.b * d.z});
    }
    if constexpr (Shape::k) SpinsView<Real>::from(A.k_out, N).set(n, d);
}

// (i, j, kk): kk is the stacked third index (see Lattice).
template <class Shape, class Real>
XYZMF_HD void stage_site(const StageArgs<Real>& A, index_t i, index_t j, index_t kk) {
    index_t nb[6];
    A.lat.neighbours(i, j, kk, nb);
    stage_at<Shape>(A, A.model_of_layer(kk), A.lat.site(i, j, kk), nb);
}

// Host side: calls launch(StageShape<...>{}) with the shape that matches A.
template <class Real, class Launch>
void with_stage_shape(const StageArgs<Real>& A, Launch&& launch) {
    auto outputs = [&](auto dim) {
        constexpr int D = decltype(dim)::value;
        const int mask = (A.acc_out ? 4 : 0) | (A.tmp_out ? 2 : 0) | (A.k_out ? 1 : 0);
        switch (mask) {
            case 1: launch(StageShape<D, false, false, true>{}); break;
            case 2: launch(StageShape<D, false, true, false>{}); break;
            case 3: launch(StageShape<D, false, true, true>{}); break;
            case 4: launch(StageShape<D, true, false, false>{}); break;
            case 5: launch(StageShape<D, true, false, true>{}); break;
            case 6: launch(StageShape<D, true, true, false>{}); break;
            case 7: launch(StageShape<D, true, true, true>{}); break;
            default: break;  // nothing to write
        }
    };
    switch (A.lat.dim) {
        case 1: outputs(std::integral_constant<int, 1>{}); break;
        case 2: outputs(std::integral_constant<int, 2>{}); break;
        default: outputs(std::integral_constant<int, 3>{}); break;
    }
}

// out = y + h * sum_s c_s k_s over flat elements (3N of them): the stage
// combination of an explicit Runge-Kutta tableau with up to kMaxStages stages.
constexpr int kMaxStages = 7;

template <class Real>
struct CombineArgs {
    Real* out;
    const Real* y;
    const Real* k[kMaxStages];
    Real c[kMaxStages];  // already multiplied by h
    int stages;
};

template <class Real>
XYZMF_HD void combine_element(const CombineArgs<Real>& A, index_t e) {
    Real v = A.y[e];
    for (int s = 0; s < A.stages; ++s)
        if (A.c[s] != Real(0)) v += A.c[s] * A.k[s][e];
    A.out[e] = v;
}

// The same over elements [first, first + n), n <= kStageBlock, one stage at a
// time: unit-stride loops the CPU vectorises (out aliases none of the inputs).
// Element by element, the CPU gathered from every stage's array: dopri5 took 13x
// the time of an RK4 step, where its stages explain 2-3x. Every element sees the
// same operations in the same order as in combine_element (the GPU's form, a
// thread per element); they agree to rounding, as the compiler may fuse a
// multiply-add in one and not the other (tests/test_integrators.cpp).
constexpr index_t kStageBlock = 1024;

template <class Real>
inline void combine_block(const CombineArgs<Real>& A, index_t first, index_t n) {
    Real* __restrict out = A.out + first;
    const Real* __restrict y = A.y + first;
    for (index_t i = 0; i < n; ++i) out[i] = y[i];
    for (int s = 0; s < A.stages; ++s) {
        const Real c = A.c[s];
        if (c == Real(0)) continue;
        const Real* __restrict k = A.k[s] + first;
        for (index_t i = 0; i < n; ++i) out[i] += c * k[i];
    }
}

// Scaled local error of an embedded pair at one element:
// |sum_s e_s k_s| / (atol + rtol max(|y|, |y_new|)). The max over elements is
// the error norm; NaN is mapped to +inf so a blow-up is never read as "small".
template <class Real>
struct ErrorArgs {
    const Real* y;
    const Real* y_new;
    const Real* k[kMaxStages];
    Real e[kMaxStages];  // error weights, already multiplied by h
    int stages;
    double rtol, atol;
};

// The error sum_s e_s k_s of one element, scaled.
template <class Real>
XYZMF_HD double scaled_error(double err, Real y, Real y_new, double rtol, double atol) {
    const double y0 = y < 0 ? -double(y) : double(y);
    const double y1 = y_new < 0 ? -double(y_new) : double(y_new);
    const double scale = atol + rtol * (y0 > y1 ? y0 : y1);
    const double r = (err < 0 ? -err : err) / scale;
    return r <= 1e300 ? r : HUGE_VAL;  // NaN and Inf -> +inf
}

template <class Real>
XYZMF_HD double error_element(const ErrorArgs<Real>& A, index_t e) {
    double err = 0;
    for (int s = 0; s < A.stages; ++s)
        if (A.e[s] != Real(0)) err += double(A.e[s]) * double(A.k[s][e]);
    return scaled_error(err, A.y[e], A.y_new[e], A.rtol, A.atol);
}

// The largest error_element over [first, first + n), n <= kStageBlock, a stage
// at a time (as combine_block; equal to it to rounding).
template <class Real>
inline double error_block(const ErrorArgs<Real>& A, index_t first, index_t n) {
    double err[kStageBlock];
    for (index_t i = 0; i < n; ++i) err[i] = 0;
    for (int s = 0; s < A.stages; ++s) {
        const double w = double(A.e[s]);
        if (A.e[s] == Real(0)) continue;
        const Real* __restrict k = A.k[s] + first;
        for (index_t i = 0; i < n; ++i) err[i] += w * double(k[i]);
    }
    double worst = 0;
    for (index_t i = 0; i < n; ++i) {
        const double r = scaled_error(err[i], A.y[first + i], A.y_new[first + i], A.rtol, A.atol);
        worst = r > worst ? r : worst;
    }
    return worst;
}

// What the run records about a state: sums for the mean and staggered
// magnetisation, the largest |s_n|^2 and the largest |ds_n/dt|^2
// (the stationarity residual squared). Non-finite values map to +inf.
struct Observables {
    double sum[3] = {0, 0, 0};
    double stag[3] = {0, 0, 0};
    double max_s2 = 0;
    double max_rate2 = 0;

    XYZMF_HD void merge(const Observables& o) {
        for (int c = 0; c < 3; ++c) { sum[c] += o.sum[c]; stag[c] += o.stag[c]; }
        max_s2 = max_s2 > o.max_s2 ? max_s2 : o.max_s2;
        max_rate2 = max_rate2 > o.max_rate2 ? max_rate2 : o.max_rate2;
    }
};

template <class Real>
XYZMF_HD Observables observe_site(const Real* s_base, const Real* dsdt_base, const Lattice& lat,
                                  index_t i, index_t j, index_t k) {
    const index_t N = lat.component_stride(), n = lat.site(i, j, k);
    const Vec3<Real> s = SpinsView<const Real>::from(s_base, N)[n];
    const Vec3<Real> d = SpinsView<const Real>::from(dsdt_base, N)[n];
    const double p = lat.parity_at(i, j, k);
    Observables o;
    o.sum[0] = s.x; o.sum[1] = s.y; o.sum[2] = s.z;
    o.stag[0] = p * s.x; o.stag[1] = p * s.y; o.stag[2] = p * s.z;
    const double s2 = double(s.x) * s.x + double(s.y) * s.y + double(s.z) * s.z;
    const double r2 = double(d.x) * d.x + double(d.y) * d.y + double(d.z) * d.z;
    o.max_s2 = s2 <= 1e300 ? s2 : HUGE_VAL;
    o.max_rate2 = r2 <= 1e300 ? r2 : HUGE_VAL;
    return o;
}

}  // namespace xyzmf
