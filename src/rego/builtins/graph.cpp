// Graphs (OPA topdown/reachable.go): graph.reachable and graph.reachable_paths over an adjacency
// object {node: array-or-set of neighbours}. Nodes absent from the graph are not reached.
#include <deque>

#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

const std::vector<Value>* neighbours(const Value& edges) {
  if (edges.is_array()) return &edges.array_items();
  if (edges.is_set()) return &edges.set_items();
  return nullptr;
}

BuiltinResult reachable(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& graph = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  const auto* initial = REGO_ARG(arg_array_or_set(ctx, a, 1));
  std::deque<Value> queue(initial->begin(), initial->end());
  std::vector<Value> seen;
  auto contains = [&](const Value& v) {
    return std::binary_search(seen.begin(), seen.end(), v, ValueLess{});
  };
  while (!queue.empty()) {
    Value node = std::move(queue.front());
    queue.pop_front();
    if (contains(node)) continue;
    const Value* edges = graph.get(node);
    if (!edges) continue;
    if (const auto* ns = neighbours(*edges))
      for (const auto& n : *ns)
        if (!contains(n)) queue.push_back(n);
    seen.insert(std::upper_bound(seen.begin(), seen.end(), node, ValueLess{}), node);
  }
  return Value::set(std::move(seen));
}

// OPA's pathBuilder, including how it records a path when it meets an already reached node.
void build_paths(const Value& graph, const Value& root, std::vector<Value> path, std::vector<Value>& results,
                 std::vector<Value>& reached, int depth) {
  std::vector<Value> paths;
  const Value* edges = graph.get(root);
  if (!edges || depth > 10000) {
    results.push_back(Value::array(path));
    return;
  }
  path.push_back(root);
  const auto* ns = neighbours(*edges);
  if (!ns || ns->empty()) {
    results.push_back(Value::array(path));
    return;
  }
  for (const auto& n : *ns) {
    if (std::find(reached.begin(), reached.end(), n) != reached.end()) {
      paths.insert(paths.end(), path.begin(), path.end());
      results.push_back(Value::array(paths));
    } else {
      reached.push_back(root);
      build_paths(graph, n, path, results, reached, depth + 1);
    }
  }
}

BuiltinResult reachable_paths(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& graph = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  const auto* initial = REGO_ARG(arg_array_or_set(ctx, a, 1));
  std::vector<Value> results;
  for (const auto& node : *initial) {
    std::vector<Value> reached;
    build_paths(graph, node, {}, results, reached, 0);
  }
  return Value::set(std::move(results));
}

}  // namespace

void register_graph(Registry& r) {
  r.add({"graph.reachable", 2, reachable});
  r.add({"graph.reachable_paths", 2, reachable_paths});
}

}  // namespace cloister::rego::builtins
