#include "cloister/common/encoding.h"

#include <gtest/gtest.h>

namespace cloister {
namespace {

TEST(Hex, RoundTripAndCase) {
  Bytes b{0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(hex_encode(b), "0001abff");
  auto d = hex_decode("0001ABff");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, b);
  EXPECT_EQ(hex_encode({}), "");
}

TEST(Hex, RejectsOddLengthAndBadCharNamingOffset) {
  auto odd = hex_decode("abc");
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code(), Errc::parse);
  auto bad = hex_decode("00zz");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("offset 2"), std::string::npos) << bad.error().message();
}

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(base64_encode(as_bytes(plain[i])), enc[i]);
    auto d = base64_decode(enc[i]);
    ASSERT_TRUE(d) << enc[i];
    EXPECT_EQ(std::string(d->begin(), d->end()), plain[i]);
  }
}

TEST(Base64, StrictDecoding) {
  EXPECT_FALSE(base64_decode("Zm9"));       // length
  EXPECT_FALSE(base64_decode("Zm9v\n"));    // whitespace
  EXPECT_FALSE(base64_decode("Z=9v"));      // '=' in the middle
  EXPECT_FALSE(base64_decode("Zm-v"));      // url alphabet in std
}

TEST(Base64Url, UnpaddedAndPadded) {
  Bytes b{0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64_encode(b), "+/+/");
  EXPECT_EQ(base64url_encode(b), "-_-_");
  Bytes two{0xfb, 0xff};
  EXPECT_EQ(base64url_encode(two), "-_8");
  EXPECT_EQ(base64url_encode(two, true), "-_8=");
  auto d1 = base64url_decode("-_8");
  auto d2 = base64url_decode("-_8=");
  ASSERT_TRUE(d1);
  ASSERT_TRUE(d2);
  EXPECT_EQ(*d1, two);
  EXPECT_EQ(*d2, two);
  EXPECT_FALSE(base64url_decode("+/8"));
  EXPECT_FALSE(base64url_decode("a"));
}

}  // namespace
}  // namespace cloister
