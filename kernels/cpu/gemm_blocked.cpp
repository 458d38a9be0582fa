// The cache-blocked, threaded GEMM driver (see gemm_internal.h for the loop
// nest). Threads split C into a grid of disjoint blocks aligned to the micro
// tile; each thread runs the whole loop nest on its block with its own packing
// buffers, so there are no barriers and no shared writes.
#include <omp.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/workspace.h"

namespace sceald::kernels::cpu::gemm_detail {
namespace {

struct CacheSizes {
  std::int64_t l1, l2, l3;
};

// Per-core data cache sizes (read once, in cpu_features), clamped: virtual
// machines sometimes report odd values (zero, or a whole host's L3).
const CacheSizes& cache_sizes() {
  static const CacheSizes sizes = [] {
    const CpuFeatures& f = cpu_features();
    auto clamp = [](std::size_t v, std::int64_t lo, std::int64_t hi) {
      return std::clamp<std::int64_t>(static_cast<std::int64_t>(v), lo, hi);
    };
    return CacheSizes{clamp(f.l1d_bytes, 16 << 10, 128 << 10), clamp(f.l2_bytes, 256 << 10, 4 << 20),
                      clamp(f.l3_bytes, 2 << 20, 64 << 20)};
  }();
  return sizes;
}

struct Blocking {
  std::int64_t mc, kc, nc;
};

std::int64_t round_down(std::int64_t x, std::int64_t m) { return std::max(m, x / m * m); }

// kc: the A micro-panel (mr x kc) takes about half of L1, leaving the rest
//     for the B micro-panel streaming past it.
// nc: the packed B block (kc x nc) takes about half of L2.
// mc: the packed A block (mc x kc) takes a share of L3 per thread.
// Each is then shrunk so the blocks of one problem come out even (K = 520
// gives two blocks of 260, not 512 + 8).
Blocking choose_blocking(std::int64_t M, std::int64_t N, std::int64_t K, int mr, int nr, std::size_t elem,
                         int threads) {
  const CacheSizes& cs = cache_sizes();
  Blocking b;
  b.kc = std::clamp<std::int64_t>(round_down(cs.l1 / 2 / (mr * static_cast<std::int64_t>(elem)), 16), 64, 1024);
  b.nc = std::clamp<std::int64_t>(round_down(cs.l2 / 2 / (b.kc * static_cast<std::int64_t>(elem)), nr), nr, 4096);
  b.mc = std::clamp<std::int64_t>(round_down(cs.l3 / 2 / threads / (b.kc * static_cast<std::int64_t>(elem)), mr),
                                  mr, 8192);
  const std::int64_t kblocks = ceil_div(K, b.kc);
  b.kc = ceil_div(K, kblocks);
  const std::int64_t nblocks = ceil_div(N, b.nc);
  b.nc = ceil_div(ceil_div(N, nblocks), nr) * nr;
  const std::int64_t mblocks = ceil_div(M, b.mc);
  b.mc = ceil_div(ceil_div(M, mblocks), mr) * mr;
  return b;
}

// Walks the source of the next B block a few cache lines per micro-tile, so
// that its packing finds it in cache rather than waiting on DRAM. It matters
// when M is small (im2col with 64 output channels): each B element then feeds
// only a few multiply-adds and a plain pack stalls on memory every block.
class BlockPrefetcher {
 public:
  // The block is `rows` runs of `row_bytes` contiguous bytes, `stride` apart.
  void start(const void* base, std::int64_t stride, std::int64_t rows, std::int64_t row_bytes,
             std::int64_t steps) {
    base_ = static_cast<const char*>(base);
    stride_ = stride;
    rows_ = rows;
    lines_per_row_ = row_bytes / 64 + 2;  // unaligned runs straddle one more line
    row_ = line_ = 0;
    per_step_ = ceil_div(rows * lines_per_row_, std::max<std::int64_t>(steps, 1));
  }
  void step() {
    for (std::int64_t i = 0; i < per_step_ && row_ < rows_; ++i) {
      __builtin_prefetch(base_ + row_ * stride_ + line_ * 64, 0, 2);
      if (++line_ == lines_per_row_) line_ = 0, ++row_;
    }
  }

 private:
  const char* base_ = nullptr;
  std::int64_t stride_ = 0, rows_ = 0, lines_per_row_ = 0, row_ = 0, line_ = 0, per_step_ = 0;
};

// One thread's share: the whole loop nest over an M x N block of C.
template <typename T>
void gemm_serial(const MicroKernel<T>& uk, const Blocking& blk, bool trans_a, bool trans_b, std::int64_t M,
                 std::int64_t N, std::int64_t K, T alpha, const T* A, std::int64_t lda, const T* B, std::int64_t ldb,
                 T beta, T* C, std::int64_t ldc) {
  const int mr = uk.mr, nr = uk.nr;
  // Element (i, k) of op(A) is at A[i * a_rs + k * a_ks]; (k, j) of op(B) at B[j * b_rs + k * b_ks].
  const std::int64_t a_rs = trans_a ? 1 : lda, a_ks = trans_a ? lda : 1;
  const std::int64_t b_rs = trans_b ? ldb : 1, b_ks = trans_b ? 1 : ldb;
  const std::int64_t mc_max = std::min(blk.mc, ceil_div(M, mr) * mr);
  const std::int64_t nc_max = std::min(blk.nc, ceil_div(N, nr) * nr);
  const std::int64_t kc_max = std::min(blk.kc, K);
  // A little slack past the end lets vectorised packers round up.
  T* pa = thread_workspace<T>(WorkspaceSlot::GemmPackA, static_cast<std::size_t>(mc_max * kc_max + 64));
  T* pb = thread_workspace<T>(WorkspaceSlot::GemmPackB, static_cast<std::size_t>(nc_max * kc_max + 64));
  BlockPrefetcher prefetch;

  for (std::int64_t ic = 0; ic < M; ic += blk.mc) {
    const std::int64_t mc = std::min(blk.mc, M - ic);
    for (std::int64_t pc = 0; pc < K; pc += blk.kc) {
      const std::int64_t kc = std::min(blk.kc, K - pc);
      const T beta_k = pc == 0 ? beta : T(1);
      uk.pack_a(A + ic * a_rs + pc * a_ks, a_rs, a_ks, mc, kc, pa);
      for (std::int64_t jc = 0; jc < N; jc += blk.nc) {
        const std::int64_t nc = std::min(blk.nc, N - jc);
        uk.pack_b(B + jc * b_rs + pc * b_ks, b_rs, b_ks, nc, kc, pb);
        // The B block after this one in loop order: next jc, else next pc.
        std::int64_t next_jc = jc + blk.nc, next_pc = pc;
        if (next_jc >= N) next_jc = 0, next_pc = pc + blk.kc;
        const std::int64_t calls = ceil_div(mc, mr) * ceil_div(nc, nr);
        // Only for B stored K x N: there the block is kc short runs (one per k)
        // that the hardware prefetcher barely follows. Stored N x K, the
        // packer walks long runs along k and software prefetch only adds
        // traffic.
        if (next_pc < K && b_rs == 1) {
          const std::int64_t nn = std::min(blk.nc, N - next_jc), nk = std::min(blk.kc, K - next_pc);
          prefetch.start(B + next_jc + next_pc * b_ks, b_ks * sizeof(T), nk, nn * sizeof(T), calls);
        } else {
          prefetch.start(nullptr, 0, 0, 0, 1);
        }
        for (std::int64_t ir = 0; ir < mc; ir += mr) {
          const int m = static_cast<int>(std::min<std::int64_t>(mr, mc - ir));
          const T* ap = pa + ir * kc;
          T* c_row = C + (ic + ir) * ldc + jc;
          for (std::int64_t jr = 0; jr < nc; jr += nr) {
            const int n = static_cast<int>(std::min<std::int64_t>(nr, nc - jr));
            uk.compute(kc, ap, pb + jr * kc, c_row + jr, ldc, m, n, alpha, beta_k);
            prefetch.step();
          }
        }
      }
    }
  }
}

struct Grid {
  int tm, tn;
};

// Splits C among `threads` as tm x tn blocks. Each thread packs its rows of A
// and its columns of B (all of K), so the cost of a grid is the largest
// block's multiply-adds plus its packing, which grows with rows + columns.
Grid choose_grid(int threads, std::int64_t M, std::int64_t N, int mr, int nr) {
  const std::int64_t tiles_m = ceil_div(M, mr), tiles_n = ceil_div(N, nr);
  Grid best{1, 1};
  double best_cost = -1;
  // Grids may leave threads idle (tm * tn < threads) when the tiles do not
  // divide evenly among them.
  for (int tm = 1; tm <= threads && tm <= tiles_m; ++tm) {
    const int tn = static_cast<int>(std::min<std::int64_t>(threads / tm, tiles_n));
    const double rows = static_cast<double>(ceil_div(tiles_m, tm) * mr);
    const double cols = static_cast<double>(ceil_div(tiles_n, tn) * nr);
    const double cost = rows * cols + 16.0 * (rows + cols);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = {tm, tn};
    }
  }
  return best;
}

// [begin, end) of part `p` of `parts` near-equal ranges of whole tiles.
std::pair<std::int64_t, std::int64_t> split(std::int64_t extent, int tile, int parts, int p) {
  const std::int64_t tiles = ceil_div(extent, tile);
  const std::int64_t begin = tiles * p / parts * tile, end = tiles * (p + 1) / parts * tile;
  return {std::min(begin, extent), std::min(end, extent)};
}

// A second thread pays off once each gets about 8M multiply-adds (~0.1 ms of
// one core); below that, fork/join and the duplicated packing dominate.
constexpr double kMinMultiplyAddsPerThread = 1 << 23;

}  // namespace

template <typename T>
void gemm_blocked(const MicroKernel<T>& uk, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
                  std::int64_t K, T alpha, const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C,
                  std::int64_t ldc) {
  const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  threads = static_cast<int>(std::clamp<double>(work / kMinMultiplyAddsPerThread, 1.0, threads));
  if (threads <= 1) {
    gemm_serial(uk, choose_blocking(M, N, K, uk.mr, uk.nr, sizeof(T), 1), trans_a, trans_b, M, N, K, alpha, A, lda,
                B, ldb, beta, C, ldc);
    return;
  }
  std::exception_ptr error;  // an exception must not escape the parallel region
#pragma omp parallel num_threads(threads)
  {
    // The runtime may give fewer threads than asked; every thread derives the
    // same grid from the team it actually got.
    const int team = omp_get_num_threads();
    const Grid grid = choose_grid(team, M, N, uk.mr, uk.nr);
    const int t = omp_get_thread_num();
    if (t < grid.tm * grid.tn) {
      const auto [m0, m1] = split(M, uk.mr, grid.tm, t / grid.tn);
      const auto [n0, n1] = split(N, uk.nr, grid.tn, t % grid.tn);
      if (m1 > m0 && n1 > n0) {
        try {
          const Blocking blk = choose_blocking(m1 - m0, n1 - n0, K, uk.mr, uk.nr, sizeof(T), team);
          gemm_serial(uk, blk, trans_a, trans_b, m1 - m0, n1 - n0, K, alpha, A + (trans_a ? m0 : m0 * lda), lda,
                      B + (trans_b ? n0 * ldb : n0), ldb, beta, C + m0 * ldc + n0, ldc);
        } catch (...) {
#pragma omp critical(sceald_gemm_error)
          if (!error) error = std::current_exception();
        }
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

template void gemm_blocked<float>(const MicroKernel<float>&, bool, bool, std::int64_t, std::int64_t, std::int64_t,
                                  float, const float*, std::int64_t, const float*, std::int64_t, float, float*,
                                  std::int64_t);
template void gemm_blocked<double>(const MicroKernel<double>&, bool, bool, std::int64_t, std::int64_t, std::int64_t,
                                   double, const double*, std::int64_t, const double*, std::int64_t, double, double*,
                                   std::int64_t);

}  // namespace sceald::kernels::cpu::gemm_detail
