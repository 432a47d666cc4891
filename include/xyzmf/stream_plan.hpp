// Geometry of the streaming RK4 pass (include/xyzmf/stream_rk4.hpp): how a
// lattice is cut into work items of lanes walking down streams of rows.
// Separate from the pass itself so that FusedPlan can carry it.
#pragma once

#include <algorithm>
#include <cstddef>

#include "xyzmf/lattice.hpp"

namespace xyzmf {

// RK4 steps a streaming pass may fuse: its kernels are compiled for 1 and 2.
constexpr int kMaxStreamSteps = 2;

inline index_t stream_ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// Geometry of one streaming pass. Made on the host by make_stream_plan.
struct StreamPlan {
    int dim = 2;
    int steps = 1;            // RK4 steps per pass: 4 * steps pipelined stages
    int halo = 4;             // 4 * steps
    int nx = 32, ny = 1;      // lanes of an item: x (and y in 3D)
    int tx = 24, ty = 1;      // output tile: the lanes an item stores (1D: nx, every lane)
    index_t tiles_x = 1, tiles_y = 1;
    index_t stream_len = 1;   // rows of a stream: Ly (2D), Lz (3D), rows of nx sites per ring (1D)
    index_t streams = 1;      // layers (2D), copies (1D, 3D)
    index_t chunk = 1;        // output rows per item
    index_t chunks = 1;
    int ahead = 2;            // GPU: rows whose loads are in flight ahead of the pipeline (1 or 2)
    XYZMF_HD index_t items() const { return streams * chunks * tiles_y * tiles_x; }
    XYZMF_HD int lanes() const { return nx * ny; }
};

// The lanes of an item, nx (x ny in 3D), for `steps` RK4 steps per pass in
// Real of `real_size` bytes: the CUDA kernel's defaults (cuda_backend.cpp says
// why), which the CPU's emulation of the pass (cpu_backend.cpp) takes too, so
// that the tests run the pipeline the GPU runs. 1D: a warp of a ring's rows; 2D:
// one warp of x at one step per pass, four at two (the halo takes 16 lanes);
// 3D: a patch of 32 x 12 in double, 32 x 16 in float. A 3D patch holds one
// step's halo only: asked for two, make_stream_plan gives steps = 0 and the
// backends plan one.
struct StreamLanes {
    int nx, ny;
};
inline StreamLanes stream_lanes(int dim, int steps, std::size_t real_size) {
    if (dim == 2) return {steps == 1 ? 32 : 128, 1};
    if (dim == 3) return {32, real_size == 8 ? 12 : 16};
    return {32, 1};
}

// Cuts `lat` into items of nx (x ny) lanes for `steps` RK4 steps per pass, in
// chunks of rows such that there are at least min_items items where streams
// are long enough for chunks of min_chunk rows. steps = 0 in the result: the
// halo leaves no lane to store (nx or ny <= 2 * halo). Host only.
inline StreamPlan make_stream_plan(const Lattice& lat, int steps, int nx, int ny, index_t min_items,
                                   index_t min_chunk) {
    StreamPlan P;
    P.dim = lat.dim;
    P.steps = steps;
    P.halo = 4 * steps;
    P.nx = nx;
    P.ny = lat.dim == 3 ? ny : 1;
    const index_t Lx = lat.L[0], Ly = lat.L[1];
    auto cut = [](index_t L, int width, int& t, index_t& tiles) {  // balanced tiles of at most `width`
        tiles = stream_ceil_div(L, width);
        t = int(stream_ceil_div(L, tiles));
        tiles = stream_ceil_div(L, t);
    };
    switch (lat.dim) {
        case 1:
            P.tx = nx;
            P.stream_len = stream_ceil_div(Lx, nx);
            P.streams = lat.copies;
            break;
        case 2:
            if (nx <= 2 * P.halo) { P.steps = 0; return P; }
            cut(Lx, nx - 2 * P.halo, P.tx, P.tiles_x);
            P.stream_len = Ly;
            P.streams = lat.layers();
            break;
        default:
            if (nx <= 2 * P.halo || P.ny <= 2 * P.halo) { P.steps = 0; return P; }
            cut(Lx, nx - 2 * P.halo, P.tx, P.tiles_x);
            cut(Ly, P.ny - 2 * P.halo, P.ty, P.tiles_y);
            P.stream_len = lat.L[2];
            P.streams = lat.copies;
            break;
    }
    const index_t per_chunk = P.streams * P.tiles_x * P.tiles_y;
    index_t chunks = stream_ceil_div(min_items, per_chunk);
    chunks = std::min(chunks, std::max<index_t>(1, P.stream_len / std::max<index_t>(1, min_chunk)));
    chunks = std::max<index_t>(1, std::min(chunks, P.stream_len));
    P.chunk = stream_ceil_div(P.stream_len, chunks);
    P.chunks = stream_ceil_div(P.stream_len, P.chunk);
    return P;
}

}  // namespace xyzmf
