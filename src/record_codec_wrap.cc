// RecordCodecWrap: `new binding.RecordCodec(secretKey)`, the engine's token
// hash and sealed-record format (cpp/include/crudjt/record_codec.h) for the
// Redis Cluster backend (lib/cluster/). Thin: unwrap, check, call, convert.
//
//   hashToken(token: string) -> Buffer(16) | null   null: can never be a token
//   hashSubject(subject: Buffer) -> Buffer(16)
//   newToken() -> [token: string, treeKey: Buffer(16)]
//   seal(treeKey, payload, expiresAtMs, readsLeft) -> Buffer (the record)
//   open(treeKey, record) -> [payload, expiresAtMs, readsLeft] | null
//        null: sealed under another secret; throws code CRUDJT_CORRUPTION
//        for a malformed or altered record
//   keyId: number (u32 written at record offset 16)
//
// Methods run on the calling JS thread (microseconds each); the codec is
// never shared between threads, as RecordCodec requires.
#include <napi.h>

#include <memory>
#include <string>

#include "crudjt/record_codec.h"
#include "crudjt/store.h"
#include "errors.h"
#include "macros.h"

namespace crudjt_node {

namespace {

constexpr char kSecretMessage[] = "secretKey must be a Buffer of 32, 48 or 64 bytes";
constexpr char kKeyMessage[] = "treeKey must be a Buffer of 16 bytes";
constexpr char kPayloadMessage[] = "payload must be a Buffer of 1 to 256 bytes";
constexpr char kRecordMessage[] = "record must be a Buffer";
constexpr char kSubjectMessage[] = "subject must be a Buffer of 1 to 128 bytes";
constexpr char kTokenMessage[] = "token must be a string";
constexpr char kExpiresMessage[] = "expiresAtMs must be an integer in 0..2^56-1 (0 = never)";
constexpr int64_t kMaxExpiresAtMs = (int64_t(1) << 56) - 1;  // the record's u56 expiry
constexpr char kReadsMessage[] = "readsLeft must be -1 (no limit) or an integer in 1..MAX_READS";
constexpr size_t kMaxSubjectBytes = 128;

bool IsBytes(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

std::string_view View(const Napi::Uint8Array& a) {
  return std::string_view(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
}

Napi::Buffer<char> CopyKey(Napi::Env env, const uint8_t key[crudjt::kRecordKeyBytes]) {
  return Napi::Buffer<char>::Copy(env, reinterpret_cast<const char*>(key), crudjt::kRecordKeyBytes);
}

class RecordCodecWrap : public Napi::ObjectWrap<RecordCodecWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ObjectWrap::DefineClass(
        env, "RecordCodec",
        {
            InstanceMethod<&RecordCodecWrap::HashToken>("hashToken"),
            InstanceMethod<&RecordCodecWrap::HashSubject>("hashSubject"),
            InstanceMethod<&RecordCodecWrap::NewToken>("newToken"),
            InstanceMethod<&RecordCodecWrap::Seal>("seal"),
            InstanceMethod<&RecordCodecWrap::Open>("open"),
            InstanceAccessor<&RecordCodecWrap::KeyId>("keyId"),
        });
  }

  explicit RecordCodecWrap(const Napi::CallbackInfo& info) : ObjectWrap(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) {
      ThrowTypeError(env, "RecordCodec must be called with new");
      return;
    }
    if (!IsBytes(info[0])) {
      ThrowTypeError(env, kSecretMessage);
      return;
    }
    crudjt::Status s = crudjt::RecordCodec::Create(View(info[0].As<Napi::Uint8Array>()), &codec_);
    if (!s.ok()) {
      if (s.IsInvalidArgument()) {
        ThrowTypeError(env, kSecretMessage);
      } else {
        ThrowStatus(env, s);
      }
    }
  }

 private:
  bool Ready(Napi::Env env) {
    if (codec_) return true;
    ThrowTypeError(env, "RecordCodec is not initialised");
    return false;
  }

  bool GetKey(const Napi::CallbackInfo& info, size_t i, const uint8_t** key) {
    if (!IsBytes(info[i]) || info[i].As<Napi::Uint8Array>().ByteLength() != crudjt::kRecordKeyBytes) {
      ThrowTypeError(info.Env(), kKeyMessage);
      return false;
    }
    *key = info[i].As<Napi::Uint8Array>().Data();
    return true;
  }

  Napi::Value HashToken(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    CRUDJT_REQUIRE(env, info[0].IsString(), kTokenMessage);
    size_t units = 0;
    if (napi_get_value_string_utf16(env, info[0], nullptr, 0, &units) != napi_ok) return env.Undefined();
    if (units == 0 || units > crudjt::kMaxTokenChars) return env.Null();
    uint8_t key[crudjt::kRecordKeyBytes];
    if (!codec_->HashToken(info[0].As<Napi::String>().Utf8Value(), key)) return env.Null();
    return CopyKey(env, key);
  }

  Napi::Value HashSubject(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    CRUDJT_REQUIRE(env, IsBytes(info[0]), kSubjectMessage);
    Napi::Uint8Array subject = info[0].As<Napi::Uint8Array>();
    CRUDJT_REQUIRE(env, subject.ByteLength() >= 1 && subject.ByteLength() <= kMaxSubjectBytes,
                   kSubjectMessage);
    uint8_t key[crudjt::kRecordKeyBytes];
    codec_->HashSubject(View(subject), key);
    return CopyKey(env, key);
  }

  Napi::Value NewToken(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    std::string token;
    uint8_t key[crudjt::kRecordKeyBytes];
    crudjt::Status s = codec_->NewToken(&token, key);
    if (!s.ok()) return ThrowStatus(env, s);
    Napi::Array out = Napi::Array::New(env, 2);
    out.Set(0u, Napi::String::New(env, token));
    out.Set(1u, CopyKey(env, key));
    return out;
  }

  Napi::Value Seal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    const uint8_t* key;
    if (!GetKey(info, 0, &key)) return env.Undefined();
    CRUDJT_REQUIRE(env, IsBytes(info[1]), kPayloadMessage);
    Napi::Uint8Array payload = info[1].As<Napi::Uint8Array>();
    CRUDJT_REQUIRE(env, payload.ByteLength() >= 1 && payload.ByteLength() <= crudjt::kMaxPayloadBytes,
                   kPayloadMessage);
    int64_t expires_at = 0, reads_left = 0;
    CRUDJT_REQUIRE(env, ToInteger(info[2], 0, kMaxExpiresAtMs, &expires_at), kExpiresMessage);
    CRUDJT_REQUIRE(env, ToLimit(info[3], crudjt::kMaxReads, &reads_left), kReadsMessage);
    std::string record;
    crudjt::Status s = codec_->Seal(key, View(payload), expires_at, reads_left, &record);
    if (!s.ok()) return ThrowStatus(env, s);
    return Napi::Buffer<char>::Copy(env, record.data(), record.size());
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    const uint8_t* key;
    if (!GetKey(info, 0, &key)) return env.Undefined();
    CRUDJT_REQUIRE(env, IsBytes(info[1]), kRecordMessage);
    std::string payload;
    crudjt::RecordLimits limits;
    crudjt::Status s = codec_->OpenRecord(key, View(info[1].As<Napi::Uint8Array>()), &payload, &limits);
    if (s.IsNotFound()) return env.Null();
    if (!s.ok()) return ThrowStatus(env, s);
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, Napi::Buffer<char>::Copy(env, payload.data(), payload.size()));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(limits.expires_at_ms)));
    out.Set(2u, Napi::Number::New(env, static_cast<double>(limits.reads_left)));
    return out;
  }

  Napi::Value KeyId(const Napi::CallbackInfo& info) {
    if (!codec_) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(codec_->key_id()));
  }

  std::unique_ptr<crudjt::RecordCodec> codec_;
};

}  // namespace

// The class, exported by addon.cc as binding.RecordCodec.
Napi::Function RecordCodecClass(Napi::Env env) { return RecordCodecWrap::DefineClass(env); }

}  // namespace crudjt_node
