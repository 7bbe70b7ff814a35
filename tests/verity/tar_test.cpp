// The layer reader's tar validation and gzip handling, on hand-built archives.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

#include "cloister/verity/layer.h"
#include "helpers.h"

namespace cloister::verity {
namespace {

void put_octal(std::uint8_t* field, std::size_t len, std::uint64_t v) {
  std::snprintf(reinterpret_cast<char*>(field), len, "%0*llo", static_cast<int>(len - 1),
                static_cast<unsigned long long>(v));
}

// A POSIX ustar header (pax interchange format field offsets).
Bytes header(const std::string& name, std::uint64_t size, char type = '0', bool base256 = false) {
  Bytes h(512, 0);
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 100));
  put_octal(h.data() + 100, 8, 0644);
  put_octal(h.data() + 108, 8, 0);
  put_octal(h.data() + 116, 8, 0);
  if (base256) {
    h[124] = 0x80;
    for (int i = 0; i < 8; ++i) h[135 - static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(size >> (8 * i));
  } else {
    put_octal(h.data() + 124, 12, size);
  }
  put_octal(h.data() + 136, 12, 0);
  h[156] = static_cast<std::uint8_t>(type);
  std::memcpy(h.data() + 257, "ustar\0" "00", 8);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (auto b : h) sum += b;
  std::snprintf(reinterpret_cast<char*>(h.data() + 148), 8, "%06o", sum);
  return h;
}

void append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }
void append_data(Bytes& out, ByteView b) {
  append(out, b);
  out.resize((out.size() + 511) / 512 * 512, 0);
}
void end_marker(Bytes& out) { out.resize(out.size() + 1024, 0); }

Bytes simple_tar(std::size_t file_size = 1000) {
  Bytes tar;
  append(tar, header("dir/", 0, '5'));
  append(tar, header("dir/file", file_size));
  append_data(tar, test::random_bytes(file_size, 3));
  append(tar, header("dir/link", 0, '2'));
  end_marker(tar);
  return tar;
}

Bytes gzip(ByteView data, int level = 6) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, data.size()) + 64);
  zs.next_in = const_cast<std::uint8_t*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Errc error_of(ByteView layer) {
  auto r = hash_layer(layer, "t.tar");
  EXPECT_FALSE(r);
  return r ? Errc::internal : r.error().code();
}

TEST(LayerTar, AcceptsAValidArchiveAndPadsIt) {
  auto tar = simple_tar();
  auto r = hash_layer(tar);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->entries, 3u);
  EXPECT_EQ(r->tar_size, tar.size());
  EXPECT_EQ(tar.size(), 3584u);
  EXPECT_EQ(r->padded_size, 4096u);
  EXPECT_EQ(r->compression, LayerCompression::none);
  Bytes padded = tar;
  padded.resize(4096, 0);
  auto tree = build_tree(layer_params(), padded);
  ASSERT_TRUE(tree);
  EXPECT_EQ(r->root_hash, tree->root_hash);
}

TEST(LayerTar, GzipAndPlainAgree) {
  auto tar = simple_tar(300000);
  auto plain = hash_layer(tar);
  auto gz = hash_layer(gzip(tar));
  ASSERT_TRUE(plain);
  ASSERT_TRUE(gz) << gz.error().to_string();
  EXPECT_EQ(gz->compression, LayerCompression::gzip);
  EXPECT_EQ(plain->root_hash, gz->root_hash);
  // Concatenated gzip members are one stream (RFC 1952 §2.2).
  Bytes two = gzip(ByteView(tar).first(4096));
  append(two, gzip(ByteView(tar).subspan(4096)));
  auto multi = hash_layer(two);
  ASSERT_TRUE(multi) << multi.error().to_string();
  EXPECT_EQ(multi->root_hash, plain->root_hash);
}

TEST(LayerTar, PaxSizeAndBase256SizesAreHonoured) {
  Bytes tar;
  std::string record = "16 size=000700\n";
  record = std::to_string(record.size()) + record.substr(2);
  append(tar, header("PaxHeaders/f", record.size(), 'x'));
  append_data(tar, as_bytes(record));
  append(tar, header("f", 99999));  // the pax record overrides this size
  append_data(tar, test::random_bytes(700, 4));
  append(tar, header("g", 1200, '0', true));
  append_data(tar, test::random_bytes(1200, 5));
  end_marker(tar);
  auto r = hash_layer(tar);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->entries, 2u);
}

TEST(LayerTar, RejectsCorruptArchives) {
  auto tar = simple_tar();
  {
    auto bad = tar;
    bad[512 + 10] ^= 1;  // name byte of the second header: checksum no longer matches
    EXPECT_EQ(error_of(bad), Errc::parse);
  }
  {
    auto bad = tar;
    std::memcpy(bad.data() + 257, "ustaX", 5);
    EXPECT_EQ(error_of(bad), Errc::parse);
  }
  EXPECT_EQ(error_of(ByteView(tar).first(512 + 512 + 100)), Errc::parse);  // inside file data
  EXPECT_EQ(error_of(ByteView(tar).first(300)), Errc::parse);              // inside a header
  EXPECT_EQ(error_of(ByteView(tar).first(tar.size() - 1024)), Errc::parse); // no end marker
  EXPECT_EQ(error_of(ByteView(tar).first(tar.size() - 512)), Errc::parse);  // half an end marker
  {
    auto bad = tar;
    bad.push_back(1);  // non-zero after the end marker
    EXPECT_EQ(error_of(bad), Errc::parse);
    auto odd = tar;
    odd.push_back(0);  // zeros, but not a whole tar block
    EXPECT_EQ(error_of(odd), Errc::parse);
    auto ok = tar;
    ok.resize(ok.size() + 10240 - ok.size() % 10240, 0);  // tar record padding is fine
    EXPECT_TRUE(hash_layer(ok));
  }
  {
    Bytes lone;
    append(lone, header("a", 0));
    lone.resize(lone.size() + 512, 0);
    append(lone, header("b", 0));
    end_marker(lone);
    EXPECT_EQ(error_of(lone), Errc::parse);
  }
  {
    Bytes dir_with_data;
    append(dir_with_data, header("d/", 512, '5'));
    append_data(dir_with_data, test::random_bytes(512, 1));
    end_marker(dir_with_data);
    EXPECT_EQ(error_of(dir_with_data), Errc::parse);
  }
  EXPECT_EQ(error_of(test::random_bytes(4096, 9)), Errc::parse);
  EXPECT_EQ(error_of(Bytes{}), Errc::parse);
}

TEST(LayerTar, RejectsCorruptGzip) {
  auto tar = simple_tar(200000);
  auto gz = gzip(tar, 1);
  {
    auto bad = gz;
    bad[bad.size() / 2] ^= 0xff;
    EXPECT_EQ(error_of(bad), Errc::parse);
  }
  {
    auto bad = gz;
    bad[bad.size() - 6] ^= 0x01;  // CRC32 trailer
    EXPECT_EQ(error_of(bad), Errc::parse);
  }
  EXPECT_EQ(error_of(ByteView(gz).first(gz.size() - 3)), Errc::parse);  // truncated
  {
    auto trailing = gz;
    trailing.push_back('x');
    EXPECT_EQ(error_of(trailing), Errc::parse);
  }
  // A well-formed gzip whose content is not a tar is a corrupt layer.
  EXPECT_EQ(error_of(gzip(test::random_bytes(10000, 2))), Errc::parse);
  Bytes zstd{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0};
  EXPECT_EQ(error_of(zstd), Errc::unsupported);
}

}  // namespace
}  // namespace cloister::verity
