// The streaming RK4 pass (include/xyzmf/stream_rk4.hpp) on the CPU: one
// thread runs every lane of an item, each lane an element of small arrays, so
// the tests check the pipeline, its rings, halos, chunks and stores that the
// CUDA kernel runs (kernels/stream_kernels.cu), on machines without a GPU.
// The per-site arithmetic is scalar code per lane, the same expressions as
// the four-sweep path. Not tuned for speed: the CPU's own fused pass is the tiled one.
#pragma once

#include "xyzmf/stream_rk4.hpp"

namespace xyzmf {

// N lanes' worth of a T (only the first `lanes` of them used).
template <class T, int N>
struct Lanes {
    T v[N];
};

template <int N>
struct CpuStreamTeam {
    int nx = 1, ny = 1;  // the item's cross-section; nx * ny <= N

    template <class T>
    using Value = Lanes<T, N>;
    template <class T>
    static T& at(Lanes<T, N>& v, int l) { return v.v[l]; }
    template <class T>
    static const T& at(const Lanes<T, N>& v, int l) { return v.v[l]; }

    template <class F>
    void for_each_lane(F&& f) const {
        const int n = nx * ny;
        for (int l = 0; l < n; ++l) f(l);
    }
    int lx(int l) const { return l % nx; }
    int ly(int l) const { return l / nx; }

    // Neighbouring lanes; a lane at an edge of the item takes its own value
    // there (as a GPU lane does from a shuffle past the warp's end).
    template <int Dim, class Vec>
    void lateral(const Vec& rm, const Vec& c, const Vec& rp, Vec& xm, Vec& xp, Vec& ym, Vec& yp) const {
        auto copy = [](Vec& dst, int l, const Vec& src, int k) {
            dst.x.v[l] = src.x.v[k];
            dst.y.v[l] = src.y.v[k];
            dst.z.v[l] = src.z.v[k];
        };
        for_each_lane([&](int l) {
            const int x = lx(l), y = ly(l);
            if (Dim == 1) {  // rows chain: lane 0's left is the previous row's last lane
                if (x > 0) copy(xm, l, c, l - 1); else copy(xm, l, rm, nx - 1);
                if (x < nx - 1) copy(xp, l, c, l + 1); else copy(xp, l, rp, 0);
                return;
            }
            copy(xm, l, c, x > 0 ? l - 1 : l);
            copy(xp, l, c, x < nx - 1 ? l + 1 : l);
            if (Dim == 3) {
                copy(ym, l, c, y > 0 ? l - nx : l);
                copy(yp, l, c, y < ny - 1 ? l + nx : l);
            }
        });
    }
};

}  // namespace xyzmf
