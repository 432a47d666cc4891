// The gap filter on a CUDA device (include/xyzmf/packed_filter.hpp): the packed
// sector matrix and four vectors in device memory, one launch per term of the
// series (kernels/quantum_kernels.cu), the vector in and the result out.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdlib>
#include <complex>
#include <string>
#include <type_traits>

#include "cuda_check.hpp"
#include "quantum_drivers.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/packed_filter.hpp"

namespace xyzmf {
namespace {

using cuda_check::check;
using cuda_check::check_driver;

// The device's element for a host Scalar: std::complex<double> is two doubles,
// as Amp is (the standard fixes its layout).
template <class Scalar>
using Device = std::conditional_t<std::is_same_v<Scalar, double>, double, Amp>;
static_assert(sizeof(Amp) == sizeof(std::complex<double>));

template <class Scalar>
class CudaPackedFilter final : public PackedFilter<Scalar> {
    using T = Device<Scalar>;

public:
    CudaPackedFilter(const PackedRows<Scalar>& A, const ChebyshevSeries& s)
        : rows_(A.rows()), shift_(A.shift()), series_(s) {
        if (!A.fits()) throw Error("gap on the GPU: the sector matrix is not packed (internal error)");
        if (s.a.size() < 2) throw Error("gap on the GPU: a series of fewer than two terms (internal error)");
        int device = 0;
        check(cudaGetDevice(&device), "cudaGetDevice");
        cudaDeviceProp prop;
        check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
        // XYZMF_GAP_LANES=L (1, 2, 4, 8, 16, 32): threads a row of the products;
        // 1 until a device session has measured the others (tools/gpu-check.sh).
        if (const char* e = std::getenv("XYZMF_GAP_LANES")) {
            const int l = std::atoi(e);
            if (l == 1 || l == 2 || l == 4 || l == 8 || l == 16 || l == 32) lanes_ = l;
        }
        description_ = "cuda (" + std::string(prop.name) + (lanes_ > 1 ? ", " + std::to_string(lanes_) + " lanes a row" : "") + ")";
        centre_ = to_device(Scalar(real_or_complex(s.centre)));
        try {
            start_ = copy(A.start(), "cudaMalloc (sector matrix)");
            words_ = copy(A.words(), "cudaMalloc (sector matrix)");
            table_ = reinterpret_cast<T*>(copy(A.table(), "cudaMalloc (sector matrix)"));
            for (T*& v : vectors_) check(cudaMalloc(reinterpret_cast<void**>(&v), std::size_t(rows_) * sizeof(T)),
                                         "cudaMalloc (filter vectors)");
        } catch (...) {
            release();
            throw;
        }
    }
    ~CudaPackedFilter() override { release(); }

    std::string description() const override { return description_; }

    // As SectorPropagator::perform_op on the host (slow_modes.cpp):
    // p1 = (A p0 - c p0) / beta, sum = a_0 p0 + a_1 p1; then
    // p2 = 2 (A p1 - c p1) / beta + p0, sum += a_k p2.
    void apply(const Scalar* x, Scalar* y) override {
        T *p0 = vectors_[0], *p1 = vectors_[1], *p2 = vectors_[2], *sum = vectors_[3];
        const std::size_t bytes = std::size_t(rows_) * sizeof(T);
        check(cudaMemcpy(p0, x, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (filter input)");
        const std::vector<double>& a = series_.a;
        const double scale = series_.inverse_beta;
        cuda::launch_chebyshev_term(rows_, start_, words_, table_, shift_, p0, nullptr, p1, sum, centre_, scale, a[1],
                                    a[0], true, lanes_);
        for (std::size_t k = 2; k < a.size(); ++k) {
            cuda::launch_chebyshev_term(rows_, start_, words_, table_, shift_, p1, p0, p2, sum, centre_, 2 * scale,
                                        a[k], 0.0, false, lanes_);
            std::swap(p0, p1);  // p0 <- p1, p1 <- p2, and the old p0's buffer takes the next term
            std::swap(p1, p2);
        }
        check_driver("gap filter");
        check(cudaMemcpy(y, sum, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (filter output)");
    }

private:
    static auto real_or_complex(std::complex<double> c) {
        if constexpr (std::is_same_v<Scalar, double>) return c.real();
        else return c;
    }
    static T to_device(const Scalar& v) {
        if constexpr (std::is_same_v<Scalar, double>) return v;
        else return Amp(v.real(), v.imag());
    }
    template <class U>
    static U* copy(const std::vector<U>& v, const char* what) {
        void* p = nullptr;
        check(cudaMalloc(&p, std::max<std::size_t>(1, v.size()) * sizeof(U)), what);
        const cudaError_t err = cudaMemcpy(p, v.data(), v.size() * sizeof(U), cudaMemcpyHostToDevice);
        if (err != cudaSuccess) cudaFree(p);
        check(err, "cudaMemcpy (sector matrix)");
        return static_cast<U*>(p);
    }
    void release() {
        for (void* p : {(void*)start_, (void*)words_, (void*)table_, (void*)vectors_[0], (void*)vectors_[1],
                        (void*)vectors_[2], (void*)vectors_[3]})
            if (p) cudaFree(p);
        cudaGetLastError();
    }

    std::int64_t rows_;
    int shift_;
    int lanes_ = 1;
    ChebyshevSeries series_;
    T centre_{};
    std::string description_;
    std::int64_t* start_ = nullptr;
    std::uint32_t* words_ = nullptr;
    T* table_ = nullptr;
    T* vectors_[4] = {nullptr, nullptr, nullptr, nullptr};
};

template <class Scalar>
std::unique_ptr<PackedFilter<Scalar>> make_filter(const PackedRows<Scalar>& A, const ChebyshevSeries& s) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        cudaGetLastError();
        throw Error("--backend cuda: no CUDA device is available on this machine");
    }
    return std::make_unique<CudaPackedFilter<Scalar>>(A, s);
}

}  // namespace

std::unique_ptr<PackedFilter<double>> make_cuda_packed_filter(const PackedRows<double>& A, const ChebyshevSeries& s) {
    return make_filter(A, s);
}
std::unique_ptr<PackedFilter<std::complex<double>>> make_cuda_packed_filter(const PackedRows<std::complex<double>>& A,
                                                                            const ChebyshevSeries& s) {
    return make_filter(A, s);
}

}  // namespace xyzmf
