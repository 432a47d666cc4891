// `xyzmf bench`: fixed-size RK4 stepping throughput, or the STREAM-like triad.
#include <cstdio>
#include <memory>

#include "cli.hpp"
#include "options.hpp"
#include "memory_info.hpp"
#include "backend_select.hpp"
#include "bench.hpp"
#include "schema.hpp"

namespace xyzmf::cli {
namespace {

struct BenchOptions {
    std::string backend = "cpu", precision = "double", size = "1024", stepper = "fused", scheme = "best";
    int steps_per_pass = 0;
    int dim = 2, repeats = 5;
    long long steps = 0;
    bool triad = false, roof = false;
    long long triad_elements = 1LL << 25;
    CLI::Option* dim_opt = nullptr;
};

void add_options(CLI::App* sub, BenchOptions& o) {
    add_backend(sub, o.backend);
    add_precision(sub, o.precision);
    o.dim_opt = sub->add_option("--dim", o.dim, "Lattice dimension 1, 2, 3")->capture_default_str();
    sub->add_option("--size", o.size, "Sites per side, N or LxxLy[xLz]")->capture_default_str();
    sub->add_option("--stepper", o.stepper,
                    "fused (whole RK4 steps per pass over memory) or four-sweep (one sweep per stage, the reference)")
        ->check(CLI::IsMember({"fused", "four-sweep"}))->capture_default_str();
    sub->add_option("--scheme", o.scheme,
                    "fused: how a pass walks through memory: best (the backend's measured choice), tiles (slices "
                    "with rings in cache or shared memory) or stream (lanes streaming down rows, rings in registers)")
        ->check(CLI::IsMember({"best", "tiles", "stream"}))->capture_default_str();
    sub->add_option("--steps-per-pass", o.steps_per_pass, "RK4 steps the fused stepper does per pass over memory (1-4; 0 = the backend's choice)")
        ->check(CLI::Range(0, kMaxFusedSteps))->capture_default_str();
    sub->add_option("--steps", o.steps, "RK4 steps per repeat (0 to 1e9); 0 = about 0.5 s per repeat")
        ->check(CLI::Range(0LL, 1000000000LL))->capture_default_str();
    sub->add_option("--repeats", o.repeats, "Timed repeats (the median is reported), 1 to 1000")->check(CLI::Range(1, 1000))->capture_default_str();
    sub->add_flag("--roof", o.roof,
                  "Measure the arithmetic roof instead: the fused stepper's per-site code on L1-resident data, every "
                  "thread (site-steps/s for --dim and --precision)");
    sub->add_flag("--triad", o.triad, "Run the STREAM-like triad a = b + s c instead (host memory bandwidth)");
    sub->add_option("--triad-elements", o.triad_elements, "Doubles per triad array (1 to 2^34; three arrays must fit in memory)")
        ->check(CLI::Range(1LL, 1LL << 34))->capture_default_str();
}

int execute(const BenchOptions& o) {
    if (o.triad) {
        check_memory(std::size_t(3 * 8 * o.triad_elements), host_available_bytes(), "host",
                     std::to_string(o.triad_elements) + " triad elements");
        const TriadResult t = stream_triad(o.triad_elements, o.repeats);
        std::printf("triad: %lld doubles x 3 arrays, median %.2f GB/s, best %.2f GB/s (%d repeats)\n", t.elements,
                    t.median_gb_per_s, t.best_gb_per_s, o.repeats);
        return 0;
    }
    if (o.roof) {
        const double r = fused_arithmetic_roof(precision_of(o.precision),
                                               o.dim, o.repeats);
        std::printf("roof: %dD %s | fused stage arithmetic on L1-resident data, all threads | median %.4g "
                    "site-steps/s (%d repeats)\n", o.dim, o.precision.c_str(), r, o.repeats);
        return 0;
    }
    const Lattice lat = parse_size(o.size, o.dim, o.dim_opt->count() > 0);
    const BackendRequest req = backend_request(o.backend);
    const Precision p = precision_of(o.precision);
    RunConfig cfg;
    cfg.lattice = lat;
    cfg.precision = p;
    const BackendKind kind = choose_backend(req);
    const Rk4Stepper stepper = o.stepper == "fused" ? Rk4Stepper::fused : Rk4Stepper::four_sweep;
    check_run_memory(cfg, kind, 1 + integrator_buffers(false, stepper));
    const FusedScheme scheme = o.scheme == "tiles"    ? FusedScheme::tiles
                               : o.scheme == "stream" ? FusedScheme::stream
                                                       : FusedScheme::best;
    const BenchResult r = bench_rk4(kind, p, lat, o.steps, o.repeats, stepper, o.steps_per_pass, scheme);
    const std::string name = r.stepper == Rk4Stepper::fused
                                 ? std::string("rk4 fused (") + (r.scheme == FusedScheme::stream ? "stream" : "tiles") +
                                       "), " + std::to_string(r.steps_per_pass) + " step(s)/pass"
                                 : stepper == Rk4Stepper::fused ? std::string("rk4 four-sweep (the backend's choice here)")
                                                                : std::string("rk4 four-sweep");
    std::printf("bench: %s | %s | %s | %s | %lld steps x %d repeats | median %.4g site-steps/s | %.2f GB/s "
                "(%.0f B/site-step)\n",
                r.backend.c_str(), lattice_text(lat).c_str(), o.precision.c_str(), name.c_str(), r.steps,
                o.repeats, r.median_site_steps_per_s, r.median_gb_per_s, r.bytes_per_site_step);
    return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
    auto o = std::make_shared<BenchOptions>();
    CLI::App* sub = app.add_subcommand(
        "bench", "Measure RK4 stepping throughput (site-steps/s, effective GB/s; median of --repeats), or memory "
                 "bandwidth with --triad");
    add_options(sub, *o);
    return {sub, [o] { return execute(*o); }};
}

}  // namespace xyzmf::cli
