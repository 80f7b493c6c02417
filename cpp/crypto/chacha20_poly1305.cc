#include "crypto/chacha20_poly1305.h"

#include <cstring>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "chacha20_poly1305.cc stores key-stream words in host order: little-endian hosts only"
#endif

namespace crudjt {
namespace {

inline uint32_t Load32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

inline uint64_t Load64(const uint8_t* p) {
  return uint64_t(Load32(p)) | (uint64_t(Load32(p + 4)) << 32);
}

inline void Store32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
  p[2] = uint8_t(v >> 16);
  p[3] = uint8_t(v >> 24);
}

inline void Store64(uint8_t* p, uint64_t v) {
  Store32(p, uint32_t(v));
  Store32(p + 4, uint32_t(v >> 32));
}

// Zeroes key material that is about to go out of scope. A plain memset of
// a buffer that is dead afterwards is a dead store the compiler deletes
// (GCC 12 -O2 dropped every such wipe in this file); the empty asm, which
// may read the memory, keeps it.
inline void Wipe(void* p, size_t n) {
  std::memset(p, 0, n);
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

// ---------------------------------------------------------------- ChaCha20

typedef uint32_t U32x4 __attribute__((vector_size(16)));

inline U32x4 Rotl(U32x4 v, int n) { return (v << n) | (v >> (32 - n)); }

// Lanes of v rotated: result[i] = v[(i + k) % 4].
#if defined(__clang__)
#define CRUDJT_ROTATE_LANES(v, k) \
  __builtin_shufflevector(v, v, (k) % 4, ((k) + 1) % 4, ((k) + 2) % 4, ((k) + 3) % 4)
#else
#define CRUDJT_ROTATE_LANES(v, k) \
  __builtin_shuffle(v, U32x4{(k) % 4, ((k) + 1) % 4, ((k) + 2) % 4, ((k) + 3) % 4})
#endif

// One block is four row vectors a = words 0..3, b = 4..7, c = 8..11,
// d = 12..15: a column round is one lane-wise quarter round; rotating the
// lanes of b, c and d by 1, 2 and 3 lines the diagonals up for the next.
// Two blocks go side by side so that their independent chains fill the
// pipeline (eight row vectors plus temporaries fit the 16 registers).
struct Rows {
  U32x4 a, b, c, d;
};

inline void QuarterRound(Rows& r) {
  r.a += r.b; r.d ^= r.a; r.d = Rotl(r.d, 16);
  r.c += r.d; r.b ^= r.c; r.b = Rotl(r.b, 12);
  r.a += r.b; r.d ^= r.a; r.d = Rotl(r.d, 8);
  r.c += r.d; r.b ^= r.c; r.b = Rotl(r.b, 7);
}

inline void Diagonalize(Rows& r) {
  r.b = CRUDJT_ROTATE_LANES(r.b, 1);
  r.c = CRUDJT_ROTATE_LANES(r.c, 2);
  r.d = CRUDJT_ROTATE_LANES(r.d, 3);
}

inline void Undiagonalize(Rows& r) {
  r.b = CRUDJT_ROTATE_LANES(r.b, 3);
  r.c = CRUDJT_ROTATE_LANES(r.c, 2);
  r.d = CRUDJT_ROTATE_LANES(r.d, 1);
}

inline void StoreRows(const Rows& r, const Rows& in, uint8_t* out) {
  // The key stream is little-endian words, as the host stores them.
  const U32x4 v[4] = {r.a + in.a, r.b + in.b, r.c + in.c, r.d + in.d};
  std::memcpy(out, v, sizeof(v));
}

// Key stream of blocks counter and counter+1 into ks[128].
void TwoBlocks(const uint32_t state[16], uint32_t counter, uint8_t ks[128]) {
  Rows in0;
  std::memcpy(&in0.a, state, 16);
  std::memcpy(&in0.b, state + 4, 16);
  std::memcpy(&in0.c, state + 8, 16);
  std::memcpy(&in0.d, state + 12, 16);
  in0.d[0] = counter;
  Rows in1 = in0;
  in1.d[0] = counter + 1;  // wraps as RFC 8439's 32-bit counter
  Rows x0 = in0, x1 = in1;
  for (int round = 0; round < 10; ++round) {
    QuarterRound(x0);
    QuarterRound(x1);
    Diagonalize(x0);
    Diagonalize(x1);
    QuarterRound(x0);
    QuarterRound(x1);
    Undiagonalize(x0);
    Undiagonalize(x1);
  }
  StoreRows(x0, in0, ks);
  StoreRows(x1, in1, ks + 64);
}

// Blocks counter..counter+3 into ks[256].
void FourBlocks(const uint32_t state[16], uint32_t counter, uint8_t ks[256]) {
  TwoBlocks(state, counter, ks);
  TwoBlocks(state, counter + 2, ks + 128);
}

void InitState(const uint8_t key[32], const uint8_t nonce[12], uint32_t state[16]) {
  state[0] = 0x61707865u;  // "expand 32-byte k"
  state[1] = 0x3320646eu;
  state[2] = 0x79622d32u;
  state[3] = 0x6b206574u;
  for (int i = 0; i < 8; ++i) state[4 + i] = Load32(key + 4 * i);
  state[12] = 0;
  for (int i = 0; i < 3; ++i) state[13 + i] = Load32(nonce + 4 * i);
}

// out[0..n) = in[0..n) ^ ks[0..n), eight bytes at a time.
inline void XorBytes(const uint8_t* in, const uint8_t* ks, uint8_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t a, b;
    std::memcpy(&a, in + i, 8);
    std::memcpy(&b, ks + i, 8);
    a ^= b;
    std::memcpy(out + i, &a, 8);
  }
  for (; i < n; ++i) out[i] = in[i] ^ ks[i];
}

void XorStream(const uint32_t state[16], uint32_t counter, const uint8_t* in, uint8_t* out,
               size_t n) {
  uint8_t ks[128];
  while (n > 0) {
    TwoBlocks(state, counter, ks);
    const size_t take = n < sizeof(ks) ? n : sizeof(ks);
    XorBytes(in, ks, out, take);
    in += take;
    out += take;
    n -= take;
    counter += 2;
  }
  Wipe(ks, sizeof(ks));
}

// ---------------------------------------------------------------- Poly1305

constexpr uint64_t kMask44 = (uint64_t{1} << 44) - 1;
constexpr uint64_t kMask42 = (uint64_t{1} << 42) - 1;
typedef unsigned __int128 U128;

// Constant-time equality of two 16-byte tags.
bool TagsEqual(const uint8_t a[16], const uint8_t b[16]) {
  uint8_t diff = 0;
  for (int i = 0; i < 16; ++i) diff |= uint8_t(a[i] ^ b[i]);
  // Keep the compiler from turning the loop into an early exit.
  volatile uint8_t d = diff;
  return d == 0;
}

const uint8_t kZeros[16] = {0};

// The MAC input of RFC 8439 2.8: ad, zeros to 16, ct, zeros to 16, then
// the two lengths as 64-bit little-endian numbers.
void Tag(const uint8_t otk[32], const uint8_t* ad, size_t ad_len, const uint8_t* ct, size_t n,
         uint8_t tag[16]) {
  Poly1305 mac(otk);
  mac.Update(ad, ad_len);
  if (ad_len % 16 != 0) mac.Update(kZeros, 16 - ad_len % 16);
  mac.Update(ct, n);
  if (n % 16 != 0) mac.Update(kZeros, 16 - n % 16);
  uint8_t lens[16];
  Store64(lens, uint64_t(ad_len));
  Store64(lens + 8, uint64_t(n));
  mac.Update(lens, sizeof(lens));
  mac.Final(tag);
}

// XOR of in[0..n) with a key stream whose first min(n, len) bytes are
// ks[0..len) and whose rest starts at block `counter`.
void XorWithPrefix(const uint32_t state[16], const uint8_t* ks, size_t len, uint32_t counter,
                   const uint8_t* in, uint8_t* out, size_t n) {
  const size_t head = n < len ? n : len;
  XorBytes(in, ks, out, head);
  if (n > head) XorStream(state, counter, in + head, out + head, n - head);
}

}  // namespace

void ChaCha20Xor(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                 const uint8_t* in, uint8_t* out, size_t n) {
  uint32_t state[16];
  InitState(key, nonce, state);
  XorStream(state, counter, in, out, n);
  Wipe(state, sizeof(state));
}

Poly1305::Poly1305(const uint8_t key[32]) {
  // r is clamped (RFC 8439 2.5: top 4 bits of bytes 3, 7, 11, 15 and bottom
  // 2 bits of bytes 4, 8, 12 cleared), then split into 44/44/42-bit limbs.
  const uint64_t t0 = Load64(key) & 0x0ffffffc0fffffffull;
  const uint64_t t1 = Load64(key + 8) & 0x0ffffffc0ffffffcull;
  r_[0] = t0 & kMask44;
  r_[1] = ((t0 >> 44) | (t1 << 20)) & kMask44;
  r_[2] = (t1 >> 24) & kMask42;
  h_[0] = h_[1] = h_[2] = 0;
  pad_[0] = Load64(key + 16);
  pad_[1] = Load64(key + 24);
}

Poly1305::~Poly1305() {
  volatile uint64_t* r = r_;
  for (int i = 0; i < 3; ++i) r[i] = 0;
  volatile uint64_t* p = pad_;
  p[0] = p[1] = 0;
}

// h = (h + m) * r mod 2^130 - 5 for each 16-byte block; hibit is 2^128 in
// the top limb (2^40 there) for full blocks, 0 for the padded last one.
void Poly1305::Blocks(const uint8_t* m, size_t blocks, uint64_t hibit) {
  const uint64_t r0 = r_[0], r1 = r_[1], r2 = r_[2];
  // 2^132 = 4 * 2^130 == 4 * 5 (mod p): limb products past the top fold
  // back multiplied by 20.
  const uint64_t s1 = r1 * 20, s2 = r2 * 20;
  uint64_t h0 = h_[0], h1 = h_[1], h2 = h_[2];
  for (size_t b = 0; b < blocks; ++b, m += 16) {
    const uint64_t t0 = Load64(m), t1 = Load64(m + 8);
    h0 += t0 & kMask44;
    h1 += ((t0 >> 44) | (t1 << 20)) & kMask44;
    h2 += ((t1 >> 24) & kMask42) | hibit;
    U128 d0 = U128(h0) * r0 + U128(h1) * s2 + U128(h2) * s1;
    U128 d1 = U128(h0) * r1 + U128(h1) * r0 + U128(h2) * s2;
    U128 d2 = U128(h0) * r2 + U128(h1) * r1 + U128(h2) * r0;
    uint64_t c = uint64_t(d0 >> 44);
    h0 = uint64_t(d0) & kMask44;
    d1 += c;
    c = uint64_t(d1 >> 44);
    h1 = uint64_t(d1) & kMask44;
    d2 += c;
    c = uint64_t(d2 >> 42);
    h2 = uint64_t(d2) & kMask42;
    h0 += c * 5;
    c = h0 >> 44;
    h0 &= kMask44;
    h1 += c;
  }
  h_[0] = h0;
  h_[1] = h1;
  h_[2] = h2;
}

void Poly1305::Update(const uint8_t* data, size_t n) {
  // (nullptr, 0) is a valid empty input; memcpy must not see that null.
  if (n == 0) return;
  if (buffered_ > 0) {
    const size_t take = n < 16 - buffered_ ? n : 16 - buffered_;
    std::memcpy(buf_ + buffered_, data, take);
    buffered_ += take;
    data += take;
    n -= take;
    if (buffered_ < 16) return;
    Blocks(buf_, 1, uint64_t{1} << 40);
    buffered_ = 0;
  }
  const size_t full = n / 16;
  if (full > 0) Blocks(data, full, uint64_t{1} << 40);
  data += full * 16;
  n -= full * 16;
  if (n > 0) {
    std::memcpy(buf_, data, n);
    buffered_ = n;
  }
}

void Poly1305::Final(uint8_t tag[16]) {
  if (buffered_ > 0) {
    buf_[buffered_] = 1;  // the padding bit, then zeros (no 2^128 bit)
    std::memset(buf_ + buffered_ + 1, 0, 16 - buffered_ - 1);
    Blocks(buf_, 1, 0);
    buffered_ = 0;
  }
  uint64_t h0 = h_[0], h1 = h_[1], h2 = h_[2];
  // Full carry, twice around the top so that h < 2^130 + small.
  uint64_t c;
  for (int pass = 0; pass < 2; ++pass) {
    c = h1 >> 44;
    h1 &= kMask44;
    h2 += c;
    c = h2 >> 42;
    h2 &= kMask42;
    h0 += c * 5;
    c = h0 >> 44;
    h0 &= kMask44;
    h1 += c;
  }
  // g = h + 5 - 2^130; take g when it does not borrow (h >= p).
  uint64_t g0 = h0 + 5;
  c = g0 >> 44;
  g0 &= kMask44;
  uint64_t g1 = h1 + c;
  c = g1 >> 44;
  g1 &= kMask44;
  uint64_t g2 = h2 + c - (uint64_t{1} << 42);
  const uint64_t use_g = (g2 >> 63) - 1;  // all ones when no borrow
  g2 &= kMask42;
  h0 = (h0 & ~use_g) | (g0 & use_g);
  h1 = (h1 & ~use_g) | (g1 & use_g);
  h2 = (h2 & ~use_g) | (g2 & use_g);
  // tag = (h + pad) mod 2^128.
  const uint64_t lo = h0 | (h1 << 44);
  const uint64_t hi = (h1 >> 20) | (h2 << 24);
  const U128 sum = (U128(hi) << 64 | lo) + (U128(pad_[1]) << 64 | pad_[0]);
  Store64(tag, uint64_t(sum));
  Store64(tag + 8, uint64_t(sum >> 64));
  h_[0] = h_[1] = h_[2] = 0;
}

// Blocks 0..3 in one pass: block 0 gives the one-time Poly1305 key
// (its first 32 bytes), blocks 1..3 the first 192 bytes of the message's
// key stream; the rest runs from block 4.
void ChaCha20Poly1305Seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* ad,
                          size_t ad_len, const uint8_t* pt, size_t n, uint8_t* ct,
                          uint8_t tag[16]) {
  uint32_t state[16];
  InitState(key, nonce, state);
  uint8_t ks[256];
  FourBlocks(state, 0, ks);
  XorWithPrefix(state, ks + 64, 192, 4, pt, ct, n);
  Tag(ks, ad, ad_len, ct, n, tag);
  Wipe(ks, sizeof(ks));
  Wipe(state, sizeof(state));
}

bool ChaCha20Poly1305Open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* ad,
                          size_t ad_len, const uint8_t* ct, size_t n, const uint8_t tag[16],
                          uint8_t* pt) {
  uint32_t state[16];
  InitState(key, nonce, state);
  uint8_t ks[256];
  FourBlocks(state, 0, ks);
  uint8_t expect[16];
  Tag(ks, ad, ad_len, ct, n, expect);
  const bool ok = TagsEqual(expect, tag);
  Wipe(expect, sizeof(expect));
  if (ok) {
    XorWithPrefix(state, ks + 64, 192, 4, ct, pt, n);
  } else if (n > 0) {
    std::memset(pt, 0, n);  // pt may be null when n == 0
  }
  Wipe(ks, sizeof(ks));
  Wipe(state, sizeof(state));
  return ok;
}

}  // namespace crudjt
