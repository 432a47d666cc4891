// A thread for a command's own work (the run's writer, which analyses states; a
// stoppable library call) that takes the calling thread's OpenMP thread count:
// a new thread starts from OMP_NUM_THREADS or every core, so `run --threads 1
// --analyze` analysed on every core beside the stepping thread. (The
// floating-point mode, core/subnormals.hpp, a new thread inherits by itself.)
#pragma once

#include <omp.h>

#include <thread>
#include <utility>

namespace xyzmf {

template <class Work>
std::thread worker_thread(Work&& work) {
    const int team = omp_get_max_threads();
    return std::thread([team, work = std::forward<Work>(work)]() mutable {
        omp_set_num_threads(team);
        work();
    });
}

}  // namespace xyzmf
