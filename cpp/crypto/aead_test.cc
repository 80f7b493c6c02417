#include "crypto/aead.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

using namespace crudjt;

namespace {

std::string Hex(std::string_view s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view h) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(char(nib(h[i]) * 16 + nib(h[i + 1])));
  return out;
}

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// draft-irtf-cfrg-xchacha-03, appendix A.3.1.
const std::string kA31Key = Unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
const std::string kA31Nonce = Unhex("404142434445464748494a4b4c4d4e4f5051525354555657");
const std::string kA31Ad = Unhex("50515253c0c1c2c3c4c5c6c7");
const std::string kA31Plaintext =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    "future, sunscreen would be it.";
const std::string kA31Ciphertext =
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e";
const std::string kA31Tag = "c0875924c1c7987947deafd8780acf49";

std::unique_ptr<Aead> MakeAead(const std::string& key) {
  REQUIRE(key.size() == kAeadKeyBytes);
  std::unique_ptr<Aead> a;
  REQUIRE(Aead::Create(U8(key), &a).ok());
  REQUIRE(a != nullptr);
  return a;
}

}  // namespace

TEST_CASE("HChaCha20.MatchesDraftSection2_2_1Vector") {
  std::string key;
  for (int i = 0; i < 32; ++i) key.push_back(char(i));
  const std::string nonce = Unhex("000000090000004a0000000031415927");
  uint8_t out[32];
  HChaCha20(U8(key), U8(nonce), out);
  CHECK(Hex(std::string_view(reinterpret_cast<char*>(out), 32)) ==
        "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
}

TEST_CASE("Aead.SealMatchesDraftAppendixA_3_1Vector") {
  auto a = MakeAead(kA31Key);
  std::string sealed;
  REQUIRE(a->Seal(U8(kA31Nonce), kA31Ad, kA31Plaintext, &sealed).ok());
  REQUIRE(sealed.size() == kA31Plaintext.size() + kAeadTagBytes);
  CHECK(kA31Plaintext.size() == 114);
  CHECK(Hex(sealed.substr(0, 114)) == kA31Ciphertext);
  CHECK(Hex(sealed.substr(114)) == kA31Tag);
}

TEST_CASE("Aead.OpenRecoversDraftAppendixA_3_1Plaintext") {
  auto a = MakeAead(kA31Key);
  std::string pt = "stale contents";
  REQUIRE(a->Open(U8(kA31Nonce), kA31Ad, Unhex(kA31Ciphertext + kA31Tag), &pt).ok());
  CHECK(pt == kA31Plaintext);
}

TEST_CASE("Aead.MatchesLibsodiumForMultiBlockAndShortMessages") {
  // Produced with PyNaCl's crypto_aead_xchacha20poly1305_ietf_encrypt.
  std::string key, nonce, pt;
  for (int i = 0; i < 32; ++i) key.push_back(char((i * 7 + 3) & 255));
  for (int i = 0; i < 24; ++i) nonce.push_back(char((i * 13 + 1) & 255));
  for (int i = 0; i < 300; ++i) pt.push_back(char(i & 255));
  auto a = MakeAead(key);
  std::string sealed;
  REQUIRE(a->Seal(U8(nonce), "", pt, &sealed).ok());
  CHECK(Hex(sealed) ==
        "449fa8b578c61eb6af70124d8f3e559c9f316748861ada5ced3132d5c3b62deb"
        "41dafe5c88eb91113eba8045148f84548db3144bb2c631fcc2f1999e020419a9"
        "deed9476e76750029d4e1a425b273b7e8905b2876716e88cb85f1b294e2f29e4"
        "1f407470a8c73fed0654e4f30bb1cdc5c8a3d8c2d79f9a0bb31098af4cd79a07"
        "4a11e800b91bf6b72c4c74968f2a1fd529771872ee7eaeddfd97c4e6c4d7da4b"
        "44168af1ca31a8dc6d2b102227589d486a210dc1a785c9954308d8fb49233e87"
        "4b16c57c08727db2ee80797ffd5ef19ce6a5e45affa17f57061fbc6ae294af51"
        "e80666452c18507b3d567aa4aaa2461c869f140bc8e404ffd298fa09644dd298"
        "75db44e0a586e76b5b2b10c3721d4ed0ee34b6bdc24a422e3dde2a46ed8bce2c"
        "cbe78de81ef05133ba4b2fee5766100c2905357aa6c021ad3a212352");
  REQUIRE(a->Seal(U8(nonce), "0123456789abcdef", "x", &sealed).ok());
  CHECK(Hex(sealed) == "3c91a839515d5e303866588841753442c7");
}

TEST_CASE("Aead.EmptyPlaintextSealsToTagOnlyAndOpens") {
  auto a = MakeAead(kA31Key);
  std::string sealed;
  REQUIRE(a->Seal(U8(kA31Nonce), "", "", &sealed).ok());
  CHECK(Hex(sealed) == "1dac8f73146d1e9da796cb7f7221a5df");  // PyNaCl
  std::string pt = "not empty";
  REQUIRE(a->Open(U8(kA31Nonce), "", sealed, &pt).ok());
  CHECK(pt.empty());
  // Even an empty message is authenticated.
  sealed[0] ^= 1;
  CHECK(a->Open(U8(kA31Nonce), "", sealed, &pt).IsCorruption());
}

TEST_CASE("Aead.FlippedCiphertextTagOrAdByteIsCorruption") {
  auto a = MakeAead(kA31Key);
  std::string sealed;
  REQUIRE(a->Seal(U8(kA31Nonce), kA31Ad, kA31Plaintext, &sealed).ok());
  std::string pt;
  for (size_t i : {size_t(0), size_t(57), size_t(113)}) {  // ciphertext bytes
    std::string bad = sealed;
    bad[i] ^= 0x01;
    pt = "x";
    CHECK(a->Open(U8(kA31Nonce), kA31Ad, bad, &pt).IsCorruption());
    CHECK(pt.empty());
  }
  for (size_t i = 114; i < sealed.size(); ++i) {  // every tag byte
    std::string bad = sealed;
    bad[i] ^= 0x80;
    CHECK(a->Open(U8(kA31Nonce), kA31Ad, bad, &pt).IsCorruption());
    CHECK(pt.empty());
  }
  std::string bad_ad = kA31Ad;
  bad_ad[3] ^= 0x01;
  CHECK(a->Open(U8(kA31Nonce), bad_ad, sealed, &pt).IsCorruption());
  CHECK(a->Open(U8(kA31Nonce), "", sealed, &pt).IsCorruption());
  std::string bad_nonce = kA31Nonce;
  bad_nonce[20] ^= 0x01;  // in the IETF part
  CHECK(a->Open(U8(bad_nonce), kA31Ad, sealed, &pt).IsCorruption());
  bad_nonce = kA31Nonce;
  bad_nonce[2] ^= 0x01;  // in the HChaCha20 part
  CHECK(a->Open(U8(bad_nonce), kA31Ad, sealed, &pt).IsCorruption());
  // Truncated and too-short inputs.
  CHECK(a->Open(U8(kA31Nonce), kA31Ad, sealed.substr(0, sealed.size() - 1), &pt).IsCorruption());
  CHECK(a->Open(U8(kA31Nonce), kA31Ad, sealed.substr(0, 15), &pt).IsCorruption());
  CHECK(a->Open(U8(kA31Nonce), kA31Ad, "", &pt).IsCorruption());
  // The context is still usable after failures.
  REQUIRE(a->Open(U8(kA31Nonce), kA31Ad, sealed, &pt).ok());
  CHECK(pt == kA31Plaintext);
}

TEST_CASE("Aead.WrongKeyIsCorruption") {
  auto a = MakeAead(kA31Key);
  std::string other_key = kA31Key;
  other_key[31] ^= 0x01;
  auto b = MakeAead(other_key);
  std::string sealed, pt = "x";
  REQUIRE(a->Seal(U8(kA31Nonce), kA31Ad, kA31Plaintext, &sealed).ok());
  CHECK(b->Open(U8(kA31Nonce), kA31Ad, sealed, &pt).IsCorruption());
  CHECK(pt.empty());
}

TEST_CASE("Aead.AlternatingSealAndOpenReuseOneContext") {
  auto a = MakeAead(kA31Key);
  std::string nonce = kA31Nonce;
  for (int i = 0; i < 50; ++i) {
    nonce[0] = char(i);
    std::string msg(size_t(i * 7), char('a' + i % 26));
    std::string ad = "ad" + std::to_string(i);
    std::string sealed, pt;
    REQUIRE(a->Seal(U8(nonce), ad, msg, &sealed).ok());
    REQUIRE(sealed.size() == msg.size() + kAeadTagBytes);
    REQUIRE(a->Open(U8(nonce), ad, sealed, &pt).ok());
    CHECK(pt == msg);
  }
}

TEST_CASE("Aead.DistinctNoncesGiveDistinctCiphertexts") {
  auto a = MakeAead(kA31Key);
  std::string n2 = kA31Nonce;
  n2[0] ^= 1;
  std::string s1, s2;
  REQUIRE(a->Seal(U8(kA31Nonce), "", "same message", &s1).ok());
  REQUIRE(a->Seal(U8(n2), "", "same message", &s2).ok());
  CHECK(s1 != s2);
}

TEST_CASE("Aead.InputsAliasingTheOutputStringAreHandled") {
  auto a = MakeAead(kA31Key);
  std::string buf = kA31Plaintext;
  REQUIRE(a->Seal(U8(kA31Nonce), kA31Ad, buf, &buf).ok());
  CHECK(Hex(buf) == kA31Ciphertext + kA31Tag);
  REQUIRE(a->Open(U8(kA31Nonce), kA31Ad, buf, &buf).ok());
  CHECK(buf == kA31Plaintext);
}
