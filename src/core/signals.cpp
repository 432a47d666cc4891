// Stop signals -> a flag polled between time steps (see signals.hpp).
#include "xyzmf/signals.hpp"

#include <csignal>
#include <initializer_list>

namespace xyzmf {
namespace {
volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int sig) { g_signal = sig; }
}  // namespace

void install_interrupt_handlers() {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) std::signal(sig, on_signal);
}
bool interrupt_requested() { return g_signal != 0; }
void clear_interrupt() { g_signal = 0; }
void request_interrupt() { g_signal = SIGINT; }
int interrupt_exit_code() { return 128 + (g_signal ? int(g_signal) : SIGINT); }
const char* interrupt_signal_name() {
    switch (g_signal) {
        case SIGTERM: return "SIGTERM";
        case SIGHUP: return "SIGHUP";
        case SIGQUIT: return "SIGQUIT";
        default: return "SIGINT";
    }
}

}  // namespace xyzmf
