// The ranks' own rows of a compressed state (--compress), stored in the run's
// HDF5 file without gathering the state anywhere: the rows are first moved so
// that each rank holds whole chunks along the slowest axis (a chunk belongs to
// the rank that owns its first row, so only the rows of chunks that straddle a
// slab's end move, to the left neighbour), then every rank puts its chunks
// through the dataset's filters itself (byte shuffle, then zlib's deflate, as
// HDF5's own filters do them: src/io/chunk_filters.hpp) and rank 0 stores them as they are
// (H5Dwrite_chunk), one batch of at most 64 MiB (batch_bytes_) at a time.
//
// Why not gather and let HDF5 compress on rank 0: deflate runs at tens of MB/s
// a core, so compressing a lattice spread over many GPUs on one core took
// longer than the run between snapshots, and rank 0 had to hold the whole
// state in its memory. Here the compression is spread over the ranks and their
// threads, and rank 0 holds one batch. The file is the one a serial run writes
// with the same --compress: the same chunk shape and filters, the same values.
#include <algorithm>
#include <string>
#include <vector>

#include "xyzmf/error.hpp"
#include "chunk_filters.hpp"
#include "slab.hpp"

namespace xyzmf {

namespace {

constexpr int kTagHead = 7301, kTagBytes = 7302;

// Rank 0's chunking on every rank: dims, chunk, level and value size in one
// array (an empty shape: rank 0 could not make the dataset).
SpinChunking from_root(const SpinChunking& mine, MPI_Comm comm, int rank) {
    std::vector<unsigned long long> v;
    if (rank == 0) {
        v.push_back(mine.dims.size());
        for (auto d : mine.dims) v.push_back(d);
        for (auto c : mine.chunk) v.push_back(c);
        v.push_back(unsigned(mine.level));
        v.push_back(unsigned(mine.value_bytes));
    }
    unsigned long long n = v.size();
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
    v.resize(std::size_t(n));
    MPI_Bcast(v.data(), int(n), MPI_UNSIGNED_LONG_LONG, 0, comm);
    SpinChunking how;
    const std::size_t r = std::size_t(v[0]);
    how.dims.assign(v.begin() + 1, v.begin() + 1 + std::ptrdiff_t(r));
    how.chunk.assign(v.begin() + 1 + std::ptrdiff_t(r), v.begin() + 1 + 2 * std::ptrdiff_t(r));
    how.level = int(v[1 + 2 * r]);
    how.value_bytes = int(v[2 + 2 * r]);
    return how;
}

}  // namespace

template <class Real>
void SlabDomain<Real>::write_staged_compressed(const SpinChunking& root_how,
                                               const std::function<void(const FilteredChunks&)>& store) {
    const SpinChunking how = from_root(root_how, comm_, rank_);
    if (how.dims.empty()) {
        if (rank_ == 0) return;  // the root throws its own error
        throw Error("mpi: rank " + std::to_string(rank_) + " stops: rank 0 could not make a state in its file",
                    exit_code::io);
    }
    if (how.value_bytes != int(sizeof(Real)) || how.dims[0] != std::uint64_t(slab_.rows))
        throw Error("mpi: the file's spins are not this run's lattice and precision", exit_code::io);
    const std::size_t rank = how.dims.size();
    const std::uint64_t rows = how.dims[0], c0 = how.chunk[0], row_values = 3 * std::uint64_t(slab_.row_sites);

    // Every rank's rows, and the rows of the chunks it compresses: from the
    // first chunk start at or after its first row to the next rank's.
    std::vector<long long> ends(2 * std::size_t(ranks_));
    const long long mine[2] = {(long long)slab_.begin, (long long)slab_.end};
    MPI_Allgather(mine, 2, MPI_LONG_LONG, ends.data(), 2, MPI_LONG_LONG, comm_);
    auto up = [&](std::uint64_t r) { return std::min(rows, (r + c0 - 1) / c0 * c0); };
    std::vector<std::uint64_t> lo(static_cast<std::size_t>(ranks_)), hi(static_cast<std::size_t>(ranks_));
    for (int q = 0; q < ranks_; ++q) {
        lo[q] = up(std::uint64_t(ends[2 * q]));
        hi[q] = std::max(lo[q], up(std::uint64_t(ends[2 * q + 1])));
    }
    const std::uint64_t b = std::uint64_t(slab_.begin), e = std::uint64_t(slab_.end);
    std::vector<int> scount(ranks_, 0), sdispl(ranks_, 0), rcount(ranks_, 0), rdispl(ranks_, 0);
    for (int q = 0; q < ranks_; ++q) {
        if (q == rank_) continue;  // the rows that stay are copied below
        const std::uint64_t s0 = std::max(b, lo[q]), s1 = std::min(e, hi[q]);
        if (s1 > s0) { scount[q] = int(s1 - s0); sdispl[q] = int(s0 - b); }
        const std::uint64_t r0 = std::max(std::uint64_t(ends[2 * q]), lo[rank_]),
                            r1 = std::min(std::uint64_t(ends[2 * q + 1]), hi[rank_]);
        if (r1 > r0) { rcount[q] = int(r1 - r0); rdispl[q] = int(r0 - lo[rank_]); }
    }
    const std::uint64_t my_lo = lo[rank_], my_hi = hi[rank_];
    std::vector<Real> moved;
    const Real* block = staged_.data();  // rows [my_lo, my_hi), as many as are in place
    if (my_lo != b || my_hi != e) {
        moved.resize(std::size_t((my_hi - my_lo) * row_values));
        const std::uint64_t k0 = std::max(b, my_lo), k1 = std::min(e, my_hi);
        if (k1 > k0)
            std::copy_n(staged_.data() + (k0 - b) * row_values, std::size_t((k1 - k0) * row_values),
                        moved.data() + (k0 - my_lo) * row_values);
        block = moved.data();
    }
    MPI_Datatype row;
    MPI_Type_contiguous(int(row_values), sizeof(Real) == 8 ? MPI_DOUBLE : MPI_FLOAT, &row);
    MPI_Type_commit(&row);
    Real none = 0;
    MPI_Alltoallv(staged_.empty() ? &none : staged_.data(), scount.data(), sdispl.data(), row,
                  moved.empty() ? &none : moved.data(), rcount.data(), rdispl.data(), row, comm_);
    MPI_Type_free(&row);

    // This rank's chunks, through the filters on its threads.
    const FilteredChunks all = filter_chunks(block, my_lo, how, my_lo, my_hi);
    moved = std::vector<Real>();
    const std::int64_t count = std::int64_t(all.count());

    // Batches of whole chunks, at most batch_bytes_ (or one chunk): chunks
    // [from, to), which next_batch returns; rank 0 stores its own, then every
    // other rank's in rank order.
    auto next_batch = [&](std::int64_t from) {
        std::int64_t to = from;
        for (std::uint64_t bytes = 0; to < count && (to == from || bytes + all.size[to] <= batch_bytes_); ++to)
            bytes += all.size[to];
        return to;
    };
    auto end_of = [&](std::int64_t to) { return all.at[to - 1] + all.size[to - 1]; };  // after chunk to - 1
    long long n_mine = count;
    std::vector<long long> counts(static_cast<std::size_t>(ranks_));
    MPI_Gather(&n_mine, 1, MPI_LONG_LONG, counts.data(), 1, MPI_LONG_LONG, 0, comm_);
    if (rank_ != 0) {
        for (std::int64_t from = 0, to; from < count; from = to) {
            to = next_batch(from);
            std::vector<unsigned long long> head{std::uint64_t(to - from)};  // chunks, then origins, then sizes
            head.insert(head.end(), all.origin.begin() + std::ptrdiff_t(rank * std::size_t(from)),
                        all.origin.begin() + std::ptrdiff_t(rank * std::size_t(to)));
            head.insert(head.end(), all.size.begin() + from, all.size.begin() + to);
            MPI_Send(head.data(), int(head.size()), MPI_UNSIGNED_LONG_LONG, 0, kTagHead, comm_);
            MPI_Send(all.bytes.data() + all.at[from], int(end_of(to) - all.at[from]), MPI_BYTE, 0, kTagBytes, comm_);
        }
        return;
    }
    FilteredChunks fc;
    for (std::int64_t from = 0, to; from < count; from = to) {
        to = next_batch(from);
        const std::uint64_t begin = all.at[from];
        fc.bytes.assign(all.bytes.begin() + std::ptrdiff_t(begin), all.bytes.begin() + std::ptrdiff_t(end_of(to)));
        fc.origin.assign(all.origin.begin() + std::ptrdiff_t(rank * std::size_t(from)),
                         all.origin.begin() + std::ptrdiff_t(rank * std::size_t(to)));
        fc.size.assign(all.size.begin() + from, all.size.begin() + to);
        fc.at.clear();
        for (std::int64_t i = from; i < to; ++i) fc.at.push_back(all.at[i] - begin);
        store(fc);
    }
    for (int q = 1; q < ranks_; ++q) {
        for (long long left = counts[q]; left > 0;) {
            MPI_Status st;
            int n = 0;
            MPI_Probe(q, kTagHead, comm_, &st);
            MPI_Get_count(&st, MPI_UNSIGNED_LONG_LONG, &n);
            std::vector<unsigned long long> head(static_cast<std::size_t>(n));
            MPI_Recv(head.data(), n, MPI_UNSIGNED_LONG_LONG, q, kTagHead, comm_, MPI_STATUS_IGNORE);
            const std::size_t k = std::size_t(head[0]);
            fc.origin.assign(head.begin() + 1, head.begin() + 1 + std::ptrdiff_t(rank * k));
            fc.size.assign(head.begin() + 1 + std::ptrdiff_t(rank * k), head.end());
            fc.at.assign(k, 0);
            std::uint64_t total = 0;
            for (std::size_t j = 0; j < k; ++j) { fc.at[j] = total; total += fc.size[j]; }
            fc.bytes.resize(std::size_t(total));
            MPI_Recv(fc.bytes.data(), int(total), MPI_BYTE, q, kTagBytes, comm_, MPI_STATUS_IGNORE);
            store(fc);
            left -= (long long)k;
        }
    }
}

template void SlabDomain<float>::write_staged_compressed(const SpinChunking&,
                                                         const std::function<void(const FilteredChunks&)>&);
template void SlabDomain<double>::write_staged_compressed(const SpinChunking&,
                                                          const std::function<void(const FilteredChunks&)>&);

}  // namespace xyzmf
