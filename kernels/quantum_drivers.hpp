// Host entry points of the quantum kernels (kernels/quantum_kernels.cu), in
// plain C++ for src/backends/trajectory_cuda.cpp and packed_filter_cuda.cpp.
// Every pointer is device memory; B trajectories of 2^N amplitudes are stored
// one after the other.
// Like cuda_drivers.hpp, they never throw: failures are recorded for
// take_driver_error(). All run on the legacy default stream, in call order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cuda_drivers.hpp"
#include "xyzmf/spin_operators.hpp"

namespace xyzmf {
namespace cuda {

// term = series_term(psi, h_b); out = psi + term   (h_b <= 0: untouched)
void launch_series_first(const SpinModel& m, const Amp* psi, Amp* term, Amp* out, const double* h, int B) noexcept;
// next = series_term(term, h_b / k); out += next; last: out *= exp(-shift h_b)
void launch_series_next(const SpinModel& m, const Amp* term, Amp* next, Amp* out, const double* h, int k, bool last,
                        int B) noexcept;
void launch_scale_out(const SpinModel& m, Amp* out, const double* h, int B) noexcept;
// psi_b = out_b where take_b
void launch_accept(const SpinModel& m, Amp* psi, const Amp* out, const int* take, int B) noexcept;
// psi_b = scale_b J_channel psi_b
void launch_jump(const SpinModel& m, Amp* psi, const int* channel, const double* scale, int B) noexcept;

// Deterministic sums (block partials in fixed order): result has B * V values.
// V = 1: |x_b|^2; V = N: populations; V = 3N: correlations (want_b = 0 gives zeros).
std::size_t trajectory_scratch_doubles(const SpinModel& m, int B) noexcept;
void reduce_norms(const SpinModel& m, const Amp* x, int B, double* scratch, double* result) noexcept;
void reduce_populations(const SpinModel& m, const Amp* psi, int B, double* scratch, double* result) noexcept;
void reduce_correlations(const SpinModel& m, const Amp* psi, const int* want, const int* partners, int B,
                         double* scratch, double* result) noexcept;

// One term of the Liouvillian gap filter's Chebyshev series over a sector
// matrix packed one word a non-zero (include/xyzmf/packed_filter.hpp: rows,
// row starts, words column << shift | code, the table of values):
//   out = scale (A x - centre x) + prev    (prev may be null)
//   sum = (first ? a_x x : sum) + a out
// with `lanes` threads a row (1, 2, 4, 8, 16 or 32; 1: the host's order of summation).
void launch_chebyshev_term(std::int64_t rows, const std::int64_t* start, const std::uint32_t* words,
                           const double* table, int shift, const double* x, const double* prev, double* out,
                           double* sum, double centre, double scale, double a, double a_x, bool first,
                           int lanes) noexcept;
void launch_chebyshev_term(std::int64_t rows, const std::int64_t* start, const std::uint32_t* words, const Amp* table,
                           int shift, const Amp* x, const Amp* prev, Amp* out, Amp* sum, Amp centre, double scale,
                           double a, double a_x, bool first, int lanes) noexcept;

}  // namespace cuda
}  // namespace xyzmf
