// Batched dynamical sweeps (see sweep.hpp).
#include "sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
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
#include "sweep_slots.hpp"

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

namespace {

// The entry of replica r at point p from the analysis of its final state.
void store(SweepResults& res, std::size_t e, const StateAnalysis& a, const std::string& predicted, double t_final) {
    res.phase[e] = phase_code(a.cls.phase);
    res.order[e] = phase_code(a.cls.order);
    res.agree[e] = agreement(predicted, a.cls);
    res.m_perp[e] = a.cls.m_perp;
    res.residual[e] = a.cls.residual;
    res.peak_weight[e] = a.cls.peak.weight;
    res.period[e] = wavelength(a.cls.peak.k, a.sf.lattice.dim);  // as the stability map's predicted_period
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
        // Done points of a file written before 2026-12-07 hold the shortest per-axis
        // period: every point's is the wavelength along its stored k.
        for (std::size_t e = 0; e < res.period.size(); ++e)
            if (res.period[e] > 0) res.period[e] = wavelength(&res.k[3 * e], cfg.lattice.dim);
        // A file's lattice is checked as the command line's is (a67327b stepped a
        // stored 100000x100000 lattice until it ran out of memory).
        const bool new_batch = cfg_in.batch_points > 0 && cfg_in.batch_points != cfg.batch_points;
        if (new_batch) cfg.batch_points = cfg_in.batch_points;  // (a resume may change it: no result depends on it)
        try {
            check_sweep_memory(cfg, new_batch ? exit_code::usage : exit_code::io);
        } catch (const Error& e) {
            if (!new_batch) throw;
            throw Error("--batch-points " + std::to_string(cfg.batch_points) + ": " + e.what(), e.exit_code());
        }
        cfg.command_line = cfg_in.command_line;
        cfg.backend = cfg_in.backend;
        if (!cfg.command_line.empty()) record_resume(file.opened, cfg.command_line);
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
    // A resumed file with nothing left keeps the backend (and batch size) that computed it.
    bool work_left = !resume;
    for (int p = cfg.shard_index; p < P && !work_left; p += cfg.shard_count) work_left = res.batch[std::size_t(p)] < 0;
    try {
        if (work_left) record_backend(file.handle(), make_backend<float>(kind)->description());
        if (work_left && resume)
            h5::set_attr(h5::open_group(file.handle(), "/sweep"), "batch_points", std::int64_t(cfg.batch_points));
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
    progress.update(0, "sweep: 0/" + std::to_string(todo.size()) + " points");  // a listener hears the start at once
    const index_t Ns = cfg.lattice.copy_sites();
    try {
        // Every lattice (a point's replica) on its own clock in a batch of
        // batch_points x R slots (sweep_slots.hpp); a point is done with its
        // last replica, and every batch_points done points go into the file.
        const std::int64_t lattices = std::int64_t(todo.size()) * R;
        std::vector<int> left(todo.size(), R);  // replicas still running, per point of todo
        std::vector<int> ready;                 // done points not yet in the file
        auto report = [&](std::size_t done, bool in_file) {  // (the end is said once it is in the file)
            progress.update(double(done) / double(todo.size()),
                            "sweep: " + std::to_string(done) + "/" + std::to_string(todo.size()) + " points",
                            in_file && done == todo.size());
        };
        auto commit = [&] {
            for (int p : ready) res.batch[std::size_t(p)] = next_batch;
            ++next_batch;
            write_sweep_results(file.handle(), file.path, res);
            sum.points_done += int(ready.size());
            ++sum.batches;
            ready.clear();
            sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            report(std::size_t(sum.points_done), true);
            if (hooks.kill_after_batches >= 0 && sum.batches >= hooks.kill_after_batches)
                throw Error("killed by test hook after " + std::to_string(sum.batches) + " batches",
                            exit_code::interrupted);
        };
        run_in_slots(
            cfg.lattice, std::int64_t(cfg.batch_points) * R, lattices,
            [&](std::int64_t i) { return cfg.grid.at(todo[std::size_t(i / R)]); },
            [&](std::int64_t i) { return make_initial_state("random", cfg.lattice, cfg.seed + std::uint64_t(i % R), 0); },
            cfg.numerics, cfg.precision, kind,
            [&](SlotEndings& ended) {
                // Side by side: a GPU sweep ends hundreds of lattices at once,
                // and one small lattice's analysis keeps one core busy.
                std::vector<StateAnalysis> an(ended.size());
                std::vector<std::exception_ptr> failed(ended.size());  // rethrown in order, outside the threads
#pragma omp parallel for schedule(dynamic) if (ended.size() > 1)
                for (std::size_t k = 0; k < ended.size(); ++k) {
                    const SlotOutcome& out = ended[k].second;
                    if (!std::isnan(out.blow_up_t)) continue;
                    try {
                        const Couplings c = cfg.grid.at(todo[std::size_t(ended[k].first / R)]);
                        an[k] = Analyzer(cfg.lattice, c, cfg.analysis).analyze(out.state, out.t_final, -1, "");
                    } catch (...) {
                        failed[k] = std::current_exception();
                    }
                }
                for (std::size_t k = 0; k < ended.size(); ++k) {
                    if (failed[k]) std::rethrow_exception(failed[k]);
                    const std::int64_t i = ended[k].first;
                    const SlotOutcome& out = ended[k].second;
                    const std::size_t q = std::size_t(i / R);
                    const int p = todo[q], r = int(i % R);
                    const std::size_t e = std::size_t(p) * R + r;
                    sum.site_steps += out.steps * (long long)Ns;
                    if (!std::isnan(out.blow_up_t)) {
                        store_blow_up(res, e, out.blow_up_t);
                        ++sum.blow_ups;
                    } else {
                        store(res, e, an[k], prediction.at(cfg.grid.at(p)).phase, out.t_final);
                    }
                    if (--left[q] == 0) ready.push_back(p);
                    if (int(ready.size()) >= cfg.batch_points) commit();
                }
                // Points done but not yet in the file count too: a batch of 64 points
                // left the line empty until its end.
                if (!ready.empty()) report(std::size_t(sum.points_done) + ready.size(), false);
            },
            hooks.between_passes);
        if (!ready.empty()) commit();
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
            const bool any = std::any_of(res.batch.begin(), res.batch.end(), [](std::int64_t b) { return b >= 0; });
            throw Error(std::string(e.what()) + (any ? ResumableFile::kept_note("points", file.path)
                                                     : "; none finished, " + file.path + " marked (continue with --resume " +
                                                           file.path + ")"),
                        e.exit_code());
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
                  const std::string& command_line, const std::string& backend, const std::string& resumed_by,
                  int batch_points) {
    if (shards.empty()) throw Error("merge: no input files", exit_code::usage);
    for (std::size_t s = 0; s < shards.size(); ++s)
        for (std::size_t t = 0; t < s; ++t)
            if (OutputLock::resolve(shards[s]) == OutputLock::resolve(shards[t]))
                throw Error("merge: " + shards[s] + " is given twice", exit_code::usage);
    // What computed the shards (files before 2026-12-06 say nothing), and each
    // shard's provenance: the merge command's shards are files a user keeps, so
    // theirs is the map's (an MPI sweep's parts are its own: it gives both).
    std::string backends = backend, provenance;
    for (std::size_t s = 0; backend.empty() && s < shards.size(); ++s) {
        h5::Id f = open_xyzmf(shards[s], false);
        const std::string b = h5::has_attr(f, "backend") ? h5::attr_string(f, "backend") : "";
        if (!b.empty() && (" + " + backends + " + ").find(" + " + b + " + ") == std::string::npos)
            backends += (backends.empty() ? "" : " + ") + b;
        provenance += (s ? "\n" : "") + shards[s] + ": " +
                      (h5::has_attr(f, "command_line") ? h5::attr_string(f, "command_line") : std::string("?"));
        if (h5::has_attr(f, "resumed_by")) provenance += "\n  resumed by: " + h5::attr_string(f, "resumed_by");
    }
    SweepConfig base;
    SweepResults merged = read_sweep(shards[0], base);
    for (std::int64_t& b : merged.batch) b = std::min<std::int64_t>(b, 0);  // (a shard's batches mean nothing here)
    for (std::size_t s = 1; s < shards.size(); ++s) {
        throw_if_interrupted("while reading the shards; nothing written");
        SweepConfig c;
        const SweepResults r = read_sweep(shards[s], c);
        const std::string diff = first_difference(sweep_parameters(), base, c);
        if (!diff.empty())
            throw Error("merge: " + shards[0] + " and " + shards[s] + " are different sweeps (" + diff + ", in that order)",
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
    if (batch_points > 0) base.batch_points = batch_points;
    throw_if_interrupted("before " + output + " was written; nothing written");
    NewFile f(output, overwrite);
    write_provenance(f.handle(), command_line, "sweep");
    if (!backends.empty()) record_backend(f.handle(), backends);
    if (!resumed_by.empty()) h5::set_attr(f.handle(), "resumed_by", resumed_by);
    if (!provenance.empty()) h5::set_attr(f.handle(), "merged_from", provenance);
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
