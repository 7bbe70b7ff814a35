#include "page_info.h"

#include <bit>
#include <cstdlib>
#include <cstring>

namespace cloister::snp_measure {

static_assert(std::endian::native == std::endian::little, "wire structs are copied as host memory");

Bytes serialize(const PageInfo& info) {
  Bytes out(sizeof(PageInfo));
  std::memcpy(out.data(), &info, sizeof info);
  return out;
}

void LaunchDigest::add(PageType type, std::uint64_t gpa, const Sha384& contents) {
  PageInfo info{};
  std::memcpy(info.digest_cur, digest_.data(), digest_.size());
  std::memcpy(info.contents, contents.data(), contents.size());
  info.length = sizeof(PageInfo);
  info.page_type = static_cast<std::uint8_t>(type);
  // IMI_PAGE and the VMPL1-3 permissions are 0 for a guest launched by its own VMM.
  info.gpa = gpa;
  digest_ = sha384(serialize(info));
}

void LaunchDigest::add_normal_pages(std::uint64_t gpa, ByteView data) {
  // Callers check page granularity on untrusted input; this is an internal invariant.
  if (data.size() % 4096 != 0) std::abort();
  for (std::size_t off = 0; off < data.size(); off += 4096) {
    add(PageType::normal, gpa + off, sha384(data.subspan(off, 4096)));
  }
}

void LaunchDigest::add_vmsa_page(ByteView page) {
  if (page.size() != 4096) std::abort();
  add(PageType::vmsa, kVmsaGpa, sha384(page));
}

// Zero, unmeasured, secrets and CPUID pages contribute their type and address but not their
// contents: CONTENTS is all zeroes (SNP ABI 56860, Table 67 note).
void LaunchDigest::add_zero_pages(std::uint64_t gpa, std::uint64_t length) {
  for (std::uint64_t off = 0; off < length; off += 4096) add(PageType::zero, gpa + off, Sha384{});
}

void LaunchDigest::add_unmeasured_pages(std::uint64_t gpa, std::uint64_t length) {
  for (std::uint64_t off = 0; off < length; off += 4096) add(PageType::unmeasured, gpa + off, Sha384{});
}

void LaunchDigest::add_secrets_page(std::uint64_t gpa) { add(PageType::secrets, gpa, Sha384{}); }

void LaunchDigest::add_cpuid_page(std::uint64_t gpa) { add(PageType::cpuid, gpa, Sha384{}); }

}  // namespace cloister::snp_measure
