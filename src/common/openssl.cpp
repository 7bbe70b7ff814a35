#include "cloister/common/openssl.h"

#include <openssl/err.h>

namespace cloister::ossl {

std::string drain_errors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Error error(Errc code, std::string what) {
  auto detail = drain_errors();
  if (!detail.empty()) what += ": " + detail;
  return Error(code, std::move(what));
}

}  // namespace cloister::ossl
