// SCE-ALD's building blocks (nets/sceald): the CR-graphs (Eqs. 2-3), the
// confidence with both Wasserstein readings (Eq. 5) and the exact optimal
// transport solver behind the `ot` one, the prototypes (Eq. 4), the label
// distributions (Eq. 6), the loss (Eq. 7) and the feature bank. References:
// hand-computed values, plain reference loops, invariants, float64 finite
// differences, and numbers from SciPy (optimize.linprog with HiGHS, and
// stats.wasserstein_distance), generated once by the scripts quoted below.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "engine/data/expressions.h"
#include "engine/error.h"
#include "engine/ops/loss.h"
#include "engine/ops/softmax.h"
#include "engine/rng.h"
#include "nets/sceald/confidence.h"
#include "nets/sceald/label_distribution.h"
#include "nets/sceald/losses.h"
#include "nets/sceald/optimal_transport.h"
#include "nets/sceald/prototypes.h"
#include "nets/sceald/semantic.h"
#include "nets/sceald/semantic_loss.h"
#include "support/gradcheck.h"
#include "support/tolerance.h"

namespace sceald {
namespace {

using namespace method;
using testing::all_close;
using testing::Tolerance;

constexpr Tolerance kExact{1e-12, 1e-12};

Tensor f64(const std::vector<double>& v, const Shape& shape) { return Tensor::from_vector(v, shape); }

template <typename F>
bool throws_error(F&& f) {
  try {
    f();
  } catch (const Error&) {
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- CR-graphs (Eqs. 2, 3)

TEST(SceAldCrGraph, CosinesByHand) {
  // codes g(x) [3, 2] against class vectors [3, 2]; the zero code gives 0 (eps guard).
  const Tensor codes = f64({1, 0, 1, 1, 0, 0}, {3, 2});
  const Tensor classes = f64({1, 0, 0, 2, -3, 0}, {3, 2});
  const double h = 1.0 / std::sqrt(2.0);
  const std::vector<double> expected = {1, 0, -1, h, h, -h, 0, 0, 0};
  const Tensor s = semantic_cr_graph(codes, classes);
  EXPECT_EQ(s.dtype(), DType::Float64);
  EXPECT_EQ(s.shape(), Shape({3, 3}));
  EXPECT_TRUE(all_close(s.to_vector<double>(), expected, kExact));
  // float32 inputs are read as they are and the result is still float64.
  EXPECT_TRUE(all_close(task_cr_graph(codes.to(DType::Float32), classes.to(DType::Float32)).to_vector<double>(),
                        expected, {1e-7, 1e-7}));
  EXPECT_TRUE(throws_error([&] { semantic_cr_graph(codes, f64({1, 2, 3}, {1, 3})); }));
}

TEST(SceAldCrGraph, MatchesAPlainLoopOnRandomInputs) {
  Generator gen(5);
  const Tensor f = gen.normal({37, 64}, 0.0, 1.0, DType::Float32);  // above the OpenMP threshold? no matter
  const Tensor p = gen.normal({7, 64}, 0.5, 1.0, DType::Float64);
  const std::vector<float> fv = f.to_vector<float>();
  const std::vector<double> pv = p.to_vector<double>();
  std::vector<double> expected;
  for (int i = 0; i < 37; ++i)
    for (int k = 0; k < 7; ++k) {
      double dot = 0, nf = 0, np = 0;
      for (int j = 0; j < 64; ++j) {
        dot += fv[i * 64 + j] * pv[k * 64 + j];
        nf += double(fv[i * 64 + j]) * fv[i * 64 + j];
        np += pv[k * 64 + j] * pv[k * 64 + j];
      }
      expected.push_back(dot / std::sqrt(nf * np));
    }
  EXPECT_TRUE(all_close(task_cr_graph(f, p).to_vector<double>(), expected, {1e-12, 1e-10}));
}

TEST(SceAldCrGraph, DefaultWordSimilarityMatrix) {
  const Tensor v = default_class_word_vectors().to_tensor(DType::Float64);
  const Tensor sim = word_similarity_matrix(v);
  ASSERT_EQ(sim.shape(), Shape({7, 7}));
  const std::vector<double> s = sim.to_vector<double>();
  for (int k = 0; k < 7; ++k) {
    EXPECT_NEAR(s[k * 7 + k], 1.0, 1e-12);
    for (int l = 0; l < 7; ++l) EXPECT_NEAR(s[k * 7 + l], s[l * 7 + k], 1e-12);
  }
  // The values PROVENANCE.md prints (numpy on the same vectors): surprised is
  // closest to happy, disgusted closest to angry, as in the paper's Fig. 3.
  EXPECT_NEAR(s[0 * 7 + 3], 0.780, 5e-4);
  EXPECT_NEAR(s[2 * 7 + 5], 0.646, 5e-4);
  EXPECT_NEAR(s[4 * 7 + 6], 0.169, 5e-4);
  EXPECT_NEAR(s[1 * 7 + 5], 0.727, 5e-4);
}

// ---------------------------------------------------------------- Wasserstein readings (Eq. 5)

TEST(SceAldWasserstein, SortedByHand) {
  // sorted: [-0.1, 0.3, 0.5] vs [0.0, 0.1, 0.6]: gaps 0.1, 0.2, 0.1.
  EXPECT_NEAR(sorted_wasserstein(std::vector<double>{0.3, -0.1, 0.5}, std::vector<double>{0.0, 0.6, 0.1}), 0.4 / 3,
              1e-15);
  // Which class holds which value does not matter to this reading.
  EXPECT_EQ(sorted_wasserstein(std::vector<double>{1, 2, 3}, std::vector<double>{3, 1, 2}), 0.0);
  EXPECT_TRUE(throws_error([] { sorted_wasserstein(std::vector<double>{1, 2}, std::vector<double>{1}); }));
}

TEST(SceAldWasserstein, GraphDistribution) {
  const std::vector<double> p = graph_distribution(std::vector<double>{1.0, 0.0, -1.0, 0.5});
  EXPECT_TRUE(all_close(p, {2 / 4.5, 1 / 4.5, 0.0, 1.5 / 4.5}, kExact));
  // A cosine a rounding below -1 counts as -1; all -1 gives the uniform distribution.
  EXPECT_EQ(graph_distribution(std::vector<double>{-1.0000000001, 1.0})[0], 0.0);
  EXPECT_TRUE(all_close(graph_distribution(std::vector<double>{-1, -1, -1, -1}), {0.25, 0.25, 0.25, 0.25}, kExact));
}

// Generated once with SciPy 1.17.1 (numpy 2.4.6) by this script, run from the
// repository root: the sorted reading is scipy.stats.wasserstein_distance, the
// ot one linprog (HiGHS) on p = (S + 1) / sum(S + 1) under the default vectors' cost.
//   import numpy as np
//   from scipy.optimize import linprog
//   from scipy.stats import wasserstein_distance
//   rows = [l.split() for l in open("data/word_vectors/glove6b50d_class_words.txt").read().splitlines()[1:]]
//   V = np.array([[float(np.float32(x)) for x in r[1:]] for r in rows])
//   U = V / np.linalg.norm(V, axis=1, keepdims=True)
//   C = np.maximum(0, 1 - U @ U.T); np.fill_diagonal(C, 0)
//   def ot(a, b, C):
//       m, n = len(a), len(b); A = []
//       for i in range(m):
//           r = np.zeros(m*n); r[i*n:(i+1)*n] = 1; A.append(r)
//       for j in range(n):
//           r = np.zeros(m*n); r[j::n] = 1; A.append(r)
//       return linprog(C.ravel(), A_eq=np.array(A), b_eq=np.concatenate([a, b]), bounds=(0, None), method="highs").fun
//   rng = np.random.default_rng(7)
//   def arr(v): return "{" + ", ".join(repr(float(x)) for x in np.ravel(v)) + "}"
//   for _ in range(3):
//       s = np.round(rng.uniform(-1, 1, 7), 4); t = np.round(rng.uniform(-1, 1, 7), 4)
//       p = (s + 1) / (s + 1).sum(); q = (t + 1) / (t + 1).sum()
//       print(f"      {{{arr(s)},\n       {arr(t)},\n       {wasserstein_distance(s, t)!r}, {ot(p, q, C)!r}}},")
struct GraphCase {
  std::vector<double> s, t;
  double sorted, ot;
};
const GraphCase kGraphCases[] = {
    {{0.2502, 0.7944, 0.5514, -0.5496, -0.3997, 0.7471, -0.9895},
     {0.6425, 0.5941, -0.0641, -0.3939, -0.4431, -0.4903, -0.1098},
     0.27027142857142855, 0.1365995779294314},
    {{0.0091, 0.107, 0.991, 0.5853, 0.2444, 0.9779, -0.5694},
     {-0.6796, 0.2251, -0.9121, -0.9286, 0.0298, -0.0676, 0.8343},
     0.549142857142857, 0.2657805929904876},
    {{0.2585, 0.0282, -0.0063, -0.505, -0.9764, -0.6152, 0.3841},
     {-0.5988, -0.2609, -0.9925, 0.6601, -0.6911, -0.4648, 0.7607},
     0.2445142857142857, 0.14883099205534725},
};

TEST(SceAldWasserstein, BothReadingsMatchScipy) {
  const Tensor cost = transport_ground_cost(default_class_word_vectors().to_tensor(DType::Float64));
  const std::vector<double> c = cost.to_vector<double>();
  for (const GraphCase& g : kGraphCases) {
    EXPECT_NEAR(sorted_wasserstein(g.s, g.t), g.sorted, 1e-15);
    EXPECT_NEAR(graph_transport_distance(g.s, g.t, c), g.ot, 1e-9);
  }
}

TEST(SceAldWasserstein, GroundCostFromWordVectors) {
  const Tensor v = default_class_word_vectors().to_tensor(DType::Float32);
  const std::vector<double> c = transport_ground_cost(v).to_vector<double>();
  const std::vector<double> s = word_similarity_matrix(v).to_vector<double>();
  for (int k = 0; k < 7; ++k)
    for (int l = 0; l < 7; ++l) {
      if (k == l)
        EXPECT_EQ(c[k * 7 + l], 0.0);
      else
        EXPECT_NEAR(c[k * 7 + l], 1.0 - s[k * 7 + l], 1e-15);
      EXPECT_EQ(c[k * 7 + l], c[l * 7 + k]);
    }
}

// ---------------------------------------------------------------- confidence (Eq. 5)

TEST(SceAldConfidence, AlphaFromBothDistances) {
  const Tensor ss = f64({0.3, -0.1, 0.5, 0.2, 0.2, 0.2}, {2, 3});
  const Tensor st = f64({0.0, 0.6, 0.1, 0.2, 0.2, 0.2}, {2, 3});
  const Tensor alpha = confidence(ss, st);  // sorted, eps 1e-3
  EXPECT_TRUE(all_close(alpha.to_vector<double>(), {1.0 / (0.4 / 3 + 1e-3), 1.0 / 1e-3}, kExact));
  // ot: cost |k - l| on a line. Sample 0: p = (1.3, 0.9, 1.5)/3.7, q = (1.0, 1.6, 1.1)/3.7;
  // CDF gaps (0.3, -0.4)/3.7 -> W = 0.7/3.7.
  const Tensor line = f64({0, 1, 2, 1, 0, 1, 2, 1, 0}, {3, 3});
  const Tensor w = graph_distances(ss, st, {ConfidenceDistance::OptimalTransport, 1e-3}, line);
  EXPECT_TRUE(all_close(w.to_vector<double>(), {0.7 / 3.7, 0.0}, kExact));
  const Tensor a2 = confidence(ss, st, {ConfidenceDistance::OptimalTransport, 0.5}, line);
  EXPECT_TRUE(all_close(a2.to_vector<double>(), {1.0 / (0.7 / 3.7 + 0.5), 2.0}, kExact));
  EXPECT_TRUE(throws_error([&] { confidence(ss, st, {ConfidenceDistance::OptimalTransport, 1e-3}); }));
  EXPECT_TRUE(throws_error([&] { confidence(ss, f64({1, 2, 3}, {1, 3})); }));
  EXPECT_EQ(parse_confidence_distance("ot"), ConfidenceDistance::OptimalTransport);
  EXPECT_EQ(std::string(confidence_distance_name(ConfidenceDistance::Sorted)), "sorted");
  EXPECT_TRUE(throws_error([] { parse_confidence_distance("emd"); }));
}

// ---------------------------------------------------------------- exact optimal transport

// Checks the solution's own optimality certificate: a feasible plan, dual
// feasible potentials, and equal primal and dual objectives.
::testing::AssertionResult certified(const std::vector<double>& a, const std::vector<double>& b,
                                     const std::vector<double>& c, const TransportSolution& s) {
  const std::size_t m = a.size(), n = b.size();
  double primal = 0, dual = 0;
  for (std::size_t i = 0; i < m; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double x = s.plan[i * n + j];
      if (x < 0) return ::testing::AssertionFailure() << "negative flow at " << i << "," << j;
      if (s.row_potential[i] + s.column_potential[j] > c[i * n + j] + 1e-12)
        return ::testing::AssertionFailure() << "dual infeasible at " << i << "," << j;
      row += x;
      primal += x * c[i * n + j];
    }
    if (std::fabs(row - a[i]) > 1e-12) return ::testing::AssertionFailure() << "row " << i << " sums to " << row;
    dual += s.row_potential[i] * a[i];
  }
  for (std::size_t j = 0; j < n; ++j) {
    double col = 0;
    for (std::size_t i = 0; i < m; ++i) col += s.plan[i * n + j];
    if (std::fabs(col - b[j]) > 1e-12) return ::testing::AssertionFailure() << "column " << j << " sums to " << col;
    dual += s.column_potential[j] * b[j];
  }
  if (std::fabs(primal - s.cost) > 1e-12 || std::fabs(primal - dual) > 1e-12)
    return ::testing::AssertionFailure() << "primal " << primal << " dual " << dual << " cost " << s.cost;
  return ::testing::AssertionSuccess();
}

// Generated once with SciPy 1.17.1 (numpy 2.4.6) by this script: the
// transportation LP solved by scipy.optimize.linprog with HiGHS.
//   import numpy as np
//   from scipy.optimize import linprog
//   rng = np.random.default_rng(20261129)
//   def solve(a, b, C):
//       m, n = len(a), len(b)
//       A = []
//       for i in range(m):
//           r = np.zeros(m*n); r[i*n:(i+1)*n] = 1; A.append(r)
//       for j in range(n):
//           r = np.zeros(m*n); r[j::n] = 1; A.append(r)
//       res = linprog(np.asarray(C).ravel(), A_eq=np.array(A), b_eq=np.concatenate([a, b]), bounds=(0, None), method="highs")
//       assert res.status == 0
//       return res.fun
//   def dist(k):
//       w = np.round(rng.uniform(0, 1, k), 4); w[rng.uniform(size=k) < 0.2] = 0; w[0] += 0.1
//       return w / w.sum()
//   cases = []
//   for m, n in [(7, 7), (7, 7), (7, 7), (3, 5), (5, 3), (1, 4), (6, 2)]:
//       a, b = dist(m), dist(n)
//       C = np.round(rng.uniform(0, 2, (m, n)), 4)
//       cases.append((a, b, C))
//   # degenerate: equal partial sums everywhere (north-west corner ties)
//   a = np.array([0.25, 0.25, 0.5]); cases.append((a, a.copy(), np.round(rng.uniform(0, 1, (3, 3)), 4)))
//   a = np.array([0.5, 0.0, 0.5, 0.0]); b = np.array([0.0, 0.5, 0.0, 0.5]); cases.append((a, b, np.round(rng.uniform(0, 1, (4, 4)), 4)))
//   def arr(v): return "{" + ", ".join(repr(float(x)) for x in np.ravel(v)) + "}"
//   for a, b, C in cases:
//       print(f"      {{{arr(a)},\n       {arr(b)},\n       {arr(C)},\n       {solve(a, b, C)!r}}},")
struct TransportCase {
  std::vector<double> a, b, c;
  double cost;
};
const TransportCase kTransportCases[] = {
      {{0.12890263993249487, 0.0642504118616145, 0.0, 0.3422670470526781, 0.28026680596295256, 0.0, 0.18431309519025996},
       {0.07223867658744493, 0.0, 0.06653182113703678, 0.0, 0.5274868164415228, 0.0, 0.3337426858339956},
       {1.7954, 1.2783, 0.3865, 1.6097, 1.9028, 1.707, 1.5451, 0.1841, 0.8106, 1.1468, 1.5021, 0.071, 0.5729, 0.3883, 0.5277, 1.3466, 1.9839, 1.9699, 0.221, 1.4414, 1.3859, 0.5557, 0.6607, 1.1118, 0.6082, 0.2395, 1.3893, 0.7638, 0.5712, 0.3605, 1.6361, 1.7828, 1.5442, 0.3305, 1.6616, 0.7172, 0.5344, 1.5231, 0.3089, 1.6692, 0.1912, 0.1193, 0.9478, 1.4607, 0.8527, 0.66, 0.3589, 0.8017, 1.5792},
       0.6817896476629737},
      {{0.04236929073807305, 0.0, 0.272053215829167, 0.3947970510973646, 0.2605711380391492, 0.030209304296246083, 0.0},
       {0.15519491573511887, 0.20234920274641094, 0.0, 0.32690234352834363, 0.0, 0.17891391930999265, 0.1366396186801339},
       {1.2776, 0.19, 0.5146, 1.8788, 0.0821, 1.091, 0.6042, 1.6004, 0.367, 1.7822, 1.3358, 0.2323, 1.0677, 0.1689, 1.5354, 0.5974, 0.6924, 1.8144, 0.3067, 1.6265, 0.9337, 1.845, 1.9945, 0.9345, 0.4304, 0.6054, 1.784, 1.8283, 1.2771, 0.279, 1.1056, 1.387, 0.5249, 0.8846, 1.624, 0.3254, 1.3717, 1.1637, 1.7566, 0.0584, 1.3632, 1.8137, 0.1799, 0.4836, 1.285, 1.6832, 0.3967, 0.2348, 0.4139},
       0.7269221567531238},
      {{0.19839091929649494, 0.026256704502931272, 0.2929711862292628, 0.0189908943495073, 0.30026818011725087, 0.16312211550455283, 0.0},
       {0.27093088904387097, 0.261299857195045, 0.0, 0.0, 0.261299857195045, 0.0, 0.20646939656603897},
       {0.4607, 1.5072, 1.8215, 1.3739, 0.2417, 0.5283, 1.4794, 0.7615, 0.5204, 0.2598, 0.3614, 0.2217, 0.2064, 1.1789, 1.3524, 1.2485, 1.2524, 1.4967, 0.4359, 1.5039, 1.4793, 0.9257, 0.8282, 0.9742, 1.8441, 0.8162, 0.9499, 0.8591, 1.2705, 1.0434, 1.9919, 0.347, 1.0592, 1.6616, 0.3782, 0.4073, 1.5749, 1.0097, 1.8748, 1.6414, 1.1897, 1.3846, 0.2186, 0.2893, 1.9476, 1.4105, 1.5829, 1.3121, 0.0026},
       0.5703987821990986},
      {{0.12810658467845248, 0.0, 0.8718934153215475},
       {0.05268148772521337, 0.24286165841323362, 0.3442208407965441, 0.13470656411337056, 0.2255294489516384},
       {0.1753, 0.4728, 1.8753, 1.5931, 1.9605, 1.7792, 1.5881, 0.8274, 0.4181, 1.2164, 0.6517, 0.3935, 0.221, 0.7098, 1.7495},
       0.6770336335368272},
      {{0.35484931146678933, 0.0, 0.29020278042528014, 0.126762414960397, 0.22818549314753342},
       {1.0, 0.0, 0.0},
       {1.4736, 0.5422, 1.1621, 0.8595, 0.2079, 0.4961, 0.7005, 0.6541, 0.712, 1.3928, 0.4238, 1.5136, 1.8221, 0.4041, 0.8184},
       1.3185244716863311},
      {{1.0},
       {0.6211028514368134, 0.0, 0.0, 0.3788971485631865},
       {0.2646, 0.031, 0.6989, 0.2451},
       0.25721150560301786},
      {{0.3711671215283352, 0.0, 0.0, 0.28889067266013807, 0.1442847969176433, 0.19565740889388344},
       {1.0, 0.0},
       {1.0978, 1.4222, 1.4592, 0.4402, 1.3197, 0.1654, 1.2126, 0.9815, 1.211, 0.3188, 0.635, 1.7546},
       1.0567474393963718},
      {{0.25, 0.25, 0.5},
       {0.25, 0.25, 0.5},
       {0.688, 0.6616, 0.6416, 0.7519, 0.9548, 0.5255, 0.8967, 0.4789, 0.8542},
       0.635675},
      {{0.5, 0.0, 0.5, 0.0},
       {0.0, 0.5, 0.0, 0.5},
       {0.4987, 0.3682, 0.1731, 0.0684, 0.6047, 0.9032, 0.662, 0.3121, 0.3651, 0.5816, 0.5879, 0.6155, 0.8428, 0.168, 0.7056, 0.5424},
       0.325},
};

TEST(SceAldTransport, MatchesScipyLinprog) {
  for (const TransportCase& t : kTransportCases) {
    const TransportSolution s = solve_transport(t.a, t.b, t.c);
    EXPECT_NEAR(s.cost, t.cost, 1e-9) << t.a.size() << " x " << t.b.size();
    EXPECT_TRUE(certified(t.a, t.b, t.c, s));
  }
}

TEST(SceAldTransport, HandSolvedCases) {
  const std::vector<double> swap = {0, 1, 1, 0};
  EXPECT_EQ(transport_cost(std::vector<double>{0.5, 0.5}, std::vector<double>{0.5, 0.5}, swap), 0.0);
  EXPECT_NEAR(transport_cost(std::vector<double>{0.5, 0.5}, std::vector<double>{1.0, 0.0}, swap), 0.5, 1e-15);
  // Crossed costs: the north-west corner plan (all on the diagonal, cost 2) is not optimal.
  const std::vector<double> crossed = {1, 0, 0, 1};
  const TransportSolution s = solve_transport(std::vector<double>{0.5, 0.5}, std::vector<double>{0.5, 0.5}, crossed);
  EXPECT_EQ(s.cost, 0.0);
  EXPECT_GE(s.pivots, 1);
  EXPECT_TRUE(all_close(s.plan, {0, 0.5, 0.5, 0}, kExact));
  // One supply feeds every demand.
  EXPECT_NEAR(transport_cost(std::vector<double>{1.0}, std::vector<double>{0.2, 0.3, 0.5}, std::vector<double>{1, 2, 3}),
              0.2 + 0.6 + 1.5, 1e-15);
}

std::vector<double> random_distribution(Generator& gen, int n, bool with_zeros) {
  std::vector<double> p(static_cast<std::size_t>(n));
  double total = 0;
  for (double& x : p) {
    x = gen.next_uniform();
    if (with_zeros && gen.next_uniform() < 0.25) x = 0;
    total += x;
  }
  if (total == 0) p[0] = total = 1;
  for (double& x : p) x /= total;
  return p;
}

TEST(SceAldTransport, EqualsTheOneDimensionalClosedFormOnALine) {
  Generator gen(11);
  for (int n : {2, 7, 12}) {
    std::vector<double> cost(static_cast<std::size_t>(n * n));
    for (int k = 0; k < n; ++k)
      for (int l = 0; l < n; ++l) cost[k * n + l] = std::abs(k - l);
    for (int trial = 0; trial < 20; ++trial) {
      const auto p = random_distribution(gen, n, true), q = random_distribution(gen, n, trial % 2 == 0);
      double cdf_gap = 0, closed_form = 0;
      for (int k = 0; k < n; ++k) {
        cdf_gap += p[k] - q[k];
        closed_form += std::fabs(cdf_gap);  // W1 = sum_k |P(k) - Q(k)| on unit steps
      }
      const TransportSolution s = solve_transport(p, q, cost);
      EXPECT_NEAR(s.cost, closed_form, 1e-13) << n;
      EXPECT_TRUE(certified(p, q, cost, s));
    }
  }
}

TEST(SceAldTransport, MetricInvariants) {
  // A metric ground cost: Euclidean distances between 7 random points.
  Generator gen(3);
  const int n = 7;
  std::vector<double> pts(2 * n);
  for (double& x : pts) x = gen.next_uniform();
  std::vector<double> cost(n * n);
  for (int k = 0; k < n; ++k)
    for (int l = 0; l < n; ++l) cost[k * n + l] = std::hypot(pts[2 * k] - pts[2 * l], pts[2 * k + 1] - pts[2 * l + 1]);
  for (int trial = 0; trial < 40; ++trial) {
    const auto p = random_distribution(gen, n, true), q = random_distribution(gen, n, true),
               r = random_distribution(gen, n, false);
    const double pq = transport_cost(p, q, cost), qp = transport_cost(q, p, cost);
    EXPECT_NEAR(transport_cost(p, p, cost), 0.0, 1e-15);  // W(p, p) = 0
    EXPECT_NEAR(pq, qp, 1e-13);                           // symmetry
    EXPECT_LE(pq, transport_cost(p, r, cost) + transport_cost(r, q, cost) + 1e-13);  // triangle inequality
    EXPECT_GE(pq, 0.0);
  }
  // The word-vector cost of the ot confidence: W(p, p) = 0 there too.
  const std::vector<double> wc =
      transport_ground_cost(default_class_word_vectors().to_tensor(DType::Float64)).to_vector<double>();
  for (int trial = 0; trial < 10; ++trial) {
    const auto p = random_distribution(gen, n, trial % 2 == 0);
    EXPECT_NEAR(transport_cost(p, p, wc), 0.0, 1e-15);
  }
}

TEST(SceAldTransport, RejectsBadInput) {
  const std::vector<double> c4 = {0, 1, 1, 0};
  EXPECT_TRUE(throws_error([&] { solve_transport(std::vector<double>{0.5, 0.5}, std::vector<double>{0.6, 0.5}, c4); }));
  EXPECT_TRUE(throws_error([&] { solve_transport(std::vector<double>{1.5, -0.5}, std::vector<double>{0.5, 0.5}, c4); }));
  EXPECT_TRUE(throws_error([&] { solve_transport(std::vector<double>{0.5, 0.5}, std::vector<double>{0.5, 0.5}, std::vector<double>{0, 1, 1}); }));
  EXPECT_TRUE(throws_error([&] { solve_transport(std::vector<double>{0.5, 0.5}, std::vector<double>{0.5, 0.5}, std::vector<double>{0, NAN, 1, 0}); }));
}

// ---------------------------------------------------------------- prototypes (Eq. 4)

struct TinyTaskSpace {
  // 4 samples, D = 2; class 3 has no sample.
  Tensor features = f64({1, 0, 3, 2, 0, 4, 2, 2}, {4, 2});
  Tensor labels = Tensor::from_vector(std::vector<std::int64_t>{0, 0, 1, 2}, {4});
  Tensor alpha = f64({1, 3, 2, 0.5}, {4});
  Tensor previous = f64({9, 9, 9, 9, 9, 9, -1, 7}, {4, 2});
};

TEST(SceAldPrototypes, WeightedAndLiteralByHand) {
  const TinyTaskSpace t;
  // weighted: p0 = (1 (1,0) + 3 (3,2)) / 4; p1 = (0,4); p2 = (2,2); p3 kept.
  EXPECT_TRUE(all_close(compute_prototypes(t.features, t.labels, t.alpha, 4, PrototypeMode::Weighted, t.previous)
                            .to_vector<double>(),
                        {2.5, 1.5, 0, 4, 2, 2, -1, 7}, kExact));
  // literal (1/n_k) sum alpha f: p0 = (10, 6) / 2; p1 = 2 (0, 4); p2 = 0.5 (2, 2).
  EXPECT_TRUE(all_close(compute_prototypes(t.features, t.labels, t.alpha, 4, PrototypeMode::Literal, t.previous)
                            .to_vector<double>(),
                        {5, 3, 0, 8, 1, 1, -1, 7}, kExact));
  // alpha = 1 before the first update: plain class means (float32 features too).
  const Tensor three = Tensor::from_vector(std::vector<std::int64_t>{0, 0, 1, 2}, {4});
  EXPECT_TRUE(all_close(initial_prototypes(t.features.to(DType::Float32), three, 3).to_vector<double>(),
                        {2, 1, 0, 4, 2, 2}, kExact));
  EXPECT_EQ(parse_prototype_mode("literal"), PrototypeMode::Literal);
}

TEST(SceAldPrototypes, AnEmptyClassNeedsAPreviousPrototype) {
  const TinyTaskSpace t;
  try {
    compute_prototypes(t.features, t.labels, t.alpha, 4);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'happiness' (class 3)"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(throws_error([&] { compute_prototypes(t.features, t.labels, f64({1, 0, 1, 1}, {4}), 3); }));  // alpha 0
  EXPECT_TRUE(throws_error([&] {
    compute_prototypes(t.features, Tensor::from_vector(std::vector<std::int64_t>{0, 5, 1, 2}, {4}), t.alpha, 4);
  }));
}

// ---------------------------------------------------------------- label distribution (Eq. 6)

TEST(SceAldLabelDistribution, ByHand) {
  // f = (0, 0); prototypes at squared distances 1, 4, 25.
  const Tensor f = f64({0, 0, 1, 0}, {2, 2});
  const Tensor p = f64({1, 0, 0, 2, 3, 4}, {3, 2});
  const double e = kLabelDistributionEps;
  const double a0 = 1 / (1 + e), a1 = 1 / (4 + e), a2 = 1 / (25 + e), s = a0 + a1 + a2;
  // second sample sits on prototype 0: 1/eps takes almost all the mass.
  const double b0 = 1 / e, b1 = 1 / (5 + e), b2 = 1 / (20 + e), sb = b0 + b1 + b2;
  const Tensor l = label_distribution(f, p);
  EXPECT_EQ(l.dtype(), DType::Float64);
  EXPECT_TRUE(all_close(l.to_vector<double>(), {a0 / s, a1 / s, a2 / s, b0 / sb, b1 / sb, b2 / sb}, kExact));
  EXPECT_GT(l.to_vector<double>()[3], 0.999);
  // The logits' dtype on request; never a gradient, even from features that have one.
  Tensor fg = f.clone();
  fg.set_requires_grad(true);
  const Tensor l32 = label_distribution(fg, p, DType::Float32, 0.5);
  EXPECT_EQ(l32.dtype(), DType::Float32);
  EXPECT_FALSE(l32.requires_grad());
  const double c0 = 1 / 1.5, c1 = 1 / 4.5, c2 = 1 / 25.5, sc = c0 + c1 + c2;
  EXPECT_NEAR(l32.to_vector<double>()[0], c0 / sc, 1e-6);
}

// ---------------------------------------------------------------- loss (Eq. 7)

TEST(SceAldLoss, ByHand) {
  // z = (0, 0, ln 2): softmax (1/4, 1/4, 1/2). CE(z, 2) = ln 2; CE(z, (1/2, 1/2, 0)) = ln 4.
  const Tensor z = f64({0, 0, std::log(2.0)}, {1, 3});
  const Tensor y = Tensor::from_vector(std::vector<std::int64_t>{2}, {1});
  const Tensor l = f64({0.5, 0.5, 0}, {1, 3});
  const SceAldLossTerms t = sceald_loss_terms(z, y, l, 0.7);
  EXPECT_NEAR(t.hard.item<double>(), std::log(2.0), 1e-15);
  EXPECT_NEAR(t.soft.item<double>(), std::log(4.0), 1e-15);
  EXPECT_NEAR(t.loss.item<double>(), 1.3 * std::log(2.0), 1e-15);
  // beta = 1 is the baseline: plain cross-entropy, no label distribution needed.
  const SceAldLossTerms base = sceald_loss_terms(z, y, Tensor(), 1.0);
  EXPECT_NEAR(base.loss.item<double>(), std::log(2.0), 1e-15);
  EXPECT_FALSE(base.soft.defined());
  EXPECT_NEAR(sceald_loss(z, y, l, 0.0).item<double>(), std::log(4.0), 1e-15);
  EXPECT_TRUE(throws_error([&] { sceald_loss(z, y, Tensor(), 0.7); }));
  EXPECT_TRUE(throws_error([&] { sceald_loss(z, y, l, 1.5); }));
}

TEST(SceAldLoss, GradcheckInTheLogits) {
  Generator gen(21);
  const Tensor feats = gen.normal({5, 16}, 0.0, 1.0, DType::Float64);
  const Tensor protos = gen.normal({7, 16}, 0.0, 1.0, DType::Float64);
  const Tensor l = label_distribution(feats, protos);
  const Tensor y = Tensor::from_vector(std::vector<std::int64_t>{0, 3, 6, 2, 3}, {5});
  const Tensor z = testing::random_input({5, 7}, 8, -2.0, 2.0);
  EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return sceald_loss(in[0], y, l, 0.7); }, {z}));
  // The gradient is (softmax(z) - (beta onehot(y) + (1 - beta) l)) / N.
  z.impl()->grad = Tensor();
  sceald_loss(z, y, l, 0.7).backward();
  const std::vector<double> sm = softmax(z.detach(), 1).to_vector<double>(), lv = l.to_vector<double>();
  std::vector<double> expected(35);
  for (int i = 0; i < 5; ++i)
    for (int k = 0; k < 7; ++k)
      expected[i * 7 + k] = (sm[i * 7 + k] - (0.7 * (k == y.to_vector<std::int64_t>()[i]) + 0.3 * lv[i * 7 + k])) / 5;
  EXPECT_TRUE(all_close(z.grad().to_vector<double>(), expected, kExact));
}

// Eq. 1 with gamma != 1 (the golden test against PyTorch uses gamma = 1):
// mse over every pixel of the batch, plus gamma times one minus the mean
// cosine between code and class word vector.
TEST(SemanticLoss, ByHandWithGamma) {
  const Tensor x = Tensor::from_vector<double>({0, 1, 2, 2}, {2, 1, 1, 2});
  const Tensor recon = Tensor::from_vector<double>({1, 1, 2, 3}, {2, 1, 1, 2});  // squared errors 1, 0, 0, 1
  const Tensor code = Tensor::from_vector<double>({1, 0, 0, 2}, {2, 2});
  const Tensor targets = Tensor::from_vector<double>({1, 1, 0, -1}, {2, 2});  // cosines 1/sqrt(2) and -1
  const SemanticLossTerms t = semantic_loss(x, recon, code, targets, 2.5);
  const double mean_cos = (1 / std::sqrt(2.0) - 1) / 2;
  EXPECT_NEAR(t.mse.item<double>(), 0.5, 1e-15);
  EXPECT_NEAR(t.cosine.item<double>(), mean_cos, 1e-15);
  EXPECT_NEAR(t.loss.item<double>(), 0.5 + 2.5 * (1 - mean_cos), 1e-14);
  EXPECT_NEAR(semantic_loss(x, recon, code, targets, 0.0).loss.item<double>(), 0.5, 1e-15);
  EXPECT_TRUE(throws_error([&] { semantic_loss(x, recon, code, targets, -1.0); }));
  EXPECT_TRUE(throws_error([&] { semantic_loss(x, recon, code, targets.view({4}), 1.0); }));
}

TEST(SemanticLoss, GradcheckInReconstructionAndCode) {
  const Tensor x = testing::random_input({3, 2, 2, 3}, 31, -1.0, 1.0);
  const Tensor targets = testing::random_input({3, 5}, 32, -1.0, 1.0);
  const Tensor recon = testing::random_input({3, 2, 2, 3}, 33, -1.0, 1.0);
  const Tensor code = testing::random_input({3, 5}, 34, -1.0, 1.0);
  EXPECT_TRUE(testing::gradcheck(
      [&](const std::vector<Tensor>& in) { return semantic_loss(x, in[0], in[1], targets, 1.7).loss; }, {recon, code}));
}

TEST(SceAldLoss, BetaIsOneBeforeTheLabelDistributionEpoch) {
  EXPECT_EQ(beta_for_epoch(1, kDefaultLdStartEpoch, kDefaultBeta), 1.0);
  EXPECT_EQ(beta_for_epoch(9, 10, 0.7), 1.0);
  EXPECT_EQ(beta_for_epoch(10, 10, 0.7), 0.7);
  EXPECT_EQ(beta_for_epoch(40, 10, 0.7), 0.7);
  EXPECT_TRUE(throws_error([] { beta_for_epoch(0, 10, 0.7); }));
}

// ---------------------------------------------------------------- feature bank and the epoch cycle

TEST(SceAldFeatureBank, GathersByIndexAndRefreshes) {
  const TinyTaskSpace t;
  FeatureBank bank(4, 2);
  EXPECT_FALSE(bank.ready());
  EXPECT_TRUE(throws_error([&] { bank.initial_prototypes(t.labels, 3); }));
  // Two shuffled batches, float32 then float64: rows land by sample index.
  bank.store(Tensor::from_vector(std::vector<float>{2, 2, 1, 0}, {2, 2}),
             Tensor::from_vector(std::vector<std::int64_t>{3, 0}, {2}));
  EXPECT_EQ(bank.never_stored(), 2);
  bank.store(f64({0, 4, 3, 2}, {2, 2}), std::vector<std::int64_t>{2, 1});
  EXPECT_TRUE(bank.ready());
  EXPECT_EQ(bank.stored_this_epoch(), 4);
  EXPECT_TRUE(all_close(bank.features().to_vector<double>(), t.features.to_vector<double>(), kExact));
  EXPECT_TRUE(all_close(bank.initial_prototypes(Tensor::from_vector(std::vector<std::int64_t>{0, 0, 1, 2}, {4}), 3)
                            .to_vector<double>(),
                        {2, 1, 0, 4, 2, 2}, kExact));
  // A new epoch: the values stay, the per-epoch count restarts; a row written again is overwritten.
  bank.begin_epoch();
  EXPECT_EQ(bank.stored_this_epoch(), 0);
  EXPECT_TRUE(bank.ready());
  bank.store(f64({3, 2, 5, 5}, {2, 2}), std::vector<std::int64_t>{1, 1});
  EXPECT_EQ(bank.stored_this_epoch(), 1);
  EXPECT_TRUE(all_close(bank.features().to_vector<double>(), {1, 0, 5, 5, 0, 4, 2, 2}, kExact));
  EXPECT_TRUE(throws_error([&] { bank.store(f64({1, 1}, {1, 2}), std::vector<std::int64_t>{4}); }));
  EXPECT_TRUE(throws_error([&] { bank.store(f64({1, 1, 1}, {1, 3}), std::vector<std::int64_t>{0}); }));
  EXPECT_TRUE(throws_error([&] { bank.store(f64({1, 1}, {1, 2}), std::vector<std::int64_t>{0, 1}); }));

  // The epoch-end refresh is Eq. 3, then Eq. 5, then Eq. 4, in that order.
  const Tensor ss = f64({0.9, 0.1, 0.0, 0.2, 0.5, 0.5, -0.2, 0.1, 0.0, 0.8, 0.3, 0.3, 0.1, 0.2, 0.7, 0.0}, {4, 4});
  const Tensor protos = f64({1, 1, 0, 3, 2, 1, -1, 2}, {4, 2});
  for (ConfidenceDistance distance : {ConfidenceDistance::Sorted, ConfidenceDistance::OptimalTransport}) {
    const ConfidenceOptions options{distance, 1e-3};
    const Tensor cost = f64({0, 1, 2, 3, 1, 0, 1, 2, 2, 1, 0, 1, 3, 2, 1, 0}, {4, 4});
    const PrototypeRefresh r = bank.refresh(t.labels, ss, protos, options, PrototypeMode::Weighted, cost);
    const Tensor st = task_cr_graph(bank.features(), protos);
    const Tensor alpha = confidence(ss, st, options, cost);
    EXPECT_TRUE(all_close(r.task_graph, st, kExact));
    EXPECT_TRUE(all_close(r.distance, graph_distances(ss, st, options, cost), kExact));
    EXPECT_TRUE(all_close(r.alpha, alpha, kExact));
    EXPECT_TRUE(all_close(r.prototypes,
                          compute_prototypes(bank.features(), t.labels, alpha, 4, PrototypeMode::Weighted, protos),
                          kExact));
  }
  EXPECT_TRUE(throws_error([&] { bank.refresh(t.labels, f64({0, 0, 0}, {1, 3}), protos); }));
}

}  // namespace
}  // namespace sceald
