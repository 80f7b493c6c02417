#include "crypto/chacha20_poly1305.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <thread>
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

// ---------------------------------------------------------------- review additions

namespace {

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<uint8_t> Fill(size_t n, uint8_t b) { return std::vector<uint8_t>(n, b); }

std::vector<uint8_t> PolyTag(const std::vector<uint8_t>& key, const std::vector<uint8_t>& msg) {
  Poly1305 mac(key.data());
  mac.Update(msg.data(), msg.size());
  std::vector<uint8_t> tag(16);
  mac.Final(tag.data());
  return tag;
}

// A 16-byte little-endian number: low 64 bits, high 64 bits.
std::vector<uint8_t> Le128(uint64_t lo, uint64_t hi) {
  std::vector<uint8_t> v(16);
  for (int i = 0; i < 8; ++i) {
    v[i] = uint8_t(lo >> (8 * i));
    v[8 + i] = uint8_t(hi >> (8 * i));
  }
  return v;
}

}  // namespace

TEST_CASE("Poly1305.Rfc8439AppendixA3EdgeVectors") {
  // RFC 8439 A.3 #5..#11: accumulators that land on, just above and just
  // below p = 2^130 - 5, and carries through every limb.
  const auto r1 = Concat({Unhex("01"), Fill(31, 0)});
  const auto r2 = Concat({Unhex("02"), Fill(31, 0)});
  const auto r2_sff = Concat({Unhex("02"), Fill(15, 0), Fill(16, 0xff)});
  const auto r_4_1 = Concat({Unhex("0100000000000000" "0400000000000000"), Fill(16, 0)});
  const auto v10 = Unhex(
      "e33594d7505e43b90000000000000000"
      "3394d7505e4379cd0100000000000000"
      "00000000000000000000000000000000"
      "01000000000000000000000000000000");
  struct Vec {
    std::vector<uint8_t> key, msg, tag;
  } vecs[] = {
      {r2, Fill(16, 0xff), Concat({Unhex("03"), Fill(15, 0)})},
      {r2_sff, Concat({Unhex("02"), Fill(15, 0)}), Concat({Unhex("03"), Fill(15, 0)})},
      {r1, Concat({Fill(16, 0xff), Unhex("f0"), Fill(15, 0xff), Unhex("11"), Fill(15, 0)}),
       Concat({Unhex("05"), Fill(15, 0)})},
      {r1, Concat({Fill(16, 0xff), Unhex("fb"), Fill(15, 0xfe), Fill(16, 0x01)}), Fill(16, 0)},
      {r2, Concat({Unhex("fd"), Fill(15, 0xff)}), Concat({Unhex("fa"), Fill(15, 0xff)})},
      {r_4_1, v10, Unhex("14000000000000005500000000000000")},
      {r_4_1, std::vector<uint8_t>(v10.begin(), v10.begin() + 48),
       Unhex("13000000000000000000000000000000")},
  };
  int i = 5;
  for (const auto& v : vecs) {
    CAPTURE(i);
    CHECK(PolyTag(v.key, v.msg) == v.tag);
    CHECK(OpensslPoly1305(v.key.data(), v.msg) == v.tag);
    ++i;
  }
}

TEST_CASE("Poly1305.FinalSubtractionAtEveryValueAroundTheModulus") {
  // r = 1, s = 0: two full blocks m1, m2 give h = m1 + m2 + 2^129 exactly
  // (no reduction on the way). m1 = 2^128 - 1, m2 = 2^128 - 1 - k puts h at
  // 2^130 - 2 - k: k = 0..3 is p + 3 - k (tag 3 - k), k = 4 is p - 1 (tag
  // (p - 1) mod 2^128 = 2^128 - 6), k = 5 is p - 2.
  const auto key = Concat({Unhex("01"), Fill(31, 0)});
  for (uint64_t k = 0; k <= 5; ++k) {
    CAPTURE(k);
    const auto msg = Concat({Fill(16, 0xff), Le128(~uint64_t{0} - k, ~uint64_t{0})});
    const auto want = k <= 3 ? Le128(3 - k, 0) : Le128(~uint64_t{0} - (k + 1), ~uint64_t{0});
    CHECK(PolyTag(key, msg) == want);
    CHECK(OpensslPoly1305(key.data(), msg) == want);
  }
  // Three all-ones blocks: h = 6 * 2^128 - 3 = 2^130 + 2^129 - 3, which
  // the block loop folds past 2^130: (2^129 + 2) mod 2^128 = 2.
  CHECK(PolyTag(key, Fill(48, 0xff)) == Le128(2, 0));
  // s = 2^128 - 1 makes the final addition wrap: 2 + s = 1 (mod 2^128).
  const auto key_s = Concat({Unhex("01"), Fill(15, 0), Fill(16, 0xff)});
  CHECK(PolyTag(key_s, Fill(48, 0xff)) == Le128(1, 0));
  CHECK(OpensslPoly1305(key_s.data(), Fill(48, 0xff)) == Le128(1, 0));
}

TEST_CASE("Poly1305.HighBitHeavyMessagesMatchOpensslAndAnySplit") {
  // Random keys (r clamped to anything up to its maximum) with messages of
  // mostly 0xff bytes keep the limbs near their bounds; fed whole and one
  // byte at a time (every buffering path).
  std::mt19937_64 rng(6);
  for (int trial = 0; trial < 400; ++trial) {
    auto key = RandomBytes(&rng, 32);
    if (trial % 2 == 0) std::fill(key.begin(), key.begin() + 16, 0xff);
    const size_t n = size_t(rng() % 130);
    std::vector<uint8_t> msg(n);
    for (auto& b : msg) b = rng() % 8 == 0 ? uint8_t(rng()) : 0xff;
    const auto want = OpensslPoly1305(key.data(), msg);
    CHECK(PolyTag(key, msg) == want);
    Poly1305 bytewise(key.data());
    for (size_t i = 0; i < n; ++i) bytewise.Update(&msg[i], 1);
    bytewise.Update(nullptr, 0);
    uint8_t tag[16];
    bytewise.Final(tag);
    CHECK(std::vector<uint8_t>(tag, tag + 16) == want);
  }
}

TEST_CASE("ChaCha20.CounterWrapsAt2To32") {
  // RFC 8439's counter is 32 bits: past 0xffffffff the key stream is block
  // 0's (the nonce words are not carried into, unlike OpenSSL's EVP).
  std::mt19937_64 rng(7);
  const auto key = RandomBytes(&rng, 32);
  const auto nonce = RandomBytes(&rng, 12);
  const std::vector<uint8_t> zeros(64 * 5, 0);
  std::vector<uint8_t> wrapped(zeros.size()), from0(zeros.size()), last(64);
  ChaCha20Xor(key.data(), nonce.data(), 0xffffffffu, zeros.data(), wrapped.data(), zeros.size());
  ChaCha20Xor(key.data(), nonce.data(), 0, zeros.data(), from0.data(), zeros.size());
  ChaCha20Xor(key.data(), nonce.data(), 0xffffffffu, zeros.data(), last.data(), 64);
  CHECK(std::vector<uint8_t>(wrapped.begin(), wrapped.begin() + 64) == last);
  CHECK(last == OpensslChaCha20(key.data(), nonce.data(), 0xffffffffu, std::vector<uint8_t>(64, 0)));
  CHECK(std::vector<uint8_t>(wrapped.begin() + 64, wrapped.end()) ==
        std::vector<uint8_t>(from0.begin(), from0.end() - 64));
}

TEST_CASE("ChaCha20Poly1305.UnalignedBuffersLongAdAndLargeMessagesMatchOpenssl") {
  // Every pointer at an odd offset (the vector code must not assume
  // alignment), ad longer than a block, and a message long enough that the
  // block counter runs far past the 192-byte prefix.
  std::mt19937_64 rng(8);
  for (size_t n : {size_t(0), size_t(1), size_t(191), size_t(192), size_t(193), size_t(4099),
                   size_t(1) << 20}) {
    for (size_t ad_len : {size_t(0), size_t(15), size_t(16), size_t(17), size_t(300)}) {
      CAPTURE(n);
      CAPTURE(ad_len);
      const auto key = RandomBytes(&rng, 32);
      const auto nonce = RandomBytes(&rng, 12);
      const auto ad = RandomBytes(&rng, ad_len);
      const auto pt = RandomBytes(&rng, n);
      std::vector<uint8_t> want_ct;
      uint8_t want_tag[16];
      OpensslSeal(key.data(), nonce.data(), ad, pt, &want_ct, want_tag);

      std::vector<uint8_t> kbuf(33), nbuf(13), abuf(ad_len + 3), pbuf(n + 5), cbuf(n + 7), tbuf(19);
      std::memcpy(kbuf.data() + 1, key.data(), 32);
      std::memcpy(nbuf.data() + 1, nonce.data(), 12);
      if (ad_len) std::memcpy(abuf.data() + 3, ad.data(), ad_len);
      if (n) std::memcpy(pbuf.data() + 5, pt.data(), n);
      ChaCha20Poly1305Seal(kbuf.data() + 1, nbuf.data() + 1, abuf.data() + 3, ad_len, pbuf.data() + 5,
                           n, cbuf.data() + 7, tbuf.data() + 3);
      REQUIRE(std::equal(want_ct.begin(), want_ct.end(), cbuf.begin() + 7));
      REQUIRE(std::memcmp(tbuf.data() + 3, want_tag, 16) == 0);
      std::vector<uint8_t> back(n + 1);
      CHECK(ChaCha20Poly1305Open(kbuf.data() + 1, nbuf.data() + 1, abuf.data() + 3, ad_len,
                                 cbuf.data() + 7, n, tbuf.data() + 3, back.data() + 1));
      CHECK(std::equal(pt.begin(), pt.end(), back.begin() + 1));
    }
  }
}

TEST_CASE("ChaCha20Poly1305.EmptyMessageWithNullPointers") {
  std::mt19937_64 rng(9);
  const auto key = RandomBytes(&rng, 32);
  const auto nonce = RandomBytes(&rng, 12);
  uint8_t tag[16];
  ChaCha20Poly1305Seal(key.data(), nonce.data(), nullptr, 0, nullptr, 0, nullptr, tag);
  std::vector<uint8_t> want_ct;
  uint8_t want_tag[16];
  OpensslSeal(key.data(), nonce.data(), {}, {}, &want_ct, want_tag);
  CHECK(std::memcmp(tag, want_tag, 16) == 0);
  CHECK(ChaCha20Poly1305Open(key.data(), nonce.data(), nullptr, 0, nullptr, 0, tag, nullptr));
  tag[15] ^= 0x80;
  CHECK_FALSE(ChaCha20Poly1305Open(key.data(), nonce.data(), nullptr, 0, nullptr, 0, tag, nullptr));
}

TEST_CASE("ChaCha20Poly1305.ConcurrentCallsWithOneKeyAgree") {
  // No state is shared between calls (the store's Aead is used by every
  // thread at once): the same inputs sealed on four threads give the same
  // bytes as on one (and TSan sees no shared writes).
  std::mt19937_64 rng(10);
  const auto key = RandomBytes(&rng, 32);
  std::vector<std::vector<uint8_t>> nonces, pts, cts;
  std::vector<std::array<uint8_t, 16>> tags;
  for (int i = 0; i < 64; ++i) {
    nonces.push_back(RandomBytes(&rng, 12));
    pts.push_back(RandomBytes(&rng, size_t(rng() % 400)));
    cts.emplace_back(pts.back().size());
    tags.emplace_back();
    ChaCha20Poly1305Seal(key.data(), nonces[i].data(), nullptr, 0, pts[i].data(), pts[i].size(),
                         cts[i].data(), tags[i].data());
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (size_t i = size_t(t); i < pts.size(); i += 1) {
          std::vector<uint8_t> ct(pts[i].size()), back(pts[i].size());
          uint8_t tag[16];
          ChaCha20Poly1305Seal(key.data(), nonces[i].data(), nullptr, 0, pts[i].data(), pts[i].size(),
                               ct.data(), tag);
          if (ct != cts[i] || std::memcmp(tag, tags[i].data(), 16) != 0) bad.fetch_add(1);
          if (!ChaCha20Poly1305Open(key.data(), nonces[i].data(), nullptr, 0, ct.data(), ct.size(), tag,
                                    back.data()) ||
              back != pts[i]) {
            bad.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad.load() == 0);
}
