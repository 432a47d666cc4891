// A state's structure factor and vortices with every rank holding only its
// slab (see slab_analysis.hpp).
#include "slab_analysis.hpp"

#include <fftw3-mpi.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>

#include "xyzmf/error.hpp"
#include "rank_order.hpp"

namespace xyzmf {

namespace {
MPI_Datatype doubles_type(std::size_t n) {  // n doubles as one element: counts in rows, not doubles (no int overflow)
    MPI_Datatype t;
    MPI_Type_contiguous(int(n), MPI_DOUBLE, &t);
    MPI_Type_commit(&t);
    return t;
}

// Rows [b, e) meet rows [s, s + n): how many, and where in the first.
index_t overlap(index_t b, index_t e, index_t s, index_t n) { return std::max<index_t>(0, std::min(e, s + n) - std::max(b, s)); }
}  // namespace

// FFTW's distributed real-to-complex transform of the three components at
// once (interleaved: component fastest), rows of the slowest axis in blocks.
struct SlabAnalysis::Fft {
    ptrdiff_t local_n0 = 0, local_start = 0;  // this rank's FFTW block of rows
    std::vector<index_t> n0, start;            // every rank's
    double* in = nullptr;
    fftw_complex* out = nullptr;
    fftw_plan plan = nullptr;
    std::unique_ptr<StructureFactorEngine> line;  // 1D: rank 0 transforms the gathered line
    ~Fft() {
        if (plan) fftw_destroy_plan(plan);
        fftw_free(in);
        fftw_free(out);
    }
};

SlabAnalysis::SlabAnalysis(MPI_Comm comm, const Lattice& global, const Couplings& c, const AnalysisOptions& opt)
    : comm_(comm), global_(global), couplings_(c), opt_(opt), fft_(std::make_unique<Fft>()) {
    MPI_Comm_rank(comm, &rank_);
    MPI_Comm_size(comm, &ranks_);
    slab_ = make_slab(global, ranks_, rank_, 0);
    if (slab_.owned() < 1)
        throw Error("mpi analysis: " + lattice_text(global) + " leaves rank " + std::to_string(rank_) + " no rows",
                    exit_code::usage);
    const int d = global.dim;
    if (d == 1) {
        if (rank_ == 0) fft_->line = std::make_unique<StructureFactorEngine>(global);
        return;
    }
    static std::once_flag fftw_mpi_ready;
    std::call_once(fftw_mpi_ready, [] { fftw_mpi_init(); });
    ptrdiff_t n[3], half[3];
    for (int a = 0; a < d; ++a) n[a] = half[a] = ptrdiff_t(global.L[d - 1 - a]);  // slowest first
    half[d - 1] = n[d - 1] / 2 + 1;
    const ptrdiff_t alloc =
        std::max<ptrdiff_t>(1, fftw_mpi_local_size_many(d, half, 3, FFTW_MPI_DEFAULT_BLOCK, comm, &fft_->local_n0, &fft_->local_start));
    fft_->in = fftw_alloc_real(std::size_t(2 * alloc));
    fft_->out = fftw_alloc_complex(std::size_t(alloc));
    if (!fft_->in || !fft_->out) throw Error("mpi analysis: cannot allocate the FFT buffers");
    std::fill_n(fft_->in, 2 * alloc, 0.0);  // the padding of each row is never written
    fft_->plan = fftw_mpi_plan_many_dft_r2c(d, n, 3, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, fft_->in, fft_->out,
                                            comm, FFTW_ESTIMATE);
    if (!fft_->plan) throw Error("mpi analysis: no distributed FFT plan for " + lattice_text(global));
    long long mine[2] = {fft_->local_n0, fft_->local_start};
    std::vector<long long> all(2 * std::size_t(ranks_));
    MPI_Allgather(mine, 2, MPI_LONG_LONG, all.data(), 2, MPI_LONG_LONG, comm);
    for (int q = 0; q < ranks_; ++q) fft_->n0.push_back(index_t(all[2 * q])), fft_->start.push_back(index_t(all[2 * q + 1]));
}

SlabAnalysis::~SlabAnalysis() = default;

AnalysisParts SlabAnalysis::compute(const HostState& owned) {
    AnalysisParts p;
    const auto t0 = std::chrono::steady_clock::now();
    // The grid on rank 0 only where it is stored (or a 1D line, gathered
    // anyway); else each rank reduces its block and only the summary meets.
    const bool grid = global_.dim == 1 || stored_sk(opt_, global_) != SkStorage::radial;
    if (grid) {
        p.sf = structure_factor(owned);
    } else {
        const ReducedSpectrum r = reduced_spectrum(owned, true);
        if (rank_ == 0) {
            p.sf.lattice = global_;
            p.summarized = true;
            p.sk = summary_of_reduced_spectrum(global_, r);
        }
    }
    p.sk_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<double> psi;  // of my rows, at an sXY point
    if (is_sxy_point(couplings_))
        psi = sxy_phase_rows(global_, couplings_, owned, slab_.begin, slab_.owned(), opt_.thresholds.vortex_amplitude);
    if (has_vortex_census(global_, couplings_)) {
        p.has_vortices = true;
        p.vortices = vortices(psi);
    }
    p.tallies = tallies(owned, psi);
    // (The same tallies on every rank: all of them take part in the transform, or none.)
    if (needs_psi_structure(couplings_, p.tallies, opt_.thresholds)) {
        if (grid) {
            p.psi_sf = structure_factor(psi_field(psi));
        } else {
            ReducedSpectrum r = reduced_spectrum(psi_field(psi), false);
            for (int a = 0; a < 3; ++a) p.psi_marginal[a] = std::move(r.marginal[a]);
        }
    }
    return p;
}

SiteTallies SlabAnalysis::tallies(const HostState& owned, const std::vector<double>& psi) {
    const index_t rows = slab_.owned(), rs = slab_.row_sites, n = rows * rs, m = (rows + 2) * rs;
    // ds/dt of my rows reads one row beyond them on each side: my rows between
    // the last row of the rank below and the first of the rank above, stepped
    // as a periodic block of rows + 2 rows whose inner rows are the lattice's.
    Lattice block = global_;
    block.L[slab_.axis] = rows + 2;
    HostState with(3 * std::size_t(m));
    const int below = (rank_ + ranks_ - 1) % ranks_, above = (rank_ + 1) % ranks_;
    for (int c = 0; c < 3; ++c) {
        const double* mine = owned.data() + c * n;
        double* to = with.data() + c * m;
        std::copy(mine, mine + n, to + rs);
        MPI_Sendrecv(mine, int(rs), MPI_DOUBLE, below, c, to + (rows + 1) * rs, int(rs), MPI_DOUBLE, above, c, comm_,
                     MPI_STATUS_IGNORE);
        MPI_Sendrecv(mine + (rows - 1) * rs, int(rs), MPI_DOUBLE, above, 3 + c, to, int(rs), MPI_DOUBLE, below, 3 + c,
                     comm_, MPI_STATUS_IGNORE);
    }
    const HostState rate_block = rate_of(block, couplings_, with);
    HostState rate(3 * std::size_t(n));
    for (int c = 0; c < 3; ++c)
        std::copy_n(rate_block.data() + c * m + rs, std::size_t(n), rate.data() + c * n);
    const SiteTallies mine = tally_sites(owned.data(), rate.data(), n, psi.empty() ? nullptr : psi.data(),
                                         opt_.thresholds.stationary_residual);
    // Counts as doubles: exact below 2^53.
    const std::array<double, 8> part = {double(mine.sites), mine.residual, double(mine.moving), mine.perp2, mine.z,
                                        mine.psi_sum.real(), mine.psi_sum.imag(), double(mine.psi_sites)};
    return merge_in_rank_order<SiteTallies>(comm_, part, [](const double* a) {
        SiteTallies t;
        t.sites = index_t(a[0]), t.residual = a[1], t.moving = index_t(a[2]), t.perp2 = a[3], t.z = a[4];
        t.psi_sum = {a[5], a[6]};
        t.psi_sites = index_t(a[7]);
        return t;
    });
}

StructureFactor SlabAnalysis::line_structure_factor(const HostState& owned) {
    // Gathered: one line, no distributed 1D real transform in FFTW.
    StructureFactor sf;
    const index_t n_owned = slab_.owned() * slab_.row_sites;
    std::vector<int> counts(static_cast<std::size_t>(ranks_)), displs(static_cast<std::size_t>(ranks_));
    for (int q = 0; q < ranks_; ++q) {
        const Slab s = make_slab(global_, ranks_, q, 0);
        counts[q] = int(s.owned()), displs[q] = int(s.begin);
    }
    const index_t N = global_.sites();
    HostState line(rank_ == 0 ? 3 * std::size_t(N) : 0);
    for (int c = 0; c < 3; ++c)
        MPI_Gatherv(owned.data() + c * n_owned, int(n_owned), MPI_DOUBLE, rank_ == 0 ? line.data() + c * N : nullptr,
                    counts.data(), displs.data(), MPI_DOUBLE, 0, comm_);
    if (rank_ == 0) sf = fft_->line->compute(line);
    return sf;
}

std::vector<double> SlabAnalysis::local_power(const HostState& owned) {
    const index_t rows = slab_.owned(), rs = slab_.row_sites, n_owned = rows * rs;
    const index_t Lx = global_.L[0], H = Lx / 2 + 1, across = rs / Lx;  // across: x-lines in a row
    const std::size_t padded = std::size_t(across * 2 * H * 3), spectrum = std::size_t(across * H * 3);
    // This rank's rows in FFTW's padded, interleaved layout ...
    std::vector<double> send(std::size_t(rows) * padded, 0.0);
    for (index_t line = 0; line < rows * across; ++line)
        for (index_t x = 0; x < Lx; ++x)
            for (int c = 0; c < 3; ++c)
                send[std::size_t((line * 2 * H + x) * 3 + c)] = owned[std::size_t(c * n_owned + line * Lx + x)];
    // ... to the ranks whose FFTW blocks hold them.
    std::vector<int> sc(static_cast<std::size_t>(ranks_)), sd(static_cast<std::size_t>(ranks_)), rc(static_cast<std::size_t>(ranks_)), rd(static_cast<std::size_t>(ranks_));
    for (int q = 0; q < ranks_; ++q) {
        sc[q] = int(overlap(slab_.begin, slab_.end, fft_->start[q], fft_->n0[q]));
        sd[q] = int(std::max(slab_.begin, fft_->start[q]) - slab_.begin);
        const Slab s = make_slab(global_, ranks_, q, 0);
        rc[q] = int(overlap(s.begin, s.end, fft_->local_start, fft_->local_n0));
        rd[q] = int(std::max<index_t>(s.begin, fft_->local_start) - fft_->local_start);
    }
    MPI_Datatype row = doubles_type(padded);
    MPI_Alltoallv(send.data(), sc.data(), sd.data(), row, fft_->in, rc.data(), rd.data(), row, comm_);
    MPI_Type_free(&row);
    fftw_execute(fft_->plan);
    // |F(k)|^2 of this rank's block of the half spectrum.
    std::vector<double> power_local(std::size_t(fft_->local_n0) * spectrum);
    for (std::size_t m = 0; m < power_local.size(); ++m)
        power_local[m] = fft_->out[m][0] * fft_->out[m][0] + fft_->out[m][1] * fft_->out[m][1];
    return power_local;
}

StructureFactor SlabAnalysis::structure_factor(const HostState& owned) {
    StructureFactor sf;
    if (global_.dim == 1) return line_structure_factor(owned);
    const std::vector<double> power_local = local_power(owned);
    // Gathered on rank 0 and unfolded there.
    const std::size_t spectrum = std::size_t(slab_.row_sites / global_.L[0] * (global_.L[0] / 2 + 1) * 3);
    MPI_Datatype half_row = doubles_type(spectrum);
    std::vector<double> all(rank_ == 0 ? std::size_t(slab_.rows) * spectrum : 0);
    std::vector<int> counts(static_cast<std::size_t>(ranks_)), displs(static_cast<std::size_t>(ranks_));
    for (int q = 0; q < ranks_; ++q) counts[q] = int(fft_->n0[q]), displs[q] = int(fft_->start[q]);
    MPI_Gatherv(power_local.data(), int(fft_->local_n0), half_row, all.data(), counts.data(), displs.data(), half_row, 0,
                comm_);
    MPI_Type_free(&half_row);
    if (rank_ != 0) return sf;
    std::vector<double> power[3];
    for (int c = 0; c < 3; ++c) {
        power[c].resize(all.size() / 3);
        for (std::size_t m = 0; m < power[c].size(); ++m) power[c][m] = all[3 * m + std::size_t(c)];
    }
    sf.lattice = global_;
    unfold_half_spectrum(power, sf);
    return sf;
}

ReducedSpectrum SlabAnalysis::reduced_spectrum(const HostState& owned, bool radial) {
    const std::vector<double> power = local_power(owned);
    const index_t points_per_row = slab_.row_sites / global_.L[0] * half_columns(global_);
    HalfSpectrumBlock block;
    for (int c = 0; c < 3; ++c) block.p[c] = power.data() + c;
    block.stride = 3;
    block.e0 = index_t(fft_->local_start) * points_per_row;
    block.e1 = block.e0 + index_t(fft_->local_n0) * points_per_row;
    const ReducedSpectrum mine = reduce_half_spectrum_block(global_, block, radial);
    // Packed as doubles (keys exact below 2^53), gathered on rank 0 and merged
    // there in rank order.
    const std::size_t bins = mine.radial_count.size();
    std::vector<double> pack = {mine.total_perp, double(mine.strongest.size())};
    for (int i = 0; i < kStrongestPoints; ++i) {
        const bool has = i < int(mine.strongest.size());
        pack.push_back(has ? mine.strongest[std::size_t(i)].value : 0.0);
        pack.push_back(has ? double(mine.strongest[std::size_t(i)].key) : 0.0);
    }
    for (int a = 0; a < global_.dim; ++a) pack.insert(pack.end(), mine.marginal[a].begin(), mine.marginal[a].end());
    for (int c = 0; c < 3; ++c) pack.insert(pack.end(), mine.radial_sum[c].begin(), mine.radial_sum[c].end());
    pack.insert(pack.end(), mine.radial_count.begin(), mine.radial_count.end());
    std::vector<double> all(rank_ == 0 ? pack.size() * std::size_t(ranks_) : 0);
    MPI_Gather(pack.data(), int(pack.size()), MPI_DOUBLE, all.data(), int(pack.size()), MPI_DOUBLE, 0, comm_);
    ReducedSpectrum total;
    if (rank_ == 0)
        for (int q = 0; q < ranks_; ++q) {
            const double* x = all.data() + std::size_t(q) * pack.size();
            ReducedSpectrum part;
            part.total_perp = *x++;
            const int found = int(*x++);
            for (int i = 0; i < kStrongestPoints; ++i, x += 2)
                if (i < found) part.strongest.push_back({x[0], std::int64_t(x[1]), 0.0});
            for (int a = 0; a < global_.dim; ++a) {
                part.marginal[a].assign(x, x + global_.L[a]);
                x += global_.L[a];
            }
            for (int c = 0; c < 3; ++c, x += bins) part.radial_sum[c].assign(x, x + bins);
            part.radial_count.assign(x, x + bins);
            merge_reduced_spectra(total, part);
        }
    // The values at k = 0, pi and the strongest points' mirrors, from the ranks that hold them.
    std::vector<index_t> wanted = rank_ == 0 ? points_to_read(global_, total) : std::vector<index_t>{};
    long long count = (long long)wanted.size();
    MPI_Bcast(&count, 1, MPI_LONG_LONG, 0, comm_);
    wanted.resize(std::size_t(count));
    MPI_Bcast(wanted.data(), int(count), MPI_INT64_T, 0, comm_);
    std::vector<double> held(wanted.size(), 0.0), values(wanted.size(), 0.0);
    for (std::size_t i = 0; i < wanted.size(); ++i)
        if (wanted[i] >= block.e0 && wanted[i] < block.e1) held[i] = block.perp(wanted[i], global_.sites());
    MPI_Reduce(held.data(), values.data(), int(held.size()), MPI_DOUBLE, MPI_SUM, 0, comm_);  // one holder each: exact
    if (rank_ == 0) fill_read_points(global_, total, values);
    return total;
}

VortexCensus SlabAnalysis::vortices(std::vector<double> psi) {
    const index_t rows = slab_.owned(), rs = slab_.row_sites;
    psi.resize(std::size_t((rows + 1) * rs));
    // The row after my last is the next rank's first (periodic).
    MPI_Sendrecv(psi.data(), int(rs), MPI_DOUBLE, (rank_ + ranks_ - 1) % ranks_, 0, psi.data() + rows * rs, int(rs), MPI_DOUBLE,
                 (rank_ + 1) % ranks_, 0, comm_, MPI_STATUS_IGNORE);
    VortexCensus mine = count_plaquettes(global_, psi.data(), slab_.begin, rows);

    VortexCensus v;
    std::int64_t counts[4] = {mine.vortices, mine.antivortices, mine.skipped, mine.plaquettes}, total[4];
    MPI_Reduce(counts, total, 4, MPI_INT64_T, MPI_SUM, 0, comm_);
    static_assert(std::is_trivially_copyable_v<Vortex>);
    const int bytes = int(mine.list.size() * sizeof(Vortex));
    std::vector<int> sizes(static_cast<std::size_t>(ranks_)), displs(static_cast<std::size_t>(ranks_));
    MPI_Gather(&bytes, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, comm_);
    for (int q = 1; q < ranks_; ++q) displs[q] = displs[q - 1] + sizes[q - 1];
    if (rank_ == 0) v.list.resize(std::size_t(displs.back() + sizes.back()) / sizeof(Vortex));
    MPI_Gatherv(mine.list.data(), bytes, MPI_BYTE, v.list.data(), sizes.data(), displs.data(), MPI_BYTE, 0, comm_);
    if (rank_ != 0) return v;
    v.vortices = total[0], v.antivortices = total[1], v.skipped = total[2], v.plaquettes = total[3];
    // Each rank's list runs (normal, site) over its rows, and the ranks' rows
    // follow each other: ordered by normal, the whole list is the serial one.
    std::stable_sort(v.list.begin(), v.list.end(), [](const Vortex& a, const Vortex& b) { return a.normal < b.normal; });
    if (global_.dim == 3) join_vortex_lines(global_, v);
    return v;
}

}  // namespace xyzmf
