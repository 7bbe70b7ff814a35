// The verity superblock parser on untrusted bytes. A superblock that parses must re-encode to a
// superblock that parses to the same parameters, and its geometry must be computable or refused.
#include <cstdint>
#include <cstdlib>

#include "cloister/verity/verity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cloister::verity;
  auto p = decode_superblock(cloister::ByteView(data, size));
  if (!p) return 0;
  auto again = decode_superblock(encode_superblock(*p));
  if (!again || again->hash != p->hash || again->salt != p->salt || again->data_blocks != p->data_blocks ||
      again->data_block_size != p->data_block_size || again->hash_block_size != p->hash_block_size ||
      again->uuid != p->uuid) {
    std::abort();
  }
  auto g = compute_geometry(*p);
  if (g && !g->levels.empty() && g->levels.back().block_count != 1) std::abort();
  return 0;
}
