#include "cloister/attest/evidence.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "cloister/attest/verify.h"
#include "cloister/common/encoding.h"
#include "format.h"
#include "x509_util.h"

namespace cloister::attest {
namespace {

constexpr std::size_t kEntrySize = 24;     // GUID[16], u32 offset, u32 length
constexpr std::size_t kMaxEntries = 64;

std::string guid_text(ByteView g) {
  std::string h = hex_encode(g);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

Result<Bytes> guid_bytes(std::string_view text) {
  std::string digits;
  for (char c : text)
    if (c != '-') digits.push_back(c);
  if (digits.size() != 32) return make_error(Errc::invalid_argument, "GUID '" + std::string(text) + "' is malformed");
  return hex_decode(digits);
}

std::uint32_t le32(ByteView b, std::size_t off) {
  std::uint32_t v;
  std::memcpy(&v, b.data() + off, 4);  // little-endian host (report_wire.h asserts it)
  return v;
}

// Picks the leaf out of a certificate list: the SEV-VCEK/SEV-VLEK subject, else the first
// certificate that is not self-issued and not an AMD intermediate name.
Status split_certs(const std::vector<Bytes>& ders, Evidence& out) {
  for (const auto& der : ders) {
    auto x = x509::from_der(der);
    if (!x) return forward_error(std::move(x.error()).wrap("certificate"));
    std::string cn = x509::common_name(X509_get_subject_name(x->get()));
    bool leafish = cn == "SEV-VCEK" || cn == "SEV-VLEK";
    if (leafish && out.leaf.empty()) out.leaf = der;
    else out.chain.push_back(der);
  }
  return {};
}

template <typename T>
Result<T> num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned())
    return make_error(Errc::parse, std::string("evidence JSON: '") + key + "' is missing or not an unsigned integer");
  auto v = it->get<std::uint64_t>();
  if (v > std::numeric_limits<T>::max())
    return make_error(Errc::parse, std::string("evidence JSON: '") + key + "' is out of range");
  return static_cast<T>(v);
}

Result<Bytes> byte_array(const nlohmann::json& j, const char* key, std::size_t want, std::size_t max = 0) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array())
    return make_error(Errc::parse, std::string("evidence JSON: '") + key + "' is missing or not an array");
  if (want && it->size() != want)
    return make_error(Errc::parse, std::string("evidence JSON: '") + key + "' has " + std::to_string(it->size()) +
                                       " bytes, expected " + std::to_string(want));
  if (max && it->size() > max) return make_error(Errc::limit_exceeded, std::string("evidence JSON: '") + key + "' is too long");
  Bytes out;
  out.reserve(it->size());
  for (const auto& e : *it) {
    if (!e.is_number_unsigned() || e.get<std::uint64_t>() > 255)
      return make_error(Errc::parse, std::string("evidence JSON: '") + key + "' holds a non-byte value");
    out.push_back(static_cast<std::uint8_t>(e.get<std::uint64_t>()));
  }
  return out;
}

template <std::size_t N>
Status fill(std::array<std::uint8_t, N>& dst, const nlohmann::json& j, const char* key) {
  Bytes b = CLOISTER_TRY(byte_array(j, key, N));
  std::memcpy(dst.data(), b.data(), N);
  return {};
}

// The sev crate's TcbVersion: {fmc: null|u8, bootloader, tee, snp, microcode}.
Result<std::uint64_t> tcb(const nlohmann::json& j, const char* key, bool& turin) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object())
    return make_error(Errc::parse, std::string("evidence JSON: '") + key + "' is missing or not an object");
  TcbVersion t;
  t.bootloader = CLOISTER_TRY(num<std::uint8_t>(*it, "bootloader"));
  t.tee = CLOISTER_TRY(num<std::uint8_t>(*it, "tee"));
  t.snp = CLOISTER_TRY(num<std::uint8_t>(*it, "snp"));
  t.microcode = CLOISTER_TRY(num<std::uint8_t>(*it, "microcode"));
  auto fmc = it->find("fmc");
  bool has_fmc = fmc != it->end() && !fmc->is_null();
  if (has_fmc) {
    t.fmc = CLOISTER_TRY(num<std::uint8_t>(*it, "fmc"));
    turin = true;
  }
  return encode_tcb(t, has_fmc ? Product::turin : Product::milan);
}

Result<FirmwareVersion> fw(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return make_error(Errc::parse, std::string("evidence JSON: '") + key + "' is missing");
  FirmwareVersion v;
  v.major = CLOISTER_TRY(num<std::uint8_t>(*it, "major"));
  v.minor = CLOISTER_TRY(num<std::uint8_t>(*it, "minor"));
  v.build = CLOISTER_TRY(num<std::uint8_t>(*it, "build"));
  return v;
}

Result<Report> report_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(Errc::parse, "evidence JSON: 'attestation_report' is not an object");
  Report r;
  bool turin = false;
  r.version = CLOISTER_TRY(num<std::uint32_t>(j, "version"));
  r.guest_svn = CLOISTER_TRY(num<std::uint32_t>(j, "guest_svn"));
  r.policy.raw = CLOISTER_TRY(num<std::uint64_t>(j, "policy"));
  CLOISTER_RETURN_IF_ERROR(fill(r.family_id, j, "family_id"));
  CLOISTER_RETURN_IF_ERROR(fill(r.image_id, j, "image_id"));
  r.vmpl = CLOISTER_TRY(num<std::uint32_t>(j, "vmpl"));
  r.signature_algo = CLOISTER_TRY(num<std::uint32_t>(j, "sig_algo"));
  r.current_tcb = CLOISTER_TRY(tcb(j, "current_tcb", turin));
  r.platform_info.raw = CLOISTER_TRY(num<std::uint64_t>(j, "plat_info"));
  std::uint32_t key_info = CLOISTER_TRY(num<std::uint32_t>(j, "key_info"));
  CLOISTER_RETURN_IF_ERROR(fill(r.report_data, j, "report_data"));
  CLOISTER_RETURN_IF_ERROR(fill(r.measurement, j, "measurement"));
  CLOISTER_RETURN_IF_ERROR(fill(r.host_data, j, "host_data"));
  CLOISTER_RETURN_IF_ERROR(fill(r.id_key_digest, j, "id_key_digest"));
  CLOISTER_RETURN_IF_ERROR(fill(r.author_key_digest, j, "author_key_digest"));
  CLOISTER_RETURN_IF_ERROR(fill(r.report_id, j, "report_id"));
  CLOISTER_RETURN_IF_ERROR(fill(r.report_id_ma, j, "report_id_ma"));
  r.reported_tcb = CLOISTER_TRY(tcb(j, "reported_tcb", turin));
  if (r.version >= 3) {
    r.cpuid = Cpuid{CLOISTER_TRY(num<std::uint8_t>(j, "cpuid_fam_id")), CLOISTER_TRY(num<std::uint8_t>(j, "cpuid_mod_id")),
                    CLOISTER_TRY(num<std::uint8_t>(j, "cpuid_step"))};
  } else {
    // v2 has no CPUID fields (those bytes are reserved); a non-zero value cannot be represented.
    for (const char* k : {"cpuid_fam_id", "cpuid_mod_id", "cpuid_step"}) {
      auto it = j.find(k);
      if (it != j.end() && !it->is_null() && !(it->is_number_unsigned() && it->get<std::uint64_t>() == 0))
        return make_error(Errc::parse, std::string("evidence JSON: '") + k + "' is set in a version-2 report");
    }
  }
  CLOISTER_RETURN_IF_ERROR(fill(r.chip_id, j, "chip_id"));
  r.committed_tcb = CLOISTER_TRY(tcb(j, "committed_tcb", turin));
  r.current_version = CLOISTER_TRY(fw(j, "current"));
  r.committed_version = CLOISTER_TRY(fw(j, "committed"));
  r.launch_tcb = CLOISTER_TRY(tcb(j, "launch_tcb", turin));
  if (r.version >= 5) {
    r.launch_mit_vector = CLOISTER_TRY(num<std::uint64_t>(j, "launch_mit_vector"));
    r.current_mit_vector = CLOISTER_TRY(num<std::uint64_t>(j, "current_mit_vector"));
  }
  auto sig = j.find("signature");
  if (sig == j.end() || !sig->is_object()) return make_error(Errc::parse, "evidence JSON: 'signature' is missing");
  CLOISTER_RETURN_IF_ERROR(fill(r.signature_r, *sig, "r"));
  CLOISTER_RETURN_IF_ERROR(fill(r.signature_s, *sig, "s"));
  // key_info is the raw u32 at 0x48; round-trip it through the parser so reserved bits are caught.
  Report probe = r;
  Bytes raw = serialize_report(probe);
  std::memcpy(raw.data() + 0x48, &key_info, 4);
  return parse_report(raw);
}

}  // namespace

Result<std::vector<CertTableEntry>> parse_cert_table(ByteView table) {
  std::vector<CertTableEntry> out;
  std::size_t i = 0;
  for (;; ++i) {
    if (i >= kMaxEntries) return make_error(Errc::limit_exceeded, "certificate table has more than 64 entries");
    std::size_t pos = i * kEntrySize;
    if (pos + kEntrySize > table.size())
      return make_error(Errc::parse, "certificate table ends at byte " + std::to_string(table.size()) +
                                         " before its terminating all-zero entry");
    ByteView entry = table.subspan(pos, kEntrySize);
    if (std::all_of(entry.begin(), entry.end(), [](std::uint8_t b) { return b == 0; })) break;
    std::uint32_t off = le32(table, pos + 16), len = le32(table, pos + 20);
    out.push_back(CertTableEntry{guid_text(entry.first(16)), {}});
    if (static_cast<std::uint64_t>(off) + len > table.size())
      return make_error(Errc::parse, "certificate table entry " + std::to_string(i) + " (" + out.back().guid +
                                         ") at offset " + std::to_string(off) + " length " + std::to_string(len) +
                                         " runs past the table (" + std::to_string(table.size()) + " bytes)");
    out.back().data.assign(table.begin() + off, table.begin() + off + len);
  }
  // Entries must not point into the entry array itself.
  std::size_t header_end = (i + 1) * kEntrySize;
  for (std::size_t k = 0; k < out.size(); ++k)
    if (!out[k].data.empty() && le32(table, k * kEntrySize + 16) < header_end)
      return make_error(Errc::parse, "certificate table entry " + std::to_string(k) + " overlaps the entry array");
  return out;
}

Result<Bytes> build_cert_table(const std::vector<CertTableEntry>& entries) {
  std::size_t header = (entries.size() + 1) * kEntrySize;
  Bytes out(header, 0);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    Bytes g = CLOISTER_TRY(guid_bytes(entries[i].guid));
    std::memcpy(out.data() + i * kEntrySize, g.data(), 16);
    auto off = static_cast<std::uint32_t>(out.size());
    auto len = static_cast<std::uint32_t>(entries[i].data.size());
    std::memcpy(out.data() + i * kEntrySize + 16, &off, 4);
    std::memcpy(out.data() + i * kEntrySize + 20, &len, 4);
    out.insert(out.end(), entries[i].data.begin(), entries[i].data.end());
  }
  return out;
}

Result<Evidence> evidence_from_parts(ByteView report, const std::vector<Bytes>& certs) {
  Evidence e;
  e.report.assign(report.begin(), report.end());
  std::vector<Bytes> ders;
  for (const auto& c : certs) {
    auto list = CLOISTER_TRY(load_certificates(c));
    for (auto& d : list) ders.push_back(std::move(d));
  }
  CLOISTER_RETURN_IF_ERROR(split_certs(ders, e));
  return e;
}

Result<Evidence> evidence_from_cert_table(ByteView report, ByteView table) {
  auto entries = CLOISTER_TRY(parse_cert_table(table));
  Evidence e;
  e.report.assign(report.begin(), report.end());
  for (auto& entry : entries) {
    if (entry.guid == kGuidVcek || entry.guid == kGuidVlek) {
      if (!e.leaf.empty()) return make_error(Errc::parse, "certificate table holds more than one VCEK/VLEK");
      e.leaf = std::move(entry.data);
    } else if (entry.guid == kGuidAsk || entry.guid == kGuidArk) {
      e.chain.push_back(std::move(entry.data));
    }  // other GUIDs (e.g. a CRL) are not certificates we use
  }
  return e;
}

Result<Evidence> parse_trustee_evidence(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::parse, "evidence is not a JSON object");
  auto rep = j.find("attestation_report");
  if (rep == j.end()) return make_error(Errc::parse, "evidence JSON has no 'attestation_report'");
  Report r = CLOISTER_TRY(report_from_json(*rep));
  Evidence e;
  e.report = serialize_report(r);
  auto chain = j.find("cert_chain");
  if (chain != j.end() && !chain->is_null()) {
    if (!chain->is_array()) return make_error(Errc::parse, "evidence JSON: 'cert_chain' is not an array");
    for (const auto& c : *chain) {
      if (!c.is_object()) return make_error(Errc::parse, "evidence JSON: cert_chain entry is not an object");
      auto type = c.find("cert_type");
      if (type == c.end() || !type->is_string())
        return make_error(Errc::parse, "evidence JSON: cert_chain entry lacks 'cert_type'");
      Bytes der = CLOISTER_TRY(byte_array(c, "data", 0, 64 * 1024));
      std::string t = type->get<std::string>();
      if (t == "VCEK" || t == "VLEK") {
        if (!e.leaf.empty()) return make_error(Errc::parse, "evidence JSON: more than one VCEK/VLEK");
        e.leaf = std::move(der);
      } else if (t == "ASK" || t == "ASVK" || t == "ARK") {
        e.chain.push_back(std::move(der));
      }
    }
  }
  return e;
}

Result<std::string> trustee_evidence_json(const Evidence& evidence, Product product) {
  Report r = CLOISTER_TRY(parse_report(evidence.report));
  // The JSON form carries a TCB as named components in one product's layout; bytes outside that
  // layout (e.g. a Turin-layout TCB written as Milan/Genoa) would be dropped and the rebuilt report
  // would no longer match its signature, so such a report is refused rather than altered
  // (the attest_evidence fuzzer found the lossy case: regression seed turin-tcb-unknown-cpuid.json).
  for (auto [name, raw] : {std::pair{"current_tcb", r.current_tcb}, {"reported_tcb", r.reported_tcb},
                           {"committed_tcb", r.committed_tcb}, {"launch_tcb", r.launch_tcb}}) {
    if (encode_tcb(decode_tcb(raw, product), product) != raw)
      return make_error(Errc::invalid_argument, std::string(name) + " " + fmt::hex_u64(raw) +
                                                    " has bytes outside the " +
                                                    std::string(product_name(product)) +
                                                    " TCB layout; the evidence JSON cannot carry it");
  }
  auto bytes = [](auto& a) { return nlohmann::json(std::vector<std::uint8_t>(a.begin(), a.end())); };
  auto tcb_j = [product](std::uint64_t raw) {
    TcbVersion t = decode_tcb(raw, product);
    nlohmann::ordered_json j;
    j["fmc"] = product == Product::turin ? nlohmann::ordered_json(t.fmc) : nlohmann::ordered_json(nullptr);
    j["bootloader"] = t.bootloader;
    j["tee"] = t.tee;
    j["snp"] = t.snp;
    j["microcode"] = t.microcode;
    return j;
  };
  Bytes raw = evidence.report;
  std::uint32_t key_info;
  std::memcpy(&key_info, raw.data() + 0x48, 4);
  nlohmann::ordered_json a;
  a["version"] = r.version;
  a["guest_svn"] = r.guest_svn;
  a["policy"] = r.policy.raw;
  a["family_id"] = bytes(r.family_id);
  a["image_id"] = bytes(r.image_id);
  a["vmpl"] = r.vmpl;
  a["sig_algo"] = r.signature_algo;
  a["current_tcb"] = tcb_j(r.current_tcb);
  a["plat_info"] = r.platform_info.raw;
  a["key_info"] = key_info;
  a["report_data"] = bytes(r.report_data);
  a["measurement"] = bytes(r.measurement);
  a["host_data"] = bytes(r.host_data);
  a["id_key_digest"] = bytes(r.id_key_digest);
  a["author_key_digest"] = bytes(r.author_key_digest);
  a["report_id"] = bytes(r.report_id);
  a["report_id_ma"] = bytes(r.report_id_ma);
  a["reported_tcb"] = tcb_j(r.reported_tcb);
  Cpuid c = r.cpuid.value_or(Cpuid{});
  a["cpuid_fam_id"] = c.family;
  a["cpuid_mod_id"] = c.model;
  a["cpuid_step"] = c.stepping;
  a["chip_id"] = bytes(r.chip_id);
  a["committed_tcb"] = tcb_j(r.committed_tcb);
  a["current"] = {{"major", r.current_version.major}, {"minor", r.current_version.minor}, {"build", r.current_version.build}};
  a["committed"] = {
      {"major", r.committed_version.major}, {"minor", r.committed_version.minor}, {"build", r.committed_version.build}};
  a["launch_tcb"] = tcb_j(r.launch_tcb);
  if (r.launch_mit_vector) a["launch_mit_vector"] = *r.launch_mit_vector;
  if (r.current_mit_vector) a["current_mit_vector"] = *r.current_mit_vector;
  a["signature"] = {{"r", bytes(r.signature_r)}, {"s", bytes(r.signature_s)}};
  nlohmann::ordered_json out;
  out["attestation_report"] = a;
  nlohmann::ordered_json chain = nlohmann::ordered_json::array();
  if (!evidence.leaf.empty()) {
    bool vlek = r.signer_info.signing_key == SigningKey::vlek;
    chain.push_back({{"cert_type", vlek ? "VLEK" : "VCEK"}, {"data", evidence.leaf}});
  }
  for (const auto& d : evidence.chain) {
    auto x = x509::from_der(d);
    if (!x) continue;
    std::string cn = x509::common_name(X509_get_subject_name(x->get()));
    const char* type = x509::is_self_issued(x->get()) ? "ARK" : (cn.find("VLEK") != std::string::npos ? "ASVK" : "ASK");
    chain.push_back({{"cert_type", type}, {"data", d}});
  }
  out["cert_chain"] = chain;
  return out.dump();
}

}  // namespace cloister::attest
