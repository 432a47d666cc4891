// The parameters of a run (the table behind /parameters) and every rule on
// them, whatever their source: each failure is one line that names the option
// or the file's attribute (tests/test_validation.cpp, tests/robustness/).
#include "run_config.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "xyzmf/error.hpp"
#include "xyzmf/fused_rk4.hpp"
#include "parameters.hpp"

namespace xyzmf {
namespace {

[[noreturn]] void bad(const std::string& option, const std::string& why) {
    throw Error(option + ": " + why, exit_code::usage);
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
        if (v < 1 || v > kMaxSide)
            bad("--size", "every side must be 1 to " + std::to_string(kMaxSide) + " (got " + std::to_string(v) + ")");
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
    for (int a = 0; a < dim; ++a) lat.L[a] = parts.size() == 1 ? parts[0] : parts[a];
    check_lattice(lat, ParamSource::command_line(), "--size");
    return lat;
}

namespace {

using V = ParamValue;

const ParamTable<RunConfig>& table() {
    auto number = [](const ParamSpec& spec, auto field) { return number_param<RunConfig>(spec, field); };
    // Built once, thread-safely (a function-local static).
    static const ParamTable<RunConfig> table = [&] {
        ParamTable<RunConfig> t;
        append_part(t, couplings_parameters(), [](auto& c) -> auto& { return c.couplings; });
        append_part(t, lattice_parameters(), [](auto& c) -> auto& { return c.lattice; });
        const ParamTable<RunConfig> rest = {
            {ParamSpec{"integrator", "--integrator", ParamKind::text, "", 0, 0}.one_of("rk4|dopri5"),
             [](const RunConfig& c) -> V { return std::string(to_string(c.numerics.integrator)); },
             [](RunConfig& c, const V& v) {
                 c.numerics.integrator = as_text(v) == "dopri5" ? IntegratorKind::dopri5 : IntegratorKind::rk4;
             }},
            {ParamSpec{"stepper", "--stepper", ParamKind::text, "", 0, 0}.one_of("fused|four-sweep").not_compared().optional(),
             [](const RunConfig& c) -> V { return std::string(to_string(c.numerics.stepper)); },
             [](RunConfig& c, const V& v) {
                 c.numerics.stepper = as_text(v) == "four-sweep" ? Rk4Stepper::four_sweep : Rk4Stepper::fused;
             }},
            number(ParamSpec{"steps_per_pass", "--steps-per-pass", ParamKind::integer, "", 0, double(kMaxFusedSteps)}.not_compared().optional(),
                   [](auto& c) -> auto& { return c.numerics.steps_per_pass; }),
            number(ParamSpec{"dt", "--dt", ParamKind::real, "1/gamma", 0, kMaxTime}.lo_excluded(),
                   [](auto& c) -> auto& { return c.numerics.dt; }),
            number(ParamSpec{"rtol", "--rtol", ParamKind::real, "", 0, 1}.lo_excluded(), [](auto& c) -> auto& { return c.numerics.rtol; }),
            number(ParamSpec{"atol", "--atol", ParamKind::real, "", 0, 1}.lo_excluded(), [](auto& c) -> auto& { return c.numerics.atol; }),
            number({"t_end", "--t-end", ParamKind::real, "1/gamma", 0, kMaxTime},
                   [](auto& c) -> auto& { return c.numerics.t_end; }),
            number({"steady_tol", "--steady-tol", ParamKind::real, "gamma", 0, kNoLimit},
                   [](auto& c) -> auto& { return c.numerics.steady_tol; }),
            number(ParamSpec{"norm_tol", "--norm-tol", ParamKind::real, "", 0, 1}.lo_excluded(),
                   [](auto& c) -> auto& { return c.numerics.norm_tol; }),
            number(ParamSpec{"record_every", "--record-every", ParamKind::real, "1/gamma", 0, kMaxTime}.lo_excluded(),
                   [](auto& c) -> auto& { return c.numerics.record_every; }),
            // Stored as the interval in use (t_end/10 when the option was 0).
            {{"snapshot_every", "--snapshot-every", ParamKind::real, "1/gamma", 0, kMaxTime},
             [](const RunConfig& c) -> V {
                 return c.numerics.snapshot_every != 0 ? c.numerics.snapshot_every : c.snapshot_interval();
             },
             [](RunConfig& c, const V& v) { c.numerics.snapshot_every = as_real(v); }},
            {ParamSpec{"backend_requested", "--backend", ParamKind::text, "", 0, 0}.one_of("auto|cpu|cuda").not_compared(),
             [](const RunConfig& c) -> V { return std::string(to_string(c.backend)); },
             [](RunConfig& c, const V& v) {
                 c.backend = as_text(v) == "cpu"    ? BackendRequest::cpu
                             : as_text(v) == "cuda" ? BackendRequest::cuda
                                                    : BackendRequest::automatic;
             }},
            number({"seed", "--seed", ParamKind::integer, "", 0, kMaxSeed}, [](auto& c) -> auto& { return c.seed; }),
            {{"init", "--init", ParamKind::text, ""},
             [](const RunConfig& c) -> V { return c.init; }, [](RunConfig& c, const V& v) { c.init = as_text(v); }},
            // x, y uniform in [-noise, noise] must leave room for z: x^2 + y^2 <= 1.
            number({"noise", "--noise", ParamKind::real, "", 0, 0.7071067811865476}, [](auto& c) -> auto& { return c.noise; }),
            number(ParamSpec{"compress", "--compress", ParamKind::integer, "", 0, 9}.not_compared().optional(),
                   [](auto& c) -> auto& { return c.compress; }),
        };
        t.insert(t.end(), rest.begin(), rest.end());
        append_part(t, precision_parameters(), [](auto& c) -> auto& { return c.precision; });
        return t;
    }();
    return table;
}

}  // namespace

const ParamTable<Lattice>& lattice_parameters() {
    static const ParamTable<Lattice> t = {
        number_param<Lattice>({"dim", "--dim", ParamKind::integer, "", 1, 3}, [](auto& l) -> auto& { return l.dim; }),
        {{"sizes", "--size", ParamKind::sizes, "sites", 1, double(kMaxSide)},
         [](const Lattice& l) -> V { return std::vector<std::int64_t>(l.L, l.L + l.dim); },
         [](Lattice& l, const V& v) {
             for (int a = 0; a < 3; ++a) l.L[a] = a < int(as_sizes(v).size()) ? as_sizes(v)[a] : 1;
         }},
    };
    return t;
}

const ParamTable<Precision>& precision_parameters() {
    static const ParamTable<Precision> t = {
        {ParamSpec{"precision", "--precision", ParamKind::text, "", 0, 0}.one_of("double|float"),
         [](const Precision& p) -> V { return std::string(to_string(p)); },
         [](Precision& p, const V& v) { p = as_text(v) == "float" ? Precision::float32 : Precision::float64; }},
    };
    return t;
}

const ParamTable<RunConfig>& run_parameters() { return table(); }

const ParamTable<Couplings>& couplings_parameters() {
    using C = Couplings;
    auto coupling = [](const char* key, const char* option, double lo, double C::*member) {
        return number_param<C>({key, option, ParamKind::real, "gamma", lo, kMaxCoupling},
                               [member](auto& c) -> auto& { return c.*member; });
    };
    static const ParamTable<C> t = {
        coupling("Jx", "--Jx", -kMaxCoupling, &C::Jx),       coupling("Jy", "--Jy", -kMaxCoupling, &C::Jy),
        coupling("Jz", "--Jz", -kMaxCoupling, &C::Jz),       coupling("gamma", "--gamma", 0, &C::gamma),
        coupling("gamma_phi", "--gamma-phi", 0, &C::gamma_phi),
    };
    return t;
}

void check_lattice(const Lattice& lat, const ParamSource& src, const std::string& size_name) {
    if (lat.dim < 1 || lat.dim > 3) refuse(src, "--dim", "must be 1, 2 or 3 (got " + std::to_string(lat.dim) + ")");
    long double total = 1;
    for (int a = 0; a < 3; ++a) {
        if (lat.L[a] < 1 || lat.L[a] > kMaxSide || (a >= lat.dim && lat.L[a] != 1))
            refuse(src, size_name, "every side must be 1 to " + std::to_string(kMaxSide) + " (got " + lattice_sides(lat) + ")");
        total *= lat.L[a];
    }
    // 3 components x 8 bytes must stay addressable, and index arithmetic exact.
    if (total > (long double)kMaxSites) refuse(src, size_name, lattice_sides(lat) + " has too many sites to index");
}

void validate(const RunConfig& c, const ParamSource& src) {
    check_all(table(), c, src);
    check_lattice(c.lattice, src, src.name(find_param(table(), "sizes")));
    const Numerics& n = c.numerics;
    if (!src.file.empty() && n.snapshot_every == 0 && n.t_end > 0)  // files store the interval in use
        refuse(src, find_param(table(), "snapshot_every"), "must be > 0 when t_end > 0 (got 0)");
    if (n.integrator == IntegratorKind::rk4 && n.t_end / n.dt > kMaxSteps)
        refuse(src, find_param(table(), "dt"), "t-end/dt = " + value_text(n.t_end / n.dt) + " steps is more than any run can take");
}

void validate(const RunConfig& c) { validate(c, ParamSource::command_line()); }

const char* to_string(Precision p) { return p == Precision::float32 ? "float" : "double"; }
const char* to_string(IntegratorKind k) { return k == IntegratorKind::rk4 ? "rk4" : "dopri5"; }
const char* to_string(Rk4Stepper s) { return s == Rk4Stepper::fused ? "fused" : "four-sweep"; }
const char* to_string(BackendRequest b) {
    return b == BackendRequest::cpu ? "cpu" : b == BackendRequest::cuda ? "cuda" : "auto";
}

}  // namespace xyzmf
