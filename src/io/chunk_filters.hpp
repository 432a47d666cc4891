// Compressed spins (--compress) put through HDF5's filters by xyzmf itself, a
// chunk per task on every thread: byte shuffle, then zlib's deflate, exactly
// as HDF5's shuffle and deflate filters do it (the bytes are the same), for
// the file to store as they are (h5::write_raw_chunk). HDF5 runs its filters
// on the one thread that writes; deflate, at tens of MB/s a core, then took
// several times as long as the steps between snapshots.
#pragma once

#include <cstdint>
#include <vector>

#include "run_sink.hpp"

namespace xyzmf {

// The chunks of an array of shape `how.dims` (row major, slowest axis first)
// whose first row along the slowest axis lies in [first_chunk_row,
// end_chunk_row) (multiples of how.chunk[0], or the array's end), every chunk
// of the faster axes, from `rows`: the array's rows from `first_row` on, as
// many as those chunks cover. Edge chunks are whole chunks, zero beyond the
// array, as HDF5 stores them. Throws xyzmf::Error (exit code io) if zlib fails.
template <class Real>
FilteredChunks filter_chunks(const Real* rows, std::uint64_t first_row, const SpinChunking& how,
                             std::uint64_t first_chunk_row, std::uint64_t end_chunk_row);

}  // namespace xyzmf
