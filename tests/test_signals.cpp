// Stopping a command inside a long library call that cannot look for a stop
// itself (run_stoppably): the command stops at once and leaves the call behind.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "signals.hpp"
#include "write_queue.hpp"
#include "xyzmf/error.hpp"

namespace {

using xyzmf::Error;

// The events the work and the test wait for: no clock decides anything.
struct Work {
    std::promise<void> started, release, ended;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> finished{false};
};

TEST(Stopping, AStopDuringACallThatCannotLookForOneStopsWithoutWaitingForIt) {
    xyzmf::StopScope scope(false);
    auto w = std::make_shared<Work>();
    std::future<void> started = w->started.get_future(), ended = w->ended.get_future();
    // Stops the call once the work has begun, as Ctrl-C would.
    std::thread stopper([&] {
        started.wait();
        scope.request_stop("test");
    });
    int code = 0;
    std::string what;
    bool finished_when_stopped = true;
    try {
        xyzmf::run_stoppably(
            [w] {
                w->started.set_value();
                // Held until the test has seen the stop; 60 s only so that a wrong
                // wait for the work fails the test instead of hanging it.
                w->released.wait_for(std::chrono::seconds(60));
                w->finished = true;
                w->ended.set_value();
            },
            "during the test");
    } catch (const Error& e) {
        code = e.exit_code();
        what = e.what();
        finished_when_stopped = w->finished;
    }
    stopper.join();
    w->release.set_value();
    ended.wait();  // the work the stop left behind ends by itself
    EXPECT_EQ(code, xyzmf::exit_code::interrupted);
    EXPECT_EQ(what, "stopped by the caller (test) during the test");
    EXPECT_FALSE(finished_when_stopped) << "the stop waited for the work to end";
    EXPECT_TRUE(w->finished);
}

TEST(Stopping, ACallThatEndsIsWaitedForAndItsErrorReachesTheCaller) {
    xyzmf::StopScope scope(false);
    int runs = 0;
    xyzmf::run_stoppably([&runs] { ++runs; }, "");
    EXPECT_EQ(runs, 1);
    EXPECT_THROW(xyzmf::run_stoppably([] { throw std::invalid_argument("bad matrix"); }, ""), std::invalid_argument);
    scope.request_stop("test");  // a stop before the call: the work never starts
    EXPECT_THROW(xyzmf::run_stoppably([&runs] { ++runs; }, ""), Error);
    EXPECT_EQ(runs, 1);
}

// The threads a command starts for its own work (the writer that analyses states,
// a stoppable library call) take the command's OpenMP thread count (--threads):
// a new thread starts from OMP_NUM_THREADS or every core, and the analysis of
// `run --threads 1 --analyze` ran on every core beside the stepping thread.
TEST(Threads, TheWriterAndAStoppableCallTakeTheCallersThreadCount) {
    int fresh = 0;
    std::thread([&fresh] { fresh = omp_get_max_threads(); }).join();
    const int before = omp_get_max_threads();
    omp_set_num_threads(fresh + 1);  // (what a new thread would not take by itself)
    int in_writer = 0, in_call = 0;
    {
        xyzmf::WriteQueue writer(2);
        writer.push([&in_writer] { in_writer = omp_get_max_threads(); });
        writer.drain();
    }
    xyzmf::StopScope scope(false);
    xyzmf::run_stoppably([&in_call] { in_call = omp_get_max_threads(); }, "");
    omp_set_num_threads(before);
    EXPECT_EQ(in_writer, fresh + 1);
    EXPECT_EQ(in_call, fresh + 1);
}

}  // namespace
