// `xyzmf run`: options -> RunConfig -> validation -> memory check -> initial
// state -> backend -> Simulation + RunOutput, with a progress line on a TTY.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "cli.hpp"
#include "fixed_step.hpp"
#include "options.hpp"
#include "analysis.hpp"
#include "backend_select.hpp"
#include "xyzmf/error.hpp"
#include "init_file.hpp"
#include "initial_state.hpp"
#include "mpi_session.hpp"
#include "progress.hpp"
#include "schema.hpp"
#include "run_continuation.hpp"
#include "run_output.hpp"
#include "run_repair.hpp"
#include "signals.hpp"
#include "simulation.hpp"
#include "vortices.hpp"
#include "xdmf.hpp"

namespace xyzmf::cli {
namespace {

struct RunOptions {
    RunConfig cfg;
    int dim = 2;
    std::string size = "64";
    std::string precision = "double", integrator = "rk4", backend = "auto", stepper = "fused", halo = "auto";
    std::string resume, continue_from;
    bool quiet = false, analyze = false, xdmf = false;
    std::string sk_storage = "auto", analysis_backend = "cpu";
    CLI::Option* dim_opt = nullptr;
    CLI::Option* size_opt = nullptr;
    CLI::Option* stepper_opt = nullptr;
    CLI::Option* t_end_opt = nullptr;
    CLI::Option* output_opt = nullptr;
    CLI::Option* overwrite_opt = nullptr;
    std::vector<CLI::Option*> physics;  // everything --resume takes from the file instead
};

// A kill can leave a run file whose HDF5 metadata no longer read although its
// snapshots are all on disk (run_journal.hpp): rebuilt from its journal
// before it is continued; without a journal, a damaged file is refused with
// the way to recover what it still holds.
void repair_for_resume(const std::string& path, bool quiet) {
    // (no advice to repair what repair cannot mend)
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw Error(path + ": cannot be resumed: no such file", exit_code::io);
    if (const std::string what = not_a_run_file(path); !what.empty())
        throw Error(path + ": cannot be resumed: " + what, exit_code::io);
    const std::optional<JournalContents> j = journal_of(path);
    std::string why;
    if (run_file_sound(path, j ? &*j : nullptr, &why)) return;
    if (!j)
        throw Error(path + ": cannot be resumed: " + why + " (a kill during a write can do this; xyzmf repair " + path +
                        " recovers what it still holds)",
                    exit_code::io);
    const RepairReport r = rebuild_from_journal(path, *j, path);
    if (r.snapshots == 0)
        throw Error(path + ": " + why + ", and its journal holds no complete snapshot: nothing to resume from",
                    exit_code::io);
    if (!quiet)
        std::printf("xyzmf: %s was damaged (%s); rebuilt from its journal: %lld snapshots up to t = %g, %lld "
                    "time-series rows; the damaged file is kept as %s\n",
                    path.c_str(), why.c_str(), (long long)r.snapshots, r.last_t, (long long)r.rows,
                    r.damaged_copy.c_str());
}

// What the ranks of an MPI run computed together for the analysis of each
// state, until rank 0's writer thread takes it.
struct SpreadParts {
    std::mutex mutex;
    std::map<std::string, AnalysisParts> parts;
    AnalysisParts take(const std::string& where) {
        std::lock_guard<std::mutex> hold(mutex);
        const auto it = parts.find(where);
        if (it == parts.end()) throw Error("mpi analysis: no structure factor for " + where + " (internal error)");
        AnalysisParts p = std::move(it->second);
        parts.erase(it);
        return p;
    }
};

// run --xdmf over MPI ranks, on every rank: once a state is in the run file,
// rank 0's writer allocates the sidecar's fields of it in the fields file, and
// every rank writes its own rows of them (sz; psi where the couplings define
// it, from the rank's rows alone; 1D: the spins), so no rank holds the whole
// state; rank 0's writer then names the state in the document. `sidecar`
// (rank 0 only) is read when the hook runs: it is made after the hook.
template <class Real>
auto spread_fields_hook(const RunConfig& cfg, Domain<Real>& domain, double min_amplitude,
                        const std::unique_ptr<XdmfExport>* sidecar,
                        const std::map<std::string, std::int64_t>* vortex_points) {
    return [&cfg, &domain, min_amplitude, sidecar, vortex_points](
               const std::string& where, double t, const HostState& owned,
               const std::function<void(const std::function<void()>&)>& on_writer) {
        const Lattice& lat = cfg.lattice;
        const index_t n = domain.owned_sites(), row_sites = lat.sites() / lat.L[lat.dim - 1];
        FieldsOnDisk at;
        std::exception_ptr failed;
        if (sidecar) {
            try {
                on_writer([&] { at = (*sidecar)->prepare_state(where, t); });
            } catch (...) {
                failed = std::current_exception();
                at = {};
            }
        }
        // the z block; empty path on rank 0: the others stop here
        domain.write_own_values(at.path, at.sz, owned.data() + 2 * n, 1);
        if (failed) std::rethrow_exception(failed);
        if (cfg.couplings.Jx * cfg.couplings.Jy != 0) {
            const std::vector<double> psi = sxy_phase_rows(lat, cfg.couplings, owned, domain.first_owned_site() / row_sites,
                                                           n / row_sites, min_amplitude);
            domain.write_own_values(at.path, at.psi, psi.data(), 1);
        }
        if (lat.dim == 1) domain.write_own_values(at.path, at.spin, to_aos(owned, n).data(), 3);
        if (sidecar)
            on_writer([&] {
                const auto v = vortex_points->find(where);
                (*sidecar)->finish_state(where, t, v == vortex_points->end() ? 0 : v->second);
            });
    };
}

// Said where that moves an interval, as one shorter than --dt or not a multiple of
// it would otherwise pass unnoticed.
void say_whole_step_intervals(const RunConfig& cfg) {
    if (cfg.numerics.integrator != IntegratorKind::rk4) return;  // dopri5 lands on every event time
    const FixedStepPlan plan = FixedStepPlan::make(cfg.numerics.dt, cfg.numerics.t_end);
    const char* snapshots = cfg.numerics.snapshot_every > 0 ? "--snapshot-every" : "the snapshot interval t_end/10 =";
    const std::pair<const char*, double> intervals[] = {{"--record-every", cfg.numerics.record_every},
                                                        {snapshots, cfg.snapshot_interval()}};
    for (const auto& [what, interval] : intervals) {
        if (plan.interval_in_use(interval) == interval) continue;
        const std::int64_t k = plan.stride(interval);
        std::printf("xyzmf: note: %s %g is not a whole number of --dt %g steps: every %lld step%s (%g 1/gamma) instead\n",
                    what, interval, plan.dt, (long long)k, k == 1 ? "" : "s", double(k) * plan.dt);
    }
}

// The ranks other than 0 of an MPI run: the same loop on their slabs, no file.
template <class Real>
int run_follower(Simulation<Real>& sim, const StartPoint& start, const RunHooks& hooks) {
    sim.run(nullptr, start, hooks);
    return 0;
}

// A resumed --analyze run, before it steps on: the state it starts from is
// analysed again (a kill may have come between its commit and its analysis),
// and so is every earlier state without an analysis (a file rebuilt from its
// journal keeps none: the journal holds the spins, from which the analysis is
// recomputed), with each state after the earliest of them, so that the
// coarsening table, cut there, is written again in time order and the file
// ends as an uninterrupted run's.
void continue_analysis(const RunConfig& cfg, const AnalysisOptions& opt, RunOutput& out, const std::string& from,
                       bool quiet, bool stoppable) {
    if (from.empty()) return;  // (continued from /final: every snapshot keeps its analysis)
    AnalysisOptions host = opt;
    host.on_device = false;  // stored states; the run's own analysis is set up after
    Analyzer an(cfg.lattice, cfg.couplings, host);
    // (a coarsening row lost with its table, a salvaged file's, counts as a lost analysis)
    std::vector<double> rows_t;
    if (h5::exists(out.handle(), "/analysis/coarsening/t")) {
        std::vector<hsize_t> d;
        rows_t = h5::read_array(out.handle(), "/analysis/coarsening/t", d);
    }
    auto has_row = [&](const std::string& g) {
        const double t = h5::read_scalar(h5::open_group(out.handle(), g), "t");
        return std::find(rows_t.begin(), rows_t.end(), t) != rows_t.end();
    };
    std::vector<std::string> states;  // up to `from`, from the earliest without an analysis
    for (std::int64_t i : snapshot_indices(out.handle())) {
        const std::string g = snapshot_group(i);
        if (states.empty() && g != from && h5::exists(out.handle(), g + "/analysis") && has_row(g)) continue;
        states.push_back(g);
        if (g == from) break;
    }
    for (std::size_t k = 0; k < states.size(); ++k) {
        // (Under mpirun the other ranks wait in the first pass, where the ranks agree on
        // a stop: rank 0 goes there first.)
        if (stoppable && interrupt_requested()) {  // marked, and said how to go on (a resume analyses them again)
            out.set_status(interruption_text() + " while analysing its stored states again");
            throw_if_interrupted("while analysing the stored states of " + out.path() + " again (continue with --resume " +
                                 out.path() + ")");
        }
        const StoredState st = read_state_group(out.handle(), out.path(), states[k]);
        const StateAnalysis a = an.analyze(st.spins, st.t, residual_trend(out.handle(), st.t), states[k]);
        out.write_extra(3.0 * 8 * double(cfg.lattice.sites()) + 65536, [&](hid_t f) {
            if (k == 0) truncate_coarsening(f, st.t);
            write_state_analysis(f, a, opt);
            write_coarsening(f, {a}, true);
        });
    }
    if (states.size() > 1 && !quiet)
        std::printf("xyzmf: %lld stored states of %s analysed again from their spins, from the first without its "
                    "analysis or coarsening row (a file rebuilt from its journal keeps none)\n",
                    (long long)states.size() - 1, out.path().c_str());
}

template <class Real>
int run_on(const RunConfig& cfg, BackendKind kind, bool quiet, const std::string& resume_path,
           const AnalysisOptions* analysis, bool xdmf_sidecar, bool own_sidecar, std::unique_ptr<OutputLock> lock,
           const ContinuationStart* continued) {
    const bool analyze = analysis != nullptr;  // --analyze
    const bool resuming = !resume_path.empty();
    // Under mpirun nodes differ (devices): a rank refused alone stops all before
    // the domain's collectives, and says why. (Memory: checked by execute.)
    std::unique_ptr<Backend<Real>> be;
    on_every_rank([&] { be = make_backend<Real>(kind); });
    // Under mpirun: this rank's slab of the lattice (null: all of it). Rank 0
    // alone reads and writes files and prints; the state goes to and comes
    // from the others through the domain.
    const std::unique_ptr<Domain<Real>> domain = make_run_domain(*be, cfg);
    const bool root = session_root();
    quiet = quiet || !root;

    StartPoint start;
    HostState init;
    std::int64_t keep_rows = 0;
    std::string resumed_from;  // the snapshot a --resume starts from
    // Under mpirun each rank reads its own rows of a stored state (--resume, --init
    // FILE) that rank 0 has checked, and draws its own rows of a drawn one (keyed by
    // the global site, so the state does not depend on P): no rank holds the whole.
    std::string state_file, state_where;
    if (resuming) {
        on_root([&] {
            if (continued) {  // from the final state, every snapshot and row kept
                init = continued->state.spins;  // (empty under mpirun: the ranks read their rows)
                if (domain) state_file = resume_path, state_where = "/final";
                start = {continued->state.step, continued->state.t, 0, continued->next_snapshot};
                keep_rows = continued->rows;
                if (!quiet)
                    std::printf("xyzmf: continuing %s from /final (t = %g) to t = %g\n", resume_path.c_str(),
                                continued->state.t, cfg.numerics.t_end);
                return;
            }
            StoredState st = read_stored_state(resume_path, true, !domain);
            init = std::move(st.spins);
            if (domain) state_file = resume_path, state_where = st.where;
            start = {st.step, st.t, st.dt_next, st.snapshot_index + 1};
            keep_rows = st.timeseries_rows;
            resumed_from = st.where;
            if (!quiet) std::printf("xyzmf: resuming %s from %s (t = %g)\n", resume_path.c_str(), st.where.c_str(), st.t);
        });
        share_from_root(&start, int(sizeof start));
    }
    // A bad --init stops every rank alike.
    const bool drawn = !resuming && domain && is_generated_state(cfg.init);
    HostState mine;
    if (!resuming)
        on_every_rank([&] {
            if (drawn) {
                mine = make_initial_sites(cfg.init, cfg.lattice, cfg.seed, cfg.noise, domain->first_owned_site(),
                                          domain->owned_sites());
            } else if (domain && root) {
                std::string group;
                if (!init_file_spec(cfg.init, state_file, group))  // neither drawn nor a file: refused as serially
                    initial_state(cfg.init, cfg.lattice, cfg.seed, cfg.noise);
                state_where = init_file_state(cfg.init, cfg.lattice, false).where;
            } else if (!domain) {
                init = initial_state(cfg.init, cfg.lattice, cfg.seed, cfg.noise);
            }
        });
    if (domain) {
        state_file = share_string_from_root(state_file);
        state_where = share_string_from_root(state_where);
        if (!state_where.empty())
            on_every_rank([&] {
                mine = read_state_sites(state_file, state_where, domain->first_owned_site(), domain->owned_sites());
            });
    }

    Simulation<Real> sim(cfg, *be, domain.get());
    if (drawn || !state_where.empty())
        sim.set_own_state(mine);
    else
        sim.set_state(init);
    HostState().swap(init);
    HostState().swap(mine);
    // The file is created only now: every check above has passed, so a bad
    // option never leaves a half-written file behind (nor does a stop signal).
    throw_if_interrupted(resuming ? "before " + resume_path + " was touched" : "before " + cfg.output + " was created; nothing written");
    std::unique_ptr<RunOutput> output;
    const std::string where = domain ? be->description() + " x " + std::to_string(domain->ranks()) + " MPI ranks" : be->description();
    on_root([&] {
        output = resuming ? std::make_unique<RunOutput>(resume_path, keep_rows, start.next_snapshot, cfg.command_line,
                                                        std::move(lock))
                          : std::make_unique<RunOutput>(cfg, where);
    });
    // --analyze over MPI ranks: each state's S(k), vortices and the sums the
    // classification needs computed by all ranks together, left here for rank
    // 0's writer thread, which classifies and writes.
    const AnalysisOptions aopt = analysis ? *analysis : AnalysisOptions{};
    SpreadParts spread;
    RunHooks spread_hooks;
    if (domain && analyze)
        on_every_rank([&] {
            spread_hooks.on_spread_state = spread_analysis_hook(cfg, aopt, [&spread](const std::string& at, AnalysisParts p) {
                std::lock_guard<std::mutex> hold(spread.mutex);
                spread.parts[at] = std::move(p);
            });
        });
    // --xdmf over MPI ranks: the sidecar's fields written by every rank for its rows.
    std::unique_ptr<XdmfExport> xdmf_sidecar_ptr;
    std::map<std::string, std::int64_t> vortex_points;  // rank 0's writer thread's, by state
    if (domain && xdmf_sidecar)
        spread_hooks.on_spread_written = spread_fields_hook(cfg, *domain, aopt.thresholds.vortex_amplitude,
                                                            root ? &xdmf_sidecar_ptr : nullptr, &vortex_points);
    if (!root) return run_follower(sim, start, spread_hooks);
    RunOutput& out = *output;
    // What stepped it, as chosen (the stepper asked for may give way: four sweeps on
    // small lattices), and on what: this session's, where a resume or a continuation
    // ran on another backend or number of MPI ranks.
    out.write_extra(4096, [&](hid_t f) {
        h5::Id p = h5::open_group(f, "/parameters");
        h5::set_attr(p, "method", sim.method());
        h5::set_attr(p, "backend", where);
    });
    if (!quiet)
        std::printf("xyzmf: %s, %s, %s, %s precision, t_end = %g -> %s\n", lattice_text(cfg.lattice).c_str(),
                    where.c_str(), sim.method().c_str(), to_string(cfg.precision), cfg.numerics.t_end, out.path().c_str());
    if (!quiet && !domain && cfg.numerics.halo != HaloExchange::automatic)
        std::printf("xyzmf: note: --halo %s has no effect here: it is how mpirun's ranks send their ghost rows\n",
                    cfg.numerics.halo == HaloExchange::overlap ? "overlap" : "after-pass");
    std::fflush(stdout);

    RunSummary s;
    std::unique_ptr<Analyzer> analyzer;
    std::string final_phase;
    {
        ProgressLine progress(quiet);
        RunHooks hooks = spread_hooks;
        if (analyze && !domain) analyzer = std::make_unique<Analyzer>(cfg.lattice, cfg.couplings, aopt);
        // (before the sidecar is written again: its stored states show their vortices)
        if (resuming && analyze) continue_analysis(cfg, aopt, out, resumed_from, quiet, !domain);
        if (xdmf_sidecar) {
            XdmfOptions xo;
            // A resumed run's own sidecar is written again, from its states so far.
            xo.overwrite = cfg.overwrite || own_sidecar;
            xo.command_line = cfg.command_line;
            xo.min_amplitude = aopt.thresholds.vortex_amplitude;
            xo.phase_field = sxy_phase_field;
            xdmf_sidecar_ptr = std::make_unique<XdmfExport>(out.path(), cfg, xo);
            if (resuming) add_stored_states(*xdmf_sidecar_ptr, out.handle(), out.path(), false);
        }
        // On rank 0's writer thread, once the state is in the file: its analysis
        // (from the state itself, or over MPI ranks from what they computed
        // together), written beside it; the vortices found.
        auto analyse = [&](const std::string& where, double t, const HostState* st,
                           const StateView* in_place = nullptr) -> std::int64_t {
            const double trend = residual_trend(out.handle(), t);
            const StateAnalysis a = analyzer ? (in_place ? analyzer->analyze(*in_place, t, trend, where)
                                                         : analyzer->analyze(*st, t, trend, where))
                                             : complete_analysis(cfg.lattice, cfg.couplings, aopt, spread.take(where), t,
                                                                 trend, where);
            // S(k) of three components plus the analysis tables.
            out.write_extra(3.0 * 8 * double(cfg.lattice.sites()) + 65536, [&](hid_t f) {
                write_state_analysis(f, a, aopt);
                if (where != "/final") write_coarsening(f, {a}, true);
            });
            if (where == "/final") final_phase = a.cls.phase + " (" + a.cls.reason + ")";
            return a.has_vortices ? std::int64_t(a.vortices.list.size()) : 0;
        };
        // Over MPI ranks no rank needs the whole state: each writes its own rows
        // (src/core/simulation.cpp), then rank 0 adds the analysis, and with
        // --xdmf every rank its rows of the sidecar's fields (spread_fields_hook).
        if (analyze && domain)
            hooks.on_written = [&](const std::string& where, double t) { vortex_points[where] = analyse(where, t, nullptr); };
        HostState st;  // the host copy of each analysed state, reused (the hook runs on the writer thread)
        if (!domain && (analyze || xdmf_sidecar_ptr)) {
            hooks.on_state = [&](const std::string& where, double t, const StateView& ref) {
                const std::size_t n = 3 * std::size_t(cfg.lattice.sites());
                if (analyze && analyzer->on_device() && !xdmf_sidecar_ptr) {
                    // Analysed where it lies (page-locked): no host copy of 3N doubles.
                    analyse(where, t, nullptr, &ref);
                    return;
                }
                st.resize(n);
                if (ref.precision == Precision::float32)
                    std::copy_n(static_cast<const float*>(ref.data), n, st.begin());
                else
                    std::copy_n(static_cast<const double*>(ref.data), n, st.begin());
                const std::int64_t vortex_points = analyze ? analyse(where, t, &st) : 0;
                if (xdmf_sidecar_ptr) {
                    out.flush();  // the sidecar names this state: readers must find it on disk
                    xdmf_sidecar_ptr->add_state(where, t, st, vortex_points);
                }
            };
        }
        // The ETA counts from where this call started (a resumed run too).
        const double t_first = start.t, t_end = cfg.numerics.t_end;
        hooks.on_record = [&](double t, double r, const RunSummary& sm) {
            char what[160];
            std::snprintf(what, sizeof what, "t = %-10.4g %5.1f%%  %.3g site-steps/s  residual %.3g", t,
                          t_end > 0 ? 100 * t / t_end : 100.0, sm.seconds > 0 ? double(sm.site_steps) / sm.seconds : 0.0, r);
            progress.update(t_end > t_first ? (t - t_first) / (t_end - t_first) : 1.0, what, t >= t_end);
        };
        s = sim.run(&out, start, hooks);
    }
    if (!quiet) {
        std::printf("xyzmf: %s at t = %g after %lld steps", to_string(s.reason), s.t, (long long)s.steps);
        // A resumed run's time, rate and rejected steps are this call's: say how many of the steps it took.
        if (start.step > 0) {
            std::printf(", %lld of them now", (long long)(s.steps - start.step));
            if (s.rejected) std::printf(" (%lld rejected)", (long long)s.rejected);
            std::printf(",");
        } else if (s.rejected) {
            std::printf(" (%lld rejected)", (long long)s.rejected);
        }
        std::printf(" in %.3g s (%.3g site-steps/s)\n", s.seconds, s.seconds > 0 ? s.site_steps / s.seconds : 0.0);
        std::printf("xyzmf: residual max|ds/dt| = %.3g; mean (x, y, z) = (%.6g, %.6g, %.6g); staggered = (%.6g, %.6g, %.6g)\n",
                    s.residual, s.mean[0], s.mean[1], s.mean[2], s.staggered[0], s.staggered[1], s.staggered[2]);
        if (!final_phase.empty()) std::printf("xyzmf: final state: %s\n", final_phase.c_str());
        std::printf("xyzmf: wrote %s\n", out.path().c_str());
        if (xdmf_sidecar_ptr)
            std::printf("xyzmf: wrote %s (open it in ParaView) and %s\n", xdmf_sidecar_ptr->xdmf_path().c_str(),
                        xdmf_sidecar_ptr->fields_path().c_str());
    }
    return 0;
}

void add_options(CLI::App* sub, RunOptions& o) {
    add_config_option(sub);
    auto add = [&](CLI::Option* opt) { o.physics.push_back(opt); return opt; };
    for (CLI::Option* opt : add_couplings(sub, o.cfg.couplings)) add(opt);
    o.dim_opt = add(sub->add_option("--dim", o.dim, "Lattice dimension d = 1, 2, 3 (inferred from --size AxB[xC])")->capture_default_str());
    o.size_opt = add(sub->add_option("--size", o.size, "Sites per side: N (all sides) or Lx x Ly [x Lz], e.g. 512x256; periodic "
                                                      "(with --init FILE.h5: the file's unless given)")->capture_default_str());
    add(sub->add_option("--integrator", o.integrator, "rk4 (fixed --dt) or dopri5 (adaptive, --rtol/--atol)")
            ->check(CLI::IsMember({"rk4", "dopri5"}))->capture_default_str());
    o.stepper_opt =
        sub->add_option("--stepper", o.stepper,
                        "How rk4 moves through memory: fused (one pass over the state per step, the fast default) or "
                        "four-sweep (one sweep per RK stage, the reference); both give the same result to roundoff")
            ->check(CLI::IsMember({"fused", "four-sweep"}))->capture_default_str();
    sub->add_option("--steps-per-pass", o.cfg.numerics.steps_per_pass,
                    "fused: RK4 steps per pass over memory, 1-4; 0 = the backend's measured choice (which is the "
                    "four-sweep path on lattices under 64 sites a side on the CPU)")
        ->capture_default_str();
    sub->add_option("--halo", o.halo,
                    "mpirun only: how the ghost rows travel between ranks: overlap (the edge rows stepped first and "
                    "sent while the rest of the slab steps; pays on slow links), after-pass (sent after each pass), "
                    "or auto (on a GPU the faster of the two, timed at the first pass; after-pass on the CPU); the "
                    "same numbers either way; rk4 only")
        ->check(CLI::IsMember({"auto", "overlap", "after-pass"}))
        ->capture_default_str();
    add(sub->add_option("--dt", o.cfg.numerics.dt, "Time step (rk4) or first trial step (dopri5), units of 1/gamma")->capture_default_str());
    add(sub->add_option("--rtol", o.cfg.numerics.rtol, "dopri5 relative tolerance per component")->capture_default_str());
    add(sub->add_option("--atol", o.cfg.numerics.atol, "dopri5 absolute tolerance per component")->capture_default_str());
    o.t_end_opt = add(sub->add_option("--t-end", o.cfg.numerics.t_end, "Final time, units of 1/gamma")->capture_default_str());
    add(sub->add_option("--steady-tol", o.cfg.numerics.steady_tol,
                        "Stop early when max_n |ds_n/dt| < this (units of gamma), looked at with each time-series row "
                        "(--record-every); 0 = run to --t-end (in float a fixed point's residual stalls near 1e-6 to "
                        "1e-4: such a run stops early only with a tolerance above that)")->capture_default_str());
    add(sub->add_option("--norm-tol", o.cfg.numerics.norm_tol, "Blow-up when any |s_n| > 1 + this")->capture_default_str());
    add(sub->add_option("--record-every", o.cfg.numerics.record_every,
                        "Time-series interval (mean, staggered, residual), units of 1/gamma")->capture_default_str());
    add(sub->add_option("--snapshot-every", o.cfg.numerics.snapshot_every,
                        "Snapshot interval, units of 1/gamma; 0 = t-end/10")->capture_default_str());
    add(sub->add_option("--init", o.cfg.init, "Initial state: random (uniform in the Bloch ball), pm-noise, uniform:x,y,z, or a state of an xyzmf file: "
                                             "FILE.h5 (its final state, else its last snapshot), FILE.h5:/snapshots/N or FILE.h5:/final")
            ->capture_default_str());
    add(sub->add_option("--noise", o.cfg.noise, "pm-noise: transverse amplitude, 0 to 0.707 (x, y uniform in [-noise, noise], z = -sqrt(1 - x^2 - y^2))")->capture_default_str());
    add(sub->add_option("--seed", o.cfg.seed, "Random seed (Philox key); same seed = same initial state on every backend")
            ->check(seed_text(find_param(run_parameters(), "seed").hi))
            ->capture_default_str());
    add(add_precision(sub, o.precision));
    o.output_opt = add(sub->add_option("-o,--output", o.cfg.output, "Output HDF5 file")->capture_default_str());
    o.overwrite_opt = add(sub->add_flag("--overwrite", o.cfg.overwrite, "Replace an existing output file"));
    add(sub->add_option("--compress", o.cfg.compress,
                        "Deflate level 1-9 (with shuffle) for stored spins and (--analyze) S(k) grids; 0 = "
                        "uncompressed. Mean-field states shrink by only 3-25% (S(k) by about 25%), and deflating a "
                        "1024^2 state takes as long as ~40 steps on 2 cores")
            ->capture_default_str());
    add_backend(sub, o.backend);
    sub->add_option("--resume", o.resume,
                    "Continue a killed run from its last snapshot, in the same file; takes every parameter from the file, "
                    "--analyze and --xdmf included (a finished run: nothing to do, exit 0)");
    sub->add_option("--continue-from,--continue", o.continue_from,
                    "Carry a run on to a later --t-end on the same clock, keeping its snapshots and time series: a "
                    "finished rk4 run from its final state, a stopped run from its last snapshot; in the same "
                    "file, or in a copy at -o; takes every other parameter from the file");
    sub->add_flag("-q,--quiet", o.quiet, "No progress line or summary");
    sub->add_flag("--analyze", o.analyze,
                  "Structure factors, classification and sXY vortices of every snapshot and the final state, "
                  "written into the file as the run goes (see xyzmf analyze)");
    sub->add_option("--sk-storage", o.sk_storage,
                    "With --analyze, what of each state's S(k) to store: auto (full; principal planes + radial "
                    "average for 3D above 2^18 sites), full, planes (3D; on 1D and 2D lattices full), or radial (the radial average alone: a "
                    "4096^2 lattice's full S(k) is 400 MB a state, its radial average 0.1 MB)")
        ->capture_default_str();
    sub->add_option("--analysis-backend", o.analysis_backend,
                    "With --analyze, where S(k), the site tallies and the sXY windings are computed: cpu (FFTW, "
                    "OpenMP) or cuda (cuFFT and kernels on the run's GPU; the classification stays on the host)")
        ->check(CLI::IsMember({"cpu", "cuda"}))
        ->capture_default_str();
    sub->add_flag("--xdmf", o.xdmf,
                  "Also write OUTPUT.xdmf (+ OUTPUT.fields.h5) as the run goes: open it in ParaView to see every state "
                  "so far as a time series (see xyzmf export)");
}

int execute(const RunOptions& o) {
    RunConfig cfg = o.cfg;
    const BackendRequest req = backend_request(o.backend);
    std::unique_ptr<OutputLock> lock;
    std::unique_ptr<ContinuationStart> continued;
    std::string resume = o.resume;
    int finished = 0;  // --resume of a finished run
    bool continue_copy = false;  // --continue-from into a copy at -o
    if (!o.continue_from.empty()) {
        if (!o.resume.empty())
            throw Error("--continue-from and --resume: give one (--resume finishes a stopped run, --continue-from "
                        "carries a finished one further)",
                        exit_code::usage);
        for (const CLI::Option* opt : o.physics)
            if (opt->count() > 0 && opt != o.t_end_opt && opt != o.output_opt && opt != o.overwrite_opt)
                throw Error("--continue-from takes every parameter but --t-end from " + o.continue_from + "; drop " +
                                opt->get_name(),
                            exit_code::usage);
        if (o.t_end_opt->count() == 0)
            throw Error("--continue-from " + o.continue_from + ": give the new final time with --t-end", exit_code::usage);
        // In place, or in a copy at -o (written whole under a temporary name
        // before it is touched, so the finished run stays as it was). Either is
        // made only once every check below has passed (start_continuation): a
        // refused command changes no file.
        continue_copy = o.output_opt->count() > 0 &&
                        OutputLock::resolve(o.cfg.output) != OutputLock::resolve(o.continue_from);
        resume = continue_copy ? o.cfg.output : o.continue_from;
        throw_if_interrupted("before " + resume + " was touched");
        double intervals[2] = {0, 0};  // snapshot, record
        on_root([&] {
            // A stopped run is repaired where it lies (its journal is beside
            // it), under its lock, before it is checked or copied.
            lock = std::make_unique<OutputLock>(o.continue_from);
            if (!run_file_finished(o.continue_from)) repair_for_resume(o.continue_from, o.quiet);
            continued = std::make_unique<ContinuationStart>(
                check_continuation(o.continue_from, o.cfg.numerics.t_end, !launched_by_mpi()));
            intervals[0] = continued->snapshot_every;
            intervals[1] = continued->record_every;
            if (!o.quiet)
                for (const auto& [what, was, now] : {std::tuple{"snapshot", continued->file_snapshot_every, intervals[0]},
                                                     std::tuple{"record", continued->file_record_every, intervals[1]}})
                    if (was != now)
                        std::printf("xyzmf: note: the %s interval %g of %s comes to whole rk4 steps of every %g "
                                    "1/gamma up to t_end %g (it lay beyond the run's old t_end)\n",
                                    what, was, o.continue_from.c_str(), now, o.cfg.numerics.t_end);
        });
        share_from_root(intervals, int(sizeof intervals));
        const std::string cmd = cfg.command_line;
        cfg = read_run_config(o.continue_from);
        cfg.command_line = cmd;
        // What start_continuation writes into /parameters of the file continued.
        cfg.numerics.t_end = o.cfg.numerics.t_end;
        cfg.numerics.snapshot_every = intervals[0];
        cfg.numerics.record_every = intervals[1];
        if (continue_copy) {
            cfg.output = o.cfg.output;
            cfg.overwrite = o.cfg.overwrite;
        }
    } else if (!o.resume.empty()) {
        for (const CLI::Option* opt : o.physics)
            if (opt->count() > 0)
                throw Error("--resume takes every parameter from " + o.resume + "; drop " + opt->get_name() +
                                (opt == o.t_end_opt ? " (to carry a finished run further: --continue-from " + o.resume +
                                                          " --t-end T)"
                                                    : ""),
                            exit_code::usage);
        // The file's writer from here on: nothing else may change it while it is
        // checked, repaired (run_repair.hpp) and continued.
        throw_if_interrupted("before " + o.resume + " was touched");
        on_root([&] {  // under mpirun: rank 0 holds the lock, the others only read
            lock = std::make_unique<OutputLock>(o.resume);
            repair_for_resume(o.resume, o.quiet);  // (a run file, whole: a finished one as it is)
            finished = run_file_finished(o.resume);
        });
        share_from_root(&finished, int(sizeof finished));
        const std::string cmd = cfg.command_line;
        cfg = read_run_config(o.resume);
        cfg.command_line = cmd;
    } else {
        std::string file, group;
        const bool from_file = init_file_spec(cfg.init, file, group);
        if (from_file && o.size_opt->count() == 0 && o.dim_opt->count() == 0)
            cfg.lattice = init_file_lattice(cfg.init);  // continue a state on its own lattice
        else
            cfg.lattice = parse_size(o.size, o.dim, o.dim_opt->count() > 0);
        // A bare FILE is recorded as the state it names now, FILE:/final or
        // FILE:/snapshots/N: a run still going, or resumed later, names another.
        // (read by rank 0, on the file's own lattice: the checks against the run's
        // come where they did)
        if (from_file && group.empty()) {
            std::string where;
            on_every_rank([&] {
                if (session_root()) where = init_file_state(cfg.init, init_file_lattice(cfg.init), false).where;
            });
            cfg.init = file + ":" + share_string_from_root(where);
        }
        cfg.precision = precision_of(o.precision);
        cfg.numerics.integrator = o.integrator == "dopri5" ? IntegratorKind::dopri5 : IntegratorKind::rk4;
    }
    cfg.backend = req;
    if (resume.empty() || o.stepper_opt->count() > 0)
        cfg.numerics.stepper = o.stepper == "four-sweep" ? Rk4Stepper::four_sweep : Rk4Stepper::fused;
    // Steps per pass belong to the fused rk4 stepper alone: with another one they would
    // be dropped without a word.
    if (resume.empty() && cfg.numerics.steps_per_pass > 0 &&
        (cfg.numerics.integrator == IntegratorKind::dopri5 || cfg.numerics.stepper == Rk4Stepper::four_sweep))
        throw Error("--steps-per-pass " + std::to_string(cfg.numerics.steps_per_pass) +
                        ": only the fused rk4 stepper takes steps per pass (not " +
                        (cfg.numerics.integrator == IntegratorKind::dopri5 ? "--integrator dopri5" : "--stepper four-sweep") + ")",
                    exit_code::usage);
    // So would a pm-noise amplitude with another start, dopri5's tolerances with rk4,
    // and rk4's stepper with dopri5 (yet /parameters would record them as used).
    auto given = [&o](const std::string& name) {
        for (const CLI::Option* opt : o.physics)
            if (opt->get_name() == name && opt->count() > 0) return true;
        return false;
    };
    if (resume.empty()) {
        if (given("--noise") && cfg.init != "pm-noise")
            throw Error("--noise: the amplitude of a pm-noise start; --init " + cfg.init + " takes none", exit_code::usage);
        for (const char* name : {"--rtol", "--atol"})
            if (given(name) && cfg.numerics.integrator == IntegratorKind::rk4)
                throw Error(std::string(name) + ": a tolerance of --integrator dopri5; rk4 takes fixed steps of --dt",
                            exit_code::usage);
        if (o.stepper_opt->count() > 0 && cfg.numerics.integrator == IntegratorKind::dopri5)
            throw Error("--stepper " + o.stepper + ": how rk4 steps; --integrator dopri5 has its own", exit_code::usage);
    }
    if (o.halo == "overlap" && cfg.numerics.integrator == IntegratorKind::dopri5)
        throw Error("--halo overlap: how rk4 passes send their ghost rows; --integrator dopri5 sends them after each "
                    "stage",
                    exit_code::usage);
    cfg.numerics.halo = o.halo == "overlap"      ? HaloExchange::overlap
                        : o.halo == "after-pass" ? HaloExchange::after_pass
                                                 : HaloExchange::automatic;
    if (resume.empty()) {
        cfg.analyze = o.analyze;
        cfg.sk_storage = o.sk_storage;
        cfg.xdmf = o.xdmf;
    } else {
        // A resumed or continued run goes on writing what its file records
        // (/parameters analyze, sk_storage, xdmf); it cannot start writing more.
        const std::string with = (o.continue_from.empty() ? "--resume" : "--continue-from") + std::string(" on a file written without it");
        if (o.analyze && !cfg.analyze)
            throw Error("--analyze cannot be combined with " + with + "; run xyzmf analyze --all-snapshots afterwards",
                        exit_code::usage);
        if (o.xdmf && !cfg.xdmf)
            throw Error("--xdmf cannot be combined with " + with + "; run xyzmf export --xdmf --overwrite afterwards",
                        exit_code::usage);
        if (o.sk_storage != "auto" && o.sk_storage != cfg.sk_storage)
            throw Error("--sk-storage " + o.sk_storage + ": a resumed run keeps its file's (" +
                            (cfg.analyze ? cfg.sk_storage : std::string("no analysis")) + ")",
                        exit_code::usage);
    }
    // Nothing left to run (a job re-queued after its run ended): said, exit 0, as a
    // finished sweep, quantum or dtwa file resumed again.
    if (finished) {
        on_root([&] {
            if (o.quiet) return;
            const std::string status = h5::attr_string(open_xyzmf(o.resume, false), "status");
            const bool on = cfg.numerics.integrator == IntegratorKind::rk4 && status.rfind("finished: reached t_end", 0) == 0;
            std::printf("xyzmf: %s is already finished (%s): nothing to resume%s\n", o.resume.c_str(), status.c_str(),
                        on ? (" (carry it further with --continue-from " + o.resume + " --t-end T)").c_str() : "");
        });
        return 0;
    }
    AnalysisOptions aopt;
    try {
        aopt.sk_storage = parse_sk_storage(cfg.sk_storage);
    } catch (const Error& e) {  // (from a file: its fault, not the command line's)
        if (resume.empty()) throw;
        throw Error(resume + ": /parameters sk_storage: " + e.what(), exit_code::io);
    }
    aopt.sk_deflate = cfg.compress;  // S(k) grids stored as the spins are
    aopt.on_device = o.analysis_backend == "cuda";
    if (cfg.sk_storage != "auto" && !cfg.analyze) throw Error("--sk-storage " + cfg.sk_storage + ": needs --analyze", exit_code::usage);
    if (aopt.on_device && !cfg.analyze) throw Error("--analysis-backend cuda: needs --analyze", exit_code::usage);
    validate(cfg);
    if (resume.empty() && cfg.numerics.integrator == IntegratorKind::rk4 && cfg.numerics.t_end > 0) {
        // rk4 records and snapshots on whole steps: said where that moves them, and
        // the file records the intervals in use (as a resume and a reader take them).
        if (!o.quiet) on_root([&] { say_whole_step_intervals(cfg); });
        const FixedStepPlan plan = FixedStepPlan::make(cfg.numerics.dt, cfg.numerics.t_end);
        cfg.numerics.record_every = plan.interval_in_use(cfg.numerics.record_every);
        cfg.numerics.snapshot_every = plan.interval_in_use(cfg.snapshot_interval());
    }
    if (cfg.xdmf && (resume.empty() || continue_copy)) {  // refused before the run file (or the copy) exists
        XdmfOptions names;
        names.overwrite = cfg.overwrite;
        on_root([&] { check_xdmf_free(cfg.output, names); });
    }
    if (aopt.on_device && session_ranks() > 1)
        throw Error("--analysis-backend cuda: a lattice spread over MPI ranks is analysed by the ranks together on "
                    "their CPUs; use --analysis-backend cpu",
                    exit_code::usage);
    BackendKind kind{};
    on_every_rank([&] {  // (nodes differ: a rank refused alone stops every rank, and says why)
        kind = choose_backend(cfg.backend);
        check_run_memory(cfg, kind, simulation_buffers(cfg), resume.empty() ? exit_code::usage : exit_code::io);
    });
    if (resume.empty() && cfg.overwrite && !cfg.xdmf && !o.quiet && session_root()) {
        // A sidecar written for the file this run replaces would describe the new
        // file as the old one (its lattice, precision and states): said, not removed.
        const std::string old_sidecar = xdmf_sidecar_path(cfg.output, XdmfOptions{});
        std::error_code ec;
        if (std::filesystem::exists(cfg.output, ec) && std::filesystem::exists(old_sidecar, ec))
            std::printf("xyzmf: note: %s (and its .fields.h5) describe the run that %s replaces; remove them, or "
                        "write new ones with xyzmf export %s --xdmf --overwrite\n",
                        old_sidecar.c_str(), cfg.output.c_str(), cfg.output.c_str());
    }
    if (!o.continue_from.empty())  // every check passed: the copy, and the new end in /parameters
        on_root([&] {
            throw_if_interrupted("before " + resume + " was touched");
            if (continue_copy) {
                NewFile(o.cfg.output, o.cfg.overwrite, "-o", o.continue_from).commit();
                lock = std::make_unique<OutputLock>(resume);
            }
            set_continuation_times(resume, *continued, o.cfg.numerics.t_end);
            if (!continued->from_final) continued.reset();  // from here on, a --resume
        });
    const AnalysisOptions* analysis = cfg.analyze ? &aopt : nullptr;
    // The sidecar a resume may write again: its own run's, not one beside a copy at -o.
    const bool own_sidecar = !resume.empty() && (o.continue_from.empty() || resume == o.continue_from);
    return cfg.precision == Precision::float32
               ? run_on<float>(cfg, kind, o.quiet, resume, analysis, cfg.xdmf, own_sidecar, std::move(lock), continued.get())
               : run_on<double>(cfg, kind, o.quiet, resume, analysis, cfg.xdmf, own_sidecar, std::move(lock), continued.get());
}

}  // namespace

Command add_run_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<RunOptions>();
    o->cfg.command_line = command_line;
    o->cfg.output = "run.h5";
    CLI::App* sub = app.add_subcommand("run", "Integrate the mean-field equations on a periodic lattice and write HDF5");
    add_options(sub, *o);
    return {sub, [o] { return execute(*o); }};
}

}  // namespace xyzmf::cli
