#include "fiber_scheduler.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "cuda_emulation.h"  // threadIdx, blockIdx

// AddressSanitizer tracks each thread's stack and cannot follow a hand-made
// stack switch without annotations; such builds use the thread pool.
#if defined(__SANITIZE_ADDRESS__)
#define SCEALD_FIBERS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCEALD_FIBERS 0
#endif
#endif
#if !defined(SCEALD_FIBERS) && defined(__x86_64__) && defined(__linux__)
#define SCEALD_FIBERS 1
#endif
#ifndef SCEALD_FIBERS
#define SCEALD_FIBERS 0
#endif

namespace cuda_emulation {

#if SCEALD_FIBERS

// Saves the callee-saved registers, the SSE and x87 control words and the
// stack pointer of the caller into *save_sp, then resumes the context saved
// at load_sp (System V x86-64). No system call, unlike swapcontext, which
// also saves the signal mask: a barrier switches a thousand times.
extern "C" void cuda_emulation_switch_stack(void** save_sp, void* load_sp);
asm(R"(
  .pushsection .text
  .globl cuda_emulation_switch_stack
  .type cuda_emulation_switch_stack, @function
cuda_emulation_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $16, %rsp
  stmxcsr 8(%rsp)
  fnstcw (%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  fldcw (%rsp)
  ldmxcsr 8(%rsp)
  addq $16, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size cuda_emulation_switch_stack, .-cuda_emulation_switch_stack
  .popsection
)");

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "cuda emulation: %s\n", what);
  std::abort();
}

// Enough for any kernel's frames; only touched pages cost memory.
constexpr std::size_t kStackBytes = std::size_t{256} << 10;

enum class FiberState { Ready, AtBarrier, Done };

struct Fiber {
  char* mapping = nullptr;  // guard page, then the stack
  void* sp = nullptr;       // where it was suspended
  FiberState state = FiberState::Ready;
};

class FiberScheduler;
thread_local FiberScheduler* running = nullptr;  // the scheduler whose fiber runs on this thread

extern "C" [[noreturn]] void cuda_emulation_fiber_main();

// One launching thread's fibers: the threads of the block being run. Their
// stacks are mapped once (with a guard page below each, so an overflow
// faults) and reused by every later launch of that thread.
class FiberScheduler {
 public:
  ~FiberScheduler() {
    for (Fiber& f : fibers_)
      if (f.mapping) munmap(f.mapping, kStackBytes + page());
  }

  void run(unsigned blocks, unsigned threads, BlockBody body, void* context) {
    while (fibers_.size() < threads) fibers_.push_back(make_fiber());
    body_ = body;
    context_ = context;
    threads_ = threads;
    running = this;
    for (unsigned b = 0; b < blocks; ++b) run_block(b);
    running = nullptr;
  }

  // __syncthreads in the running fiber: back to the scheduler until all
  // threads of the block have arrived.
  void barrier() {
    Fiber& f = fibers_[current_];
    f.state = FiberState::AtBarrier;
    cuda_emulation_switch_stack(&f.sp, scheduler_sp_);
  }

  // The body of every fiber (cuda_emulation_fiber_main).
  [[noreturn]] void fiber_main() {
    for (;;) {
      const unsigned thread = current_;
      try {
        body_(context_, block_, thread);
      } catch (const std::exception& e) {
        die(e.what());  // an exception cannot cross the stack switch
      } catch (...) {
        die("a kernel thread threw a non-standard exception");
      }
      Fiber& f = fibers_[thread];
      f.state = FiberState::Done;
      // A done fiber is started afresh (start()), never resumed here.
      cuda_emulation_switch_stack(&f.sp, scheduler_sp_);
    }
  }

 private:
  static std::size_t page() {
    static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return size;
  }

  static Fiber make_fiber() {
    void* m = mmap(nullptr, kStackBytes + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED) die("cannot map a fiber stack");
    if (mprotect(m, page(), PROT_NONE) != 0) die("cannot protect a fiber stack's guard page");
    Fiber f;
    f.mapping = static_cast<char*>(m);
    return f;
  }

  // Lays out a fresh frame that cuda_emulation_switch_stack "returns" into
  // cuda_emulation_fiber_main with: the control words in use now, zeroed
  // callee-saved registers, and a return address 16-byte aligned so that the
  // entry sees the stack as after a call.
  void start(Fiber& f) {
    auto top = reinterpret_cast<std::uintptr_t>(f.mapping + page() + kStackBytes) & ~std::uintptr_t{15};
    auto* frame = reinterpret_cast<std::uint64_t*>(top - 16 - 64);
    std::uint32_t mxcsr = 0;
    std::uint16_t fpu_control = 0;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpu_control));
    frame[0] = fpu_control;
    frame[1] = mxcsr;
    for (int r = 2; r < 8; ++r) frame[r] = 0;  // r15, r14, r13, r12, rbx, rbp
    frame[8] = reinterpret_cast<std::uint64_t>(&cuda_emulation_fiber_main);
    f.sp = frame;
    f.state = FiberState::Ready;
  }

  // Phases between barriers: every ready thread runs until it reaches the
  // barrier or ends. Even blocks go from thread 0 up, odd ones from the last
  // thread down, so that a missing barrier shows in either direction of a
  // read (a thread reading what a later one, or an earlier one, should have
  // written first).
  void run_block(unsigned block) {
    block_ = block;
    for (unsigned t = 0; t < threads_; ++t) start(fibers_[t]);
    const bool upwards = block % 2 == 0;
    for (;;) {
      unsigned at_barrier = 0, done = 0;
      for (unsigned i = 0; i < threads_; ++i) {
        const unsigned t = upwards ? i : threads_ - 1 - i;
        Fiber& f = fibers_[t];
        if (f.state != FiberState::Ready) continue;
        current_ = t;
        // Built-in variables are per OS thread: each fiber's are set as it resumes.
        blockIdx = uint3{block, 0, 0};
        threadIdx = uint3{t, 0, 0};
        cuda_emulation_switch_stack(&scheduler_sp_, f.sp);
      }
      for (unsigned t = 0; t < threads_; ++t) {
        at_barrier += fibers_[t].state == FiberState::AtBarrier;
        done += fibers_[t].state == FiberState::Done;
      }
      if (done == threads_) return;
      if (done > 0)
        die("__syncthreads reached by some threads of a block after others had returned: a barrier in divergent "
            "code (undefined on a GPU)");
      for (unsigned t = 0; t < threads_; ++t) fibers_[t].state = FiberState::Ready;
    }
  }

  std::vector<Fiber> fibers_;
  void* scheduler_sp_ = nullptr;
  BlockBody body_ = nullptr;
  void* context_ = nullptr;
  unsigned threads_ = 0, block_ = 0, current_ = 0;
};

extern "C" [[noreturn]] void cuda_emulation_fiber_main() { running->fiber_main(); }

FiberScheduler& scheduler_of_this_thread() {
  thread_local FiberScheduler s;
  return s;
}

}  // namespace

bool fibers_available() { return true; }

void run_blocks_on_fibers(unsigned blocks, unsigned threads, BlockBody body, void* context) {
  if (running) die("a kernel launch from inside a kernel");
  scheduler_of_this_thread().run(blocks, threads, body, context);
}

bool fiber_barrier() {
  if (!running) return false;
  running->barrier();
  return true;
}

#else

bool fibers_available() { return false; }

void run_blocks_on_fibers(unsigned, unsigned, BlockBody, void*) {
  std::fprintf(stderr, "cuda emulation: fibers are not available in this build\n");
  std::abort();
}

bool fiber_barrier() { return false; }

#endif

}  // namespace cuda_emulation
