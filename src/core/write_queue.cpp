// The run's writer thread (see write_queue.hpp).
#include "write_queue.hpp"

#include "worker_thread.hpp"

namespace xyzmf {

WriteQueue::WriteQueue(std::size_t max_pending, std::function<void()> thread_init)
    : max_pending_(max_pending < 1 ? 1 : max_pending) {
    thread_ = worker_thread([this, init = std::move(thread_init)] {
        if (init) init();
        loop();
    });
}

WriteQueue::~WriteQueue() {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void WriteQueue::push(std::function<void()> job) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return error_ || jobs_.size() < max_pending_; });
    if (error_) std::rethrow_exception(error_);
    jobs_.push_back(std::move(job));
    changed_.notify_all();
}

std::exception_ptr WriteQueue::drain_quietly() noexcept {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return error_ || (jobs_.empty() && !busy_); });
    return error_;
}

void WriteQueue::drain() {
    if (std::exception_ptr e = drain_quietly()) std::rethrow_exception(e);
}

void WriteQueue::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        changed_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty() || error_) {  // stopping, and nothing (more) to do
            if (stop_) return;
            jobs_.clear();
            continue;
        }
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        busy_ = true;
        lock.unlock();
        std::exception_ptr failed;
        try {
            job();
        } catch (...) {
            failed = std::current_exception();
        }
        lock.lock();
        busy_ = false;
        if (failed && !error_) error_ = failed;
        if (error_) jobs_.clear();  // a broken file takes no further writes
        changed_.notify_all();
    }
}

}  // namespace xyzmf
