#include "cloister/common/digest.h"

#include <gtest/gtest.h>

#include "cloister/common/encoding.h"

namespace cloister {
namespace {

// FIPS 180-2 "abc" vectors.
TEST(Digest, ShaAbc) {
  EXPECT_EQ(hex_encode(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(sha384(as_bytes("abc"))),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  auto md5 = digest("md5", as_bytes("abc"));
  ASSERT_TRUE(md5);
  EXPECT_EQ(hex_encode(*md5), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Digest, UnknownAlgorithm) {
  auto r = digest("no-such-hash", as_bytes("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::unsupported);
}

}  // namespace
}  // namespace cloister
