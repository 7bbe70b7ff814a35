#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "cloister/verity/stream.h"
#include "cloister/verity/verity.h"
#include "helpers.h"

namespace cloister::verity {
namespace {

struct Fixture {
  Params params;
  Bytes data;
  Tree tree;
};

Fixture make(std::uint64_t blocks, std::uint32_t dbs = 4096, std::uint32_t hbs = 4096,
             HashAlgorithm hash = HashAlgorithm::sha256) {
  Fixture f;
  f.params.hash = hash;
  f.params.data_block_size = dbs;
  f.params.hash_block_size = hbs;
  f.params.salt = test::random_bytes(32, 7);
  f.params.superblock = false;
  f.params.data_blocks = blocks;
  f.data = test::random_bytes(blocks * dbs, blocks);
  auto t = build_tree(f.params, f.data);
  EXPECT_TRUE(t) << t.error().to_string();
  f.tree = std::move(*t);
  return f;
}

StreamingVerifier verifier(const Fixture& f, Bytes hash_area, ByteView root) {
  auto v = StreamingVerifier::create(f.params, root, memory_hash_source(std::move(hash_area), f.tree.geometry.tree_offset));
  EXPECT_TRUE(v) << v.error().to_string();
  return std::move(*v);
}

// Feeds every block; returns how many were released before the first failure.
std::uint64_t feed_all(StreamingVerifier& v, const Fixture& f, ByteView data) {
  const std::size_t bs = f.params.data_block_size;
  std::uint64_t released = 0;
  for (std::uint64_t i = 0; i < f.params.data_blocks; ++i) {
    auto block = data.subspan(i * bs, bs);
    auto r = v.next(block);
    if (!r) return released;
    EXPECT_EQ(r->data(), block.data());
    ++released;
  }
  return released;
}

TEST(StreamingVerifier, AcceptsIntactStreams) {
  for (auto [blocks, dbs, hbs, hash] :
       {std::tuple{1ull, 4096u, 4096u, HashAlgorithm::sha256}, {300ull, 4096u, 4096u, HashAlgorithm::sha256},
        {600ull, 512u, 1024u, HashAlgorithm::sha512}, {257ull, 1024u, 512u, HashAlgorithm::sha1}}) {
    auto f = make(blocks, dbs, hbs, hash);
    auto v = verifier(f, f.tree.hash_area, f.tree.root_hash);
    EXPECT_EQ(feed_all(v, f, f.data), blocks);
    EXPECT_TRUE(v.finish());
    EXPECT_FALSE(v.mismatch());
  }
}

TEST(StreamingVerifier, NeverReleasesATamperedDataBlock) {
  auto f = make(300);
  for (std::uint64_t bad : {0ull, 1ull, 127ull, 128ull, 150ull, 299ull}) {
    for (std::size_t byte : {std::size_t{0}, std::size_t{4095}}) {
      Bytes data = f.data;
      data[bad * 4096 + byte] ^= 0x01;
      auto v = verifier(f, f.tree.hash_area, f.tree.root_hash);
      EXPECT_EQ(feed_all(v, f, data), bad) << "tampered block " << bad;
      ASSERT_TRUE(v.mismatch());
      EXPECT_EQ(v.mismatch()->kind, Mismatch::Kind::data_block);
      EXPECT_EQ(v.mismatch()->block, bad);
      EXPECT_EQ(v.blocks_verified(), bad);
      // Poisoned: even the intact next block is refused, and the stream never finishes.
      EXPECT_FALSE(v.next(ByteView(f.data).subspan((bad + 1) % 300 * 4096, 4096)));
      EXPECT_FALSE(v.finish());
    }
  }
}

TEST(StreamingVerifier, CatchesTamperedHashBlocksBeforeTheirData) {
  auto f = make(300);  // level 0: 3 blocks (absolute 1..3), level 1: top block (absolute 0)
  const auto& g = f.tree.geometry;
  ASSERT_EQ(g.levels.size(), 2u);
  struct Case {
    std::uint64_t area_offset;
    std::uint64_t released;
    std::uint64_t hash_block;
    unsigned level;
  };
  for (auto c : {Case{0, 0, 0, 1}, Case{4095, 0, 0, 1}, Case{4096, 0, 1, 0}, Case{2 * 4096 + 17, 128, 2, 0},
                 Case{3 * 4096 + 4095, 256, 3, 0} /* zero padding of the last level-0 block */}) {
    Bytes area = f.tree.hash_area;
    area[c.area_offset] ^= 0x80;
    auto v = verifier(f, area, f.tree.root_hash);
    EXPECT_EQ(feed_all(v, f, f.data), c.released) << c.area_offset;
    ASSERT_TRUE(v.mismatch());
    EXPECT_EQ(v.mismatch()->kind, Mismatch::Kind::hash_block);
    EXPECT_EQ(v.mismatch()->block, c.hash_block);
    EXPECT_EQ(v.mismatch()->level, c.level);
  }
}

TEST(StreamingVerifier, WrongRootReleasesNothing) {
  for (std::uint64_t blocks : {1ull, 300ull}) {
    auto f = make(blocks);
    Bytes root = f.tree.root_hash;
    root[31] ^= 1;
    auto v = verifier(f, f.tree.hash_area, root);
    EXPECT_EQ(feed_all(v, f, f.data), 0u);
    auto r = v.next(ByteView(f.data).first(4096));
    EXPECT_FALSE(r);
  }
}

TEST(StreamingVerifier, RejectsMisuse) {
  auto f = make(3);
  EXPECT_FALSE(StreamingVerifier::create(f.params, ByteView(f.tree.root_hash).first(31),
                                         memory_hash_source(f.tree.hash_area)));
  EXPECT_FALSE(StreamingVerifier::create(f.params, f.tree.root_hash, nullptr));
  {
    auto v = verifier(f, f.tree.hash_area, f.tree.root_hash);
    auto r = v.next(ByteView(f.data).first(100));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  }
  {
    auto v = verifier(f, f.tree.hash_area, f.tree.root_hash);
    EXPECT_EQ(feed_all(v, f, f.data), 3u);
    EXPECT_FALSE(v.next(ByteView(f.data).first(4096)));  // beyond the tree
  }
  {
    auto v = verifier(f, f.tree.hash_area, f.tree.root_hash);
    ASSERT_TRUE(v.next(ByteView(f.data).first(4096)));
    EXPECT_FALSE(v.finish());  // truncated stream
  }
  {
    // A hash device too short to hold the level-0 block is an error, not zeros.
    auto v = verifier(f, Bytes(f.tree.hash_area.begin(), f.tree.hash_area.end() - 1), f.tree.root_hash);
    EXPECT_FALSE(v.next(ByteView(f.data).first(4096)));
  }
}

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

Bytes stream_through(const Fixture& f, ByteView wire, Status& status) {
  Pipe p;
  std::thread writer([&] {
    std::size_t off = 0;
    while (off < wire.size()) {
      ssize_t n = ::write(p.w, wire.data() + off, std::min<std::size_t>(wire.size() - off, 10000));
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(p.w);
    p.w = -1;
  });
  auto v = verifier(f, f.tree.hash_area, f.tree.root_hash);
  Bytes received;
  status = verify_stream(p.r, v, [&](ByteView block) -> Status {
    received.insert(received.end(), block.begin(), block.end());
    return {};
  });
  ::close(p.r);  // unblocks the writer if we stopped early
  p.r = -1;
  writer.join();
  return received;
}

TEST(StreamingVerifier, VerifiesAPipe) {
  std::signal(SIGPIPE, SIG_IGN);  // the verifier stops reading early on purpose
  auto f = make(300);
  Status st;
  auto got = stream_through(f, f.data, st);
  EXPECT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(got, f.data);

  Bytes tampered = f.data;
  tampered[200 * 4096 + 9] ^= 4;
  got = stream_through(f, tampered, st);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::integrity);
  EXPECT_EQ(got, Bytes(f.data.begin(), f.data.begin() + 200 * 4096));

  got = stream_through(f, ByteView(f.data).first(f.data.size() - 10), st);
  EXPECT_FALSE(st);
  EXPECT_EQ(got.size(), 299u * 4096);

  Bytes longer = f.data;
  longer.push_back(0);
  got = stream_through(f, longer, st);
  EXPECT_FALSE(st);
}

}  // namespace
}  // namespace cloister::verity
