// Error helpers shared by the builtin families beyond those in builtin.h.
#pragma once

#include <string>
#include <string_view>

#include "builtins/builtin.h"

namespace cloister::rego::builtins {

// OPA's element error (builtins.NewOperandElementErr):
// "<name>: operand <n> must be array of strings but got array containing number".
inline BuiltinError element_error(const BuiltinContext& ctx, std::size_t operand, const Value& collection,
                                  std::string_view want, const Value& got) {
  std::string coll(kind_name(collection.kind()));
  return BuiltinError{std::string(kTypeError), std::string(ctx.name) + ": operand " + std::to_string(operand) +
                                                   " must be " + coll + " of " + std::string(want) + "s but got " +
                                                   coll + " containing " + std::string(kind_name(got.kind()))};
}

// eval_type_error "<name>: <message>" for messages that do not fit the operand formats.
inline BuiltinError type_error_msg(const BuiltinContext& ctx, std::string_view message) {
  return BuiltinError{std::string(kTypeError), std::string(ctx.name) + ": " + std::string(message)};
}

}  // namespace cloister::rego::builtins
