#include "util/base64url.h"

#include <doctest/doctest.h>

#include <string>

using namespace crudjt;

namespace {
std::string Enc(const std::string& s) {
  return Base64UrlEncode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
}  // namespace

TEST_CASE("Base64Url.EncodesRfc4648VectorsWithoutPadding") {
  CHECK(Enc("") == "");
  CHECK(Enc("f") == "Zg");
  CHECK(Enc("fo") == "Zm8");
  CHECK(Enc("foo") == "Zm9v");
  CHECK(Enc("foob") == "Zm9vYg");
  CHECK(Enc("fooba") == "Zm9vYmE");
  CHECK(Enc("foobar") == "Zm9vYmFy");
}

TEST_CASE("Base64Url.UsesDashAndUnderscoreInsteadOfPlusAndSlash") {
  const uint8_t all_ones[3] = {0xff, 0xff, 0xff};
  CHECK(Base64UrlEncode(all_ones, 3) == "____");
  const uint8_t dashes[3] = {0xfb, 0xef, 0xbe};
  CHECK(Base64UrlEncode(dashes, 3) == "----");
  const uint8_t mixed[2] = {0xfb, 0xff};
  CHECK(Base64UrlEncode(mixed, 2) == "-_8");
}

TEST_CASE("Base64Url.SixteenBytesGiveTwentyTwoChars") {
  uint8_t raw[16];
  for (int i = 0; i < 16; ++i) raw[i] = uint8_t(i * 17);
  std::string s = Base64UrlEncode(raw, 16);
  CHECK(s.size() == 22);
  CHECK(IsBase64Url(s));
}

TEST_CASE("Base64Url.IsBase64UrlAcceptsOnlyTheAlphabet") {
  CHECK(IsBase64Url(""));
  CHECK(IsBase64Url("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
  CHECK_FALSE(IsBase64Url("abc="));
  CHECK_FALSE(IsBase64Url("ab+c"));
  CHECK_FALSE(IsBase64Url("ab/c"));
  CHECK_FALSE(IsBase64Url("ab c"));
  CHECK_FALSE(IsBase64Url("ab.c"));
  CHECK_FALSE(IsBase64Url(std::string("ab\0c", 4)));
  CHECK_FALSE(IsBase64Url("\xc3\xa9t\xc3\xa9"));  // UTF-8 "été"
  CHECK_FALSE(IsBase64Url("\xff"));
  for (int c = 0; c < 256; ++c) {
    bool expected = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_';
    CHECK(IsBase64Url(std::string(1, char(c))) == expected);
  }
}
