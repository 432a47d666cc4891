// `xyzmf bench` measurements (see bench.hpp).
#include "bench.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "backend_select.hpp"
#include "initial_state.hpp"
#include "integrators.hpp"
#include "signals.hpp"

namespace xyzmf {

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

namespace {

using Clock = std::chrono::steady_clock;

template <class Real>
BenchResult bench_with(BackendKind kind, Precision precision, const Lattice& lat, long long steps, int repeats,
                       Rk4Stepper stepper, int per_pass, FusedScheme scheme) {
    auto be = make_backend<Real>(kind);
    Couplings c;  // a generic point inside the SDW region: nothing special-cased
    c.Jx = 4; c.Jy = 2; c.Jz = 1; c.gamma = 1;
    const HostState init = make_initial_state("random", lat, 1, 0);
    std::vector<Real> host(init.begin(), init.end());
    StateBuffer<Real> y(*be, lat);
    upload_state(*be, y, host.data(), lat);
    Rk4<Real> rk4(*be, lat, c, stepper, per_pass, scheme);
    const double dt = 1e-3;

    // Warm-up step (also first-touch and, on the GPU, module loading); its
    // reading of the clock is done by download(), which synchronises.
    auto timed = [&](long long n) {
        const auto t0 = Clock::now();
        rk4.advance(y, dt, n);
        Real probe;
        be->download(&probe, y.data(), 1);
        return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    const int m = rk4.steps_per_pass();
    const double one = timed(m) / m;
    if (steps <= 0) steps = std::max(3LL, (long long)(0.5 / std::max(one, 1e-6)));
    steps = (steps + m - 1) / m * m;  // whole passes

    BenchResult r;
    r.backend = be->description();
    r.steps = steps;
    r.steps_per_pass = m;
    r.stepper = rk4.stepper();
    r.scheme = rk4.scheme();
    r.bytes_per_site_step = rk4.stepper() == Rk4Stepper::fused ? fused_bytes_per_site_step(precision, m)
                                                         : rk4_bytes_per_site_step(precision);
    std::vector<double> rate, bw;
    for (int k = 0; k < repeats; ++k) {
        throw_if_interrupted("after " + std::to_string(k) + " of " + std::to_string(repeats) + " repeats");
        const double s = timed(steps);
        r.seconds.push_back(s);
        rate.push_back(double(lat.sites()) * double(steps) / s);
        bw.push_back(rate.back() * r.bytes_per_site_step / 1e9);
    }
    r.median_site_steps_per_s = median(rate);
    r.median_gb_per_s = median(bw);
    return r;
}

}  // namespace

BenchResult bench_rk4(BackendKind kind, Precision precision, const Lattice& lat, long long steps, int repeats,
                      Rk4Stepper stepper, int steps_per_pass, FusedScheme scheme) {
    return precision == Precision::float32
               ? bench_with<float>(kind, precision, lat, steps, repeats, stepper, steps_per_pass, scheme)
               : bench_with<double>(kind, precision, lat, steps, repeats, stepper, steps_per_pass, scheme);
}

namespace {

template <class Real, int Dim>
double roof_with(int repeats) {
    // One cache line of padding per component, as in FusedPlan::nloc, so the
    // 21 streams do not alias in L1 (7 slices x 3 x 776 doubles: 127 KiB in 3D).
    constexpr int nx = 256, rows = Dim == 3 ? 3 : 1, n = nx * rows + 8;
    const int threads = omp_get_max_threads();
    const long long sweeps = 20000;  // a few ms per repeat and thread
    const int lo = Dim == 3 ? nx + 1 : 1, hi = Dim == 3 ? 2 * nx - 1 : nx - 1;  // the middle row in 3D
    std::vector<double> rate;
    Couplings c;
    c.Jx = 4; c.Jy = 2; c.Jz = 1; c.gamma = 1;
    const SiteModel<Real> model = SiteModel<Real>::make(c, Dim);
    for (int k = 0; k < repeats + 1; ++k) {
        throw_if_interrupted("while measuring the roof");
        const auto t0 = Clock::now();
        double guard = 0;
#pragma omp parallel reduction(+ : guard)
        {
            std::vector<Real> buf(7 * 3 * std::size_t(n));
            for (std::size_t e = 0; e < buf.size(); ++e) buf[e] = Real(0.1) * Real(e % 7) - Real(0.3);
            auto comp = [&](int slice, int cpt) { return buf.data() + (3 * slice + cpt) * n; };
            fused::StageSlice<Real> st;
            st.ux = comp(0, 0); st.uy = comp(0, 1); st.uz = comp(0, 2);
            st.mx = comp(1, 0); st.my = comp(1, 1); st.mz = comp(1, 2);
            st.px = comp(2, 0); st.py = comp(2, 1); st.pz = comp(2, 2);
            st.yx = comp(3, 0); st.yy = comp(3, 1); st.yz = comp(3, 2);
            st.ax = comp(4, 0); st.ay = comp(4, 1); st.az = comp(4, 2);
            st.ox = comp(4, 0); st.oy = comp(4, 1); st.oz = comp(4, 2);  // acc in place, as stages 2-3 do
            st.tx = comp(5, 0); st.ty = comp(5, 1); st.tz = comp(5, 2);
            st.a = Real(1e-6); st.b = Real(1e-6);
            st.row = nx;
            st.model = model;
            for (long long s = 0; s < sweeps; ++s) {
                for (int stage = 0; stage < 3; ++stage) {
#pragma omp simd
                    for (int p = lo; p < hi; ++p) fused::stage_point<Dim, true>(st, p);
                }
#pragma omp simd
                for (int p = lo; p < hi; ++p) fused::stage_point<Dim, false>(st, p);
            }
            guard += double(buf[lo]);
        }
        const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
        if (k > 0 && guard == guard) rate.push_back(double(threads) * double(sweeps) * (hi - lo) / sec);
    }
    return median(rate);
}

}  // namespace

double fused_arithmetic_roof(Precision precision, int dim, int repeats) {
    if (precision == Precision::float32)
        return dim == 1 ? roof_with<float, 1>(repeats) : dim == 2 ? roof_with<float, 2>(repeats) : roof_with<float, 3>(repeats);
    return dim == 1 ? roof_with<double, 1>(repeats) : dim == 2 ? roof_with<double, 2>(repeats) : roof_with<double, 3>(repeats);
}

TriadResult stream_triad(long long n, int repeats) {
    std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; ++i) { a[i] = 0; b[i] = 1; c[i] = 2; }
    const double s = 3;
    std::vector<double> gbs;
    for (int k = 0; k < repeats + 1; ++k) {
        throw_if_interrupted("while measuring the triad");
        const auto t0 = Clock::now();
#pragma omp parallel for schedule(static)
        for (long long i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
        const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
        if (k > 0) gbs.push_back(24.0 * double(n) / sec / 1e9);  // first pass is warm-up
    }
    TriadResult r;
    r.elements = n;
    r.median_gb_per_s = median(gbs);
    r.best_gb_per_s = *std::max_element(gbs.begin(), gbs.end());
    if (a[n / 2] != 7) r.median_gb_per_s = r.best_gb_per_s = 0;  // keeps the loop from being optimised away
    return r;
}

}  // namespace xyzmf
