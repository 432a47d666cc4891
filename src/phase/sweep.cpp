// Batched dynamical sweeps (see sweep.hpp).
#include "sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "backend_select.hpp"
#include "bloch_ball.hpp"
#include "xyzmf/error.hpp"
#include "progress.hpp"
#include "schema.hpp"
#include "fixed_step.hpp"
#include "initial_state.hpp"
#include "integrators.hpp"
#include "memory_info.hpp"
#include "output_file.hpp"
#include "signals.hpp"
#include "stability.hpp"

namespace xyzmf {

std::int64_t phase_code(const std::string& p) {
    static const std::map<std::string, std::int64_t> codes = {
        {"PM", kPM}, {"FM", kFM}, {"AFM", kAFM}, {"SDW", kSDW}, {"sXY", kSXY}, {"domains", kDomains},
        {"not stationary", kNotStationary}, {"none", kPM}, {"blow-up", kBlowUp}, {"FM/AFM", kTie}};
    const auto it = codes.find(p);
    return it == codes.end() ? kNotDone : it->second;
}

const char* phase_name(std::int64_t code) {
    static const char* names[] = {"PM", "FM", "AFM", "SDW", "sXY", "domains", "not stationary", "blow-up", "FM/AFM"};
    return code >= 0 && code <= kTie ? names[code] : "?";
}

void SweepResults::clear_point(int p, int replicas) {
    for (int r = 0; r < replicas; ++r) {
        const std::size_t e = std::size_t(p) * replicas + r;
        phase[e] = order[e] = agree[e] = kNotDone;
        for (auto* v : {&m_perp, &residual, &peak_weight, &period, &vortices, &t_final}) (*v)[e] = NAN;
        for (int a = 0; a < 3; ++a) k[3 * e + a] = NAN;
    }
    batch[std::size_t(p)] = -1;
}

void SweepResults::resize(int points, int replicas) {
    const std::size_t n = std::size_t(points) * std::size_t(replicas);
    phase.assign(n, kNotDone);
    order.assign(n, kNotDone);
    agree.assign(n, kNotDone);
    for (auto* v : {&m_perp, &residual, &peak_weight, &period, &vortices, &t_final}) v->assign(n, NAN);
    k.assign(3 * n, NAN);
    predicted.assign(std::size_t(points), kNotDone);
    predicted_growth.assign(std::size_t(points), NAN);
    predicted_period.assign(std::size_t(points), NAN);
    batch.assign(std::size_t(points), -1);
}

namespace {

// Copies whose state is no longer a set of Bloch vectors: their blow-up time
// is recorded and they are set to the paramagnet (all spins down, a fixed
// point of every copy's equations) so the rest of the batch goes on.
template <class Real>
void retire_blown_copies(Backend<Real>& be, StateBuffer<Real>& y, const Lattice& lat, double norm_tol, double t,
                         std::vector<double>& blow_up_t) {
    std::vector<Real> host(3 * std::size_t(lat.sites()));
    download_state(be, host.data(), y, lat);
    const index_t N = lat.sites(), Ns = lat.copy_sites();
    for (index_t b = 0; b < lat.copies; ++b) {
        if (in_bloch_ball(max_norm2(host.data(), N, b * Ns, (b + 1) * Ns), norm_tol)) continue;
        blow_up_t[std::size_t(b)] = t;
        for (index_t n = b * Ns; n < (b + 1) * Ns; ++n) {
            host[n] = 0;
            host[N + n] = 0;
            host[2 * N + n] = -1;
        }
    }
    upload_state(be, y, host.data(), lat);
}

template <class Real>
HostState evolve_batch_t(const Lattice& lat, const std::vector<Couplings>& couplings, const HostState& state,
                         const FixedStepNumerics& num, BackendKind kind, long long* steps_out,
                         std::vector<double>* blow_up_out) {
    auto be = make_backend<Real>(kind);
    StateBuffer<Real> y(*be, lat), rate(*be, lat);
    const std::vector<Real> host(state.begin(), state.end());
    upload_state(*be, y, host.data(), lat);
    Rk4<Real> rk4(*be, lat, couplings);
    std::vector<double> blow_up_t(std::size_t(lat.copies), NAN);
    const FixedStepPlan plan = FixedStepPlan::make(num.dt, num.t_end);
    const std::int64_t check = plan.stride(1.0);  // once per 1/gamma, and at the end
    StageArgs<Real> a{};
    a.src = y.data();
    a.k_out = rate.data();
    a.lat = lat;
    a.model = SiteModel<Real>::make(couplings[0], lat.dim);
    a.models = rk4.models();
    const std::int64_t reached = run_fixed_steps(rk4, y, plan, 0, {check}, [&](std::int64_t step) {
        if (step == 0) return false;
        if (interrupt_requested())
            throw Error(interruption_text(), interrupt_exit_code());
        if (step % check != 0 && step < plan.n_total) return false;  // between checks (a pass of the fused stepper)
        a.src = y.data();  // each pass of the fused stepper swaps y's buffers
        be->stage(a);
        Observables o = be->observe(y.data(), rate.data(), lat);
        if (!bloch_state_ok(o, num.norm_tol)) {
            retire_blown_copies(*be, y, lat, num.norm_tol, plan.time_of(step), blow_up_t);
            be->stage(a);
            o = be->observe(y.data(), rate.data(), lat);
        }
        // Stop when every lattice is stationary.
        return num.steady_tol > 0 && std::isfinite(o.max_rate2) && std::sqrt(o.max_rate2) < num.steady_tol;
    });
    if (steps_out) *steps_out = reached;
    if (blow_up_out) *blow_up_out = blow_up_t;
    std::vector<Real> out(state.size());
    download_state(*be, out.data(), y, lat);
    return HostState(out.begin(), out.end());
}

// Dynamics agree with the stability prediction when they show the predicted
// phase, or domains of the predicted order (what random starts often give).
std::int64_t agreement(const std::string& predicted, const Classification& c) {
    if (c.phase == predicted) return 1;
    if (c.phase == "domains" && c.order == predicted) return 2;
    // On the first-order line either uniform order is the prediction.
    if (predicted == "FM/AFM" && (c.phase == "FM" || c.phase == "AFM")) return 1;
    if (predicted == "FM/AFM" && c.phase == "domains" && (c.order == "FM" || c.order == "AFM")) return 2;
    return 0;
}

}  // namespace

HostState evolve_batch(const Lattice& lat, const std::vector<Couplings>& couplings, const HostState& state,
                       const FixedStepNumerics& num, Precision precision, BackendKind kind, long long* steps,
                       std::vector<double>* blow_up_t) {
    if (index_t(couplings.size()) != lat.copies) throw Error("evolve_batch: one Couplings per copy is needed");
    return precision == Precision::float32 ? evolve_batch_t<float>(lat, couplings, state, num, kind, steps, blow_up_t)
                                           : evolve_batch_t<double>(lat, couplings, state, num, kind, steps, blow_up_t);
}

namespace {

// The entry of replica r at point p from the analysis of its final state.
void store(SweepResults& res, std::size_t e, const StateAnalysis& a, const std::string& predicted, double t_final) {
    res.phase[e] = phase_code(a.cls.phase);
    res.order[e] = phase_code(a.cls.order);
    res.agree[e] = agreement(predicted, a.cls);
    res.m_perp[e] = a.cls.m_perp;
    res.residual[e] = a.cls.residual;
    res.peak_weight[e] = a.cls.peak.weight;
    double pmin = 0;
    for (int ax = 0; ax < a.sf.lattice.dim; ++ax)
        if (a.cls.period[ax] > 0 && (pmin == 0 || a.cls.period[ax] < pmin)) pmin = a.cls.period[ax];
    res.period[e] = pmin;
    res.vortices[e] = a.has_vortices ? double(a.vortices.vortices) : NAN;
    res.t_final[e] = t_final;
    for (int ax = 0; ax < 3; ++ax) res.k[3 * e + ax] = a.cls.peak.k[ax];
}

void store_blow_up(SweepResults& res, std::size_t e, double t) {
    res.phase[e] = res.order[e] = kBlowUp;
    res.agree[e] = 3;
    res.t_final[e] = t;
}

}  // namespace

void check_sweep_memory(const SweepConfig& c, int code) {
    const long double lattices = (long double)std::min(c.batch_points, c.grid.points()) * c.replicas;
    const long double sites = lattices * (long double)c.lattice.copy_sites();
    const long double real = c.precision == Precision::float32 ? 4 : 8;
    // Host: the batch's start and end states and a working copy in double, and
    // on the CPU the state, rate and fused-RK4 buffers in the run's precision.
    const long double bytes = 3 * sites * (3 * 8 + 3 * real);
    check_memory(std::size_t(std::min(bytes, 1.8e19L)), host_available_bytes(), "host",
                 lattice_text(c.lattice) + " x " + std::to_string((long long)lattices) + " lattices per batch", code);
}

SweepSummary run_sweep(const SweepConfig& cfg_in, bool resume, const SweepHooks& hooks) {
    SweepConfig cfg = cfg_in;
    SweepResults res;
    ResumableFile file;
    file.path = cfg.output;
    // The backend before the file: a sweep refused for it leaves nothing behind.
    const BackendKind kind = choose_backend(cfg_in.backend);
    throw_if_interrupted("before " + cfg.output + " was touched");
    if (resume) {
        file.lock = std::make_unique<OutputLock>(cfg.output);
        file.opened = open_xyzmf(cfg.output, true);
        res = read_sweep(file.opened, cfg.output, cfg);
        // A file's lattice is checked as the command line's is (a67327b stepped a
        // stored 100000x100000 lattice until it ran out of memory).
        check_sweep_memory(cfg, exit_code::io);
        cfg.command_line = cfg_in.command_line;
        cfg.backend = cfg_in.backend;
        h5::set_attr(file.opened, "schema_version", std::to_string(kSchemaMajor) + "." + std::to_string(kSchemaMinor));
        if (!h5::exists(file.opened, "/sweep/batch"))  // schema 1.0: add the commit marks
            h5::create_filled(h5::open_group(file.opened, "/sweep"), "batch",
                              {hsize_t(cfg.grid.y.n), hsize_t(cfg.grid.x.n)}, H5T_STD_I64LE, -1);
    } else {
        validate(cfg, ParamSource::command_line());
        check_sweep_memory(cfg);
        res.resize(cfg.grid.points(), cfg.replicas);
    }
    if (!resume) {
        throw_if_interrupted("before " + cfg.output + " was created; nothing written");
        file.created = std::make_unique<NewFile>(cfg.output, cfg.overwrite);
        write_provenance(file.handle(), cfg.command_line, "sweep");
        create_sweep_group(file.handle(), cfg);
    }
    const int P = cfg.grid.points(), R = cfg.replicas;
    const StabilityMap prediction(cfg.lattice.dim, &cfg.lattice);
    for (int p = 0; p < P; ++p) {
        const StabilityPoint s = prediction.at(cfg.grid.at(p));
        res.predicted[p] = phase_code(s.phase);
        res.predicted_growth[p] = s.growth;
        res.predicted_period[p] = s.period;
    }
    try {
        file.set_status("running");
        write_sweep_results(file.handle(), file.path, res);
        // Into place at once (a killed sweep resumes from it), unless it
        // replaces a file (--overwrite): then only when it stops by itself.
        if (file.created && !file.created->replaces()) file.created->commit();
    } catch (const Error&) {
        file.abandon();
        throw;
    }

    // This shard's unfinished points, in order.
    std::vector<int> todo;
    SweepSummary sum;
    std::int64_t next_batch = 0;
    for (std::int64_t b : res.batch) next_batch = std::max(next_batch, b + 1);
    for (int p = cfg.shard_index; p < P; p += cfg.shard_count) {
        if (res.batch[std::size_t(p)] >= 0) ++sum.points_skipped; else todo.push_back(p);
    }
    const auto t0 = std::chrono::steady_clock::now();
    ProgressLine progress(hooks.quiet);
    const index_t Ns = cfg.lattice.copy_sites();
    try {
        for (std::size_t first = 0; first < todo.size(); first += std::size_t(cfg.batch_points)) {
            const std::size_t last = std::min(todo.size(), first + std::size_t(cfg.batch_points));
            const index_t copies = index_t(last - first) * R;
            Lattice batch = cfg.lattice;
            batch.copies = copies;
            std::vector<Couplings> couplings;
            HostState state(3 * std::size_t(batch.sites()));
            for (std::size_t q = first; q < last; ++q)
                for (int r = 0; r < R; ++r) {
                    const index_t b = index_t(couplings.size());
                    couplings.push_back(cfg.grid.at(todo[q]));
                    const HostState one = make_initial_state("random", cfg.lattice, cfg.seed + std::uint64_t(r), 0);
                    for (int c = 0; c < 3; ++c)
                        std::copy(one.begin() + c * Ns, one.begin() + (c + 1) * Ns,
                                  state.begin() + c * batch.sites() + b * Ns);
                }
            long long steps = 0;
            std::vector<double> blow_up_t;
            const HostState fin = evolve_batch(batch, couplings, state, cfg.numerics, cfg.precision, kind, &steps, &blow_up_t);
            sum.site_steps += steps * (long long)batch.sites();
            const double t_final = FixedStepPlan::make(cfg.numerics.dt, cfg.numerics.t_end).time_of(steps);
            for (index_t b = 0; b < copies; ++b) {
                const int p = todo[first + std::size_t(b / R)], r = int(b % R);
                const std::size_t e = std::size_t(p) * R + r;
                if (!std::isnan(blow_up_t[std::size_t(b)])) {
                    store_blow_up(res, e, blow_up_t[std::size_t(b)]);
                    ++sum.blow_ups;
                    continue;
                }
                HostState one(3 * std::size_t(Ns));
                for (int c = 0; c < 3; ++c)
                    std::copy(fin.begin() + c * batch.sites() + b * Ns, fin.begin() + c * batch.sites() + (b + 1) * Ns,
                              one.begin() + c * Ns);
                Analyzer an(cfg.lattice, couplings[std::size_t(b)], cfg.analysis);
                store(res, e, an.analyze(one, t_final, -1, ""), prediction.at(couplings[std::size_t(b)]).phase, t_final);
            }
            for (std::size_t q = first; q < last; ++q) res.batch[std::size_t(todo[q])] = next_batch;
            ++next_batch;
            write_sweep_results(file.handle(), file.path, res);
            sum.points_done += int(last - first);
            ++sum.batches;
            sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            progress.update(double(sum.points_done) / double(todo.size()),
                            "sweep: " + std::to_string(sum.points_done) + "/" + std::to_string(todo.size()) + " points",
                            std::size_t(sum.points_done) == todo.size());
            if (hooks.kill_after_batches >= 0 && sum.batches >= hooks.kill_after_batches)
                throw Error("killed by test hook after " + std::to_string(sum.batches) + " batches",
                            exit_code::interrupted);
        }
    } catch (const Error& e) {
        // Every finished batch is in the file; say how the sweep stopped there.
        progress.end();
        if (e.exit_code() == exit_code::io) {
            file.abandon();
            throw;
        }
        if (interrupt_requested()) {
            try {
                file.set_status("interrupted after " + std::to_string(sum.points_done) + " points");
                file.commit();
            } catch (const Error&) {
            }
            throw Error(std::string(e.what()) + ResumableFile::kept_note("points", file.path), e.exit_code());
        }
        throw;
    }
    progress.end();
    std::int64_t missing = 0;
    for (std::int64_t b : res.batch) missing += b < 0;
    try {
        file.set_status(missing == 0 ? std::string("finished")
                                 : "finished shard " + std::to_string(cfg.shard_index) + "/" +
                                       std::to_string(cfg.shard_count) + "; " + std::to_string(missing) +
                                       " points belong to other shards");
        file.commit();
    } catch (const Error&) {
        file.abandon();
        throw;
    }
    return sum;
}

void merge_sweeps(const std::vector<std::string>& shards, const std::string& output, bool overwrite,
                  const std::string& command_line) {
    if (shards.empty()) throw Error("merge: no input files", exit_code::usage);
    SweepConfig base;
    SweepResults merged = read_sweep(shards[0], base);
    for (std::size_t s = 1; s < shards.size(); ++s) {
        throw_if_interrupted("while reading the shards; nothing written");
        SweepConfig c;
        const SweepResults r = read_sweep(shards[s], c);
        const std::string diff = first_difference(sweep_parameters(), base, c);
        if (!diff.empty())
            throw Error("merge: " + shards[s] + " is a different sweep than " + shards[0] + " (" + diff + ")",
                        exit_code::io);
        for (int p = 0; p < base.grid.points(); ++p) {
            if (r.batch[std::size_t(p)] < 0) continue;
            merged.batch[std::size_t(p)] = 0;
            for (int q = 0; q < base.replicas; ++q) {
                const std::size_t e = std::size_t(p) * base.replicas + q;
                merged.phase[e] = r.phase[e];
                merged.order[e] = r.order[e];
                merged.agree[e] = r.agree[e];
                merged.m_perp[e] = r.m_perp[e];
                merged.residual[e] = r.residual[e];
                merged.peak_weight[e] = r.peak_weight[e];
                merged.period[e] = r.period[e];
                merged.vortices[e] = r.vortices[e];
                merged.t_final[e] = r.t_final[e];
                for (int a = 0; a < 3; ++a) merged.k[3 * e + a] = r.k[3 * e + a];
            }
        }
    }
    base.shard_index = 0;
    base.shard_count = 1;
    base.output = output;
    throw_if_interrupted("before " + output + " was written; nothing written");
    NewFile f(output, overwrite);
    write_provenance(f.handle(), command_line, "sweep");
    create_sweep_group(f.handle(), base);
    write_sweep_results(f.handle(), output, merged);
    std::int64_t missing = 0;
    for (std::int64_t b : merged.batch) missing += b < 0;
    h5::set_attr(f.handle(), "status",
                 missing ? "merged; " + std::to_string(missing) + " points not done" : std::string("finished"));
    throw_if_interrupted("before " + output + " was complete; nothing written");
    f.commit();
}

}  // namespace xyzmf
