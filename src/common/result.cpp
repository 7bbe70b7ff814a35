#include "cloister/common/result.h"

namespace cloister {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::io: return "io";
    case Errc::parse: return "parse";
    case Errc::integrity: return "integrity";
    case Errc::unsupported: return "unsupported";
    case Errc::limit_exceeded: return "limit_exceeded";
    case Errc::permission_denied: return "permission_denied";
    case Errc::failed_precondition: return "failed_precondition";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out;
  for (const auto& c : context_) {
    out += c;
    out += ": ";
  }
  out += message_;
  return out;
}

}  // namespace cloister
