// base64url (RFC 4648 section 5) without padding: the alphabet of tokens.
#ifndef CRUDJT_UTIL_BASE64URL_H_
#define CRUDJT_UTIL_BASE64URL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crudjt {

std::string Base64UrlEncode(const uint8_t* data, size_t n);

// True iff every character is in [A-Za-z0-9_-].
bool IsBase64Url(std::string_view s);

}  // namespace crudjt

#endif  // CRUDJT_UTIL_BASE64URL_H_
