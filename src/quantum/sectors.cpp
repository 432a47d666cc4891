// Symmetry sectors of the operator space: enumeration of the orbit
// representatives and L's matrix on them (see sectors.hpp for the algebra).
#include "sectors.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

// The triplets of a sparse matrix whose row r row(r, out) appends: rows shared
// out over the threads (a row's cost varies with its orbit), each thread's
// triplets kept apart and joined at the end.
template <class T, class Row>
std::vector<Eigen::Triplet<T>> gather_rows(std::int64_t n, Row row) {
    std::vector<std::vector<Eigen::Triplet<T>>> parts{std::size_t(omp_get_max_threads())};
#pragma omp parallel
    {
        std::vector<Eigen::Triplet<T>>& out = parts[std::size_t(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 256)
        for (std::int64_t r = 0; r < n; ++r) row(r, out);
    }
    std::vector<Eigen::Triplet<T>> all;
    for (auto& p : parts) all.insert(all.end(), p.begin(), p.end()), std::vector<Eigen::Triplet<T>>().swap(p);
    return all;
}

}  // namespace

std::string sector_text(const Lattice& lat, const SectorLabel& s) {
    std::string k = "k = ";
    if (lat.dim == 1) {
        k += std::to_string(s.momentum[0]) + " of " + std::to_string(lat.L[0]);
    } else {
        k += "(";
        for (int d = 0; d < lat.dim; ++d) k += (d ? ", " : "") + std::to_string(s.momentum[std::size_t(d)]);
        k += ") of " + lattice_sides(lat);
    }
    k += s.parity ? ", odd" : ", even";
    if (s.charged) k += ", q = " + std::to_string(s.charge);
    return k;
}

SpinCharge conserved_charge(const SpinModel& m) {
    if (m.flip_equal == 0) return {true, 0};  // no sigma+ sigma+: the total sz
    if (m.flip_unequal != 0) return {};
    // No flip-flop: Q staggered over a 2-colouring of the bonds, if there is
    // one, spread from spin 0 until no bond colours another spin.
    std::vector<int> colour(std::size_t(m.spins), -1);
    colour[0] = 0;
    for (bool changed = true; changed;) {
        changed = false;
        for (int b = 0; b < m.bonds; ++b) {
            int &ca = colour[m.bond_a[b]], &cb = colour[m.bond_b[b]];
            if (ca >= 0 && cb >= 0 && ca == cb) return {};  // an odd cycle: a frustrated bond
            if ((ca < 0) != (cb < 0)) (ca < 0 ? ca : cb) = 1 - std::max(ca, cb), changed = true;
        }
    }
    SpinCharge q{true, 0};
    for (int n = 0; n < m.spins; ++n) {
        if (colour[std::size_t(n)] < 0) return {};  // a second part: its colours would be free, Q not one charge
        if (colour[std::size_t(n)] == 1) q.flip |= basis_t(1) << n;
    }
    return q;
}

OperatorSector::OperatorSector(const QuantumConfig& c, std::array<int, 3> momentum, int parity, bool reflections,
                               int charge)
    : config_(c), m_(make_spin_model(c.lattice, c.couplings)), k_(momentum), parity_(parity), charge_(charge) {
    const Lattice& lat = c.lattice;
    N_ = int(lat.copy_sites());
    for (int d = 0; d < 3; ++d)
        if (k_[std::size_t(d)] < 0 || k_[std::size_t(d)] >= lat.L[d]) throw Error("sector: momentum out of range");
    if (reflections && !zero_momentum()) throw Error("sector: reflections only with zero momentum");
    if (charge_ != kAnyCharge) {
        rule_ = conserved_charge(m_);
        if (!rule_.conserved || std::abs(charge_) % 2 != parity_ || (rule_.flip != 0 && charge_ != 0))
            throw Error("sector: a charge needs a conserved one (Jx = Jy, or Jx = -Jy on a bipartite lattice: charge 0 "
                        "only) and the parity of the charge");
    }
    // The group: the translations (numbered as the sites), each after every
    // combination of mirrors x -> -x along the axes longer than 2 (on shorter
    // ones a mirror is a translation or nothing).
    std::vector<std::vector<int>> mirrors{std::vector<int>(static_cast<std::size_t>(N_))};
    for (int n = 0; n < N_; ++n) mirrors[0][std::size_t(n)] = n;
    for (int a = 0; a < 3 && reflections; ++a) {
        if (lat.L[a] <= 2) continue;
        const std::size_t before = mirrors.size();
        for (std::size_t m = 0; m < before; ++m) {
            std::vector<int> flipped(static_cast<std::size_t>(N_));
            for (index_t k = 0; k < lat.L[2]; ++k)
                for (index_t j = 0; j < lat.L[1]; ++j)
                    for (index_t i = 0; i < lat.L[0]; ++i) {
                        index_t p[3] = {i, j, k};
                        p[a] = (lat.L[a] - p[a]) % lat.L[a];
                        flipped[std::size_t(lat.site(i, j, k))] = mirrors[m][std::size_t(lat.site(p[0], p[1], p[2]))];
                    }
            mirrors.push_back(flipped);
        }
    }
    G_ = N_ * int(mirrors.size());
    const basis_t D = basis_t(1) << N_;
    const std::vector<int> partner = displacement_partners(lat);
    image_.resize(std::size_t(G_) * D);
    shift_.resize(std::size_t(G_));
    for (int g = 0; g < G_; ++g) {
        const int t = g % N_;  // translation t after mirror g / N_
        const std::vector<int>& mirror = mirrors[std::size_t(g / N_)];
        shift_[std::size_t(g)] = {int(t % lat.L[0]), int(t / lat.L[0] % lat.L[1]), int(t / (lat.L[0] * lat.L[1]))};
        for (basis_t i = 0; i < D; ++i) {
            basis_t out = 0;
            for (int n = 0; n < N_; ++n)
                if (i >> n & 1u) out |= basis_t(1) << partner[std::size_t(t) * N_ + mirror[std::size_t(n)]];
            image_[std::size_t(g) * D + i] = out;
        }
    }

    // Representatives in key order: row i of the pairs on each thread, joined in order.
    std::vector<std::vector<std::uint64_t>> keys(D);
    std::vector<std::vector<int>> stabs(D);
#pragma omp parallel for schedule(dynamic, 16)
    for (std::int64_t ii = 0; ii < std::int64_t(D); ++ii) {
        const basis_t i = basis_t(ii);
        for (basis_t j = 0; j < D; ++j) {
            if ((popcount(i) + popcount(j)) % 2 != parity_) continue;
            if (charge_ != kAnyCharge && rule_.of(i) - rule_.of(j) != charge_) continue;
            const std::uint64_t key = std::uint64_t(i) << N_ | j;
            int stab = 0;
            bool rep = true, compatible = true;
            for (int g = 0; g < G_ && rep; ++g) {
                const std::uint64_t t = std::uint64_t(image_[std::size_t(g) * D + i]) << N_ | image_[std::size_t(g) * D + j];
                if (t < key) rep = false;
                if (t == key) {
                    ++stab;
                    if (std::abs(character(g) - cd(1)) > 1e-9) compatible = false;
                }
            }
            if (rep && compatible) {
                keys[std::size_t(i)].push_back(key);
                stabs[std::size_t(i)].push_back(stab);
            }
        }
    }
    for (basis_t i = 0; i < D; ++i) {
        rep_.insert(rep_.end(), keys[i].begin(), keys[i].end());
        stab_.insert(stab_.end(), stabs[i].begin(), stabs[i].end());
        std::vector<std::uint64_t>().swap(keys[i]);
    }
    if (hermitian_form()) {
        conj_.resize(rep_.size());
        const std::uint64_t low = (std::uint64_t(1) << N_) - 1;
#pragma omp parallel for schedule(static)
        for (std::int64_t r = 0; r < dimension(); ++r) {
            const std::uint64_t key = rep_[std::size_t(r)];
            conj_[std::size_t(r)] = locate((key & low) << N_ | key >> N_).index;
        }
    }
}

OperatorSector::cd OperatorSector::character(int g) const {
    double phase = 0;
    for (int d = 0; d < 3; ++d)
        phase += double(k_[std::size_t(d)]) * shift_[std::size_t(g)][std::size_t(d)] / double(config_.lattice.L[d]);
    return std::polar(1.0, 2 * M_PI * phase);
}

OperatorSector::Found OperatorSector::locate(std::uint64_t key) const {
    const basis_t D = basis_t(1) << N_;
    const basis_t i = basis_t(key >> N_), j = basis_t(key & (D - 1));
    std::uint64_t best = key;
    int best_g = 0;
    for (int g = 1; g < G_; ++g) {
        const std::uint64_t t = std::uint64_t(image_[std::size_t(g) * D + i]) << N_ | image_[std::size_t(g) * D + j];
        if (t < best) best = t, best_g = g;
    }
    const auto at = std::lower_bound(rep_.begin(), rep_.end(), best);
    if (at == rep_.end() || *at != best) return {-1, 0};
    return {std::int64_t(at - rep_.begin()), best_g};
}

Eigen::SparseMatrix<OperatorSector::cd> OperatorSector::matrix() const {
    const std::int64_t n = dimension();
    const basis_t low = (basis_t(1) << N_) - 1;
    const auto all = gather_rows<cd>(n, [&](std::int64_t r, std::vector<Eigen::Triplet<cd>>& trip) {
        const std::uint64_t key = rep_[std::size_t(r)];
        lindblad_terms(m_, basis_t(key >> N_), basis_t(key) & low, [&](basis_t k, basis_t l, Amp c) {
            const Found f = locate(std::uint64_t(k) << N_ | l);
            if (f.index < 0) return;
            const double w = std::sqrt(double(stab_[std::size_t(f.index)]) / stab_[std::size_t(r)]);
            trip.emplace_back(r, f.index, cd(c.re, c.im) * character(f.g) * w);
        });
    });
    Eigen::SparseMatrix<cd> M(n, n);
    M.setFromTriplets(all.begin(), all.end());
    return M;
}

Eigen::SparseMatrix<double> OperatorSector::hermitian_matrix(bool trace_row) const {
    if (!hermitian_form()) throw Error("sector: the Hermitian real form needs zero momentum and charge 0");
    const std::int64_t n = dimension();
    const basis_t low = (basis_t(1) << N_) - 1;
    auto all = gather_rows<double>(n, [&](std::int64_t r, std::vector<Eigen::Triplet<double>>& trip) {
        const std::int64_t rc = conj_[std::size_t(r)];
        if (rc < r) return;  // its rows come with r+'s
        const std::uint64_t key = rep_[std::size_t(r)];
        const std::int64_t re_row = r, im_row = rc;
        lindblad_terms(m_, basis_t(key >> N_), basis_t(key) & low, [&](basis_t k, basis_t l, Amp c0) {
            const Found f = locate(std::uint64_t(k) << N_ | l);
            if (f.index < 0) return;
            const double w = std::sqrt(double(stab_[std::size_t(f.index)]) / stab_[std::size_t(r)]);
            const Amp c = w * c0;
            // c_{r'} = a + i b in terms of x
            const std::int64_t s = f.index, sc = conj_[std::size_t(s)];
            std::int64_t a_at = s, b_at = -1;
            double b_sign = 1;
            if (sc > s) b_at = sc;
            else if (sc < s) a_at = sc, b_at = s, b_sign = -1;
            // Re(c c_r') = c.re a - c.im b, Im(c c_r') = c.re b + c.im a
            if (!(trace_row && re_row == 0)) {
                trip.emplace_back(re_row, a_at, c.re);
                if (b_at >= 0) trip.emplace_back(re_row, b_at, -c.im * b_sign);
            }
            if (im_row != r) {
                trip.emplace_back(im_row, a_at, c.im);
                if (b_at >= 0) trip.emplace_back(im_row, b_at, c.re * b_sign);
            }
        });
    });
    if (trace_row) {  // Tr rho = sum over diagonal orbits of c_r sqrt(|orbit|)
        const basis_t D = basis_t(1) << N_;
        for (std::int64_t r = 0; r < n; ++r) {
            const std::uint64_t key = rep_[std::size_t(r)];
            if ((key >> N_) == (key & (D - 1))) all.emplace_back(0, r, std::sqrt(double(G_) / stab_[std::size_t(r)]));
        }
    }
    Eigen::SparseMatrix<double> A(n, n);
    A.setFromTriplets(all.begin(), all.end());
    return A;
}

std::vector<OperatorSector::cd> OperatorSector::coefficients(const double* x) const {
    std::vector<cd> c(rep_.size());
    for (std::int64_t r = 0; r < dimension(); ++r) {
        const std::int64_t rc = conj_[std::size_t(r)];
        c[std::size_t(r)] = rc == r ? cd(x[r]) : rc > r ? cd(x[r], x[rc]) : cd(x[rc], -x[r]);
    }
    return c;
}

double OperatorSector::trace(const double* x) const {
    const basis_t D = basis_t(1) << N_;
    double t = 0;
    for (std::int64_t r = 0; r < dimension(); ++r) {
        const std::uint64_t key = rep_[std::size_t(r)];
        if ((key >> N_) == (key & (D - 1))) t += x[r] * std::sqrt(double(G_) / stab_[std::size_t(r)]);
    }
    return t;
}

double OperatorSector::norm2(const double* x) const {
    double s = 0;  // each coordinate of a conjugate pair is in two coefficients
    for (std::int64_t r = 0; r < dimension(); ++r) s += (conj_[std::size_t(r)] == r ? 1.0 : 2.0) * x[r] * x[r];
    return s;
}

OperatorSector::cd OperatorSector::element(const std::vector<cd>& c, basis_t k, basis_t l) const {
    const Found f = locate(std::uint64_t(k) << N_ | l);
    if (f.index < 0) return 0;
    const double orbit = double(G_) / stab_[std::size_t(f.index)];
    return c[std::size_t(f.index)] * character(f.g) / std::sqrt(orbit);
}

std::vector<OperatorSector::cd> OperatorSector::full_matrix(const std::vector<cd>& c) const {
    const basis_t D = basis_t(1) << N_;
    std::vector<cd> rho(std::size_t(D) * D);
    for (basis_t i = 0; i < D; ++i)
        for (basis_t j = 0; j < D; ++j) rho[std::size_t(i) * D + j] = element(c, i, j);
    return rho;
}

}  // namespace xyzmf
