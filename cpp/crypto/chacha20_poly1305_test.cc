#include "crypto/chacha20_poly1305.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace crudjt;

namespace {

std::vector<uint8_t> Unhex(std::string_view h) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(uint8_t(nib(h[i]) * 16 + nib(h[i + 1])));
  return out;
}

std::vector<uint8_t> RandomBytes(std::mt19937_64* rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t((*rng)());
  return v;
}

// OpenSSL as the reference: EVP ChaCha20 (16-byte IV = little-endian
// counter || nonce), EVP_MAC Poly1305 and EVP ChaCha20-Poly1305.
std::vector<uint8_t> OpensslChaCha20(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                                     const std::vector<uint8_t>& in) {
  uint8_t iv[16];
  for (int i = 0; i < 4; ++i) iv[i] = uint8_t(counter >> (8 * i));
  std::memcpy(iv + 4, nonce, 12);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::vector<uint8_t> out(in.size());
  int len = 0;
  REQUIRE(EVP_EncryptInit_ex(ctx, EVP_chacha20(), nullptr, key, iv) == 1);
  if (!in.empty()) REQUIRE(EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), int(in.size())) == 1);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

std::vector<uint8_t> OpensslPoly1305(const uint8_t key[32], const std::vector<uint8_t>& msg) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  REQUIRE(mac != nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  REQUIRE(EVP_MAC_init(ctx, key, 32, nullptr) == 1);
  if (!msg.empty()) REQUIRE(EVP_MAC_update(ctx, msg.data(), msg.size()) == 1);
  std::vector<uint8_t> tag(16);
  size_t len = 0;
  REQUIRE(EVP_MAC_final(ctx, tag.data(), &len, tag.size()) == 1);
  REQUIRE(len == 16);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return tag;
}

void OpensslSeal(const uint8_t key[32], const uint8_t nonce[12], const std::vector<uint8_t>& ad,
                 const std::vector<uint8_t>& pt, std::vector<uint8_t>* ct, uint8_t tag[16]) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, key, nonce) == 1);
  int len = 0;
  if (!ad.empty()) REQUIRE(EVP_EncryptUpdate(ctx, nullptr, &len, ad.data(), int(ad.size())) == 1);
  ct->assign(pt.size(), 0);
  if (!pt.empty()) REQUIRE(EVP_EncryptUpdate(ctx, ct->data(), &len, pt.data(), int(pt.size())) == 1);
  REQUIRE(EVP_EncryptFinal_ex(ctx, ct->data() + pt.size(), &len) == 1);
  REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1);
  EVP_CIPHER_CTX_free(ctx);
}

}  // namespace

TEST_CASE("Poly1305.MatchesRfc8439Section2_5_2Vector") {
  const auto key = Unhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const std::string msg = "Cryptographic Forum Research Group";
  Poly1305 mac(key.data());
  mac.Update(reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
  uint8_t tag[16];
  mac.Final(tag);
  CHECK(std::vector<uint8_t>(tag, tag + 16) == Unhex("a8061dc1305136c6c22b8baf0c0127a9"));
}

TEST_CASE("Poly1305.MatchesOpensslForEveryLengthAndSplit") {
  std::mt19937_64 rng(1);
  for (size_t n = 0; n <= 300; ++n) {
    const auto key = RandomBytes(&rng, 32);
    const auto msg = RandomBytes(&rng, n);
    const auto want = OpensslPoly1305(key.data(), msg);
    // In one piece, and split at a random point (partial-block buffering).
    Poly1305 whole(key.data());
    whole.Update(msg.data(), msg.size());
    uint8_t tag[16];
    whole.Final(tag);
    CHECK(std::vector<uint8_t>(tag, tag + 16) == want);
    const size_t cut = n == 0 ? 0 : size_t(rng() % (n + 1));
    Poly1305 split(key.data());
    split.Update(msg.data(), cut);
    split.Update(msg.data() + cut, n - cut);
    split.Final(tag);
    CHECK(std::vector<uint8_t>(tag, tag + 16) == want);
  }
}

TEST_CASE("Poly1305.AccumulatorNearTheModulusReducesFully") {
  // All-ones blocks with an all-ones r and s drive h to the top of its
  // range, where the final conditional subtraction of p matters.
  const std::vector<uint8_t> key(32, 0xff);
  for (size_t n : {16u, 32u, 64u, 1024u}) {
    const std::vector<uint8_t> msg(n, 0xff);
    Poly1305 mac(key.data());
    mac.Update(msg.data(), msg.size());
    uint8_t tag[16];
    mac.Final(tag);
    CHECK(std::vector<uint8_t>(tag, tag + 16) == OpensslPoly1305(key.data(), msg));
  }
}

TEST_CASE("ChaCha20.MatchesOpensslAtEveryLengthAndCounter") {
  std::mt19937_64 rng(2);
  for (size_t n = 0; n <= 600; n += (n < 140 ? 1 : 37)) {
    const auto key = RandomBytes(&rng, 32);
    const auto nonce = RandomBytes(&rng, 12);
    const auto in = RandomBytes(&rng, n);
    for (uint32_t counter : {0u, 1u, 7u, 0xfffffffeu}) {
      if (counter == 0xfffffffeu && n > 128) continue;  // OpenSSL carries into the nonce there
      std::vector<uint8_t> out(n);
      ChaCha20Xor(key.data(), nonce.data(), counter, in.data(), out.data(), n);
      CHECK(out == OpensslChaCha20(key.data(), nonce.data(), counter, in));
      // In place gives the same.
      std::vector<uint8_t> inplace = in;
      ChaCha20Xor(key.data(), nonce.data(), counter, inplace.data(), inplace.data(), n);
      CHECK(inplace == out);
    }
  }
}

TEST_CASE("ChaCha20Poly1305.SealMatchesOpensslAndOpens") {
  std::mt19937_64 rng(3);
  for (size_t n = 0; n <= 1024; n += (n < 300 ? 1 : 53)) {
    const auto key = RandomBytes(&rng, 32);
    const auto nonce = RandomBytes(&rng, 12);
    const auto ad = RandomBytes(&rng, size_t(rng() % 40));
    const auto pt = RandomBytes(&rng, n);
    std::vector<uint8_t> want_ct;
    uint8_t want_tag[16];
    OpensslSeal(key.data(), nonce.data(), ad, pt, &want_ct, want_tag);

    std::vector<uint8_t> ct(n);
    uint8_t tag[16];
    ChaCha20Poly1305Seal(key.data(), nonce.data(), ad.data(), ad.size(), pt.data(), n, ct.data(), tag);
    REQUIRE(ct == want_ct);
    REQUIRE(std::memcmp(tag, want_tag, 16) == 0);

    std::vector<uint8_t> back(n);
    CHECK(ChaCha20Poly1305Open(key.data(), nonce.data(), ad.data(), ad.size(), ct.data(), n, tag,
                               back.data()));
    CHECK(back == pt);
  }
}

TEST_CASE("ChaCha20Poly1305.OpenRejectsAnyFlippedBitAndZeroesTheOutput") {
  std::mt19937_64 rng(4);
  const auto key = RandomBytes(&rng, 32);
  const auto nonce = RandomBytes(&rng, 12);
  const auto ad = RandomBytes(&rng, 13);
  const auto pt = RandomBytes(&rng, 77);
  std::vector<uint8_t> ct(pt.size());
  uint8_t tag[16];
  ChaCha20Poly1305Seal(key.data(), nonce.data(), ad.data(), ad.size(), pt.data(), pt.size(), ct.data(), tag);
  std::vector<uint8_t> out(pt.size(), 0xaa);
  for (size_t bit = 0; bit < (ct.size() + 16 + ad.size()) * 8; bit += 3) {
    std::vector<uint8_t> c = ct, a = ad;
    uint8_t t[16];
    std::memcpy(t, tag, 16);
    const size_t byte = bit / 8;
    if (byte < c.size()) {
      c[byte] ^= uint8_t(1 << (bit % 8));
    } else if (byte < c.size() + 16) {
      t[byte - c.size()] ^= uint8_t(1 << (bit % 8));
    } else {
      a[byte - c.size() - 16] ^= uint8_t(1 << (bit % 8));
    }
    std::fill(out.begin(), out.end(), 0xaa);
    CHECK_FALSE(ChaCha20Poly1305Open(key.data(), nonce.data(), a.data(), a.size(), c.data(), c.size(), t,
                                     out.data()));
    CHECK(out == std::vector<uint8_t>(pt.size(), 0));
  }
}

TEST_CASE("ChaCha20Poly1305.OpenInPlaceVerifiesBeforeDecrypting") {
  std::mt19937_64 rng(5);
  const auto key = RandomBytes(&rng, 32);
  const auto nonce = RandomBytes(&rng, 12);
  const auto pt = RandomBytes(&rng, 200);
  std::vector<uint8_t> buf = pt;
  uint8_t tag[16];
  ChaCha20Poly1305Seal(key.data(), nonce.data(), nullptr, 0, buf.data(), buf.size(), buf.data(), tag);
  CHECK(buf != pt);
  CHECK(ChaCha20Poly1305Open(key.data(), nonce.data(), nullptr, 0, buf.data(), buf.size(), tag, buf.data()));
  CHECK(buf == pt);
}
