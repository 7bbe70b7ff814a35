#include "sev_hashes.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <string>

#include <openssl/evp.h>

#include "cloister/common/digest.h"
#include "cloister/common/file.h"
#include "cloister/common/openssl.h"
#include "le.h"

namespace cloister::snp_measure {
namespace {

void put_entry(Bytes& table, std::size_t at, const Guid& g, const Sha256& hash) {
  std::copy(g.begin(), g.end(), table.begin() + static_cast<std::ptrdiff_t>(at));
  store_le16(std::span(table).subspan(at + 16, 2), kSevHashEntrySize);
  std::copy(hash.begin(), hash.end(), table.begin() + static_cast<std::ptrdiff_t>(at + 18));
}

Result<Sha256> sha256_file(const std::filesystem::path& path) {
  auto fd = CLOISTER_TRY(open_read(path));
  ossl::EvpMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return forward_error(ossl::error(Errc::internal, "SHA-256 init"));
  }
  std::array<std::uint8_t, 1 << 16> buf;
  for (;;) {
    auto n = read_full(fd.get(), buf);
    if (!n) return forward_error(std::move(n.error()).wrap("hashing " + path.string()));
    if (*n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), buf.data(), *n) != 1) {
      return forward_error(ossl::error(Errc::internal, "SHA-256 update"));
    }
    if (*n < buf.size()) break;
  }
  Sha256 out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    return forward_error(ossl::error(Errc::internal, "SHA-256 final"));
  }
  return out;
}

Sha256 cmdline_hash(std::optional<std::string_view> append) {
  // QEMU hashes the command line including its terminating NUL; with no -append it hashes "".
  std::string cmdline(append.value_or(""));
  cmdline.push_back('\0');
  return sha256(as_bytes(cmdline));
}

}  // namespace

Bytes sev_hashes_table(const KernelHashes& hashes) {
  Bytes table(kSevHashTablePaddedLength, 0);
  std::copy(kSevHashTableHeaderGuid.begin(), kSevHashTableHeaderGuid.end(), table.begin());
  store_le16(std::span(table).subspan(16, 2), kSevHashTableLength);
  std::size_t at = 18;
  put_entry(table, at, kSevCmdlineEntryGuid, hashes.cmdline);
  at += kSevHashEntrySize;
  put_entry(table, at, kSevInitrdEntryGuid, hashes.initrd);
  at += kSevHashEntrySize;
  put_entry(table, at, kSevKernelEntryGuid, hashes.kernel);
  return table;
}

Result<Bytes> sev_hashes_page(const KernelHashes& hashes, std::size_t offset_in_page) {
  if (offset_in_page + kSevHashTablePaddedLength > 4096) {
    return make_error(Errc::parse, "SEV hashes table at page offset " + std::to_string(offset_in_page) +
                                       " would cross its 4 KiB page");
  }
  Bytes page(4096, 0);
  Bytes table = sev_hashes_table(hashes);
  std::copy(table.begin(), table.end(), page.begin() + static_cast<std::ptrdiff_t>(offset_in_page));
  return page;
}

KernelHashes kernel_hashes(ByteView kernel, ByteView initrd, std::optional<std::string_view> append) {
  return KernelHashes{sha256(kernel), sha256(initrd), cmdline_hash(append)};
}

Result<KernelHashes> kernel_hashes_from_files(const std::filesystem::path& kernel,
                                              const std::optional<std::filesystem::path>& initrd,
                                              std::optional<std::string_view> append) {
  KernelHashes h;
  h.kernel = CLOISTER_TRY(sha256_file(kernel));
  h.initrd = initrd ? CLOISTER_TRY(sha256_file(*initrd)) : sha256({});
  h.cmdline = cmdline_hash(append);
  return h;
}

}  // namespace cloister::snp_measure
