// HDF5's shuffle and deflate filters, chunk by chunk on every thread
// (chunk_filters.hpp).
#include "chunk_filters.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "hdf5.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {

namespace {

// The box of `chunk` values from `origin` of an array of shape `dims` (row
// major), rows counted from `first_row` on the slowest axis, copied into
// `out` (the chunk's shape, row major); what lies outside the array is zero
// (the edge chunks are whole chunks in the file too).
template <class Real>
void cut_chunk(const Real* a, const std::vector<std::uint64_t>& dims, std::uint64_t first_row,
               const std::vector<std::uint64_t>& origin, const std::vector<std::uint64_t>& chunk, Real* out) {
    const std::size_t n = dims.size();
    // The innermost axes a chunk covers whole are one contiguous run.
    std::size_t inner = n;
    std::uint64_t run = 1;
    while (inner > 1 && chunk[inner - 1] == dims[inner - 1] && origin[inner - 1] == 0) run *= dims[--inner];
    const std::size_t axis = inner - 1;  // the last axis cut, then run values a step along it
    std::vector<std::uint64_t> stride(n, 1), cstride(n, 1);
    for (std::size_t k = n - 1; k > 0; --k) {
        stride[k - 1] = stride[k] * dims[k];
        cstride[k - 1] = cstride[k] * chunk[k];
    }
    std::uint64_t total = 1;
    for (auto c : chunk) total *= c;
    std::fill(out, out + total, Real(0));
    std::vector<std::uint64_t> i(axis, 0);  // index within the chunk over axes [0, axis)
    const std::uint64_t along = std::min(chunk[axis], dims[axis] - origin[axis]);
    for (;;) {
        bool inside = true;
        std::uint64_t src = 0, dst = 0;
        for (std::size_t k = 0; k < axis; ++k) {
            const std::uint64_t g = origin[k] + i[k];
            inside = inside && g < dims[k];
            src += (k == 0 ? g - first_row : g) * stride[k];
            dst += i[k] * cstride[k];
        }
        if (inside) {
            src += (axis == 0 ? origin[0] - first_row : origin[axis]) * stride[axis];
            std::memcpy(out + dst, a + src, std::size_t(along * run) * sizeof(Real));
        }
        std::size_t k = axis;
        while (k > 0 && ++i[k - 1] == chunk[k - 1]) i[--k] = 0;
        if (k == 0) break;
    }
}

// HDF5's shuffle filter: byte b of every value together, b = 0, 1, ...
void shuffle_bytes(const unsigned char* in, std::size_t values, int size, unsigned char* out) {
    for (std::size_t v = 0; v < values; ++v)
        for (int b = 0; b < size; ++b) out[std::size_t(b) * values + v] = in[v * std::size_t(size) + std::size_t(b)];
}

}  // namespace

template <class Real>
FilteredChunks filter_chunks(const Real* rows, std::uint64_t first_row, const SpinChunking& how,
                             std::uint64_t first_chunk_row, std::uint64_t end_chunk_row) {
    const std::size_t rank = how.dims.size();
    const std::uint64_t c0 = how.chunk[0];
    std::vector<std::uint64_t> grid(rank, 1);
    std::uint64_t per_row = 1, chunk_values = 1;
    for (std::size_t a = 0; a < rank; ++a) chunk_values *= how.chunk[a];
    for (std::size_t a = 1; a < rank; ++a) {
        grid[a] = (how.dims[a] + how.chunk[a] - 1) / how.chunk[a];
        per_row *= grid[a];
    }
    const std::int64_t count =
        end_chunk_row > first_chunk_row ? std::int64_t((end_chunk_row - first_chunk_row + c0 - 1) / c0 * per_row) : 0;
    FilteredChunks out;
    out.origin.resize(rank * std::size_t(count));
    // Chunks appended in order (a file's layout does not depend on the threads),
    // each as soon as it and those before it are deflated: no chunk is held
    // twice. The reserved bytes beyond what is appended are never touched, so
    // they take address space, not memory.
    const std::size_t bound = compressBound(uLong(chunk_values * sizeof(Real)));
    out.bytes.reserve(bound * std::size_t(count));
    out.at.reserve(std::size_t(count));
    out.size.reserve(std::size_t(count));
    int failed = Z_OK;
#pragma omp parallel reduction(min : failed)
    {
        std::vector<Real> values(static_cast<std::size_t>(chunk_values));
        std::vector<unsigned char> shuffled(values.size() * sizeof(Real)), bytes(bound);
#pragma omp for ordered schedule(dynamic)
        for (std::int64_t i = 0; i < count; ++i) {
            std::vector<std::uint64_t> at(rank);
            std::uint64_t rest = std::uint64_t(i) % per_row;
            at[0] = first_chunk_row + std::uint64_t(i) / per_row * c0;
            for (std::size_t a = rank; a-- > 1;) {
                at[a] = rest % grid[a] * how.chunk[a];
                rest /= grid[a];
            }
            std::copy(at.begin(), at.end(), out.origin.begin() + std::ptrdiff_t(rank * std::size_t(i)));
            cut_chunk(rows, how.dims, first_row, at, how.chunk, values.data());
            shuffle_bytes(reinterpret_cast<const unsigned char*>(values.data()), values.size(), int(sizeof(Real)),
                          shuffled.data());
            uLongf n = uLongf(bytes.size());
            const int rc = compress2(bytes.data(), &n, shuffled.data(), uLong(shuffled.size()), how.level);
            if (rc != Z_OK) failed = std::min(failed, rc);
#pragma omp ordered
            {
                out.at.push_back(out.bytes.size());
                out.size.push_back(n);
                out.bytes.insert(out.bytes.end(), bytes.begin(), bytes.begin() + std::ptrdiff_t(n));
            }
        }
    }
    if (failed != Z_OK)
        throw Error("could not compress values for the file (zlib error " + std::to_string(failed) + ")", exit_code::io);
    return out;
}

template FilteredChunks filter_chunks(const float*, std::uint64_t, const SpinChunking&, std::uint64_t, std::uint64_t);
template FilteredChunks filter_chunks(const double*, std::uint64_t, const SpinChunking&, std::uint64_t, std::uint64_t);

SpinChunking chunking_of(hid_t dataset, const std::vector<hsize_t>& dims, int level, int value_bytes,
                         const std::string& what) {
    SpinChunking how;
    how.dims.assign(dims.begin(), dims.end());
    for (hsize_t c : h5::chunk_shape(dataset, what)) how.chunk.push_back(c);
    how.level = level;
    how.value_bytes = value_bytes;
    return how;
}

void store_filtered_chunks(hid_t dataset, const FilteredChunks& chunks, const std::string& what) {
    if (chunks.count() == 0) return;
    const std::size_t rank = chunks.origin.size() / chunks.count();
    std::vector<hsize_t> origin(rank);
    for (std::size_t i = 0; i < chunks.count(); ++i) {
        for (std::size_t a = 0; a < rank; ++a) origin[a] = chunks.origin[rank * i + a];
        h5::write_raw_chunk(dataset, origin.data(), chunks.bytes.data() + chunks.at[i], std::size_t(chunks.size[i]), what);
    }
}

template <class Real>
void write_filtered(hid_t dataset, const SpinChunking& how, const Real* values, const std::string& what) {
    std::uint64_t row_values = 1;
    for (std::size_t a = 1; a < how.dims.size(); ++a) row_values *= how.dims[a];
    const std::uint64_t rows = how.dims.empty() ? 0 : how.dims[0], c0 = how.chunk[0];
    const std::uint64_t step =
        std::max<std::uint64_t>(1, (std::uint64_t(64) << 20) / std::max<std::uint64_t>(1, row_values * sizeof(Real)) / c0) * c0;
    for (std::uint64_t r = 0; r < rows; r += step)
        store_filtered_chunks(dataset, filter_chunks(values, 0, how, r, std::min(rows, r + step)), what);
}

template void write_filtered(hid_t, const SpinChunking&, const float*, const std::string&);
template void write_filtered(hid_t, const SpinChunking&, const double*, const std::string&);

void write_deflated_doubles(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const double* values,
                            int level) {
    hsize_t n = 1;
    for (hsize_t x : dims) n *= x;
    if (n == 0) {  // HDF5 cannot chunk an empty dataset: create_array leaves it contiguous
        h5::write_array(loc, name, dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, values, level);
        return;
    }
    h5::Id d = h5::create_array(loc, name, dims, H5T_IEEE_F64LE, level);
    write_filtered(d, chunking_of(d, dims, level, 8, name), values, name);
}

}  // namespace xyzmf
