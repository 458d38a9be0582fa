#include "nets/sceald/optimal_transport.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/error.h"

namespace sceald::method {

namespace {

constexpr int kNone = -1;

void check_masses(std::span<const double> v, const char* what) {
  for (std::size_t i = 0; i < v.size(); ++i)
    SCEALD_CHECK(std::isfinite(v[i]) && v[i] >= 0.0, "solve_transport: ", what, "[", i, "] = ", v[i],
                 " must be finite and non-negative");
}

// The basis as a spanning tree over m row nodes (0..m-1) and n column nodes
// (m..m+n-1); each basic cell (i, j) is an edge i -- m+j.
class BasisTree {
 public:
  BasisTree(int m, int n) : m_(m), n_(n), adjacency_(static_cast<std::size_t>(m + n)) {}

  void rebuild(const std::vector<int>& cells) {
    for (auto& a : adjacency_) a.clear();
    for (int cell : cells) {
      const int i = cell / n_, j = cell % n_;
      adjacency_[i].push_back(cell);
      adjacency_[m_ + j].push_back(cell);
    }
  }

  // Breadth-first from `root`: for every node, the cell by which it was
  // reached (kNone for the root) and its parent node, in visiting order.
  void walk(int root, std::vector<int>& parent_cell, std::vector<int>& parent_node, std::vector<int>& order) const {
    parent_cell.assign(static_cast<std::size_t>(m_ + n_), kNone);
    parent_node.assign(static_cast<std::size_t>(m_ + n_), kNone);
    order.assign(1, root);
    std::vector<bool> seen(static_cast<std::size_t>(m_ + n_), false);
    seen[root] = true;
    for (std::size_t head = 0; head < order.size(); ++head) {
      const int node = order[head];
      for (int cell : adjacency_[node]) {
        const int other = node < m_ ? m_ + cell % n_ : cell / n_;
        if (seen[other]) continue;
        seen[other] = true;
        parent_cell[other] = cell;
        parent_node[other] = node;
        order.push_back(other);
      }
    }
    SCEALD_CHECK(static_cast<int>(order.size()) == m_ + n_, "solve_transport: internal error: the basis (",
                 order.size(), " of ", m_ + n_, " nodes reached) is not a spanning tree");
  }

 private:
  int m_, n_;
  std::vector<std::vector<int>> adjacency_;
};

}  // namespace

TransportSolution solve_transport(std::span<const double> supply, std::span<const double> demand,
                                  std::span<const double> cost) {
  const int m = static_cast<int>(supply.size()), n = static_cast<int>(demand.size());
  SCEALD_CHECK(m >= 1 && n >= 1, "solve_transport: needs at least one supply and one demand, got ", m, " and ", n);
  SCEALD_CHECK(cost.size() == static_cast<std::size_t>(m) * n, "solve_transport: the cost has ", cost.size(),
               " entries, expected ", m, " x ", n);
  check_masses(supply, "supply");
  check_masses(demand, "demand");
  double max_cost = 0.0;
  for (std::size_t k = 0; k < cost.size(); ++k) {
    SCEALD_CHECK(std::isfinite(cost[k]), "solve_transport: cost[", k / n, "][", k % n, "] = ", cost[k], " is not finite");
    max_cost = std::max(max_cost, std::fabs(cost[k]));
  }
  double total_a = 0.0, total_b = 0.0;
  for (double v : supply) total_a += v;
  for (double v : demand) total_b += v;
  SCEALD_CHECK(std::fabs(total_a - total_b) <= 1e-9 * std::max(total_a, total_b), "solve_transport: the supplies sum to ",
               total_a, " but the demands to ", total_b, " (they must be equal)");

  TransportSolution out;
  std::vector<double>& x = out.plan;
  x.assign(static_cast<std::size_t>(m) * n, 0.0);
  std::vector<bool> basic(x.size(), false);
  std::vector<int> basis;  // m + n - 1 cells

  // North-west corner: each step exhausts a row or a column and moves one
  // index, so the m + n - 1 cells form a spanning tree (zero-valued cells
  // included: they keep a degenerate basis a tree).
  {
    std::vector<double> ra(supply.begin(), supply.end()), rb(demand.begin(), demand.end());
    int i = 0, j = 0;
    while (true) {
      const double q = std::min(ra[i], rb[j]);
      x[i * n + j] = q;
      basic[i * n + j] = true;
      basis.push_back(i * n + j);
      const bool row_done = ra[i] <= rb[j];
      ra[i] -= q;
      rb[j] -= q;
      if (i == m - 1 && j == n - 1) break;
      if (i == m - 1)
        ++j;
      else if (j == n - 1 || row_done)
        ++i;
      else
        ++j;
    }
  }

  BasisTree tree(m, n);
  std::vector<int> parent_cell, parent_node, order;
  std::vector<double>& u = out.row_potential;
  std::vector<double>& v = out.column_potential;
  const double tolerance = 1e-11 * std::max(1.0, max_cost);
  const int max_pivots = 50 * m * n + 100;
  while (true) {
    // Potentials on the tree: u_0 = 0 and u_i + v_j = C_ij on every basic cell.
    tree.rebuild(basis);
    tree.walk(0, parent_cell, parent_node, order);
    u.assign(static_cast<std::size_t>(m), 0.0);
    v.assign(static_cast<std::size_t>(n), 0.0);
    for (std::size_t k = 1; k < order.size(); ++k) {
      const int node = order[k], cell = parent_cell[node];
      if (node < m)
        u[node] = cost[cell] - v[cell % n];
      else
        v[node - m] = cost[cell] - u[cell / n];
    }
    // Bland: the first cell, in row-major order, with a negative reduced cost.
    int entering = kNone;
    for (int cell = 0; cell < m * n && entering == kNone; ++cell)
      if (!basic[cell] && cost[cell] - u[cell / n] - v[cell % n] < -tolerance) entering = cell;
    if (entering == kNone) break;
    SCEALD_CHECK(out.pivots < max_pivots, "solve_transport: no optimum after ", out.pivots,
                 " pivots (", m, " x ", n, "): internal error");
    ++out.pivots;

    // The cycle: entering cell (+), then the tree path from its row back to
    // its column, whose cells alternate -, +, ..., - (the path is odd).
    const int ei = entering / n, ej = entering % n;
    tree.walk(m + ej, parent_cell, parent_node, order);
    std::vector<int> minus, plus;
    for (int node = ei, k = 0; node != m + ej; node = parent_node[node], ++k)
      (k % 2 == 0 ? minus : plus).push_back(parent_cell[node]);
    int leaving = kNone;
    for (int cell : minus)
      if (leaving == kNone || x[cell] < x[leaving] || (x[cell] == x[leaving] && cell < leaving)) leaving = cell;
    const double theta = x[leaving];
    for (int cell : minus) x[cell] -= theta;  // theta is their minimum: none goes negative
    for (int cell : plus) x[cell] += theta;
    x[entering] = theta;
    x[leaving] = 0.0;
    basic[leaving] = false;
    basic[entering] = true;
    *std::find(basis.begin(), basis.end(), leaving) = entering;
  }
  out.cost = 0.0;
  for (std::size_t k = 0; k < x.size(); ++k) out.cost += x[k] * cost[k];
  return out;
}

double transport_cost(std::span<const double> supply, std::span<const double> demand, std::span<const double> cost) {
  return solve_transport(supply, demand, cost).cost;
}

}  // namespace sceald::method
