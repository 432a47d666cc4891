// SIGINT/SIGTERM -> a flag polled between time steps (see signals.hpp).
#include "xyzmf/signals.hpp"

#include <csignal>

namespace xyzmf {
namespace {
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_signal(int) { g_interrupted = 1; }
}  // namespace

void install_interrupt_handlers() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}
bool interrupt_requested() { return g_interrupted != 0; }
void clear_interrupt() { g_interrupted = 0; }

}  // namespace xyzmf
