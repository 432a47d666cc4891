// Batched dynamical sweeps (see sweep.hpp).
#include "xyzmf/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "xyzmf/backend_select.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/h5file.hpp"
#include "xyzmf/integrators.hpp"
#include "xyzmf/signals.hpp"
#include "xyzmf/stability.hpp"

namespace xyzmf {

std::int64_t phase_code(const std::string& p) {
    static const std::map<std::string, std::int64_t> codes = {
        {"PM", kPM}, {"FM", kFM}, {"AFM", kAFM}, {"SDW", kSDW}, {"sXY", kSXY}, {"domains", kDomains},
        {"not stationary", kNotStationary}, {"none", kPM}};
    const auto it = codes.find(p);
    return it == codes.end() ? kNotDone : it->second;
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
}

namespace {

template <class Real>
HostState evolve_batch_t(const Lattice& lat, const std::vector<Couplings>& couplings, const HostState& state, double dt,
                         double t_end, double steady_tol, BackendKind kind, long long* steps_out) {
    auto be = make_backend<Real>(kind);
    StateBuffer<Real> y(*be, lat), rate(*be, lat);
    const std::vector<Real> host(state.begin(), state.end());
    upload_state(*be, y, host.data(), lat);
    Rk4<Real> rk4(*be, lat, couplings);
    const std::int64_t n_total = t_end > 0 ? std::int64_t(std::ceil(t_end / dt - 1e-9)) : 0;
    const std::int64_t check = std::max<std::int64_t>(1, std::llround(1.0 / dt));  // once per 1/gamma
    std::int64_t step = 0;
    for (; step < n_total;) {
        if (step % check == 0 && step > 0) {
            StageArgs<Real> a{};
            a.src = y.data();
            a.k_out = rate.data();
            a.lat = lat;
            a.model = SiteModel<Real>::make(couplings[0], lat.dim);
            a.models = rk4.models();
            be->stage(a);
            const Observables o = be->observe(y.data(), rate.data(), lat);
            if (!std::isfinite(o.max_s2) || !std::isfinite(o.max_rate2) || o.max_s2 > 1.0002)
                throw Error("sweep: blow-up (NaN or |s| > 1) at t = " + std::to_string(step * dt) +
                                "; try a smaller --dt (now " + std::to_string(dt) + ")",
                            exit_code::blow_up);
            if (steady_tol > 0 && std::sqrt(o.max_rate2) < steady_tol) break;  // every lattice is stationary
            if (interrupt_requested()) throw Error("interrupted", exit_code::interrupted);
        }
        const std::int64_t n = rk4_steps_to_take(step, (step / check + 1) * check, n_total, rk4.steps_per_pass());
        rk4.advance(y, step + 1 == n_total ? t_end - double(n_total - 1) * dt : dt, n);
        step += n;
    }
    if (steps_out) *steps_out = step;
    std::vector<Real> out(state.size());
    download_state(*be, out.data(), y, lat);
    return HostState(out.begin(), out.end());
}

// Dynamics agree with the stability prediction when they show the predicted
// phase, or domains of the predicted order (what random starts often give).
std::int64_t agreement(const std::string& predicted, const Classification& c) {
    if (c.phase == predicted) return 1;
    if (c.phase == "domains" && c.order == predicted) return 2;
    return 0;
}

void write_attrs(hid_t g, const SweepConfig& c) {
    h5::set_attr(g, "x_name", c.grid.x.name);
    h5::set_attr(g, "y_name", c.grid.y.name);
    h5::set_attr(g, "x_lo", c.grid.x.lo);
    h5::set_attr(g, "x_hi", c.grid.x.hi);
    h5::set_attr(g, "x_n", std::int64_t(c.grid.x.n));
    h5::set_attr(g, "y_lo", c.grid.y.lo);
    h5::set_attr(g, "y_hi", c.grid.y.hi);
    h5::set_attr(g, "y_n", std::int64_t(c.grid.y.n));
    h5::set_attr(g, "Jx", c.grid.fixed.Jx);
    h5::set_attr(g, "Jy", c.grid.fixed.Jy);
    h5::set_attr(g, "Jz", c.grid.fixed.Jz);
    h5::set_attr(g, "gamma", c.grid.fixed.gamma);
    h5::set_attr(g, "gamma_phi", c.grid.fixed.gamma_phi);
    h5::set_attr(g, "dim", std::int64_t(c.lattice.dim));
    h5::set_attr(g, "sizes", std::vector<std::int64_t>(c.lattice.L, c.lattice.L + c.lattice.dim));
    h5::set_attr(g, "replicas", std::int64_t(c.replicas));
    h5::set_attr(g, "seed", std::int64_t(c.seed));
    h5::set_attr(g, "dt", c.dt);
    h5::set_attr(g, "t_end", c.t_end);
    h5::set_attr(g, "steady_tol", c.steady_tol);
    h5::set_attr(g, "precision", std::string(to_string(c.precision)));
    h5::set_attr(g, "integrator", std::string("rk4"));
    h5::set_attr(g, "batch_points", std::int64_t(c.batch_points));
    h5::set_attr(g, "shard", std::to_string(c.shard_index) + "/" + std::to_string(c.shard_count));
    h5::set_attr(g, "phase_codes", std::string(kPhaseCodesText));
    h5::set_attr(g, "order_codes", std::string("-1 not done, 0 none, 1 FM, 2 AFM, 3 SDW, 4 sXY"));
    h5::set_attr(g, "agree_codes", std::string(kAgreeCodesText));
    h5::set_attr(g, "initial_state", std::string("random (uniform in the Bloch ball), replica r keyed by seed + r"));
}

struct Field {
    const char* name;
    bool per_replica;
    bool integer;
};
const Field kFields[] = {{"phase", true, true},        {"order", true, true},          {"agree", true, true},
                         {"m_perp", true, false},      {"residual", true, false},      {"peak_weight", true, false},
                         {"period", true, false},      {"vortices", true, false},      {"t_final", true, false},
                         {"predicted", false, true},   {"predicted_growth", false, false},
                         {"predicted_period", false, false}};

void* field_data(SweepResults& r, const std::string& n) {
    if (n == "phase") return r.phase.data();
    if (n == "order") return r.order.data();
    if (n == "agree") return r.agree.data();
    if (n == "m_perp") return r.m_perp.data();
    if (n == "residual") return r.residual.data();
    if (n == "peak_weight") return r.peak_weight.data();
    if (n == "period") return r.period.data();
    if (n == "vortices") return r.vortices.data();
    if (n == "t_final") return r.t_final.data();
    if (n == "predicted") return r.predicted.data();
    if (n == "predicted_growth") return r.predicted_growth.data();
    return r.predicted_period.data();
}

// Writes (creating or replacing) every /sweep dataset from memory and flushes.
void write_results(hid_t file, const SweepConfig& c, SweepResults& r) {
    const hsize_t nx = hsize_t(c.grid.x.n), ny = hsize_t(c.grid.y.n), R = hsize_t(c.replicas);
    h5::Id g = h5::exists(file, "/sweep") ? h5::open_group(file, "/sweep") : h5::create_group(file, "/sweep");
    for (const Field& f : kFields) {
        if (h5::exists(g, f.name)) h5::remove(g, f.name);
        const std::vector<hsize_t> dims = f.per_replica ? std::vector<hsize_t>{ny, nx, R} : std::vector<hsize_t>{ny, nx};
        h5::write_array(g, f.name, dims, f.integer ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE,
                        f.integer ? H5T_STD_I64LE : H5T_IEEE_F64LE, field_data(r, f.name), false);
    }
    if (h5::exists(g, "k")) h5::remove(g, "k");
    h5::write_array(g, "k", {ny, nx, R, 3}, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, r.k.data(), false);
    for (const char* axis : {"x", "y"}) {
        if (h5::exists(g, axis)) h5::remove(g, axis);
        const std::vector<double> v = axis[0] == 'x' ? c.grid.x.values() : c.grid.y.values();
        h5::write_array(g, axis, {hsize_t(v.size())}, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v.data(), false);
    }
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) throw Error(c.output + ": flush failed", exit_code::io);
}

}  // namespace

HostState evolve_batch(const Lattice& lat, const std::vector<Couplings>& couplings, const HostState& state, double dt,
                       double t_end, double steady_tol, Precision precision, BackendKind kind, long long* steps) {
    if (index_t(couplings.size()) != lat.copies) throw Error("evolve_batch: one Couplings per copy is needed");
    return precision == Precision::float32
               ? evolve_batch_t<float>(lat, couplings, state, dt, t_end, steady_tol, kind, steps)
               : evolve_batch_t<double>(lat, couplings, state, dt, t_end, steady_tol, kind, steps);
}

SweepResults read_sweep(const std::string& path, SweepConfig& c) {
    h5::Id f = h5::open_file(path, false);
    if (!h5::exists(f, "/sweep")) throw Error(path + ": not a sweep file (no /sweep)", exit_code::io);
    h5::Id g = h5::open_group(f, "/sweep");
    c.grid.x = {h5::attr_string(g, "x_name"), h5::attr_double(g, "x_lo"), h5::attr_double(g, "x_hi"),
                int(h5::attr_int(g, "x_n"))};
    c.grid.y = {h5::attr_string(g, "y_name"), h5::attr_double(g, "y_lo"), h5::attr_double(g, "y_hi"),
                int(h5::attr_int(g, "y_n"))};
    c.grid.fixed = {h5::attr_double(g, "Jx"), h5::attr_double(g, "Jy"), h5::attr_double(g, "Jz"),
                    h5::attr_double(g, "gamma"), h5::attr_double(g, "gamma_phi")};
    c.lattice = Lattice{};
    c.lattice.dim = int(h5::attr_int(g, "dim"));
    const std::vector<std::int64_t> sizes = h5::attr_ints(g, "sizes");
    for (int a = 0; a < c.lattice.dim; ++a) c.lattice.L[a] = sizes.at(a);
    c.replicas = int(h5::attr_int(g, "replicas"));
    c.seed = std::uint64_t(h5::attr_int(g, "seed"));
    c.dt = h5::attr_double(g, "dt");
    c.t_end = h5::attr_double(g, "t_end");
    c.steady_tol = h5::attr_double(g, "steady_tol");
    c.precision = h5::attr_string(g, "precision") == "float" ? Precision::float32 : Precision::float64;
    c.batch_points = int(h5::attr_int(g, "batch_points"));
    std::sscanf(h5::attr_string(g, "shard").c_str(), "%d/%d", &c.shard_index, &c.shard_count);
    c.output = path;
    SweepResults r;
    r.resize(c.grid.points(), c.replicas);
    for (const Field& fld : kFields) {
        std::vector<hsize_t> d;
        const std::vector<double> v = h5::read_array(g, fld.name, d);
        if (fld.integer) {
            auto* p = static_cast<std::int64_t*>(field_data(r, fld.name));
            for (std::size_t i = 0; i < v.size(); ++i) p[i] = std::int64_t(v[i]);
        } else {
            auto* p = static_cast<double*>(field_data(r, fld.name));
            std::copy(v.begin(), v.end(), p);
        }
    }
    std::vector<hsize_t> d;
    r.k = h5::read_array(g, "k", d);
    return r;
}

SweepSummary run_sweep(const SweepConfig& cfg_in, bool resume, const SweepHooks& hooks) {
    SweepConfig cfg = cfg_in;
    SweepResults res;
    h5::Id file;
    if (resume) {
        const std::string cmd = cfg.command_line;
        res = read_sweep(cfg.output, cfg);
        cfg.command_line = cmd;
        cfg.backend = cfg_in.backend;
        file = h5::open_file(cfg.output, true);
    } else {
        res.resize(cfg.grid.points(), cfg.replicas);
        file = h5::create_file(cfg.output, cfg.overwrite);
        write_provenance(file, cfg.command_line, "sweep");
        h5::Id g = h5::create_group(file, "/sweep");
        write_attrs(g, cfg);
    }
    const int P = cfg.grid.points(), R = cfg.replicas;
    const BackendKind kind = choose_backend(cfg.backend);
    const StabilityMap prediction(cfg.lattice.dim, &cfg.lattice);
    for (int p = 0; p < P; ++p) {
        const StabilityPoint s = prediction.at(cfg.grid.at(p));
        res.predicted[p] = phase_code(s.phase);
        res.predicted_growth[p] = s.growth;
        res.predicted_period[p] = s.period;
    }
    write_results(file, cfg, res);

    // This shard's unfinished points, in order.
    std::vector<int> todo;
    SweepSummary sum;
    for (int p = cfg.shard_index; p < P; p += cfg.shard_count) {
        bool done = true;
        for (int r = 0; r < R; ++r) done = done && res.phase[std::size_t(p) * R + r] != kNotDone;
        if (done) ++sum.points_skipped; else todo.push_back(p);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const index_t Ns = cfg.lattice.copy_sites();
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
        const HostState fin = evolve_batch(batch, couplings, state, cfg.dt, cfg.t_end, cfg.steady_tol,
                                           cfg.precision, kind, &steps);
        sum.site_steps += steps * (long long)batch.sites();
        const double t_final = std::min(cfg.t_end, double(steps) * cfg.dt);
        for (index_t b = 0; b < copies; ++b) {
            const int p = todo[first + std::size_t(b / R)], r = int(b % R);
            HostState one(3 * std::size_t(Ns));
            for (int c = 0; c < 3; ++c)
                std::copy(fin.begin() + c * batch.sites() + b * Ns, fin.begin() + c * batch.sites() + (b + 1) * Ns,
                          one.begin() + c * Ns);
            Analyzer an(cfg.lattice, couplings[std::size_t(b)], cfg.analysis);
            const StateAnalysis a = an.analyze(one, t_final, -1, "");
            const std::size_t e = std::size_t(p) * R + r;
            res.phase[e] = phase_code(a.cls.phase);
            res.order[e] = phase_code(a.cls.order);
            res.agree[e] = agreement(prediction.at(couplings[std::size_t(b)]).phase, a.cls);
            res.m_perp[e] = a.cls.m_perp;
            res.residual[e] = a.cls.residual;
            res.peak_weight[e] = a.cls.peak.weight;
            double pmin = 0;
            for (int ax = 0; ax < cfg.lattice.dim; ++ax)
                if (a.cls.period[ax] > 0 && (pmin == 0 || a.cls.period[ax] < pmin)) pmin = a.cls.period[ax];
            res.period[e] = pmin;
            res.vortices[e] = a.has_vortices ? double(a.vortices.vortices) : NAN;
            res.t_final[e] = t_final;
            for (int ax = 0; ax < 3; ++ax) res.k[3 * e + ax] = a.cls.peak.k[ax];
        }
        write_results(file, cfg, res);
        sum.points_done += int(last - first);
        ++sum.batches;
        sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!hooks.quiet)
            std::fprintf(stderr, "\r  sweep: %d/%zu points, %.0f s, ETA %.0f s   ", sum.points_done, todo.size(),
                         sum.seconds, sum.seconds / sum.points_done * double(todo.size() - std::size_t(sum.points_done)));
        if (hooks.kill_after_batches >= 0 && sum.batches >= hooks.kill_after_batches)
            throw Error("killed by test hook after " + std::to_string(sum.batches) + " batches", exit_code::interrupted);
    }
    if (!hooks.quiet && sum.batches) std::fprintf(stderr, "\n");
    h5::set_attr(file, "status", std::string("finished"));
    return sum;
}

void merge_sweeps(const std::vector<std::string>& shards, const std::string& output, bool overwrite,
                  const std::string& command_line) {
    if (shards.empty()) throw Error("merge: no input files", exit_code::usage);
    SweepConfig base;
    SweepResults merged = read_sweep(shards[0], base);
    for (std::size_t s = 1; s < shards.size(); ++s) {
        SweepConfig c;
        const SweepResults r = read_sweep(shards[s], c);
        const bool same = c.grid.x.name == base.grid.x.name && c.grid.y.name == base.grid.y.name &&
                          c.grid.x.lo == base.grid.x.lo && c.grid.x.hi == base.grid.x.hi && c.grid.x.n == base.grid.x.n &&
                          c.grid.y.lo == base.grid.y.lo && c.grid.y.hi == base.grid.y.hi && c.grid.y.n == base.grid.y.n &&
                          c.replicas == base.replicas && c.seed == base.seed && c.dt == base.dt && c.t_end == base.t_end &&
                          c.lattice.dim == base.lattice.dim && c.lattice.L[0] == base.lattice.L[0] &&
                          c.lattice.L[1] == base.lattice.L[1] && c.lattice.L[2] == base.lattice.L[2] &&
                          c.grid.fixed.Jx == base.grid.fixed.Jx && c.grid.fixed.Jy == base.grid.fixed.Jy &&
                          c.grid.fixed.Jz == base.grid.fixed.Jz && c.grid.fixed.gamma_phi == base.grid.fixed.gamma_phi;
        if (!same) throw Error("merge: " + shards[s] + " is a different sweep than " + shards[0], exit_code::usage);
        const std::size_t n = merged.phase.size();
        for (std::size_t e = 0; e < n; ++e) {
            if (r.phase[e] == kNotDone) continue;
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
    base.shard_index = 0;
    base.shard_count = 1;
    base.output = output;
    h5::Id f = h5::create_file(output, overwrite);
    write_provenance(f, command_line, "sweep");
    {
        h5::Id g = h5::create_group(f, "/sweep");
        write_attrs(g, base);
    }
    write_results(f, base, merged);
    std::int64_t missing = 0;
    for (std::int64_t v : merged.phase) missing += v == kNotDone;
    h5::set_attr(f, "status", missing ? "merged; " + std::to_string(missing) + " entries not done" : std::string("finished"));
}

}  // namespace xyzmf
