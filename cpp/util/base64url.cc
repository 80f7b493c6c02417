// base64url (RFC 4648 section 5), no padding.

#include "util/base64url.h"

namespace crudjt {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 256-entry membership table, built at compile time.
struct UrlSafeTable {
  bool ok[256] = {};
  constexpr UrlSafeTable() {
    for (int i = 0; i < 64; ++i) ok[static_cast<unsigned char>(kAlphabet[i])] = true;
  }
};
constexpr UrlSafeTable kUrlSafe;

}  // namespace

std::string Base64UrlEncode(const uint8_t* data, size_t n) {
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8) | data[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = n - i;
  if (rest == 1) {
    uint32_t v = uint32_t(data[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool IsBase64Url(std::string_view s) {
  for (char c : s) {
    if (!kUrlSafe.ok[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace crudjt
