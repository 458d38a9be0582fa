// Exact discrete optimal transport for small dense problems (the c = 7
// classes of SCE-ALD's `ot` confidence distance).
//
// Given supplies a [m] and demands b [n] (non-negative, equal totals) and a
// ground cost C [m, n] (row-major), finds a plan x >= 0 with row sums a and
// column sums b that minimises sum_ij x_ij C_ij: the Wasserstein distance
// between a and b under C when both are distributions.
//
// Method: the transportation simplex (a network simplex on the complete
// bipartite graph). A basis is a spanning tree of m + n - 1 cells, started by
// the north-west corner rule; the dual potentials u, v solve u_i + v_j = C_ij
// on the tree; a cell with a negative reduced cost C_ij - u_i - v_j enters,
// the flow shifts round the cycle it closes, and the first cell to reach 0
// leaves. Bland's rule (the first entering cell in row-major order, the
// lowest-indexed leaving cell among ties) rules out cycling on degenerate
// problems. The result is exact up to floating-point rounding, and it
// carries its own certificate: the plan is feasible, the potentials are dual
// feasible (u_i + v_j <= C_ij + tolerance) and sum u a + sum v b equals the cost.
#pragma once

#include <span>
#include <vector>

namespace sceald::method {

struct TransportSolution {
  double cost = 0.0;                   // sum_ij plan_ij C_ij
  std::vector<double> plan;            // [m, n], row-major
  std::vector<double> row_potential;   // u [m], dual variables of the supplies
  std::vector<double> column_potential;  // v [n], dual variables of the demands
  int pivots = 0;                      // simplex pivots taken
};

// Throws sceald::Error for negative or non-finite entries, a cost of the
// wrong size, or totals that differ by more than 1e-9 relative.
TransportSolution solve_transport(std::span<const double> supply, std::span<const double> demand,
                                  std::span<const double> cost);
// Only the optimal cost.
double transport_cost(std::span<const double> supply, std::span<const double> demand, std::span<const double> cost);

}  // namespace sceald::method
