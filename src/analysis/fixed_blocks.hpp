// Reductions over many sites on every thread whose result does not depend on
// the number of threads: [0, n) cut into blocks of a fixed size, each block
// reduced by one thread, the blocks' results merged by the caller in block order.
#pragma once

#include <algorithm>
#include <vector>

#include "xyzmf/lattice.hpp"

namespace xyzmf {

// f(first, last) for every block [first, last) of [0, n) (one empty block when
// n = 0), in block order.
template <class Part, class F>
std::vector<Part> reduce_fixed_blocks(index_t n, index_t block, F&& f) {
    const index_t blocks = std::max<index_t>(1, (n + block - 1) / block);
    std::vector<Part> part(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (index_t b = 0; b < blocks; ++b) part[std::size_t(b)] = f(b * block, std::min(n, (b + 1) * block));
    return part;
}

}  // namespace xyzmf
