// Initial states: Philox counter-based draws, one counter per site, so the
// state of site n depends only on (seed, n).
#include "xyzmf/initial_state.hpp"

#include <Random123/philox.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "xyzmf/error.hpp"
#include "xyzmf/schema.hpp"

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

HostState make_initial_state(const std::string& spec, const Lattice& lat, std::uint64_t seed, double noise) {
    const index_t N = lat.sites();
    HostState s(3 * std::size_t(N));
    double* x = s.data();
    double* y = x + N;
    double* z = y + N;

    if (spec == "random") {
#pragma omp parallel for schedule(static)
        for (index_t n = 0; n < N; ++n) {
            double v[3];
            random_ball_site(seed, n, v);
            x[n] = v[0]; y[n] = v[1]; z[n] = v[2];
        }
    } else if (spec == "pm-noise") {
#pragma omp parallel for schedule(static)
        for (index_t n = 0; n < N; ++n) {
            double u[2];
            uniform_pair(seed, n, 0, kStreamNoise, u);
            x[n] = noise * (2 * u[0] - 1);
            y[n] = noise * (2 * u[1] - 1);
            z[n] = -std::sqrt(1 - x[n] * x[n] - y[n] * y[n]);  // sqrt is exactly rounded
        }
    } else if (spec.rfind("uniform:", 0) == 0) {
        std::stringstream in(spec.substr(8));
        double v[3];
        char c1 = 0, c2 = 0;
        if (!(in >> v[0] >> c1 >> v[1] >> c2 >> v[2]) || c1 != ',' || c2 != ',' || !in.eof())
            bad_init("expected uniform:x,y,z with three numbers (got '" + spec + "')");
        for (double a : v)
            if (!std::isfinite(a)) bad_init("uniform:x,y,z must be finite (got '" + spec + "')");
        if (v[0] * v[0] + v[1] * v[1] + v[2] * v[2] > 1 + 1e-12)
            bad_init("uniform:x,y,z must lie in the unit Bloch ball, |s| <= 1 (got '" + spec + "')");
        for (index_t n = 0; n < N; ++n) { x[n] = v[0]; y[n] = v[1]; z[n] = v[2]; }
    } else if (std::string file, group; init_file_spec(spec, file, group)) {
        StoredState st;
        if (group.empty()) {
            st = read_stored_state(file);
        } else {
            h5::Id f = open_xyzmf(file, false);
            st = read_state_group(f, file, group);
        }
        for (int a = 0; a < 3; ++a)
            if (st.lattice.L[a] != lat.L[a] || st.lattice.dim != lat.dim)
                bad_init(spec + " holds a " + lattice_text(st.lattice) + " state but the run is " + lattice_text(lat) +
                         " (leave out --size and --dim to take the file's)");
        return st.spins;
    } else {
        bad_init("must be random, pm-noise, uniform:x,y,z or a file.h5 (got '" + spec + "')");
    }
    return s;
}

bool init_file_spec(const std::string& spec, std::string& file, std::string& group) {
    auto ends_with = [](const std::string& a, const std::string& b) {
        return a.size() > b.size() && a.compare(a.size() - b.size(), b.size(), b) == 0;
    };
    // FILE.h5 or FILE.h5:GROUP (the last ".h5:" or ".hdf5:" splits them).
    std::size_t cut = std::string::npos;
    for (const char* ext : {".h5:", ".hdf5:"}) {
        const std::size_t at = spec.rfind(ext);
        if (at != std::string::npos && (cut == std::string::npos || at > cut)) cut = at + std::strlen(ext) - 1;
    }
    if (cut == std::string::npos) {
        if (!ends_with(spec, ".h5") && !ends_with(spec, ".hdf5")) return false;
        file = spec;
        group.clear();
        return true;
    }
    file = spec.substr(0, cut);
    const std::string g = spec.substr(cut + 1);
    if (g == "/final" || g == "final") {
        group = "/final";
        return true;
    }
    const std::string head = g.rfind("/snapshots/", 0) == 0 ? "/snapshots/" : g.rfind("snapshots/", 0) == 0 ? "snapshots/" : "";
    const std::string digits = head.empty() ? "" : g.substr(head.size());
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
        bad_init("'" + spec + "': after the file name give :/final or :/snapshots/N (N = 0, 1, ...)");
    group = snapshot_group(std::stoll(digits));
    return true;
}

Lattice init_file_lattice(const std::string& spec) {
    std::string file, group;
    if (!init_file_spec(spec, file, group)) bad_init("'" + spec + "' names no HDF5 file");
    return read_run_config(file).lattice;
}

}  // namespace xyzmf
