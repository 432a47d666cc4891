// One state's analysis and its HDF5/JSON output (see analysis.hpp).
#include "analysis.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "xyzmf/backend.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/sxy_winding.hpp"
#include "chunk_filters.hpp"
#include "schema.hpp"
#include "integrators.hpp"

namespace xyzmf {

const ParamTable<AnalysisOptions>& analysis_parameters() {
    using V = ParamValue;
    auto threshold = [](const char* key, const char* option, const char* unit, bool positive,
                        double ClassifyThresholds::*member) {
        // A threshold that must be positive excludes 0; a fraction lies in [0, 1].
        ParamSpec spec{key, option, ParamKind::real, unit, 0, positive ? kNoLimit : 1};
        spec.lo_open = positive;
        return Param<AnalysisOptions>{spec.optional(),
                                      [member](const AnalysisOptions& o) -> V { return o.thresholds.*member; },
                                      [member](AnalysisOptions& o, const V& v) { o.thresholds.*member = as_real(v); }};
    };
    static const ParamTable<AnalysisOptions> t = {
        threshold("pm_m_perp", "--pm-m-perp", "", false, &ClassifyThresholds::pm_m_perp),
        threshold("single_domain", "--single-domain", "", false, &ClassifyThresholds::single_domain),
        threshold("psi_coherence", "--psi-coherence", "", false, &ClassifyThresholds::psi_coherence),
        threshold("stationary_residual", "--stationary-residual", "gamma", true, &ClassifyThresholds::stationary_residual),
        threshold("moving_fraction", "--moving-fraction", "", false, &ClassifyThresholds::moving_fraction),
        threshold("vortex_amplitude", "--vortex-amplitude", "", false, &ClassifyThresholds::vortex_amplitude),
        threshold("ordered_domain", "--ordered-domain", "sites", true, &ClassifyThresholds::ordered_domain),
    };
    return t;
}
SkStorage parse_sk_storage(const std::string& name) {
    if (name == "auto") return SkStorage::automatic;
    if (name == "full") return SkStorage::full;
    if (name == "planes") return SkStorage::planes;
    if (name == "radial") return SkStorage::radial;
    throw Error("--sk-storage: '" + name + "' is not one of " + sk_storage_choices(), exit_code::usage);
}

const char* sk_storage_choices() { return "auto, full, planes, radial"; }

SkStorage stored_sk(const AnalysisOptions& opt, const Lattice& lat) {
    SkStorage how = opt.sk_storage;
    if (how == SkStorage::automatic) how = lat.dim == 3 && lat.sites() > opt.sk_full_max_sites ? SkStorage::planes : SkStorage::full;
    if (how == SkStorage::planes && lat.dim < 3) how = SkStorage::full;
    return how;
}

struct RateEvaluator::Buffers {
    std::unique_ptr<Backend<double>> be = make_cpu_backend<double>();
    StateBuffer<double> y, k;
};

RateEvaluator::RateEvaluator(const Lattice& lat, const Couplings& c) : lat_(lat), couplings_(c) {}
RateEvaluator::~RateEvaluator() = default;

RateEvaluator::View RateEvaluator::operator()(const HostState& s) {
    if (!buffers_) {
        buffers_ = std::make_unique<Buffers>();
        buffers_->y = StateBuffer<double>(*buffers_->be, lat_);
        buffers_->k = StateBuffer<double>(*buffers_->be, lat_);
    }
    Buffers& b = *buffers_;
    upload_state(*b.be, b.y, s.data(), lat_);
    evaluate_rhs(*b.be, lat_, SiteModel<double>::make(couplings_, lat_.dim), b.y.data(), b.k.data());
    return {b.k.data(), lat_.component_stride()};  // (the CPU backend's buffers are host memory)
}

HostState rate_of(const Lattice& lat, const Couplings& c, const HostState& s) {
    RateEvaluator rate(lat, c);
    const RateEvaluator::View v = rate(s);
    const index_t N = lat.sites();
    HostState r(3 * std::size_t(N));
    for (int a = 0; a < 3; ++a) std::copy(v.data + a * v.stride, v.data + a * v.stride + N, r.begin() + a * N);
    return r;
}

namespace {

void replace_group(hid_t file, const std::string& path) {
    if (h5::exists(file, path)) h5::remove(file, path);
}

h5::Id open_or_create(hid_t file, const std::string& path) {
    return h5::exists(file, path) ? h5::open_group(file, path) : h5::create_group(file, path);
}

// The small tables (vortex lists shrink tenfold) deflated at level 1; the S(k)
// grids at the run's level. Deflated on every thread (chunk_filters.hpp).
void write_doubles(hid_t g, const std::string& name, const std::vector<hsize_t>& dims, const double* v, int level = 1) {
    if (level > 0)
        write_deflated_doubles(g, name, dims, v, level);
    else
        h5::write_array(g, name, dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v, 0);
}

const char* kComp[3] = {"Sxx", "Syy", "Szz"};

}  // namespace

Analyzer::Analyzer(const Lattice& lat, const Couplings& c, const AnalysisOptions& opt)
    : lat_(lat), couplings_(c), opt_(opt), engine_(lat), rate_(lat, c) {
    if (opt.on_device)
        device_ = make_device_analysis(lat, c, opt.thresholds.vortex_amplitude, opt.thresholds.stationary_residual,
                                       stored_sk(opt, lat) != SkStorage::full);
}
Analyzer::~Analyzer() = default;

bool has_vortex_census(const Lattice& lat, const Couplings& c) { return lat.dim >= 2 && is_sxy_point(c); }

StateAnalysis complete_analysis(const Lattice& lat, const Couplings& c, const AnalysisOptions& opt, AnalysisParts parts,
                                double t, double trend, const std::string& where) {
    StateAnalysis a;
    a.where = where;
    a.t = t;
    if (!parts.summarized) {
        parts.sk = summarize_spectrum(parts.sf, stored_sk(opt, lat) != SkStorage::full);
        if (!parts.psi_sf.S[0].empty()) perp_marginals(parts.psi_sf, parts.psi_marginal);
    }
    a.sf = std::move(parts.sf);
    a.sk = std::move(parts.sk);
    a.sk_seconds = parts.sk_seconds;
    a.cls = classify(lat, c, parts.tallies, a.sk, parts.psi_marginal, trend, opt.thresholds);
    a.has_vortices = parts.has_vortices;
    a.vortices = std::move(parts.vortices);
    return a;
}

AnalysisParts Analyzer::parts_on_device(const StateView& s) {
    // Whether the phase field's S(k) is wanted depends on the tallies, which
    // the device computes first: it asks back.
    struct Context {
        const Couplings* c;
        const ClassifyThresholds* th;
        index_t sites;
    } context{&couplings_, &opt_.thresholds, lat_.sites()};
    auto wanted = [](const TallyTerms& t, const void* p) {
        const auto* x = static_cast<const Context*>(p);
        return needs_psi_structure(*x->c, site_tallies(t, x->sites), *x->th);
    };
    // The grid comes back only where it is stored; the classification reads
    // the device's summary of it.
    const SkStorage stored = stored_sk(opt_, lat_);
    const DeviceSpectrumRequest request{stored != SkStorage::radial, stored != SkStorage::full};
    DeviceAnalysisResult d = device_->analyze(s.data, s.precision == Precision::float32, request, wanted, &context);
    AnalysisParts p;
    p.sf.lattice = lat_;
    if (request.power) unfold_half_spectrum(d.power, p.sf);
    p.summarized = true;
    p.sk = summary_of_reduced_spectrum(lat_, d.spectrum);
    p.sk_seconds = d.seconds;
    p.tallies = site_tallies(d.tallies, lat_.sites());
    if (has_vortex_census(lat_, couplings_)) {
        p.has_vortices = true;
        p.vortices = census_from_windings(lat_, d.plaquettes, d.skipped, d.wound, d.winding);
    }
    if (d.psi_spectrum)
        for (int a = 0; a < 3; ++a) p.psi_marginal[a] = std::move(d.psi_marginal[a]);
    return p;
}

StateAnalysis Analyzer::analyze(const StateView& s, double t, double trend, const std::string& where) {
    if (device_) return complete_analysis(lat_, couplings_, opt_, parts_on_device(s), t, trend, where);
    const std::size_t n = 3 * std::size_t(lat_.sites());
    if (s.precision == Precision::float32) {
        const float* f = static_cast<const float*>(s.data);
        return analyze(HostState(f, f + n), t, trend, where);
    }
    const double* d = static_cast<const double*>(s.data);
    return analyze(HostState(d, d + n), t, trend, where);
}

StateAnalysis Analyzer::analyze(const HostState& s, double t, double trend, const std::string& where) {
    if (device_) return analyze(StateView{s.data(), Precision::float64}, t, trend, where);
    AnalysisParts p;
    const auto t0 = std::chrono::steady_clock::now();
    // The grid only where it is stored; else the half spectrum is reduced as
    // a device or the MPI ranks reduce theirs (no lattice-sized S(k) arrays).
    const bool grid = stored_sk(opt_, lat_) != SkStorage::radial;
    if (grid) {
        p.sf = engine_.compute(s);
    } else {
        p.sf.lattice = lat_;
        p.summarized = true;
        p.sk = summary_of_reduced_spectrum(lat_, reduce_half_spectrum(lat_, engine_.half_power(s), true));
    }
    p.sk_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // The phase field once, for the census and the tallies both.
    std::vector<double>& psi = psi_;
    psi.clear();
    if (is_sxy_point(couplings_)) fill_sxy_phase_field(lat_, couplings_, s, opt_.thresholds.vortex_amplitude, psi);
    if (has_vortex_census(lat_, couplings_)) {
        p.has_vortices = true;
        p.vortices = census_of_phase(lat_, psi);
    }
    const RateEvaluator::View rate = rate_(s);
    p.tallies = tally_sites(s.data(), rate.data, lat_.sites(), psi.empty() ? nullptr : psi.data(),
                            opt_.thresholds.stationary_residual, rate.stride);
    if (needs_psi_structure(couplings_, p.tallies, opt_.thresholds)) {
        // The transform of psi_field(psi), filled in place, and only its x and y
        // components: the marginals read S_perp alone, and its z is 0.
        auto fill = [&](int c, double* in) {
            for (std::size_t m = 0; m < psi.size(); ++m) in[m] = psi_field_component(psi[m], c);
        };
        const StructureFactorEngine::HalfPower& power = engine_.half_power(fill, 2);
        if (grid) {  // the grid's marginals, in its order (as the MPI ranks' gathered grid gives them)
            p.psi_sf.lattice = lat_;
            unfold_half_spectrum(power, p.psi_sf, 2);
        } else {
            ReducedSpectrum r = reduce_half_spectrum(lat_, power, false);
            for (int a = 0; a < 3; ++a) p.psi_marginal[a] = std::move(r.marginal[a]);
        }
    }
    return complete_analysis(lat_, couplings_, opt_, std::move(p), t, trend, where);
}

double residual_trend(hid_t file, double t) {
    if (!h5::exists(file, "/timeseries/residual") || t <= 0) return -1;
    std::vector<hsize_t> d;
    if (!h5::exists(file, "/timeseries/t")) return -1;
    const std::vector<double> ts = h5::read_array(file, "/timeseries/t", d);
    const std::vector<double> res = h5::read_array(file, "/timeseries/residual", d);
    // Median residual over (3t/4, t] against (t/2, 3t/4]: medians, because
    // the residual (a maximum over sites) jumps whenever defects annihilate.
    auto median_between = [&](double a, double b) {
        std::vector<double> v;
        for (std::size_t i = 0; i < ts.size() && i < res.size(); ++i)
            if (ts[i] > a && ts[i] <= b + 1e-12 * b) v.push_back(res[i]);
        if (v.size() < 2) return -1.0;
        std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
        return v[v.size() / 2];
    };
    const double late = median_between(0.75 * t, t), early = median_between(0.5 * t, 0.75 * t);
    return late >= 0 && early > 0 ? late / early : -1;
}

void write_state_analysis(hid_t file, const StateAnalysis& a, const AnalysisOptions& opt) {
    const Lattice& lat = a.sf.lattice;
    h5::Id state = open_or_create(file, a.where);

    // Structure factors, next to the spins they came from.
    replace_group(state, "structure_factor");
    h5::Id sk = h5::create_group(state, "structure_factor");
    h5::set_attr(sk, "definition", std::string("S^aa(k) = (1/N) |sum_n exp(-i k.r_n) a_n|^2"));
    h5::set_attr(sk, "k_grid", std::string("not fftshifted: index m_l along axis l is k_l = 2 pi m_l / L_l in "
                                           "[0, 2 pi); axes ordered like the spins (x fastest)"));
    std::vector<hsize_t> dims = spin_dims(lat);
    dims.pop_back();
    const SkStorage how = stored_sk(opt, lat);
    if (how == SkStorage::full) {
        h5::set_attr(sk, "storage", std::string("full"));
        for (int c = 0; c < 3; ++c) write_doubles(sk, kComp[c], dims, a.sf.S[c].data(), opt.sk_deflate);
    } else if (how == SkStorage::planes) {
        h5::set_attr(sk, "storage", std::string("principal planes + radial average"));
        // plane kz = 0: (Ly, Lx); ky = 0: (Lz, Lx); kx = 0: (Lz, Ly)
        const index_t Lx = lat.L[0], Ly = lat.L[1], Lz = lat.L[2];
        for (int c = 0; c < 3; ++c) {
            const std::vector<double>& S = a.sf.S[c];
            std::vector<double> pz(S.begin(), S.begin() + Lx * Ly), py, px;
            for (index_t z = 0; z < Lz; ++z)
                for (index_t x = 0; x < Lx; ++x) py.push_back(S[std::size_t(lat.site(x, 0, z))]);
            for (index_t z = 0; z < Lz; ++z)
                for (index_t y = 0; y < Ly; ++y) px.push_back(S[std::size_t(lat.site(0, y, z))]);
            const std::string n = kComp[c];
            write_doubles(sk, n + "_kz0", {hsize_t(Ly), hsize_t(Lx)}, pz.data(), opt.sk_deflate);
            write_doubles(sk, n + "_ky0", {hsize_t(Lz), hsize_t(Lx)}, py.data(), opt.sk_deflate);
            write_doubles(sk, n + "_kx0", {hsize_t(Lz), hsize_t(Ly)}, px.data(), opt.sk_deflate);
        }
    } else {
        h5::set_attr(sk, "storage", std::string("radial average"));
    }
    if (how != SkStorage::full) {
        const RadialAverage& r = a.sk.radial;
        write_doubles(sk, "k_radial", {hsize_t(r.k.size())}, r.k.data());
        write_doubles(sk, "count_radial", {hsize_t(r.k.size())}, r.count.data());
        for (int c = 0; c < 3; ++c)
            write_doubles(sk, std::string(kComp[c]) + "_radial", {hsize_t(r.k.size())}, r.S[c].data());
    }

    // Classification and vortices.
    replace_group(state, "analysis");
    h5::Id g = h5::create_group(state, "analysis");
    const Classification& c = a.cls;
    h5::set_attr(g, "phase", c.phase);
    h5::set_attr(g, "order", c.order);
    h5::set_attr(g, "reason", c.reason);
    h5::set_attr(g, "t", a.t);
    h5::set_attr(g, "m_perp", c.m_perp);
    h5::set_attr(g, "mean_z", c.mean_z);
    h5::set_attr(g, "residual", c.residual);
    h5::set_attr(g, "residual_trend", c.residual_trend);
    h5::set_attr(g, "moving_fraction", c.moving_fraction);
    std::vector<double> k(c.peak.k, c.peak.k + lat.dim), period(c.period, c.period + lat.dim);
    write_doubles(g, "peak_k", {hsize_t(lat.dim)}, k.data());
    write_doubles(g, "period", {hsize_t(lat.dim)}, period.data());
    h5::set_attr(g, "peak_weight", c.peak.weight);
    h5::set_attr(g, "weight_k0", c.weight_k0);
    h5::set_attr(g, "weight_kpi", c.weight_kpi);
    h5::set_attr(g, "correlation_length", c.correlation_length);
    h5::set_attr(g, "psi_coherence", c.psi_coherence);
    for (const Param<AnalysisOptions>& p : analysis_parameters())  // every threshold used, named threshold_<key>
        h5::set_attr(g, std::string("threshold_") + p.spec.key, as_real(p.get(opt)));
    if (a.has_vortices) {
        const VortexCensus& v = a.vortices;
        h5::set_attr(g, "vortices", v.vortices);
        h5::set_attr(g, "antivortices", v.antivortices);
        h5::set_attr(g, "skipped_plaquettes", v.skipped);
        h5::set_attr(g, "plaquettes", v.plaquettes);
        if (lat.dim == 3) {
            h5::set_attr(g, "vortex_line_length", v.pierced);
            h5::set_attr(g, "vortex_lines", v.lines);
        }
        std::vector<double> pos;
        std::vector<double> charge, normal;
        for (const Vortex& x : v.list) {
            pos.insert(pos.end(), x.pos, x.pos + 3);
            charge.push_back(x.charge);
            normal.push_back(x.normal);
        }
        const hsize_t n = v.list.size();
        write_doubles(g, "vortex_positions", {n, 3}, pos.data());
        write_doubles(g, "vortex_charges", {n}, charge.data());
        write_doubles(g, "vortex_normals", {n}, normal.data());
    }
}

namespace {
const char* const kCoarseningColumns[] = {"t", "vortices", "antivortices", "skipped", "m_perp", "correlation_length", "residual"};
}  // namespace

void truncate_coarsening(hid_t file, double t) {
    if (!h5::exists(file, "/analysis/coarsening/t")) return;
    h5::Id g = h5::open_group(file, "/analysis/coarsening");
    std::vector<hsize_t> dims;
    const std::vector<double> ts = h5::read_array(g, "t", dims);
    hsize_t keep = 0;
    while (keep < ts.size() && ts[keep] < t) ++keep;  // (rows in time order)
    for (const char* c : kCoarseningColumns) h5::truncate_table(g, c, keep);
}

void write_coarsening(hid_t file, const std::vector<StateAnalysis>& all, bool append) {
    const auto& cols = kCoarseningColumns;
    h5::Id root = open_or_create(file, "/analysis");
    if (!append) replace_group(root, "coarsening");
    const bool fresh = !h5::exists(root, "coarsening");
    h5::Id g = open_or_create(root, "coarsening");
    if (fresh)
        for (const char* c : cols) h5::create_table(g, c, 1);
    for (const StateAnalysis& a : all) {
        const double row[] = {a.t,
                              a.has_vortices ? double(a.vortices.vortices) : NAN,
                              a.has_vortices ? double(a.vortices.antivortices) : NAN,
                              a.has_vortices ? double(a.vortices.skipped) : NAN,
                              a.cls.m_perp,
                              a.cls.correlation_length,
                              a.cls.residual};
        for (int i = 0; i < 7; ++i) h5::append_row(g, cols[i], &row[i], 1);
    }
}

nlohmann::json to_json(const StateAnalysis& a) {
    const Classification& c = a.cls;
    const int dim = a.sf.lattice.dim;
    auto finite = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    nlohmann::json j = {{"state", a.where},
                        {"t", a.t},
                        {"phase", c.phase},
                        {"order", c.order},
                        {"k", std::vector<double>(c.peak.k, c.peak.k + dim)},
                        {"period", std::vector<double>(c.period, c.period + dim)},
                        {"peak_weight", c.peak.weight},
                        {"m_perp", c.m_perp},
                        {"mean_z", c.mean_z},
                        {"residual", c.residual},
                        {"residual_trend", c.residual_trend},
                        {"moving_fraction", c.moving_fraction},
                        {"weight_k0", c.weight_k0},
                        {"weight_kpi", c.weight_kpi},
                        {"correlation_length", finite(c.correlation_length)},
                        // (null for PM and for one domain alike: this tells them apart)
                        {"one_domain", std::isinf(c.correlation_length)},
                        {"reason", c.reason},
                        {"structure_factor_ms", 1e3 * a.sk_seconds}};
    if (c.psi_coherence >= 0) j["psi_coherence"] = c.psi_coherence;
    if (a.has_vortices) {
        j["vortices"] = a.vortices.vortices;
        j["antivortices"] = a.vortices.antivortices;
        j["skipped_plaquettes"] = a.vortices.skipped;
        if (dim == 3) {
            j["vortex_line_length"] = a.vortices.pierced;
            j["vortex_lines"] = a.vortices.lines;
        }
    }
    nlohmann::json peaks = nlohmann::json::array();
    for (const Peak& p : c.peaks) peaks.push_back({{"k", std::vector<double>(p.k, p.k + dim)}, {"weight", p.weight}});
    j["peaks"] = peaks;
    return j;
}

}  // namespace xyzmf
