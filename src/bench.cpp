// `xyzmf bench` measurements (see bench.hpp).
#include "xyzmf/bench.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "xyzmf/backend_select.hpp"
#include "xyzmf/initial_state.hpp"
#include "xyzmf/integrators.hpp"

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
                       Rk4Stepper stepper, int per_pass) {
    auto be = make_backend<Real>(kind);
    Couplings c;  // a generic point inside the SDW region: nothing special-cased
    c.Jx = 4; c.Jy = 2; c.Jz = 1; c.gamma = 1;
    const HostState init = make_initial_state("random", lat, 1, 0);
    std::vector<Real> host(init.begin(), init.end());
    StateBuffer<Real> y(*be, lat);
    upload_state(*be, y, host.data(), lat);
    Rk4<Real> rk4(*be, lat, c, stepper, per_pass);
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
    r.bytes_per_site_step = stepper == Rk4Stepper::fused ? fused_bytes_per_site_step(precision, m)
                                                         : rk4_bytes_per_site_step(precision);
    std::vector<double> rate, bw;
    for (int k = 0; k < repeats; ++k) {
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
                      Rk4Stepper stepper, int steps_per_pass) {
    return precision == Precision::float32
               ? bench_with<float>(kind, precision, lat, steps, repeats, stepper, steps_per_pass)
               : bench_with<double>(kind, precision, lat, steps, repeats, stepper, steps_per_pass);
}

TriadResult stream_triad(long long n, int repeats) {
    std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; ++i) { a[i] = 0; b[i] = 1; c[i] = 2; }
    const double s = 3;
    std::vector<double> gbs;
    for (int k = 0; k < repeats + 1; ++k) {
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
