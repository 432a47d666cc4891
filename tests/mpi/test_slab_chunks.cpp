// A compressed state written by the ranks (SlabDomain::write_staged_compressed,
// src/mpi/slab_chunks.cpp): every chunk of the whole lattice reaches rank 0
// exactly once, and undoing its filters (inflate, then unshuffle) gives the
// state's values in the chunk's box, zero beyond the lattice's edge. Chunk
// shapes are the test's own: chunks thicker than a slab (their rows come from
// several ranks, and some ranks compress nothing), thinner ones, chunks that
// also cut the faster axes with ragged edges; batches of one chunk each.
// (tests/mpi_run_test.sh checks the file `xyzmf run --compress` writes over
// MPI against the serial file, chunk bytes and all.)
#include <gtest/gtest.h>
#include <mpi.h>
#include <zlib.h>

#include <cstring>
#include <map>
#include <vector>

#include "box.hpp"
#include "initial_state.hpp"
#include "slab.hpp"

namespace xyzmf::test {
namespace {

// The value at a global index tuple (slowest axis first, component last) of a
// host state in x, y, z blocks.
double value_at(const HostState& s, const Lattice& lat, const std::vector<std::uint64_t>& at) {
    index_t site = 0;
    for (std::size_t a = 0; a + 1 < at.size(); ++a) {
        const int axis = lat.dim - 1 - int(a);  // dims run z, y, x
        index_t stride = 1;
        for (int k = 0; k < axis; ++k) stride *= lat.L[k];
        site += index_t(at[a]) * stride;
    }
    return s[std::size_t(index_t(at.back()) * lat.sites() + site)];
}

void expect_chunks_are_the_state(const Lattice& lat, const std::vector<std::uint64_t>& chunk) {
    auto be = make_cpu_backend<double>();
    const HostState whole = make_initial_state("random", lat, 5, 0);
    SlabDomain<double> d(*be, MPI_COMM_WORLD, lat, Rk4Stepper::fused, 1);
    d.set_chunk_batch_bytes(1);  // one chunk a batch: rank 0 takes many from each rank
    StateBuffer<double> y(*be, d.local());
    d.set_own_sites(make_initial_sites("random", lat, 5, 0, d.first_owned_site(), d.owned_sites()), y);
    d.stage_own_sites(y);

    SpinChunking how;
    for (int a = lat.dim - 1; a >= 0; --a) how.dims.push_back(std::uint64_t(lat.L[a]));
    how.dims.push_back(3);
    how.chunk = chunk;
    how.level = 1;
    how.value_bytes = 8;
    std::map<std::vector<std::uint64_t>, std::vector<unsigned char>> got;
    std::size_t batches = 0, repeated = 0;
    d.write_staged_compressed(d.root() ? how : SpinChunking{}, [&](const FilteredChunks& fc) {
        ++batches;
        const std::size_t r = how.dims.size();
        for (std::size_t i = 0; i < fc.count(); ++i) {
            std::vector<std::uint64_t> o(fc.origin.begin() + std::ptrdiff_t(r * i), fc.origin.begin() + std::ptrdiff_t(r * (i + 1)));
            repeated += got.count(o);
            got[o].assign(fc.bytes.begin() + std::ptrdiff_t(fc.at[i]), fc.bytes.begin() + std::ptrdiff_t(fc.at[i] + fc.size[i]));
        }
    });
    if (!d.root()) return;
    std::size_t expected = 1, values = 1;
    for (std::size_t a = 0; a < chunk.size(); ++a) {
        expected *= std::size_t((how.dims[a] + chunk[a] - 1) / chunk[a]);
        values *= std::size_t(chunk[a]);
    }
    const std::string what = lattice_text(lat) + " over " + std::to_string(d.ranks()) + " ranks";
    EXPECT_EQ(got.size(), expected) << what;
    EXPECT_EQ(repeated, 0u) << what;
    EXPECT_EQ(batches, expected) << what << ": one chunk a batch";
    std::size_t wrong = 0, undecodable = 0;
    for (const auto& [origin, bytes] : got) {
        std::vector<unsigned char> shuffled(values * 8);
        uLongf n = uLongf(shuffled.size());
        if (uncompress(shuffled.data(), &n, bytes.data(), uLong(bytes.size())) != Z_OK || n != shuffled.size()) {
            ++undecodable;
            continue;
        }
        std::vector<std::uint64_t> at(chunk.size(), 0);  // within the chunk, row major
        for (std::size_t v = 0; v < values; ++v) {
            unsigned char raw[8];
            for (int b = 0; b < 8; ++b) raw[b] = shuffled[std::size_t(b) * values + v];
            double x;
            std::memcpy(&x, raw, 8);
            bool inside = true;
            std::vector<std::uint64_t> g(chunk.size());
            for (std::size_t a = 0; a < chunk.size(); ++a) {
                g[a] = origin[a] + at[a];
                inside = inside && g[a] < how.dims[a];
            }
            wrong += x != (inside ? value_at(whole, lat, g) : 0.0);
            for (std::size_t a = chunk.size(); a-- > 0;) {
                if (++at[a] < chunk[a]) break;
                at[a] = 0;
            }
        }
    }
    EXPECT_EQ(undecodable, 0u) << what;
    EXPECT_EQ(wrong, 0u) << what;
}

TEST(SlabChunks, EveryChunkOfTheStateReachesTheRootOnce) {
    expect_chunks_are_the_state(box(1, 61), {7, 3});                // 1D, a ragged last chunk
    expect_chunks_are_the_state(box(2, 37, 45), {29, 37, 3});       // thicker than a slab of 15
    expect_chunks_are_the_state(box(2, 37, 45), {4, 10, 3});        // thinner, cutting x too
    expect_chunks_are_the_state(box(2, 37, 45), {45, 37, 3});       // one chunk: all rows to rank 0
    expect_chunks_are_the_state(box(3, 19, 11, 23), {2, 5, 19, 2}); // cutting y and the components
}

}  // namespace
}  // namespace xyzmf::test
