// Compressed spins (--compress), and the analysis's deflated arrays, put through HDF5's filters by xyzmf itself, a
// chunk per task on every thread: byte shuffle, then zlib's deflate, exactly
// as HDF5's shuffle and deflate filters do it (the bytes are the same), for
// the file to store as they are (h5::write_raw_chunk). HDF5 runs its filters
// on the one thread that writes; deflate, at tens of MB/s a core, then took
// several times as long as the steps between snapshots.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
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

// The chunking of `dataset` (made by h5::create_array with deflate `level`) of shape dims.
SpinChunking chunking_of(hid_t dataset, const std::vector<hsize_t>& dims, int level, int value_bytes,
                         const std::string& what);

// Chunks already through `dataset`'s filters, stored as they are.
void store_filtered_chunks(hid_t dataset, const FilteredChunks& chunks, const std::string& what);

// The whole array `values` (shape how.dims, row major) into `dataset`, made
// chunked with shuffle + deflate at how.level and chunks how.chunk: its chunks
// through filter_chunks about 64 MiB of values at a time, so that the deflated
// bytes held at once stay bounded however large the array.
template <class Real>
void write_filtered(hid_t dataset, const SpinChunking& how, const Real* values, const std::string& what);

// h5::write_array(loc, name, dims, ..., level) for an array of doubles, level
// 1-9, with the same bytes in the file, deflated on every thread instead of
// HDF5's one (the structure factors of a 4096^2 state: 400 MB through deflate).
void write_deflated_doubles(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const double* values,
                            int level);

}  // namespace xyzmf
