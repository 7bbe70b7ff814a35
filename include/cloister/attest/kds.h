// AMD Key Distribution Service (KDS spec 57230 §4 / DESIGN.md §4): URL builders, an offline
// certificate cache directory, and an optional HTTPS fetcher (libcurl, when built with it).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cloister/attest/report.h"
#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister::attest {

inline constexpr std::string_view kKdsBase = "https://kdsintf.amd.com";
enum class KdsKey { vcek, vlek };

// /vcek/v1/{Milan|Genoa|Turin}/{hwid hex}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=.. (Turin: fmcSPL
// first; hwID is then 8 bytes). SPLs are written as two-digit decimals like AMD's tools do.
Result<std::string> kds_vcek_url(Product product, ByteView hwid, const TcbVersion& tcb);
// The VCEK URL for a parsed report (chip_id and reported_tcb).
Result<std::string> kds_vcek_url(const Report& report, Product product);
Result<std::string> kds_cert_chain_url(Product product, KdsKey key);  // ASK/ASVK then ARK, PEM
Result<std::string> kds_crl_url(Product product, KdsKey key);

// Files named after the URL path, for machines that cannot reach KDS at verification time.
class KdsCache {
 public:
  explicit KdsCache(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Result<std::filesystem::path> path_for(std::string_view url) const;
  Result<std::optional<Bytes>> get(std::string_view url) const;
  Status put(std::string_view url, ByteView data) const;

 private:
  std::filesystem::path dir_;
};

class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;
  virtual Result<Bytes> get(const std::string& url) = 0;
};
// nullptr when cloister was built without libcurl.
std::unique_ptr<HttpFetcher> make_curl_fetcher();

// Cache first; on a miss, fetch (if a fetcher is given) and store. Errc::not_found names the URL
// when neither has it.
Result<Bytes> kds_get(const std::string& url, const KdsCache* cache, HttpFetcher* fetcher);

}  // namespace cloister::attest
