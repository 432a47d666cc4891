// The Liouvillian gap's filter (src/quantum/slow_modes.cpp) on a CUDA device:
// a symmetry sector's matrix A, packed one 32-bit word a non-zero
// (PackedRows), held in device memory, and the whole Chebyshev series
//   y = sum_k a_k P_k x,  P_0 = x, P_1 = Y x, P_(k+1) = 2 Y P_k + P_(k-1),
//   Y = (A - centre) / beta
// applied to one vector with one launch per term. Only x and y cross the bus;
// Arnoldi itself stays on the host. The products take one thread a row, or
// with XYZMF_GAP_LANES=L (2-32) L threads a row (CSR-vector: a row's words read
// in fewer transactions, summed in another order); tools/gpu-check.sh times
// both so that a device session can pick the default.
#pragma once

#include <complex>
#include <memory>
#include <string>
#include <vector>

#include "xyzmf/packed_rows.hpp"

namespace xyzmf {

// The series: centre c (real for a real A), 1 / beta and the coefficients a_k
// (at least two).
struct ChebyshevSeries {
    std::complex<double> centre;
    double inverse_beta = 1;
    std::vector<double> a;
};

template <class Scalar>  // double or std::complex<double>
class PackedFilter {
public:
    virtual ~PackedFilter() = default;
    virtual std::string description() const = 0;
    // y = the series applied to x (A.rows() values each, host memory).
    virtual void apply(const Scalar* x, Scalar* y) = 0;
};

// Copies A (which must fit()) to the current CUDA device. Throws xyzmf::Error
// when the build or the machine has no CUDA device, or the device is out of memory.
std::unique_ptr<PackedFilter<double>> make_cuda_packed_filter(const PackedRows<double>& A, const ChebyshevSeries& s);
std::unique_ptr<PackedFilter<std::complex<double>>> make_cuda_packed_filter(const PackedRows<std::complex<double>>& A,
                                                                            const ChebyshevSeries& s);

}  // namespace xyzmf
