// Stop signals -> a count polled by the command (see signals.hpp).
#include "signals.hpp"

#include <chrono>
#include <csignal>
#include <future>
#include <thread>

#include "worker_thread.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

// Written only by the handler; lock-free atomics are async-signal-safe.
std::atomic<unsigned> g_received{0};
std::atomic<int> g_last{0};
static_assert(std::atomic<unsigned>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

std::atomic<unsigned> g_count_of[32];  // per signal number (all four are below 32); zero-initialised

extern "C" void on_stop_signal(int sig) {
    if (sig >= 0 && sig < int(sizeof g_count_of / sizeof g_count_of[0]))
        g_count_of[sig].fetch_add(1, std::memory_order_relaxed);
    g_last.store(sig, std::memory_order_relaxed);
    g_received.fetch_add(1, std::memory_order_release);
}

thread_local StopScope* t_current = nullptr;

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

const char* name_of(int sig) {  // (stop_signal_name)
    switch (sig) {
        case SIGTERM: return "SIGTERM";
        case SIGHUP: return "SIGHUP";
        case SIGQUIT: return "SIGQUIT";
        default: return "SIGINT";
    }
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // file I/O in progress completes; the command polls the count
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kStopSignals) {
        sigaction(sig, &sa, nullptr);
        sigaddset(&set, sig);
    }
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

unsigned stop_signal_count(int sig) {
    return sig >= 0 && sig < int(sizeof g_count_of / sizeof g_count_of[0]) ? g_count_of[sig].load() : 0u;
}

StopScope::StopScope(bool since_process_start)
    : base_(since_process_start ? 0u : g_received.load(std::memory_order_acquire)), outer_(t_current) {
    t_current = this;
}

StopScope::~StopScope() { t_current = outer_; }

StopScope* current_stop_scope() { return t_current; }

SharedStopScope::SharedStopScope(StopScope* scope) : outer_(t_current) { t_current = scope; }
SharedStopScope::~SharedStopScope() { t_current = outer_; }

void StopScope::request_stop(const char* why) {
    why_ = why;
    requested_.store(true);
}

bool StopScope::signalled() const { return g_received.load(std::memory_order_acquire) != base_; }

bool interrupt_requested() {
    if (const StopScope* s = t_current) return s->requested() || s->signalled();
    return g_received.load(std::memory_order_acquire) != 0;
}

int interrupt_exit_code() {
    const StopScope* s = t_current;
    if (s && !s->signalled()) return 128 + SIGINT;
    const int sig = g_last.load(std::memory_order_relaxed);
    return 128 + (sig ? sig : SIGINT);
}

const char* interrupt_signal_name() {
    const StopScope* s = t_current;
    if (s && !s->signalled() && s->requested()) return s->why_;
    return name_of(g_last.load(std::memory_order_relaxed));
}

std::string interruption_text() {
    const StopScope* s = t_current;
    if (s && !s->signalled() && s->requested()) return std::string("stopped by the caller (") + s->why_ + ")";
    return std::string("interrupted (") + interrupt_signal_name() + ")";
}

int interrupt_signal() { return interrupt_requested() ? interrupt_exit_code() - 128 : 0; }

void adopt_stop_signal(int sig) {
    if (sig <= 0 || interrupt_requested()) return;
    g_last.store(sig, std::memory_order_relaxed);
    g_received.fetch_add(1, std::memory_order_release);
}

const char* stop_signal_name(int sig) { return name_of(sig); }

namespace {
std::atomic<bool> g_stop_agreed{false};
}
void mark_stop_agreed() { g_stop_agreed.store(true); }
bool stop_agreed() { return g_stop_agreed.load(); }

void throw_if_interrupted(const std::string& context) {
    if (!interrupt_requested()) return;
    throw Error(interruption_text() + (context.empty() ? "" : " " + context), interrupt_exit_code());
}

void run_stoppably(std::function<void()> work, const std::string& context, const std::function<void()>& tick) {
    throw_if_interrupted(context);
    std::packaged_task<void()> task(std::move(work));
    std::future<void> done = task.get_future();
    std::thread worker = worker_thread(std::move(task));
    while (done.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        if (interrupt_requested()) {
            worker.detach();  // the task (and what `work` holds) lives in the thread until it ends
            throw_if_interrupted(context);
        }
        if (tick) tick();
    }
    worker.join();
    done.get();
}

}  // namespace xyzmf
