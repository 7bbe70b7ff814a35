// SEV-SNP ATTESTATION_REPORT as a typed value (AMD SEV-SNP Firmware ABI spec 56860, Table 23
// "ATTESTATION_REPORT Structure"). parse_report() turns the 1184 untrusted bytes into a Report or
// an error naming the offending offset; serialize_report() is its exact inverse.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister::attest {

inline constexpr std::size_t kReportSize = 0x4A0;    // 1184
inline constexpr std::size_t kSignedSize = 0x2A0;    // bytes covered by the signature
inline constexpr std::uint32_t kMinReportVersion = 2;
inline constexpr std::uint32_t kMaxReportVersion = 5;
inline constexpr std::uint32_t kSigAlgoEcdsaP384Sha384 = 1;  // 56860 SIGNATURE_ALGO encoding

enum class Product { unknown, milan, genoa, turin };
std::string_view product_name(Product p);  // "Milan", "Genoa", "Turin", "unknown" (KDS spelling)
// Accepts any case ("milan", "Genoa") and KDS product names with a stepping suffix ("Milan-B0").
std::optional<Product> parse_product(std::string_view name);

// TCB_VERSION (56860 "TCB_VERSION Structure"; Turin layout per DESIGN.md §4): the same u64 is laid out differently per product.
struct TcbVersion {
  std::uint8_t fmc = 0;  // Turin only
  std::uint8_t bootloader = 0;
  std::uint8_t tee = 0;
  std::uint8_t snp = 0;
  std::uint8_t microcode = 0;
  friend bool operator==(const TcbVersion&, const TcbVersion&) = default;
};
// Milan/Genoa: [bl, tee, 0,0,0,0, snp, ucode]; Turin: [fmc, bl, tee, snp, 0,0,0, ucode].
TcbVersion decode_tcb(std::uint64_t raw, Product product);
std::uint64_t encode_tcb(const TcbVersion& tcb, Product product);
std::string tcb_to_string(const TcbVersion& tcb, Product product);

// Guest policy (56860 "Guest Policy Structure").
struct GuestPolicy {
  std::uint64_t raw = 0;
  std::uint8_t abi_minor() const { return raw & 0xff; }
  std::uint8_t abi_major() const { return (raw >> 8) & 0xff; }
  bool smt_allowed() const { return raw & (1ull << 16); }
  bool reserved_must_be_one() const { return raw & (1ull << 17); }
  bool migrate_ma() const { return raw & (1ull << 18); }
  bool debug() const { return raw & (1ull << 19); }
  bool single_socket() const { return raw & (1ull << 20); }
  bool cxl_allowed() const { return raw & (1ull << 21); }
  bool mem_aes_256_xts() const { return raw & (1ull << 22); }
  bool rapl_dis() const { return raw & (1ull << 23); }
  bool ciphertext_hiding() const { return raw & (1ull << 24); }
  bool page_swap_disable() const { return raw & (1ull << 25); }
};

// PLATFORM_INFO (56860 Table 23, offset 0x40).
struct PlatformInfo {
  std::uint64_t raw = 0;
  bool smt_enabled() const { return raw & 1; }
  bool tsme_enabled() const { return raw & 2; }
  bool ecc_enabled() const { return raw & 4; }
  bool rapl_disabled() const { return raw & 8; }
  bool ciphertext_hiding_enabled() const { return raw & 16; }
  bool alias_check_complete() const { return raw & 32; }
};

enum class SigningKey : std::uint8_t { vcek = 0, vlek = 1, none = 7 };
std::string_view signing_key_name(SigningKey k);

// The u32 at 0x48 (56860 Table 23): bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY.
struct SignerInfo {
  bool author_key_en = false;
  bool mask_chip_key = false;
  SigningKey signing_key = SigningKey::vcek;
};

struct FirmwareVersion {
  std::uint8_t build = 0, minor = 0, major = 0;
  friend bool operator==(const FirmwareVersion&, const FirmwareVersion&) = default;
};

struct Cpuid {
  std::uint8_t family = 0, model = 0, stepping = 0;
  friend bool operator==(const Cpuid&, const Cpuid&) = default;
};
// Family 0x19 model 0x00-0x0F Milan, 0x10-0x1F / 0xA0-0xAF Genoa; family 0x1A Turin.
Product product_from_cpuid(const Cpuid& c);

struct Report {
  std::uint32_t version = 0;
  std::uint32_t guest_svn = 0;
  GuestPolicy policy;
  std::array<std::uint8_t, 16> family_id{};
  std::array<std::uint8_t, 16> image_id{};
  std::uint32_t vmpl = 0;
  std::uint32_t signature_algo = kSigAlgoEcdsaP384Sha384;
  std::uint64_t current_tcb = 0;  // raw: the layout depends on the product (decode_tcb)
  PlatformInfo platform_info;
  SignerInfo signer_info;
  std::array<std::uint8_t, 64> report_data{};
  std::array<std::uint8_t, 48> measurement{};
  std::array<std::uint8_t, 32> host_data{};
  std::array<std::uint8_t, 48> id_key_digest{};
  std::array<std::uint8_t, 48> author_key_digest{};
  std::array<std::uint8_t, 32> report_id{};
  std::array<std::uint8_t, 32> report_id_ma{};
  std::uint64_t reported_tcb = 0;
  std::optional<Cpuid> cpuid;  // version >= 3
  std::array<std::uint8_t, 64> chip_id{};
  std::uint64_t committed_tcb = 0;
  FirmwareVersion current_version;
  FirmwareVersion committed_version;
  std::uint64_t launch_tcb = 0;
  std::optional<std::uint64_t> launch_mit_vector;   // version >= 5
  std::optional<std::uint64_t> current_mit_vector;  // version >= 5
  std::array<std::uint8_t, 72> signature_r{};  // little-endian, zero-padded
  std::array<std::uint8_t, 72> signature_s{};

  // CPUID product (v3+), else unknown: v2 reports only say it through the signing chain.
  Product cpuid_product() const { return cpuid ? product_from_cpuid(*cpuid) : Product::unknown; }
};

// Rejects: size != 1184, version outside 2..5, signature_algo != 1, signing key not VCEK/VLEK/none,
// and any non-zero reserved byte or bit for that version. Errors are Errc::parse/unsupported and
// name the offset.
Result<Report> parse_report(ByteView bytes);
// The exact inverse of parse_report for a Report it accepted (reserved bytes written as zero).
Bytes serialize_report(const Report& report);

// Human-readable multi-line dump and a JSON form (hex strings for byte fields).
std::string report_to_text(const Report& report, Product product);
std::string report_to_json(const Report& report, Product product, int indent = 2);

}  // namespace cloister::attest
