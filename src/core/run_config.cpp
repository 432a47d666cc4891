// Validation of user input: every rule on RunConfig lives here, each failure
// is one line that names the option (tests/test_validation.cpp covers each).
#include "xyzmf/run_config.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "xyzmf/fused_rk4.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

[[noreturn]] void bad(const std::string& option, const std::string& why) {
    throw Error(option + ": " + why, exit_code::usage);
}

std::string num(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

void finite(const char* option, double v) {
    if (!std::isfinite(v)) bad(option, "must be a finite number (got " + num(v) + ")");
}

void positive(const char* option, double v) {
    finite(option, v);
    if (!(v > 0)) bad(option, "must be > 0 (got " + num(v) + ")");
}

void non_negative(const char* option, double v) {
    finite(option, v);
    if (v < 0) bad(option, "must be >= 0 (got " + num(v) + ")");
}

}  // namespace

Lattice parse_size(const std::string& text, int dim, bool dim_given) {
    if (dim < 1 || dim > 3) bad("--dim", "must be 1, 2 or 3 (got " + std::to_string(dim) + ")");
    std::vector<long long> parts;
    std::stringstream ss(text);
    for (std::string tok; std::getline(ss, tok, 'x');) {
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(tok.c_str(), &end, 10);
        if (tok.empty() || *end != '\0' || errno == ERANGE)
            bad("--size", "expected N or NxM or NxMxK with integers (got '" + text + "')");
        if (v < 1) bad("--size", "every side must be >= 1 (got " + std::to_string(v) + ")");
        parts.push_back(v);
    }
    if (parts.empty() || text.back() == 'x')
        bad("--size", "expected N or NxM or NxMxK with integers (got '" + text + "')");
    if (parts.size() > 3) bad("--size", "at most 3 sides (got '" + text + "')");
    if (parts.size() > 1 && !dim_given) dim = int(parts.size());
    if (parts.size() > 1 && int(parts.size()) != dim)
        bad("--size", "'" + text + "' has " + std::to_string(parts.size()) + " sides but --dim is " + std::to_string(dim));

    Lattice lat;
    lat.dim = dim;
    long double total = 1;
    for (int a = 0; a < dim; ++a) {
        lat.L[a] = parts.size() == 1 ? parts[0] : parts[a];
        total *= lat.L[a];
    }
    // 3 components x 8 bytes must stay addressable; anything near 2^60 sites
    // is impossible on any machine, and this keeps index arithmetic exact.
    if (total > (long double)(1LL << 58)) bad("--size", "'" + text + "' has too many sites to index");
    return lat;
}

void validate(const RunConfig& c) {
    const Couplings& k = c.couplings;
    finite("--Jx", k.Jx);
    finite("--Jy", k.Jy);
    finite("--Jz", k.Jz);
    non_negative("--gamma", k.gamma);
    non_negative("--gamma-phi", k.gamma_phi);
    if (c.lattice.dim < 1 || c.lattice.dim > 3) bad("--dim", "must be 1, 2 or 3 (got " + std::to_string(c.lattice.dim) + ")");
    for (int a = 0; a < 3; ++a)
        if (c.lattice.L[a] < 1) bad("--size", "every side must be >= 1");

    const Numerics& n = c.numerics;
    positive("--dt", n.dt);
    non_negative("--t-end", n.t_end);
    positive("--rtol", n.rtol);
    positive("--atol", n.atol);
    non_negative("--steady-tol", n.steady_tol);
    positive("--norm-tol", n.norm_tol);
    positive("--record-every", n.record_every);
    non_negative("--snapshot-every", n.snapshot_every);
    if (n.integrator == IntegratorKind::rk4 && n.t_end > 0 && n.t_end / n.dt > 1e15)
        bad("--dt", "t-end/dt = " + num(n.t_end / n.dt) + " steps is more than any run can take");
    non_negative("--noise", c.noise);
    if (c.noise > 1) bad("--noise", "must be <= 1 (amplitude of a Bloch-vector component, got " + num(c.noise) + ")");
    if (n.steps_per_pass < 0 || n.steps_per_pass > kMaxFusedSteps)
        bad("--steps-per-pass", "must be 0 (automatic) to " + std::to_string(kMaxFusedSteps) + " (got " +
                                    std::to_string(n.steps_per_pass) + ")");
    if (c.compress < 0 || c.compress > 9) bad("--compress", "must be a deflate level 0-9 (got " + std::to_string(c.compress) + ")");
    if (c.init.empty()) bad("--init", "must be random, pm-noise, uniform:x,y,z or a file.h5");
}

const char* to_string(Precision p) { return p == Precision::float32 ? "float" : "double"; }
const char* to_string(IntegratorKind k) { return k == IntegratorKind::rk4 ? "rk4" : "dopri5"; }
const char* to_string(Rk4Stepper s) { return s == Rk4Stepper::fused ? "fused" : "four-sweep"; }
const char* to_string(BackendRequest b) {
    return b == BackendRequest::cpu ? "cpu" : b == BackendRequest::cuda ? "cuda" : "auto";
}

}  // namespace xyzmf
