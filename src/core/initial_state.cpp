// Initial states: Philox counter-based draws, one counter per site, so the
// state of site n depends only on (seed, n).
#include "initial_state.hpp"

#include <Random123/philox.h>

#include <cmath>
#include <sstream>

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

using Philox = r123::Philox4x32;

// Two uniform doubles in [0, 1) with 53 random bits each, from one Philox call.
// Pure integer -> double arithmetic: identical on every machine.
void uniform_pair(std::uint64_t seed, index_t site, std::uint32_t draw, std::uint32_t stream, double u[2]) {
    Philox rng;
    Philox::key_type key = {{std::uint32_t(seed), std::uint32_t(seed >> 32)}};
    Philox::ctr_type ctr = {{std::uint32_t(site), std::uint32_t(std::uint64_t(site) >> 32), draw, stream}};
    const Philox::ctr_type r = rng(ctr, key);
    for (int h = 0; h < 2; ++h) {
        const std::uint64_t hi = r.v[2 * h] >> 5, lo = r.v[2 * h + 1] >> 6;  // 27 + 26 bits
        u[h] = double(hi * 67108864ull + lo) * 0x1.0p-53;
    }
}

constexpr std::uint32_t kStreamBall = 1, kStreamNoise = 2;

[[noreturn]] void bad_init(const std::string& why) { throw Error("--init: " + why, exit_code::usage); }

}  // namespace

void random_ball_site(std::uint64_t seed, index_t site, double out[3]) {
    // Rejection from the cube [-1, 1]^3: uniform in the ball, no libm calls.
    for (std::uint32_t draw = 0;; draw += 2) {
        double a[2], b[2];
        uniform_pair(seed, site, draw, kStreamBall, a);
        uniform_pair(seed, site, draw + 1, kStreamBall, b);
        const double x = 2 * a[0] - 1, y = 2 * a[1] - 1, z = 2 * b[0] - 1;
        if (x * x + y * y + z * z <= 1) {
            out[0] = x; out[1] = y; out[2] = z;
            return;
        }
    }
}

std::array<double, 3> uniform_state_vector(const std::string& spec) {
    if (spec.rfind("uniform:", 0) != 0) bad_init("expected uniform:x,y,z (got '" + spec + "')");
    std::stringstream in(spec.substr(8));
    std::array<double, 3> v{};
    char c1 = 0, c2 = 0;
    if (!(in >> v[0] >> c1 >> v[1] >> c2 >> v[2]) || c1 != ',' || c2 != ',' || !in.eof())
        bad_init("expected uniform:x,y,z with three numbers (got '" + spec + "')");
    for (double a : v)
        if (!std::isfinite(a)) bad_init("uniform:x,y,z must be finite (got '" + spec + "')");
    return v;
}

std::array<double, 3> pure_state_direction(const std::string& spec) {
    if (spec == "down") return {0, 0, -1};
    if (spec == "up") return {0, 0, 1};
    if (spec == "x") return {1, 0, 0};
    if (spec == "y") return {0, 1, 0};
    if (spec.rfind("uniform:", 0) != 0)
        bad_init("expected a pure product state: down, up, x, y or uniform:x,y,z (got '" + spec + "')");
    const std::array<double, 3> v = uniform_state_vector(spec);
    const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (!(std::abs(n - 1) <= 1e-6))
        bad_init(spec + " is not a pure state: |s| = " + std::to_string(n) + ", not 1 (to 1e-6)");
    return {v[0] / n, v[1] / n, v[2] / n};
}

HostState make_initial_state(const std::string& spec, const Lattice& lat, std::uint64_t seed, double noise) {
    return make_initial_sites(spec, lat, seed, noise, 0, lat.sites());
}

bool is_generated_state(const std::string& spec) {
    return spec == "random" || spec == "pm-noise" || spec.rfind("uniform:", 0) == 0;
}

HostState make_initial_sites(const std::string& spec, const Lattice& lat, std::uint64_t seed, double noise,
                             index_t first, index_t count) {
    (void)lat;  // (every kind so far depends on the site's index only)
    const index_t N = count;
    HostState s(3 * std::size_t(N));
    double* x = s.data();
    double* y = x + N;
    double* z = y + N;

    if (spec == "random") {
#pragma omp parallel for schedule(static)
        for (index_t n = 0; n < N; ++n) {
            double v[3];
            random_ball_site(seed, first + n, v);
            x[n] = v[0]; y[n] = v[1]; z[n] = v[2];
        }
    } else if (spec == "pm-noise") {
#pragma omp parallel for schedule(static)
        for (index_t n = 0; n < N; ++n) {
            double u[2];
            uniform_pair(seed, first + n, 0, kStreamNoise, u);
            x[n] = noise * (2 * u[0] - 1);
            y[n] = noise * (2 * u[1] - 1);
            z[n] = -std::sqrt(1 - x[n] * x[n] - y[n] * y[n]);  // sqrt is exactly rounded
        }
    } else if (spec.rfind("uniform:", 0) == 0) {
        const std::array<double, 3> v = uniform_state_vector(spec);
        if (v[0] * v[0] + v[1] * v[1] + v[2] * v[2] > 1 + 1e-12)
            bad_init("uniform:x,y,z must lie in the unit Bloch ball, |s| <= 1 (got '" + spec + "')");
        for (index_t n = 0; n < N; ++n) { x[n] = v[0]; y[n] = v[1]; z[n] = v[2]; }
    } else {
        bad_init("must be random, pm-noise, uniform:x,y,z or a file.h5 (got '" + spec + "')");
    }
    return s;
}

}  // namespace xyzmf
