#include "cloister/attest/kds.h"

#include <cstdio>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"

namespace cloister::attest {

namespace {

Result<std::string> product_path(Product product) {
  if (product == Product::unknown) return make_error(Errc::invalid_argument, "KDS needs a product (Milan, Genoa, Turin)");
  return std::string(product_name(product));
}

std::string spl(const char* name, unsigned v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s=%02u", name, v);
  return buf;
}

}  // namespace

Result<std::string> kds_vcek_url(Product product, ByteView hwid, const TcbVersion& t) {
  std::string p = CLOISTER_TRY(product_path(product));
  std::size_t want = product == Product::turin ? 8 : 64;
  if (hwid.size() < want) return make_error(Errc::invalid_argument, "hwID is shorter than " + std::to_string(want) + " bytes");
  std::string url = std::string(kKdsBase) + "/vcek/v1/" + p + "/" + hex_encode(hwid.first(want)) + "?";
  if (product == Product::turin) url += spl("fmcSPL", t.fmc) + "&";
  url += spl("blSPL", t.bootloader) + "&" + spl("teeSPL", t.tee) + "&" + spl("snpSPL", t.snp) + "&" +
         spl("ucodeSPL", t.microcode);
  return url;
}

Result<std::string> kds_vcek_url(const Report& report, Product product) {
  if (report.signer_info.mask_chip_key)
    return make_error(Errc::failed_precondition, "report masks CHIP_ID: its VCEK cannot be looked up by hwID");
  return kds_vcek_url(product, ByteView(report.chip_id.data(), report.chip_id.size()),
                      decode_tcb(report.reported_tcb, product));
}

Result<std::string> kds_cert_chain_url(Product product, KdsKey key) {
  std::string p = CLOISTER_TRY(product_path(product));
  return std::string(kKdsBase) + (key == KdsKey::vlek ? "/vlek/v1/" : "/vcek/v1/") + p + "/cert_chain";
}

Result<std::string> kds_crl_url(Product product, KdsKey key) {
  std::string p = CLOISTER_TRY(product_path(product));
  return std::string(kKdsBase) + (key == KdsKey::vlek ? "/vlek/v1/" : "/vcek/v1/") + p + "/crl";
}

Result<std::filesystem::path> KdsCache::path_for(std::string_view url) const {
  if (!url.starts_with(kKdsBase)) return make_error(Errc::invalid_argument, "not a KDS URL: " + std::string(url));
  std::string rel(url.substr(kKdsBase.size()));
  // One flat, predictable file name per URL: "/vcek/v1/Milan/ab..?blSPL=03" → "vcek_v1_Milan_ab.._blSPL=03".
  std::string name;
  for (char c : rel) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '=' || c == '-';
    name.push_back(keep ? c : '_');
  }
  while (!name.empty() && name.front() == '_') name.erase(name.begin());
  if (name.empty() || name.size() > 250) return make_error(Errc::invalid_argument, "unusable KDS URL: " + std::string(url));
  return dir_ / name;
}

Result<std::optional<Bytes>> KdsCache::get(std::string_view url) const {
  auto p = CLOISTER_TRY(path_for(url));
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return std::optional<Bytes>{};
  return std::optional<Bytes>(CLOISTER_TRY(read_file(p)));
}

Status KdsCache::put(std::string_view url, ByteView data) const {
  auto p = CLOISTER_TRY(path_for(url));
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return make_error(Errc::io, "creating " + dir_.string() + ": " + ec.message());
  return write_file_atomic(p, data);
}

Result<Bytes> kds_get(const std::string& url, const KdsCache* cache, HttpFetcher* fetcher) {
  if (cache) {
    auto hit = CLOISTER_TRY(cache->get(url));
    if (hit) return std::move(*hit);
  }
  if (!fetcher) return make_error(Errc::not_found, "not in the KDS cache and fetching is off: " + url);
  Bytes data = CLOISTER_TRY(fetcher->get(url));
  if (cache) CLOISTER_RETURN_IF_ERROR(cache->put(url, data));
  return data;
}

}  // namespace cloister::attest
