// A sparse matrix stored by rows with each non-zero as one 32-bit word: its
// column, shifted past the index of its value in a table of the distinct
// values. A symmetry sector's L has few distinct values among tens of
// millions of non-zeros (the ring of 12 at (2, 0.6, 1): 44 in the real k = 0
// sector, 210 in a complex one, among 3.9e7 and 2.0e7), so 4 bytes a
// non-zero replace Eigen's 12 (real) or 20 (complex). The Liouvillian gap's
// Arnoldi spends its time in these products (src/quantum/slow_modes.cpp); on
// the 2-core development machine a ring of 12's product is 1.2-1.9x faster
// packed. Here (include/) because a CUDA device takes the same packed form
// (include/xyzmf/packed_filter.hpp).
#pragma once

#include <Eigen/SparseCore>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <map>
#include <type_traits>
#include <utility>
#include <vector>

namespace xyzmf {

template <class Scalar>
class PackedRows {
public:
    // Packs A (row-major) when its columns and its values' codes fit in 32
    // bits together; fits() says whether they did (if not, nothing is kept).
    template <class Matrix>
    explicit PackedRows(const Matrix& A) : rows_(A.rows()) {
        std::map<std::pair<double, double>, std::uint32_t> code;
        std::vector<std::uint32_t> codes;
        codes.reserve(std::size_t(A.nonZeros()));
        for (Eigen::Index r = 0; r < A.outerSize(); ++r)
            for (typename Matrix::InnerIterator it(A, r); it; ++it) {
                const std::complex<double> v(it.value());
                const auto found = code.emplace(std::make_pair(v.real(), v.imag()), std::uint32_t(table_.size()));
                if (found.second) table_.push_back(it.value());
                codes.push_back(found.first->second);
            }
        while ((std::size_t(1) << shift_) < table_.size()) ++shift_;
        if (shift_ >= 32 || std::uint64_t(A.cols()) > (std::uint64_t(1) << (32 - shift_))) {
            table_.clear();
            return;
        }
        start_.reserve(std::size_t(rows_) + 1);
        start_.push_back(0);
        words_.reserve(codes.size());
        std::size_t e = 0;
        for (Eigen::Index r = 0; r < A.outerSize(); ++r) {
            for (typename Matrix::InnerIterator it(A, r); it; ++it, ++e)
                words_.push_back(std::uint32_t(it.col()) << shift_ | codes[e]);
            start_.push_back(std::int64_t(words_.size()));
        }
        fits_ = true;
    }

    bool fits() const { return fits_; }
    Eigen::Index rows() const { return rows_; }
    // The packed form itself, for a device's copy (include/xyzmf/packed_filter.hpp):
    // row r's words are words()[start()[r] .. start()[r + 1]), each column << shift() | code.
    const std::vector<std::int64_t>& start() const { return start_; }
    const std::vector<std::uint32_t>& words() const { return words_; }
    const std::vector<Scalar>& table() const { return table_; }
    int shift() const { return shift_; }

    // y = A x, each row summed in column order (Eigen's order). Complex
    // products written out: std::complex's operator* calls a library routine
    // for its infinities (__muldc3), as slow as the memory traffic saved.
    void multiply(const Scalar* x, Scalar* y) const {
        const Scalar* table = table_.data();
        const std::uint32_t mask = (std::uint32_t(1) << shift_) - 1;
        for (Eigen::Index r = 0; r < rows_; ++r) {
            double re = 0, im = 0;
            for (std::int64_t k = start_[std::size_t(r)]; k < start_[std::size_t(r) + 1]; ++k) {
                const std::uint32_t w = words_[std::size_t(k)];
                const Scalar a = table[w & mask], b = x[w >> shift_];
                if constexpr (kComplex) {
                    re += a.real() * b.real() - a.imag() * b.imag();
                    im += a.real() * b.imag() + a.imag() * b.real();
                } else {
                    re += a * b;
                }
            }
            if constexpr (kComplex) y[r] = Scalar(re, im);
            else y[r] = re;
        }
    }

private:
    static constexpr bool kComplex = !std::is_same_v<Scalar, double>;
    Eigen::Index rows_ = 0;
    bool fits_ = false;
    int shift_ = 0;  // bits of a value's code
    std::vector<Scalar> table_;
    std::vector<std::int64_t> start_;
    std::vector<std::uint32_t> words_;
};

}  // namespace xyzmf
