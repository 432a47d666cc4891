// A writer thread for a run's output: the time loop hands it jobs (records,
// snapshots, the final state) and goes on stepping while it compresses and
// writes them, in order. Only the writer touches the file while a queue is
// alive, so HDF5 is never entered from two threads at once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace xyzmf {

class WriteQueue {
public:
    // At most max_pending jobs wait; push() blocks beyond that, which bounds
    // the host copies of the state held for snapshots.
    // thread_init runs first on the writer thread (e.g. to set up per-thread
    // library state).
    explicit WriteQueue(std::size_t max_pending, std::function<void()> thread_init = {});
    // Finishes every queued job (nothing already handed over is lost), then
    // joins. Never throws: call drain() first to learn of a failed job.
    ~WriteQueue();
    WriteQueue(const WriteQueue&) = delete;
    WriteQueue& operator=(const WriteQueue&) = delete;

    // Queues a job. Rethrows the failure of an earlier job (e.g. disk full)
    // instead, after which no further job runs.
    void push(std::function<void()> job);
    // Waits until every queued job has run; rethrows the first failure.
    void drain();
    // As drain(), but hands the failure back instead of throwing (error paths).
    std::exception_ptr drain_quietly() noexcept;

private:
    void loop();

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::function<void()>> jobs_;
    std::size_t max_pending_;
    bool busy_ = false, stop_ = false;
    std::exception_ptr error_;
    std::thread thread_;
};

}  // namespace xyzmf
