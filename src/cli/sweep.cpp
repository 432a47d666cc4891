// `xyzmf sweep` (batched dynamical phase maps) and `xyzmf merge` (join shards).
#include <unistd.h>

#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "backend_select.hpp"
#include "cli.hpp"
#include "hdf5.hpp"
#include "schema.hpp"
#include "mpi_session.hpp"
#include "options.hpp"
#include "xyzmf/error.hpp"
#include "signals.hpp"
#include "sweep.hpp"

namespace xyzmf::cli {
namespace {

struct SweepOptions {
    SweepConfig cfg;
    std::string x = "Jx:-6:6:41", y = "Jy:-6:6:41", size = "32", precision = "double", backend = "auto", shard = "0/1",
                resume;
    int dim = 2;
    bool quiet = false;
    std::vector<CLI::Option*> fixed;      // what --resume takes from the file instead
    std::vector<CLI::Option*> couplings;  // one per couplings_parameters() row
    CLI::Option* dim_opt = nullptr;
    CLI::Option* batch_opt = nullptr;  // the one setting a resume may change
};

void print_summary(const SweepConfig& c, const SweepResults& r, const SweepSummary& s) {
    std::map<std::int64_t, int> phases;
    int agree = 0, agree_domains = 0, disagree = 0, unsettled = 0, blown = 0, done = 0;
    for (std::size_t e = 0; e < r.phase.size(); ++e) {
        if (r.phase[e] == kNotDone) continue;
        ++done;
        ++phases[r.phase[e]];
        (r.agree[e] == 1 ? agree : r.agree[e] == 2 ? agree_domains : r.agree[e] == 3 ? blown : disagree)++;
        unsettled += r.agree[e] == 0 && r.phase[e] == phase_code("not stationary");
    }
    std::printf("sweep: %d lattices (%d points x %d replicas) done in this call in %.1f s (%.3g site-steps/s); %d skipped "
                "as already done\n",
                s.points_done * c.replicas, s.points_done, c.replicas, s.seconds,
                s.seconds > 0 ? s.site_steps / s.seconds : 0.0, s.points_skipped);
    for (const auto& [code, n] : phases) std::printf("  %-15s %6d\n", phase_name(code), n);
    std::printf("agreement with linear stability: %d same phase, %d domains of the predicted order, %d disagree (of %d)",
                agree, agree_domains, disagree, done - blown);
    // (a lattice still moving at t_end has no verdict yet: a longer --t-end may settle it)
    if (unsettled) std::printf("; of these %d still moved at t_end (a longer --t-end settles them)", unsettled);
    std::printf("\n");
    if (blown)
        std::printf("%d lattices blew up (phase 7, time in /sweep/t_final); a smaller --dt may integrate them\n", blown);
}

// The part of rank k of P that `mpirun -np P xyzmf sweep -o OUT` keeps beside OUT
// until it merges them: .OUT.rank-K-of-P.h5 in OUT's folder.
std::string rank_part(const std::string& out, int k, int P) {
    const std::size_t slash = out.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : out.substr(0, slash + 1);
    char tail[64];
    std::snprintf(tail, sizeof tail, ".rank-%04d-of-%04d.h5", k, P);
    return dir + "." + out.substr(slash == std::string::npos ? 0 : slash + 1) + tail;
}

// The rank counts P of the parts an MPI sweep left beside OUT (an interrupted one).
std::set<int> left_parts(const std::string& out) {
    namespace fs = std::filesystem;
    const fs::path p(out);
    const std::string prefix = "." + p.filename().string() + ".rank-";
    std::set<int> counts;
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(p.has_parent_path() ? p.parent_path() : fs::path("."), ec)) {
        const std::string name = e.path().filename().string();
        int k = 0, P = 0;
        char end[8] = {0};
        if (name.rfind(prefix, 0) == 0 &&
            std::sscanf(name.c_str() + prefix.size(), "%d-of-%d%4s", &k, &P, end) == 3 && std::string(end) == ".h5" &&
            name == fs::path(rank_part(out, k, P)).filename().string())
            counts.insert(P);
    }
    return counts;
}

std::string ranks_text(const std::set<int>& counts) {
    std::string t;
    for (int P : counts) t += (t.empty() ? "" : " or ") + std::to_string(P);
    return t;
}

// The parts an interrupted MPI sweep left beside OUT, removed once a sweep
// started again with --overwrite has ended well (not before: a kill would lose them).
void remove_left_parts(const std::string& out) {
    for (int P : left_parts(out))
        for (int k = 0; k < P; ++k) ::unlink(rank_part(out, k, P).c_str());
}

// A new sweep where an MPI sweep to the same output was interrupted: its parts
// are its work so far, which --resume continues; --overwrite starts again (and
// removes them at its end, remove_left_parts).
void check_left_parts(const std::string& out, bool overwrite) {
    const std::set<int> counts = left_parts(out);
    if (counts.empty() || overwrite) return;
    const int P = *counts.rbegin();
    throw Error("-o: " + out + " is the output of an interrupted sweep over " + ranks_text(counts) +
                    " MPI ranks, whose parts (" + rank_part(out, 0, P) + " ...) hold its work so far: continue it with "
                    "mpirun -np " + std::to_string(P) + " xyzmf sweep --resume " + out +
                    ", or pass --overwrite to start again",
                exit_code::io);
}

bool sweep_file_finished(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return false;
    h5::Id f = open_xyzmf(path, false);
    return h5::has_attr(f, "status") && h5::attr_string(f, "status") == "finished";
}

// `mpirun -np P xyzmf sweep`: rank r runs the points of shard r/P (spread over
// the whole map, as --shard spreads them) into a hidden file beside the output,
// .NAME.rank-R-of-P.h5; rank 0 then merges them into the output and removes
// them. A killed sweep keeps them: --resume OUTPUT on the same number of ranks
// continues each.
int sweep_over_ranks(const SweepOptions& o, SweepConfig cfg, bool resume) {
    const int P = session_ranks(), r = session_rank();
    const std::string out = resume ? o.resume : cfg.output;
    if (!resume && cfg.shard_count != 1)
        throw Error("--shard " + o.shard + ": under mpirun the ranks are the shards; leave --shard out", exit_code::usage);
    const auto shard_name = [&](int k) { return rank_part(out, k, P); };
    struct stat st;
    int done = 0;  // --resume of a sweep that finished (its parts merged and gone)
    on_root([&] {
        if (!resume && !cfg.overwrite && ::stat(out.c_str(), &st) == 0)
            throw Error("-o: " + out + " already exists; pass --overwrite to replace it", exit_code::io);
        if (!resume) return check_left_parts(out, cfg.overwrite);
        const std::set<int> counts = left_parts(out);
        if (counts.empty() && sweep_file_finished(out)) {
            done = 1;
            return;
        }
        for (int k = 0; k < P; ++k)
            if (::stat(shard_name(k).c_str(), &st) != 0)
                throw Error("--resume " + out + ": no " + shard_name(k) + " (the part of rank " + std::to_string(k) +
                                " of a sweep over " + std::to_string(P) + " ranks): " +
                                (counts.empty() ? std::string("resume on as many ranks as it ran on, or without "
                                                              "mpirun if it ran without")
                                                : "it ran over " + ranks_text(counts) + " ranks: mpirun -np " +
                                                      std::to_string(*counts.rbegin()) + " xyzmf sweep --resume " + out),
                            exit_code::io);
    });
    share_from_root(&done, int(sizeof done));
    if (done) {  // as without mpirun: nothing left to run, the summary again
        on_root([&] {
            SweepHooks hooks;
            hooks.quiet = true;
            const SweepSummary s = run_sweep(cfg, true, hooks);
            SweepConfig back;
            if (!o.quiet) print_summary(back, read_sweep(out, back), s);
        });
        return 0;
    }
    SweepSummary s;
    try {
        on_every_rank([&] {
            SweepConfig mine = cfg;
            mine.output = shard_name(r);
            SweepHooks hooks;
            hooks.quiet = o.quiet || r != 0;  // rank 0's progress line stands for all
            StopRelay relay;  // a stop signal that reaches one rank stops all at their next pass
            hooks.between_passes = [&relay] { relay.poll(); };
            if (!resume) {
                mine.shard_index = r;
                mine.shard_count = P;
            }
            try {
                s = run_sweep(mine, resume, hooks);
            } catch (const Error& e) {  // name what the user continues: the output, on P ranks
                std::string what = e.what();
                const std::string again = "(continue with --resume " + mine.output + ")";
                const std::size_t at = what.find(again);
                if (at == std::string::npos) throw;
                what.replace(at, again.size(),
                             "(continue with mpirun -np " + std::to_string(P) + " xyzmf sweep --resume " + out + ")");
                for (const std::string& part : {"kept in " + mine.output, mine.output + " marked"}) {
                    const std::size_t p = what.find(part);  // (rank 0's hidden part stands for all)
                    if (p != std::string::npos)
                        what.replace(p, part.size(), part.rfind("kept", 0) == 0 ? "kept in the parts beside " + out
                                                                                 : "the parts beside " + out + " marked");
                }
                throw Error(what, e.exit_code());
            }
        });
    } catch (const Error& e) {
        // A stop signal that reached other ranks only (each rank runs its part
        // alone): rank 0, which ran its part to the end, says what happened.
        const int sig = e.exit_code() - 128;
        if (!session_root() || *e.what() || (sig != SIGINT && sig != SIGTERM && sig != SIGHUP && sig != SIGQUIT)) throw;
        throw Error(std::string("interrupted (") + stop_signal_name(sig) +
                        ") on another rank; the points every rank "
                        "finished are kept in the parts beside " +
                        out + " (continue with mpirun -np " + std::to_string(P) + " xyzmf sweep --resume " + out + ")",
                    e.exit_code());
    }
    double sums[6] = {double(s.points_done), double(s.points_skipped), double(s.batches), double(s.blow_ups), 0,
                      double(s.site_steps)};
    sum_over_ranks(sums, 6);
    s.points_done = int(sums[0]);
    s.points_skipped = int(sums[1]);
    s.batches = int(sums[2]);
    s.blow_ups = int(sums[3]);
    s.site_steps = (long long)sums[5];  // s.seconds: rank 0's, which waited for the others at the sum
    on_root([&] {
        std::vector<std::string> parts;
        for (int k = 0; k < P; ++k) parts.push_back(shard_name(k));
        // From rank 0's part (every rank's: the same program on like nodes, the same
        // commands): the backend, the command that began the sweep and its resumes.
        // A resume that ran points: this session's backend and batch size (rank 0's
        // part may have had none left, and kept its earlier ones).
        std::string backend, began = cfg.command_line, resumes;
        {
            h5::Id f = open_xyzmf(parts[0], false);
            if (h5::has_attr(f, "backend")) backend = h5::attr_string(f, "backend");
            if (h5::has_attr(f, "command_line")) began = h5::attr_string(f, "command_line");
            if (h5::has_attr(f, "resumed_by")) resumes = h5::attr_string(f, "resumed_by");
        }
        const bool ran = resume && s.points_done > 0;
        if (ran) backend = make_backend<float>(choose_backend(cfg.backend))->description();
        if (!backend.empty()) backend += " x " + std::to_string(P) + " MPI ranks";
        merge_sweeps(parts, out, true, began, backend, resumes, ran ? cfg.batch_points : 0);
        for (const std::string& p : parts) ::unlink(p.c_str());
        remove_left_parts(out);  // (another number of ranks' parts, replaced under --overwrite)
        SweepConfig back;
        if (!o.quiet) print_summary(back, read_sweep(out, back), s);
    });
    return 0;
}

void add_options(CLI::App* sub, SweepOptions& o) {
    add_config_option(sub);
    auto add = [&](CLI::Option* opt) { o.fixed.push_back(opt); return opt; };
    add(sub->add_option("--x", o.x, "Horizontal axis PARAM:MIN:MAX:N (Jx, Jy, Jz, gamma_phi; units of gamma)")->capture_default_str());
    add(sub->add_option("--y", o.y, "Vertical axis PARAM:MIN:MAX:N")->capture_default_str());
    o.couplings = add_couplings(sub, o.cfg.grid.fixed, " where it is not an axis");
    explain_map_jz(o.couplings);
    for (CLI::Option* opt : o.couplings) add(opt);
    o.dim_opt = add(sub->add_option("--dim", o.dim, "Lattice dimension of every point (inferred from --size AxB[xC])")
                        ->capture_default_str());
    add(sub->add_option("--size", o.size, "Lattice of every point: N or LxxLy[xLz], periodic (run: 64; a map runs every point, and 32 shows "
                                          "each phase's order)")->capture_default_str());
    add(sub->add_option("--replicas", o.cfg.replicas, "Random initial states per point (replica r: seed + r)")
        ->check(CLI::Range(1, 1000))->capture_default_str());
    add(sub->add_option("--seed", o.cfg.seed, "Base seed of the random initial states")
            ->check(seed_text(find_param(sweep_parameters(), "seed").hi))
            ->capture_default_str());
    add(sub->add_option("--dt", o.cfg.numerics.dt, "RK4 time step, units of 1/gamma (run: 0.01; a map classifies phases rather than resolving "
                                          "states to the last digit: --dt 0.01 gives run's accuracy)")->capture_default_str());
    add(sub->add_option("--t-end", o.cfg.numerics.t_end, "Time each lattice runs, units of 1/gamma (run: 100; the points near phase boundaries settle "
                                               "slowest, and each lattice stops early once it is stationary)")->capture_default_str());
    add(sub->add_option("--steady-tol", o.cfg.numerics.steady_tol,
                    "Stop a lattice early once its max |ds/dt| is below this (checked every 1/gamma; its slot takes "
                    "the next lattice), units of gamma; 0 = never (run: 1e-9; 1e-6 already fixes the phase)")->capture_default_str());
    add(add_precision(sub, o.precision));
    add_backend(sub, o.backend);
    o.batch_opt = sub->add_option("--batch-points", o.cfg.batch_points, "Grid points stepped together (times --replicas lattices in one state array); the results are "
                    "written each time this many more points are done")
        ->check(CLI::Range(1, 1000000))->capture_default_str();
    add(sub->add_option("--shard", o.shard, "Run only points p with p mod n = i (I/N, for job arrays; join with xyzmf merge)")
        ->capture_default_str());
    add(sub->add_option("-o,--output", o.cfg.output, "Output HDF5 file (/sweep/...)")->capture_default_str());
    add(sub->add_flag("--overwrite", o.cfg.overwrite, "Replace an existing output file"));
    sub->add_option("--resume", o.resume, "Continue a killed sweep in this file (its settings are used; how it runs, "
                                         "--batch-points, --backend, --threads, --device, may differ)");
    sub->add_flag("-q,--quiet", o.quiet, "No progress line or summary (the file holds the results)");
}

int execute(const SweepOptions& o, const std::string& command_line) {
    SweepConfig cfg = o.cfg;
    cfg.command_line = command_line;
    cfg.backend = backend_request(o.backend);
    SweepHooks hooks;
    hooks.quiet = o.quiet;
    if (!o.resume.empty()) {
        for (const CLI::Option* opt : o.fixed)
            if (opt->count() > 0)
                throw Error("--resume takes every setting of the sweep from " + o.resume + "; drop " +
                                opt->get_name(),
                            exit_code::usage);
        cfg.output = o.resume;
        if (o.batch_opt->count() == 0) cfg.batch_points = 0;  // (0: the file's)
        if (session_ranks() > 1) return sweep_over_ranks(o, cfg, true);
        struct stat st;
        const std::set<int> counts = left_parts(o.resume);
        if (::stat(o.resume.c_str(), &st) != 0 && !counts.empty())
            throw Error("--resume " + o.resume + ": not written yet: the sweep ran over " + ranks_text(counts) +
                            " MPI ranks, whose parts hold its work so far: mpirun -np " +
                            std::to_string(*counts.rbegin()) + " xyzmf sweep --resume " + o.resume,
                        exit_code::io);
        const SweepSummary s = run_sweep(cfg, true, hooks);
        SweepConfig back;
        if (!o.quiet) print_summary(back, read_sweep(o.resume, back), s);
        return 0;
    }
    cfg.grid.x = parse_axis(o.x, "--x");
    cfg.grid.y = parse_axis(o.y, "--y");
    if (cfg.grid.x.name == cfg.grid.y.name) throw Error("--x and --y must be different parameters", exit_code::usage);
    refuse_axis_values(o.couplings, cfg.grid.x.name, cfg.grid.y.name, "sweep");
    cfg.lattice = parse_size(o.size, o.dim, o.dim_opt->count() > 0);
    cfg.precision = precision_of(o.precision);
    set_param(sweep_parameters(), cfg, "shard", o.shard);
    validate(cfg, ParamSource::command_line());
    // Nodes differ (memory, devices): a rank refused alone stops all before any
    // part is written (a collective follows).
    on_every_rank([&] {
        check_sweep_memory(cfg);
        choose_backend(cfg.backend);
    });
    if (session_ranks() > 1) return sweep_over_ranks(o, cfg, false);
    check_left_parts(cfg.output, cfg.overwrite);
    const SweepSummary s = run_sweep(cfg, false, hooks);
    remove_left_parts(cfg.output);  // (an interrupted MPI sweep's, replaced under --overwrite)
    SweepConfig back;
    if (!o.quiet) print_summary(back, read_sweep(cfg.output, back), s);
    return 0;
}

}  // namespace

Command add_sweep_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<SweepOptions>();
    o->cfg.grid.fixed = {0, 0, 1, 1, 0};
    o->cfg.output = "sweep.h5";
    CLI::App* sub = app.add_subcommand("sweep",
                                       "Dynamical phase map: run every grid point from random states (all points as "
                                       "one batch) and classify what forms; compare with linear stability");
    add_options(sub, *o);
    return {sub, [o, command_line] { return execute(*o, command_line); }};
}

namespace {

struct MergeOptions {
    std::string out;
    std::vector<std::string> inputs;
    bool overwrite = false, quiet = false;
};

void add_options(CLI::App* sub, MergeOptions& o) {
    sub->add_option("-o,--output", o.out, "Merged HDF5 file")->required();
    sub->add_option("shards", o.inputs, "Shard files")->required();
    sub->add_flag("--overwrite", o.overwrite, "Replace an existing output file");
    sub->add_flag("-q,--quiet", o.quiet, "No report on stdout (the merged file holds the results)");
}

int execute(const MergeOptions& o, const std::string& command_line) {
    merge_sweeps(o.inputs, o.out, o.overwrite, command_line);
    SweepConfig c;
    const SweepResults r = read_sweep(o.out, c);
    int missing = 0;
    for (std::int64_t b : r.batch) missing += b < 0;
    if (!o.quiet)
        std::printf("merge: %zu shards -> %s (%d x %d points, %d replicas; %d points not done)\n", o.inputs.size(),
                o.out.c_str(), c.grid.x.n, c.grid.y.n, c.replicas, missing);
    return 0;
}

}  // namespace

Command add_merge_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<MergeOptions>();
    CLI::App* sub = app.add_subcommand("merge", "Join the shards of a sweep (xyzmf sweep --shard I/N) into one map");
    add_options(sub, *o);
    return {sub, [o, command_line] { return execute(*o, command_line); }};
}

}  // namespace xyzmf::cli
