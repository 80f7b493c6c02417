// RecordCodecWrap: `new binding.RecordCodec(secretKey, previousKeys?)`, the
// engine's token hash and sealed-record format
// (cpp/include/crudjt/record_codec.h) for the Redis Cluster backend
// (lib/cluster/). Thin: unwrap, check, call, convert.
//
//   previousKeys: Buffer[] (raw secrets, newest first) whose records open
//   hashToken(token: string) -> Buffer(16) | null   null: can never be a token
//   tokenHandle(token: string) -> string(22) | null the same as base64url
//   hashSubject(subject: Buffer) -> Buffer(16)
//   newToken() -> [token: string, treeKey: Buffer(16)]
//   sealNew(payload, expiresAtMs, readsLeft) -> [token, handle, record]
//        newToken() and seal() in one call (the create path)
//   seal(key, payload, expiresAtMs, readsLeft) -> Buffer (the record)
//   open(key, record) -> [payload, expiresAtMs, readsLeft] | null
//        null: sealed under a secret the codec was not given; throws code
//        CRUDJT_CORRUPTION for a malformed or altered record
//   openInto(key, record, out: Buffer) -> payload length written to out,
//        or -1 (another secret's); the read path: no allocation
//   keyId: number (u32 written at record offset 16)
//   keyIds: Buffer (u32 LE each: the current key's, then previous ones')
//   wrapIndexKey() -> Buffer(72)   the index key under the current secret
//   adoptIndexKey(wrapped: Buffer) -> boolean  (false: none of its secrets)
//
// `key` is a tree key: a Buffer of 16 bytes or its 22-character handle
// (base64url), which the read path passes to skip a Buffer per call.
//
// Methods run on the calling JS thread (microseconds each); the codec is
// never shared between threads, as RecordCodec requires.
#include <napi.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crudjt/record_codec.h"
#include "crudjt/store.h"
#include "errors.h"
#include "macros.h"

namespace crudjt_node {

namespace {

constexpr char kSecretMessage[] = "secretKey must be a Buffer of 32, 48 or 64 bytes";
constexpr char kKeyMessage[] = "treeKey must be a Buffer of 16 bytes or its 22-character handle";
constexpr char kPreviousMessage[] = "previousKeys must be an array of Buffers of 32, 48 or 64 bytes";
constexpr char kOutMessage[] = "out must be a Buffer of at least 256 bytes";
constexpr char kWrappedMessage[] = "wrapped must be a Buffer of 72 bytes";
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

// Reads a JS string of at most `cap - 1` UTF-8 bytes into buf; *len is its
// length, or cap - 1 when it is longer (callers treat that as too long).
bool ReadShortString(Napi::Env env, const Napi::Value& v, char* buf, size_t cap, size_t* len) {
  return napi_get_value_string_utf8(env, v, buf, cap, len) == napi_ok;
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
            InstanceMethod<&RecordCodecWrap::TokenHandle>("tokenHandle"),
            InstanceMethod<&RecordCodecWrap::HashSubject>("hashSubject"),
            InstanceMethod<&RecordCodecWrap::NewToken>("newToken"),
            InstanceMethod<&RecordCodecWrap::Seal>("seal"),
            InstanceMethod<&RecordCodecWrap::SealNew>("sealNew"),
            InstanceMethod<&RecordCodecWrap::Open>("open"),
            InstanceMethod<&RecordCodecWrap::OpenInto>("openInto"),
            InstanceMethod<&RecordCodecWrap::WrapIndexKey>("wrapIndexKey"),
            InstanceMethod<&RecordCodecWrap::AdoptIndexKey>("adoptIndexKey"),
            InstanceAccessor<&RecordCodecWrap::KeyId>("keyId"),
            InstanceAccessor<&RecordCodecWrap::KeyIds>("keyIds"),
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
    std::vector<std::string_view> previous;
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      if (!info[1].IsArray()) {
        ThrowTypeError(env, kPreviousMessage);
        return;
      }
      Napi::Array list = info[1].As<Napi::Array>();
      if (list.Length() > crudjt::kMaxPreviousSecrets) {
        ThrowTypeError(env, kPreviousMessage);
        return;
      }
      for (uint32_t i = 0; i < list.Length(); ++i) {
        Napi::Value k = list.Get(i);
        if (!IsBytes(k)) {
          ThrowTypeError(env, kPreviousMessage);
          return;
        }
        previous.push_back(View(k.As<Napi::Uint8Array>()));
      }
    }
    crudjt::Status s = crudjt::RecordCodec::Create(View(info[0].As<Napi::Uint8Array>()), previous, &codec_);
    if (!s.ok()) {
      if (s.IsInvalidArgument()) {
        // The secret's own problems keep the fixed message; a previous
        // key's name it (the codec's message starts with its index).
        const bool about_previous = s.message().rfind("previous_secret_keys", 0) == 0;
        ThrowTypeError(env, about_previous ? s.message().c_str() : kSecretMessage);
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

  // A tree key argument: 16 bytes, or the handle (decoded into `scratch`).
  bool GetKey(const Napi::CallbackInfo& info, size_t i, uint8_t scratch[crudjt::kRecordKeyBytes],
              const uint8_t** key) {
    if (info[i].IsString()) {
      char handle[crudjt::kRecordHandleChars + 2];
      size_t len = 0;
      if (ReadShortString(info.Env(), info[i], handle, sizeof(handle), &len) &&
          crudjt::RecordCodec::DecodeHandle(std::string_view(handle, len), scratch)) {
        *key = scratch;
        return true;
      }
    } else if (IsBytes(info[i]) && info[i].As<Napi::Uint8Array>().ByteLength() == crudjt::kRecordKeyBytes) {
      *key = info[i].As<Napi::Uint8Array>().Data();
      return true;
    }
    ThrowTypeError(info.Env(), kKeyMessage);
    return false;
  }

  // info[first..first+2]: payload (1..kMaxPayloadBytes bytes), expiry in ms
  // (0 = none) and reads left (-1 = none), as sealNew() and seal() take
  // them. false with a TypeError pending otherwise.
  bool GetSealArgs(const Napi::CallbackInfo& info, size_t first, Napi::Uint8Array* payload,
                   int64_t* expires_at, int64_t* reads_left) {
    const char* message = nullptr;
    if (!IsBytes(info[first])) {
      message = kPayloadMessage;
    } else {
      *payload = info[first].As<Napi::Uint8Array>();
      if (payload->ByteLength() < 1 || payload->ByteLength() > crudjt::kMaxPayloadBytes) {
        message = kPayloadMessage;
      } else if (!ToInteger(info[first + 1], 0, kMaxExpiresAtMs, expires_at)) {
        message = kExpiresMessage;
      } else if (!ToLimit(info[first + 2], crudjt::kMaxReads, reads_left)) {
        message = kReadsMessage;
      }
    }
    if (message == nullptr) return true;
    ThrowTypeError(info.Env(), message);
    return false;
  }

  // The tree key of info[0] (a token string): 0 = hashed into key, 1 = can
  // never be a token, -1 = exception pending.
  int TokenKey(const Napi::CallbackInfo& info, uint8_t key[crudjt::kRecordKeyBytes]) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return -1;
    if (!info[0].IsString()) {
      ThrowTypeError(env, kTokenMessage);
      return -1;
    }
    // Tokens are ASCII: a string of more UTF-8 bytes than kMaxTokenChars is
    // too long for a token (and one with non-ASCII is no token at all).
    char token[crudjt::kMaxTokenChars + 2];
    size_t len = 0;
    if (!ReadShortString(env, info[0], token, sizeof(token), &len)) return -1;
    if (len == 0 || len > crudjt::kMaxTokenChars) return 1;
    return codec_->HashToken(std::string_view(token, len), key) ? 0 : 1;
  }

  Napi::Value HashToken(const Napi::CallbackInfo& info) {
    uint8_t key[crudjt::kRecordKeyBytes];
    const int r = TokenKey(info, key);
    if (r < 0) return info.Env().Undefined();
    if (r > 0) return info.Env().Null();
    return CopyKey(info.Env(), key);
  }

  Napi::Value TokenHandle(const Napi::CallbackInfo& info) {
    uint8_t key[crudjt::kRecordKeyBytes];
    const int r = TokenKey(info, key);
    if (r < 0) return info.Env().Undefined();
    if (r > 0) return info.Env().Null();
    char handle[crudjt::kRecordHandleChars];
    crudjt::RecordCodec::EncodeHandle(key, handle);
    return Napi::String::New(info.Env(), handle, sizeof(handle));
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

  Napi::Value SealNew(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    Napi::Uint8Array payload;
    int64_t expires_at = 0, reads_left = 0;
    if (!GetSealArgs(info, 0, &payload, &expires_at, &reads_left)) return env.Undefined();
    std::string token;
    uint8_t key[crudjt::kRecordKeyBytes];
    crudjt::Status s = codec_->NewToken(&token, key);
    if (!s.ok()) return ThrowStatus(env, s);
    std::string record;
    s = codec_->Seal(key, View(payload), expires_at, reads_left, &record);
    if (!s.ok()) return ThrowStatus(env, s);
    char handle[crudjt::kRecordHandleChars];
    crudjt::RecordCodec::EncodeHandle(key, handle);
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, Napi::String::New(env, token));
    out.Set(1u, Napi::String::New(env, handle, sizeof(handle)));
    out.Set(2u, Napi::Buffer<char>::Copy(env, record.data(), record.size()));
    return out;
  }

  Napi::Value Seal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    uint8_t scratch[crudjt::kRecordKeyBytes];
    const uint8_t* key;
    if (!GetKey(info, 0, scratch, &key)) return env.Undefined();
    Napi::Uint8Array payload;
    int64_t expires_at = 0, reads_left = 0;
    if (!GetSealArgs(info, 1, &payload, &expires_at, &reads_left)) return env.Undefined();
    std::string record;
    crudjt::Status s = codec_->Seal(key, View(payload), expires_at, reads_left, &record);
    if (!s.ok()) return ThrowStatus(env, s);
    return Napi::Buffer<char>::Copy(env, record.data(), record.size());
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    uint8_t scratch[crudjt::kRecordKeyBytes];
    const uint8_t* key;
    if (!GetKey(info, 0, scratch, &key)) return env.Undefined();
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

  Napi::Value OpenInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    uint8_t scratch[crudjt::kRecordKeyBytes];
    const uint8_t* key;
    if (!GetKey(info, 0, scratch, &key)) return env.Undefined();
    CRUDJT_REQUIRE(env, IsBytes(info[1]), kRecordMessage);
    CRUDJT_REQUIRE(env, IsBytes(info[2]) && info[2].As<Napi::Uint8Array>().ByteLength() >= crudjt::kMaxPayloadBytes,
                   kOutMessage);
    crudjt::RecordLimits limits;
    crudjt::Status s = codec_->OpenRecord(key, View(info[1].As<Napi::Uint8Array>()), &payload_, &limits);
    if (s.IsNotFound()) return Napi::Number::New(env, -1);
    if (!s.ok()) return ThrowStatus(env, s);
    // OpenRecord never gives more than kMaxPayloadBytes... unless a record
    // was sealed by something else: refuse rather than overflow `out`.
    if (payload_.size() > crudjt::kMaxPayloadBytes) {
      return ThrowStatus(env, crudjt::Status::Corruption("a record's payload is bigger than any payload"));
    }
    std::memcpy(info[2].As<Napi::Uint8Array>().Data(), payload_.data(), payload_.size());
    return Napi::Number::New(env, static_cast<double>(payload_.size()));
  }

  Napi::Value WrapIndexKey(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    uint8_t wrapped[crudjt::kWrappedIndexKeyBytes];
    crudjt::Status s = codec_->WrapIndexKey(wrapped);
    if (!s.ok()) return ThrowStatus(env, s);
    return Napi::Buffer<char>::Copy(env, reinterpret_cast<const char*>(wrapped), sizeof(wrapped));
  }

  Napi::Value AdoptIndexKey(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    CRUDJT_REQUIRE(env, IsBytes(info[0]) && info[0].As<Napi::Uint8Array>().ByteLength() == crudjt::kWrappedIndexKeyBytes,
                   kWrappedMessage);
    crudjt::Status s = codec_->AdoptIndexKey(info[0].As<Napi::Uint8Array>().Data());
    if (s.IsCorruption()) return Napi::Boolean::New(env, false);
    if (!s.ok()) return ThrowStatus(env, s);
    return Napi::Boolean::New(env, true);
  }

  Napi::Value KeyIds(const Napi::CallbackInfo& info) {
    if (!codec_) return info.Env().Undefined();
    std::vector<uint32_t> ids = codec_->key_ids();
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), 4 * ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      for (size_t b = 0; b < 4; ++b) out.Data()[4 * i + b] = static_cast<uint8_t>(ids[i] >> (8 * b));
    }
    return out;
  }

  Napi::Value KeyId(const Napi::CallbackInfo& info) {
    if (!codec_) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(codec_->key_id()));
  }

  std::unique_ptr<crudjt::RecordCodec> codec_;
  std::string payload_;  // openInto's plaintext (its capacity is reused)
};

}  // namespace

// The class, exported by addon.cc as binding.RecordCodec.
Napi::Function RecordCodecClass(Napi::Env env) { return RecordCodecWrap::DefineClass(env); }

}  // namespace crudjt_node
