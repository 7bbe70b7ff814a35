// Built when libcurl is absent: KDS works from the cache directory only.
#include "cloister/attest/kds.h"

namespace cloister::attest {

std::unique_ptr<HttpFetcher> make_curl_fetcher() { return nullptr; }

}  // namespace cloister::attest
