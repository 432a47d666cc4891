// The one place that turns --backend auto|cpu|cuda into a Backend, and that
// checks a run fits in memory before anything is allocated.
#pragma once

#include <memory>
#include <string>

#include "xyzmf/backend.hpp"
#include "run_config.hpp"

namespace xyzmf {

// auto = CUDA when a device is present, else CPU. Throws when cuda is asked
// for and unavailable.
BackendKind choose_backend(BackendRequest request);

template <class Real>
std::unique_ptr<Backend<Real>> make_backend(BackendKind kind);

// Throws xyzmf::Error naming --size when the state and integrator buffers
// would not fit in host (and, for CUDA, device) memory.
void check_run_memory(const RunConfig& cfg, BackendKind kind, int buffers, int exit_code = 2);

}  // namespace xyzmf
