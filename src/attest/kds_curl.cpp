// The libcurl-backed KDS fetcher. Tests never reach the network; this is for hosts that can.
#include <curl/curl.h>

#include "cloister/attest/kds.h"

namespace cloister::attest {

namespace {

constexpr std::size_t kMaxBody = 1 << 20;  // VCEKs are ~1.3 KiB, chains ~4.5 KiB, CRLs small

std::size_t on_data(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* out = static_cast<Bytes*>(user);
  std::size_t len = size * n;
  if (out->size() + len > kMaxBody) return 0;  // aborts the transfer
  out->insert(out->end(), reinterpret_cast<std::uint8_t*>(ptr), reinterpret_cast<std::uint8_t*>(ptr) + len);  // body bytes
  return len;
}

class CurlFetcher final : public HttpFetcher {
 public:
  Result<Bytes> get(const std::string& url) override {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), &curl_easy_cleanup);
    if (!h) return make_error(Errc::internal, "curl_easy_init failed");
    Bytes body;
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &on_data);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h.get(), CURLOPT_FAILONERROR, 1L);
    CURLcode rc = curl_easy_perform(h.get());
    if (rc != CURLE_OK) return make_error(Errc::io, "GET " + url + ": " + curl_easy_strerror(rc));
    return body;
  }
};

}  // namespace

std::unique_ptr<HttpFetcher> make_curl_fetcher() { return std::make_unique<CurlFetcher>(); }

}  // namespace cloister::attest
