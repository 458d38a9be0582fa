#include "grid_runner.h"

#include <atomic>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fiber_scheduler.h"

namespace cuda_emulation {

namespace {

std::atomic<unsigned> current_cap{3};

Scheduler default_scheduler() {
  const char* v = std::getenv("SCEALD_EMULATION_SCHEDULER");
  if (v && std::strcmp(v, "threads") == 0) return Scheduler::Threads;
  if (v && *v && std::strcmp(v, "fibers") != 0)
    std::fprintf(stderr, "cuda emulation: SCEALD_EMULATION_SCHEDULER=%s is neither fibers nor threads; using %s\n", v,
                 fibers_available() ? "fibers" : "threads");
  return fibers_available() ? Scheduler::Fibers : Scheduler::Threads;
}

std::atomic<Scheduler>& current_scheduler() {
  static std::atomic<Scheduler> s{default_scheduler()};
  return s;
}

std::atomic<std::uint64_t> launch_count{0};

// The barrier of the block the calling worker runs; null outside a launch.
thread_local std::barrier<>* block_barrier = nullptr;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "cuda emulation: %s\n", what);
  std::abort();
}

// Worker threads that live as long as the test binary: creating a block's
// 256 threads at every launch would cost more than most kernels run.
class WorkerPool {
 public:
  static WorkerPool& instance() {
    static WorkerPool pool;
    return pool;
  }

  ~WorkerPool() {
    stopping_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (std::thread& w : workers_) w.join();
  }

  void run(unsigned blocks, unsigned threads, BlockBody body, void* context) {
    const std::lock_guard<std::mutex> lock(launch_mutex_);
    while (workers_.size() < threads) {
      const auto id = static_cast<unsigned>(workers_.size());
      workers_.emplace_back([this, id, seen = generation_.load()] { work(id, seen); });
    }
    std::barrier<> barrier(threads);
    job_ = Job{blocks, threads, static_cast<unsigned>(workers_.size()), body, context, &barrier};
    finished_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    // Every worker checks in, taking part or not: only then may job_ change.
    for (unsigned done; (done = finished_.load(std::memory_order_acquire)) != job_.workers;)
      finished_.wait(done, std::memory_order_acquire);
  }

 private:
  struct Job {
    unsigned blocks, threads, workers;
    BlockBody body;
    void* context;
    std::barrier<>* barrier;
  };

  void work(unsigned id, std::uint32_t seen) {
    for (;;) {
      generation_.wait(seen, std::memory_order_acquire);
      seen = generation_.load(std::memory_order_acquire);
      if (stopping_.load(std::memory_order_relaxed)) return;
      const Job job = job_;
      if (id < job.threads) {
        block_barrier = job.barrier;
        for (unsigned b = 0; b < job.blocks; ++b) {
          try {
            job.body(job.context, b, id);
          } catch (const std::exception& e) {
            die(e.what());  // the block's other threads would wait for this one forever
          }
          // The whole block is done before the next reuses its __shared__ arrays
          // (after the last one, the launcher's wait for every worker suffices).
          if (b + 1 < job.blocks) job.barrier->arrive_and_wait();
        }
        block_barrier = nullptr;
      }
      if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 == job.workers) finished_.notify_one();
    }
  }

  std::mutex launch_mutex_;
  std::vector<std::thread> workers_;
  Job job_{};
  // 32 bits: waits on it use a futex of its own, not one shared with other
  // atomics (as 64-bit ones would), so barrier wake-ups leave idle workers asleep.
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<unsigned> finished_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace

void run_blocks(unsigned blocks, unsigned threads, BlockBody body, void* context) {
  if (threads == 0 || threads > 1024) throw std::invalid_argument("run_blocks: 1 to 1024 threads per block");
  launch_count.fetch_add(1, std::memory_order_relaxed);
  if (blocks == 0) return;
  if (scheduler() == Scheduler::Fibers)
    run_blocks_on_fibers(blocks, threads, body, context);
  else
    WorkerPool::instance().run(blocks, threads, body, context);
}

void sync_block_threads() {
  if (fiber_barrier()) return;
  if (block_barrier == nullptr) die("__syncthreads called outside a kernel launch");
  block_barrier->arrive_and_wait();
}

Scheduler scheduler() { return current_scheduler().load(std::memory_order_relaxed); }

SchedulerChoice::SchedulerChoice(Scheduler s) : previous_(scheduler()) {
  current_scheduler().store(s == Scheduler::Fibers && !fibers_available() ? Scheduler::Threads : s,
                            std::memory_order_relaxed);
}

SchedulerChoice::~SchedulerChoice() { current_scheduler().store(previous_, std::memory_order_relaxed); }

unsigned grid_cap() { return current_cap.load(std::memory_order_relaxed); }

GridCap::GridCap(unsigned max_blocks) : previous_(grid_cap()) {
  if (max_blocks == 0) throw std::invalid_argument("GridCap: at least one block");
  current_cap.store(max_blocks, std::memory_order_relaxed);
}

GridCap::~GridCap() { current_cap.store(previous_, std::memory_order_relaxed); }

std::uint64_t launches_run() { return launch_count.load(std::memory_order_relaxed); }

}  // namespace cuda_emulation
