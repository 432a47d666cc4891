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
    p.sf = structure_factor(owned);
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
    if (needs_psi_structure(couplings_, p.tallies, opt_.thresholds)) p.psi_sf = structure_factor(psi_field(psi));
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

StructureFactor SlabAnalysis::structure_factor(const HostState& owned) {
    StructureFactor sf;
    const index_t rows = slab_.owned(), rs = slab_.row_sites, n_owned = rows * rs;
    if (global_.dim == 1) {  // gathered: one line, no distributed 1D real transform in FFTW
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
    MPI_Datatype row = doubles_type(padded), half_row = doubles_type(spectrum);
    MPI_Alltoallv(send.data(), sc.data(), sd.data(), row, fft_->in, rc.data(), rd.data(), row, comm_);
    fftw_execute(fft_->plan);
    // |F(k)|^2 of the half spectrum, gathered on rank 0 and unfolded there.
    std::vector<double> power_local(std::size_t(fft_->local_n0) * spectrum);
    for (std::size_t m = 0; m < power_local.size(); ++m)
        power_local[m] = fft_->out[m][0] * fft_->out[m][0] + fft_->out[m][1] * fft_->out[m][1];
    std::vector<double> all(rank_ == 0 ? std::size_t(slab_.rows) * spectrum : 0);
    std::vector<int> counts(static_cast<std::size_t>(ranks_)), displs(static_cast<std::size_t>(ranks_));
    for (int q = 0; q < ranks_; ++q) counts[q] = int(fft_->n0[q]), displs[q] = int(fft_->start[q]);
    MPI_Gatherv(power_local.data(), int(fft_->local_n0), half_row, all.data(), counts.data(), displs.data(), half_row, 0,
                comm_);
    MPI_Type_free(&row);
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
