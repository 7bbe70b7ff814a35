// The streaming verifier's promise under arbitrary tampering: build a tree over some data, apply
// fuzzer-chosen byte flips to the data and/or the hash tree, then stream. Every block released
// must equal the original block (anything else would be a forged block getting through), and an
// untouched stream must be accepted in full.
//
// Input: [0] parameters (algorithm, block sizes), [1] data block count - 1 (mod 40),
// then 3-byte edits {target/offset hi, offset lo, xor}; data bytes derive from the input.
#include <cstdint>
#include <cstdlib>

#include "cloister/verity/stream.h"
#include "cloister/verity/verity.h"

using namespace cloister;
using namespace cloister::verity;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* in, std::size_t size) {
  if (size < 2) return 0;
  Params p;
  p.hash = in[0] % 3 == 0 ? HashAlgorithm::sha256 : in[0] % 3 == 1 ? HashAlgorithm::sha512 : HashAlgorithm::sha1;
  p.data_block_size = 512u << ((in[0] >> 2) & 1);
  p.hash_block_size = 512u << ((in[0] >> 3) & 1);
  p.salt.assign(in, in + std::min<std::size_t>(size, (in[0] >> 4) * 4u));
  p.superblock = false;
  p.data_blocks = 1 + in[1] % 40;

  Bytes data(p.data_blocks * p.data_block_size);
  std::uint32_t x = 2166136261u;
  for (std::size_t i = 0; i < data.size(); ++i) {
    x = (x ^ in[i % size]) * 16777619u;
    data[i] = static_cast<std::uint8_t>(x >> 13);
  }
  auto tree = build_tree(p, data);
  if (!tree) std::abort();

  Bytes bad_data = data, bad_tree = tree->hash_area;
  for (std::size_t i = 2; i + 3 <= size; i += 3) {
    Bytes& target = (in[i] & 0x80) && !bad_tree.empty() ? bad_tree : bad_data;
    std::size_t offset = ((static_cast<std::size_t>(in[i] & 0x7f) << 8) | in[i + 1]) * 7 % target.size();
    target[offset] ^= in[i + 2];
  }
  const bool untouched = bad_data == data && bad_tree == tree->hash_area;

  auto v = StreamingVerifier::create(p, tree->root_hash, memory_hash_source(bad_tree, tree->geometry.tree_offset));
  if (!v) std::abort();
  const std::size_t bs = p.data_block_size;
  for (std::uint64_t b = 0; b < p.data_blocks; ++b) {
    auto r = v->next(ByteView(bad_data).subspan(b * bs, bs));
    if (!r) break;
    if (!std::equal(r->begin(), r->end(), data.begin() + static_cast<std::ptrdiff_t>(b * bs))) std::abort();
  }
  if (untouched && !v->finish()) std::abort();
  return 0;
}
