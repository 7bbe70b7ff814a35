// Memory accounting for the values one evaluation builds (EvalLimits::max_memory_bytes). Internal.
//
// Every value node is created by a factory in value.cpp and freed by node_destroy; while a budget
// is installed on the thread, creation charges the node's bytes and destruction credits them, so
// the budget tracks the live bytes of values built (or freed) during the evaluation. Crossing the
// limit throws ValueBudgetExceeded, a std::bad_alloc: the evaluator turns it into
// eval_limit_error, and every caller on the way is already exception-safe for allocation failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace cloister::rego::detail {

struct ValueBudgetExceeded : std::bad_alloc {
  const char* what() const noexcept override { return "value memory limit exceeded"; }
};

class ValueBudget {
 public:
  // limit 0: no budget is installed.
  explicit ValueBudget(std::size_t limit) noexcept;
  ~ValueBudget();
  ValueBudget(const ValueBudget&) = delete;
  ValueBudget& operator=(const ValueBudget&) = delete;

  std::size_t peak() const noexcept { return static_cast<std::size_t>(peak_ > 0 ? peak_ : 0); }

  // Called by the value factories and node_destroy for the thread's installed budget, if any.
  static void charge(std::size_t bytes);
  static void credit(std::size_t bytes) noexcept;

 private:
  bool installed_ = false;
  std::int64_t limit_ = 0;
  std::int64_t live_ = 0;
  std::int64_t peak_ = 0;
  ValueBudget* prev_ = nullptr;
};

}  // namespace cloister::rego::detail
