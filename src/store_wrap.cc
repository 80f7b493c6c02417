#include "store_wrap.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "errors.h"
#include "macros.h"
#include "promise_worker.h"

namespace crudjt_node {

namespace {

constexpr char kClosedMessage[] = "the store is closed";
constexpr char kTokenMessage[] = "token must be a non-empty string";
constexpr char kPayloadMessage[] = "payload must be a Buffer of 1 to 256 bytes";
constexpr char kTtlMessage[] = "ttlMs must be -1 (no limit) or an integer in 1..MAX_TTL_MS";
constexpr char kReadsMessage[] = "maxReads must be -1 (no limit) or an integer in 1..MAX_READS";
constexpr char kSubjectMessage[] = "subject must be a Buffer of 1 to 128 bytes";
constexpr char kOptSubjectMessage[] = "subject must be a Buffer of 1 to 128 bytes, null or undefined";
constexpr char kHandleMessage[] = "handle must be a string";
constexpr char kScratchMessage[] = "scratch must be a Uint8Array of at least 16 bytes";
// readInto's scratch: ttlLeftMs and readsLeft as two float64 (host byte
// order), then the payload.
constexpr size_t kReadHeaderBytes = 16;
constexpr char kOpsMessage[] = "ops must be an array of at most 4096 op tuples";
// A token no store can hold (not base64url): stands in, inside a batch,
// for a string too long to be a token, so it is "not found" without
// converting it.
constexpr char kNeverFoundToken[] = "!";

// Overwrites a copy of the secret key before its memory is released.
void Wipe(std::string* s) {
  volatile char* p = s->empty() ? nullptr : &(*s)[0];
  for (size_t i = 0; i < s->size(); ++i) p[i] = 0;
  s->clear();
}

enum class TokenArg { kOk, kNeverFound, kInvalid };

// Room for the UTF-8 of any string of at most kMaxTokenChars UTF-16 units
// (3 bytes each at most; a surrogate pair is 4 bytes for 2 units).
constexpr size_t kTokenBufBytes = 3 * crudjt::kMaxTokenChars + 1;

// Reads a token argument into `buf` (kTokenBufBytes) with ONE conversion and
// no allocation; *token views `buf`. kNeverFound: a string too long to be a
// token of any crudjt store (read -> null, update/remove -> false, no engine
// call). kInvalid: TypeError pending.
TokenArg GetTokenView(Napi::Env env, napi_value value, char* buf, std::string_view* token) {
  size_t len = 0;
  // Fails with napi_string_expected (nothing thrown) for a non-string.
  if (napi_get_value_string_utf8(env, value, buf, kTokenBufBytes, &len) != napi_ok || len == 0) {
    if (!env.IsExceptionPending()) ThrowTypeError(env, kTokenMessage);
    return TokenArg::kInvalid;
  }
  // A string of at most kMaxTokenChars bytes has at most as many UTF-16
  // units; count the units only for longer ones.
  if (len > crudjt::kMaxTokenChars) {
    size_t units = 0;
    if (napi_get_value_string_utf16(env, value, nullptr, 0, &units) != napi_ok) {
      if (!env.IsExceptionPending()) ThrowTypeError(env, kTokenMessage);
      return TokenArg::kInvalid;
    }
    // At most kMaxTokenChars units always fit in buf whole.
    if (units > crudjt::kMaxTokenChars) return TokenArg::kNeverFound;
  }
  *token = std::string_view(buf, len);
  return TokenArg::kOk;
}

// GetTokenView() into an owned string (pool workers, batches).
TokenArg GetToken(Napi::Env env, const Napi::Value& value, std::string* token) {
  char buf[kTokenBufBytes];
  std::string_view view;
  TokenArg t = GetTokenView(env, value, buf, &view);
  if (t == TokenArg::kOk) token->assign(view.data(), view.size());
  return t;
}

struct PayloadArgs {
  std::string subject;  // create only; empty = none
  std::string payload;  // the copy (pool workers)
  // The payload: a view of the caller's bytes, or of `payload` when copied.
  std::string_view payload_view;
  int64_t ttl_ms = crudjt::kNoLimit;
  int64_t max_reads = crudjt::kNoLimit;
};

// A Uint8Array argument's bytes with one N-API call; false when `value` is
// no Uint8Array (a Buffer is one).
bool GetBytes(Napi::Env env, napi_value value, uint8_t** data, size_t* length) {
  napi_typedarray_type type;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  *data = static_cast<uint8_t*>(raw);
  return true;
}

// ToLimit() (macros.h) with one N-API call: napi_get_value_double fails
// for anything but a number.
bool GetLimit(Napi::Env env, napi_value value, int64_t max, int64_t* out) {
  double d = 0;
  if (napi_get_value_double(env, value, &d) != napi_ok) return false;
  // NaN fails every comparison; the range check comes before the cast.
  if (!(d >= -1.0 && d <= static_cast<double>(max)) || d == 0.0 || std::trunc(d) != d) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

// Reads (payload, ttlMs, maxReads) from info[first..first+2]. With `copy`
// (pool workers: the caller may reuse its Buffer meanwhile) the payload is
// copied into out->payload; without (synchronous calls: no JavaScript runs
// before the engine returns) out->payload_view points into the caller's
// bytes. False: TypeError pending.
bool GetPayloadArgs(const Napi::CallbackInfo& info, size_t first, PayloadArgs* out, bool copy = true) {
  Napi::Env env = info.Env();
  uint8_t* data = nullptr;
  size_t length = 0;
  if (!GetBytes(env, info[first], &data, &length) || length == 0 ||
      length > crudjt::kMaxPayloadBytes) {
    ThrowTypeError(env, kPayloadMessage);
    return false;
  }
  if (!GetLimit(env, info[first + 1], crudjt::kMaxTtlMs, &out->ttl_ms)) {
    ThrowTypeError(env, kTtlMessage);
    return false;
  }
  if (!GetLimit(env, info[first + 2], crudjt::kMaxReads, &out->max_reads)) {
    ThrowTypeError(env, kReadsMessage);
    return false;
  }
  if (copy) {
    out->payload.assign(reinterpret_cast<const char*>(data), length);
    out->payload_view = out->payload;
  } else {
    out->payload_view = std::string_view(reinterpret_cast<const char*>(data), length);
  }
  return true;
}

// Tokens are base64url (ASCII): Latin-1 is the cheapest way to make them.
Napi::Value TokenToJs(Napi::Env env, const std::string& token) {
  napi_value out = nullptr;
  napi_create_string_latin1(env, token.data(), token.size(), &out);
  return Napi::Value(env, out);
}

// [payload, ttlLeftMs, readsLeft]
Napi::Value ReadResultToJs(Napi::Env env, const crudjt::ReadResult& result) {
  Napi::Array array = Napi::Array::New(env, 3);
  array.Set(0u, Napi::Buffer<char>::Copy(env, result.payload.data(), result.payload.size()));
  array.Set(1u, Napi::Number::New(env, static_cast<double>(result.ttl_left_ms)));
  array.Set(2u, Napi::Number::New(env, static_cast<double>(result.reads_left)));
  return array;
}

// Reads a subject: a Uint8Array of 1..kMaxSubjectBytes bytes; with
// `optional`, undefined/null mean none. False: TypeError pending.
bool GetSubject(Napi::Env env, const Napi::Value& value, bool optional, std::string* out) {
  out->clear();
  if (optional) {
    napi_valuetype type;
    if (napi_typeof(env, value, &type) == napi_ok && (type == napi_undefined || type == napi_null)) return true;
  }
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(env, optional ? kOptSubjectMessage : kSubjectMessage);
    return false;
  }
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  if (bytes.ByteLength() == 0 || bytes.ByteLength() > crudjt::kMaxSubjectBytes) {
    ThrowTypeError(env, optional ? kOptSubjectMessage : kSubjectMessage);
    return false;
  }
  out->assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  return true;
}

// A handle argument: a string (else TypeError). *never: too long to be a
// handle (no conversion). False: TypeError pending.
bool GetHandle(Napi::Env env, const Napi::Value& value, std::string* handle, bool* never) {
  *never = false;
  if (!value.IsString()) {
    ThrowTypeError(env, kHandleMessage);
    return false;
  }
  size_t units = 0;
  if (napi_get_value_string_utf16(env, value, nullptr, 0, &units) != napi_ok) {
    if (!env.IsExceptionPending()) ThrowTypeError(env, kHandleMessage);
    return false;
  }
  if (units != crudjt::kHandleChars) {
    *never = true;
    return true;
  }
  *handle = value.As<Napi::String>().Utf8Value();
  return true;
}

Napi::Value SessionsToJs(Napi::Env env, const std::vector<crudjt::SessionInfo>& sessions) {
  Napi::Array out = Napi::Array::New(env, sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    Napi::Array row = Napi::Array::New(env, 3);
    row.Set(0u, Napi::String::New(env, sessions[i].handle));
    row.Set(1u, Napi::Number::New(env, static_cast<double>(sessions[i].ttl_left_ms)));
    row.Set(2u, Napi::Number::New(env, static_cast<double>(sessions[i].reads_left)));
    out.Set(uint32_t(i), row);
  }
  return out;
}

// The ops of one applyBatch call, owned (the views in `ops` point into
// `owned`, which never reallocates after parsing).
struct ParsedBatch {
  struct Owned {
    std::string token, payload, subject;
  };
  std::vector<Owned> owned;
  std::vector<crudjt::BatchOp> ops;
};

// Parses applyBatch's argument. False: TypeError pending.
bool ParseBatch(Napi::Env env, const Napi::Value& value, ParsedBatch* out) {
  if (!value.IsArray()) {
    ThrowTypeError(env, kOpsMessage);
    return false;
  }
  Napi::Array arr = value.As<Napi::Array>();
  const uint32_t n = arr.Length();
  if (n > crudjt::kMaxBatchOps) {
    ThrowTypeError(env, kOpsMessage);
    return false;
  }
  out->owned.resize(n);
  out->ops.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value item = arr.Get(i);
    if (env.IsExceptionPending()) return false;
    std::string where = "ops[" + std::to_string(i) + "]";
    if (!item.IsArray()) {
      ThrowTypeError(env, (where + " must be an op tuple [type, ...]").c_str());
      return false;
    }
    Napi::Array t = item.As<Napi::Array>();
    const uint32_t len = t.Length();
    int64_t type = -1;
    if (len == 0 || !ToInteger(t.Get(0u), 0, 5, &type)) {
      ThrowTypeError(env, (where + "[0] must be an op type 0..5").c_str());
      return false;
    }
    // create, read, update, remove, touch, put
    static const uint32_t kMinLen[] = {4, 2, 5, 2, 3, 5};
    static const uint32_t kMaxLen[] = {5, 2, 5, 2, 3, 6};
    if (len < kMinLen[type] || len > kMaxLen[type]) {
      ThrowTypeError(env, (where + " has the wrong number of elements for its type").c_str());
      return false;
    }
    ParsedBatch::Owned& o = out->owned[i];
    crudjt::BatchOp& op = out->ops[i];
    op.type = static_cast<crudjt::BatchOpType>(type);
    size_t next = 1;
    if (type != 0) {
      switch (GetToken(env, t.Get(1u), &o.token)) {
        case TokenArg::kInvalid: return false;
        case TokenArg::kNeverFound: o.token = kNeverFoundToken; break;
        case TokenArg::kOk: break;
      }
      next = 2;
    }
    if (type == 0 || type == 2 || type == 5) {
      Napi::Value payload = t.Get(uint32_t(next));
      if (!payload.IsTypedArray() ||
          payload.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
          payload.As<Napi::Uint8Array>().ByteLength() == 0 ||
          payload.As<Napi::Uint8Array>().ByteLength() > crudjt::kMaxPayloadBytes) {
        ThrowTypeError(env, (where + ": " + kPayloadMessage).c_str());
        return false;
      }
      Napi::Uint8Array bytes = payload.As<Napi::Uint8Array>();
      o.payload.assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
      if (!ToLimit(t.Get(uint32_t(next + 1)), crudjt::kMaxTtlMs, &op.ttl_ms)) {
        ThrowTypeError(env, (where + ": " + kTtlMessage).c_str());
        return false;
      }
      if (!ToLimit(t.Get(uint32_t(next + 2)), crudjt::kMaxReads, &op.max_reads)) {
        ThrowTypeError(env, (where + ": " + kReadsMessage).c_str());
        return false;
      }
      if (type == 0 && len == 5 && !GetSubject(env, t.Get(4u), true, &o.subject)) return false;
      if (type == 5 && len == 6 && !GetSubject(env, t.Get(5u), true, &o.subject)) return false;
    } else if (type == 4) {
      if (!ToLimit(t.Get(2u), crudjt::kMaxTtlMs, &op.ttl_ms)) {
        ThrowTypeError(env, (where + ": " + kTtlMessage).c_str());
        return false;
      }
    }
    op.token = o.token;
    op.payload = o.payload;
    op.subject = o.subject;
  }
  return true;
}

Napi::Value BatchResultsToJs(Napi::Env env, const std::vector<crudjt::BatchOp>& ops,
                             const std::vector<crudjt::BatchResult>& results) {
  Napi::Array out = Napi::Array::New(env, results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    const crudjt::BatchResult& r = results[i];
    Napi::Value v;
    if (!r.status.ok() && !(r.status.IsNotFound() && ops[i].type == crudjt::BatchOpType::kRead)) {
      Napi::Object err = Napi::Object::New(env);
      err.Set("code", Napi::String::New(env, r.status.CodeName()));
      err.Set("message", Napi::String::New(env, r.status.message().empty() ? r.status.ToString()
                                                                           : r.status.message()));
      v = err;
    } else {
      switch (ops[i].type) {
        case crudjt::BatchOpType::kCreate: v = Napi::String::New(env, r.token); break;
        case crudjt::BatchOpType::kRead:
          v = r.status.ok() ? ReadResultToJs(env, r.read) : env.Null();
          break;
        default: v = Napi::Boolean::New(env, r.applied); break;
      }
    }
    out.Set(uint32_t(i), v);
  }
  return out;
}

Napi::Promise Resolved(Napi::Env env, Napi::Value value) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  deferred.Resolve(value);
  return deferred.Promise();
}

// ---- pool workers ----------------------------------------------------------

using StorePtr = std::shared_ptr<crudjt::Store>;

class CreateWorker final : public PromiseWorker {
 public:
  CreateWorker(Napi::Env env, StorePtr store, PayloadArgs args)
      : PromiseWorker(env, "crudjt:create"), store_(std::move(store)), args_(std::move(args)) {}

 private:
  crudjt::Status Run() override {
    return store_->Create(args_.payload, args_.ttl_ms, args_.max_reads, &token_, args_.subject);
  }
  Napi::Value Resolve(Napi::Env env) override { return Napi::String::New(env, token_); }

  StorePtr store_;
  PayloadArgs args_;
  std::string token_;
};

class ReadWorker final : public PromiseWorker {
 public:
  ReadWorker(Napi::Env env, StorePtr store, std::string token)
      : PromiseWorker(env, "crudjt:read"), store_(std::move(store)), token_(std::move(token)) {}

 private:
  crudjt::Status Run() override {
    crudjt::Status s = store_->Read(token_, &result_);
    found_ = s.ok();
    return s.IsNotFound() ? crudjt::Status::OK() : s;
  }
  Napi::Value Resolve(Napi::Env env) override {
    return found_ ? ReadResultToJs(env, result_) : env.Null();
  }

  StorePtr store_;
  std::string token_;
  crudjt::ReadResult result_;
  bool found_ = false;
};

class UpdateWorker final : public PromiseWorker {
 public:
  UpdateWorker(Napi::Env env, StorePtr store, std::string token, PayloadArgs args)
      : PromiseWorker(env, "crudjt:update"),
        store_(std::move(store)),
        token_(std::move(token)),
        args_(std::move(args)) {}

 private:
  crudjt::Status Run() override {
    return store_->Update(token_, args_.payload, args_.ttl_ms, args_.max_reads, &updated_);
  }
  Napi::Value Resolve(Napi::Env env) override { return Napi::Boolean::New(env, updated_); }

  StorePtr store_;
  std::string token_;
  PayloadArgs args_;
  bool updated_ = false;
};

class RemoveWorker final : public PromiseWorker {
 public:
  RemoveWorker(Napi::Env env, StorePtr store, std::string token)
      : PromiseWorker(env, "crudjt:remove"), store_(std::move(store)), token_(std::move(token)) {}

 private:
  crudjt::Status Run() override { return store_->Remove(token_, &removed_); }
  Napi::Value Resolve(Napi::Env env) override { return Napi::Boolean::New(env, removed_); }

  StorePtr store_;
  std::string token_;
  bool removed_ = false;
};

class SweepWorker final : public PromiseWorker {
 public:
  SweepWorker(Napi::Env env, StorePtr store)
      : PromiseWorker(env, "crudjt:sweep"), store_(std::move(store)) {}

 private:
  crudjt::Status Run() override { return store_->Sweep(&removed_); }
  Napi::Value Resolve(Napi::Env env) override {
    return Napi::Number::New(env, static_cast<double>(removed_));
  }

  StorePtr store_;
  uint64_t removed_ = 0;
};

// flush / checkpoint / close: a Status and nothing else.
class CallWorker final : public PromiseWorker {
 public:
  CallWorker(Napi::Env env, const char* name, StorePtr store,
             crudjt::Status (crudjt::Store::*method)())
      : PromiseWorker(env, name), store_(std::move(store)), method_(method) {}

 private:
  crudjt::Status Run() override { return ((*store_).*method_)(); }

  StorePtr store_;
  crudjt::Status (crudjt::Store::*method_)();
};

class TouchWorker final : public PromiseWorker {
 public:
  TouchWorker(Napi::Env env, StorePtr store, std::string token, int64_t ttl_ms)
      : PromiseWorker(env, "crudjt:touch"), store_(std::move(store)), token_(std::move(token)), ttl_ms_(ttl_ms) {}

 private:
  crudjt::Status Run() override { return store_->Touch(token_, ttl_ms_, &touched_); }
  Napi::Value Resolve(Napi::Env env) override { return Napi::Boolean::New(env, touched_); }

  StorePtr store_;
  std::string token_;
  int64_t ttl_ms_;
  bool touched_ = false;
};

class RevokeSubjectWorker final : public PromiseWorker {
 public:
  RevokeSubjectWorker(Napi::Env env, StorePtr store, std::string subject)
      : PromiseWorker(env, "crudjt:revokeSubject"), store_(std::move(store)), subject_(std::move(subject)) {}

 private:
  crudjt::Status Run() override { return store_->RevokeSubject(subject_, &removed_); }
  Napi::Value Resolve(Napi::Env env) override {
    return Napi::Number::New(env, static_cast<double>(removed_));
  }

  StorePtr store_;
  std::string subject_;
  uint64_t removed_ = 0;
};

class RevokeHandleWorker final : public PromiseWorker {
 public:
  RevokeHandleWorker(Napi::Env env, StorePtr store, std::string handle)
      : PromiseWorker(env, "crudjt:revokeHandle"), store_(std::move(store)), handle_(std::move(handle)) {}

 private:
  crudjt::Status Run() override { return store_->RevokeHandle(handle_, &removed_); }
  Napi::Value Resolve(Napi::Env env) override { return Napi::Boolean::New(env, removed_); }

  StorePtr store_;
  std::string handle_;
  bool removed_ = false;
};

class BatchWorker final : public PromiseWorker {
 public:
  BatchWorker(Napi::Env env, StorePtr store, std::unique_ptr<ParsedBatch> batch)
      : PromiseWorker(env, "crudjt:applyBatch"), store_(std::move(store)), batch_(std::move(batch)) {}

 private:
  crudjt::Status Run() override { return store_->ApplyBatch(batch_->ops, &results_); }
  Napi::Value Resolve(Napi::Env env) override { return BatchResultsToJs(env, batch_->ops, results_); }

  StorePtr store_;
  std::unique_ptr<ParsedBatch> batch_;
  std::vector<crudjt::BatchResult> results_;
};

class ResealWorker final : public PromiseWorker {
 public:
  ResealWorker(Napi::Env env, StorePtr store)
      : PromiseWorker(env, "crudjt:resealPrevious"), store_(std::move(store)) {}

 private:
  crudjt::Status Run() override { return store_->ResealPrevious(&count_); }
  Napi::Value Resolve(Napi::Env env) override {
    return Napi::Number::New(env, static_cast<double>(count_));
  }

  StorePtr store_;
  uint64_t count_ = 0;
};

class OpenWorker final : public PromiseWorker {
 public:
  OpenWorker(Napi::Env env, std::string dir, std::string key, crudjt::Options options)
      : PromiseWorker(env, "crudjt:open"),
        dir_(std::move(dir)),
        key_(std::move(key)),
        options_(std::move(options)) {}
  ~OpenWorker() override { WipeAll(); }

 private:
  void WipeAll() {
    Wipe(&key_);
    for (std::string& k : options_.previous_secret_keys) Wipe(&k);
    options_.previous_secret_keys.clear();
  }
  crudjt::Status Run() override {
    crudjt::Status s = crudjt::Store::Open(dir_, key_, options_, &store_, &info_);
    WipeAll();
    return s;
  }
  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("store", StoreWrap::NewInstance(env, std::move(store_)));
    Napi::Object info = Napi::Object::New(env);
    info.Set("keyChanged", Napi::Boolean::New(env, info_.key_changed));
    info.Set("recoveredRecords", Napi::Number::New(env, static_cast<double>(info_.recovered_records)));
    info.Set("droppedTailBytes", Napi::Number::New(env, static_cast<double>(info_.dropped_tail_bytes)));
    result.Set("info", info);
    return result;
  }

  std::string dir_;
  std::string key_;
  crudjt::Options options_;
  std::unique_ptr<crudjt::Store> store_;
  crudjt::OpenInfo info_;
};

// ---- open() options ----------------------------------------------------------

// Gets obj[name]; false when a getter threw (exception pending).
bool GetOption(const Napi::Object& obj, const char* name, Napi::Value* out) {
  *out = obj.Get(name);
  return !obj.Env().IsExceptionPending();
}

bool ParseOptions(Napi::Env env, const Napi::Value& value, crudjt::Options* options) {
  if (value.IsUndefined() || value.IsNull()) return true;
  if (!value.IsObject()) {
    ThrowTypeError(env, "options must be an object");
    return false;
  }
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Value v;
  int64_t n = 0;

  if (!GetOption(obj, "durability", &v)) return false;
  if (!v.IsUndefined()) {
    std::string d = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
    if (d == "background") {
      options->durability = crudjt::Durability::kBackground;
    } else if (d == "sync") {
      options->durability = crudjt::Durability::kSync;
    } else {
      ThrowTypeError(env, "options.durability must be 'background' or 'sync'");
      return false;
    }
  }
  if (!GetOption(obj, "flushIntervalMs", &v)) return false;
  if (!v.IsUndefined()) {
    if (!ToInteger(v, 1, UINT32_MAX, &n)) {
      ThrowTypeError(env, "options.flushIntervalMs must be an integer in 1..4294967295");
      return false;
    }
    options->flush_interval_ms = static_cast<uint32_t>(n);
  }
  if (!GetOption(obj, "checkpointLogBytes", &v)) return false;
  if (!v.IsUndefined()) {
    if (!ToInteger(v, 1, crudjt::kMaxSafeInteger, &n)) {
      ThrowTypeError(env, "options.checkpointLogBytes must be a positive safe integer");
      return false;
    }
    options->checkpoint_log_bytes = static_cast<uint64_t>(n);
  }
  if (!GetOption(obj, "pageCacheBytes", &v)) return false;
  if (!v.IsUndefined()) {
    const int64_t max = SIZE_MAX < static_cast<uint64_t>(crudjt::kMaxSafeInteger)
                            ? static_cast<int64_t>(SIZE_MAX)
                            : crudjt::kMaxSafeInteger;
    if (!ToInteger(v, 1, max, &n)) {
      ThrowTypeError(env, "options.pageCacheBytes must be a positive safe integer");
      return false;
    }
    options->page_cache_bytes = static_cast<size_t>(n);
  }
  if (!GetOption(obj, "sweepOnOpen", &v)) return false;
  if (!v.IsUndefined()) {
    if (!v.IsBoolean()) {
      ThrowTypeError(env, "options.sweepOnOpen must be a boolean");
      return false;
    }
    options->sweep_on_open = v.As<Napi::Boolean>().Value();
  }
  if (!GetOption(obj, "sweepIntervalMs", &v)) return false;
  if (!v.IsUndefined()) {
    if (!ToInteger(v, 0, crudjt::kMaxSafeInteger, &n)) {
      ThrowTypeError(env, "options.sweepIntervalMs must be a non-negative safe integer");
      return false;
    }
    options->sweep_interval_ms = static_cast<uint64_t>(n);
  }
  if (!GetOption(obj, "previousSecretKeys", &v)) return false;
  if (!v.IsUndefined()) {
    constexpr char kMsg[] = "options.previousSecretKeys must be an array of at most 16 Buffers of 32, 48 or 64 bytes";
    if (!v.IsArray() || v.As<Napi::Array>().Length() > 16) {
      ThrowTypeError(env, kMsg);
      return false;
    }
    Napi::Array keys = v.As<Napi::Array>();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      Napi::Value k = keys.Get(i);
      if (env.IsExceptionPending()) return false;
      bool size_ok = false;
      if (k.IsTypedArray() && k.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
        for (size_t size : crudjt::kSecretKeySizes) {
          size_ok = size_ok || k.As<Napi::Uint8Array>().ByteLength() == size;
        }
      }
      if (!size_ok) {
        ThrowTypeError(env, kMsg);
        return false;
      }
      Napi::Uint8Array bytes = k.As<Napi::Uint8Array>();
      options->previous_secret_keys.emplace_back(reinterpret_cast<const char*>(bytes.Data()),
                                                 bytes.ByteLength());
    }
  }
  return true;
}

// Marks constructor calls that come from NewInstance; user code cannot
// create a StoreWrap (it has no way to reach this address).
char kConstructToken;

}  // namespace

// ---- OpenStores ----------------------------------------------------------------

void OpenStores::CloseAll() {
  // CloseNow() unregisters each wrap; iterate over a copy.
  std::unordered_set<StoreWrap*> wraps;
  wraps.swap(wraps_);
  for (StoreWrap* wrap : wraps) wrap->CloseNow();
}

// ---- StoreWrap -------------------------------------------------------------------

Napi::Function StoreWrap::DefineClass(Napi::Env env) {
  return ObjectWrap<StoreWrap>::DefineClass(
      env, "NativeStore",
      {
          InstanceMethod<&StoreWrap::Create>("create"),
          InstanceMethod<&StoreWrap::Read>("read"),
          InstanceMethod<&StoreWrap::ReadInto>("readInto"),
          InstanceMethod<&StoreWrap::Update>("update"),
          InstanceMethod<&StoreWrap::Touch>("touch"),
          InstanceMethod<&StoreWrap::TouchAsync>("touchAsync"),
          InstanceMethod<&StoreWrap::RevokeSubject>("revokeSubject"),
          InstanceMethod<&StoreWrap::ListSubject>("listSubject"),
          InstanceMethod<&StoreWrap::RevokeHandle>("revokeHandle"),
          InstanceMethod<&StoreWrap::RevokeHandleAsync>("revokeHandleAsync"),
          InstanceMethod<&StoreWrap::ApplyBatch>("applyBatch"),
          InstanceMethod<&StoreWrap::ApplyBatchAsync>("applyBatchAsync"),
          InstanceMethod<&StoreWrap::ResealPrevious>("resealPrevious"),
          InstanceMethod<&StoreWrap::ExportRecords>("exportRecords"),
          InstanceMethod<&StoreWrap::Remove>("remove"),
          InstanceMethod<&StoreWrap::CreateAsync>("createAsync"),
          InstanceMethod<&StoreWrap::ReadAsync>("readAsync"),
          InstanceMethod<&StoreWrap::UpdateAsync>("updateAsync"),
          InstanceMethod<&StoreWrap::RemoveAsync>("removeAsync"),
          InstanceMethod<&StoreWrap::Sweep>("sweep"),
          InstanceMethod<&StoreWrap::Flush>("flush"),
          InstanceMethod<&StoreWrap::Checkpoint>("checkpoint"),
          InstanceMethod<&StoreWrap::Stats>("stats"),
          InstanceMethod<&StoreWrap::Close>("close"),
      });
}

StoreWrap::StoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StoreWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal() ||
      info[0].As<Napi::External<char>>().Data() != &kConstructToken) {
    ThrowTypeError(info.Env(), "NativeStore cannot be constructed directly; use open()");
    return;
  }
  registry_ = info.Env().GetInstanceData<AddonData>()->open_stores;
}

StoreWrap::~StoreWrap() {
  // Not closed by JS: the engine's destructor closes (dropping errors) once
  // the last in-flight worker lets go of it.
  if (registry_) registry_->Remove(this);
}

Napi::Object StoreWrap::NewInstance(Napi::Env env, std::unique_ptr<crudjt::Store> store) {
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object object =
      data->store_constructor.New({Napi::External<char>::New(env, &kConstructToken)});
  StoreWrap* wrap = Unwrap(object);
  wrap->store_ = std::move(store);
  wrap->registry_->Add(wrap);
  return object;
}

void StoreWrap::CloseNow() {
  if (registry_) registry_->Remove(this);
  StorePtr store = std::move(store_);
  if (store) store->Close();
  closing_.reset();
}

StorePtr StoreWrap::OpenStoreOrThrow(Napi::Env env) const {
  if (!store_) ThrowStatus(env, crudjt::Status::Closed(kClosedMessage));
  return store_;
}

crudjt::Store* StoreWrap::OpenStoreRawOrThrow(Napi::Env env) const {
  if (!store_) ThrowStatus(env, crudjt::Status::Closed(kClosedMessage));
  return store_.get();
}

Napi::Value StoreWrap::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  crudjt::Store* store = OpenStoreRawOrThrow(env);
  if (!store) return env.Undefined();
  PayloadArgs args;
  if (!GetPayloadArgs(info, 0, &args, /*copy=*/false)) return env.Undefined();
  if (!GetSubject(env, info[3], true, &args.subject)) return env.Undefined();
  std::string token;
  crudjt::Status s = store->Create(args.payload_view, args.ttl_ms, args.max_reads, &token, args.subject);
  if (!s.ok()) return ThrowStatus(env, s);
  return TokenToJs(env, token);
}

Napi::Value StoreWrap::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  crudjt::Store* store = OpenStoreRawOrThrow(env);
  if (!store) return env.Undefined();
  char buf[kTokenBufBytes];
  std::string_view token;
  switch (GetTokenView(env, info[0], buf, &token)) {
    case TokenArg::kInvalid: return env.Undefined();
    case TokenArg::kNeverFound: return env.Null();
    case TokenArg::kOk: break;
  }
  crudjt::ReadResult result;
  crudjt::Status s = store->Read(token, &result);
  if (s.IsNotFound()) return env.Null();
  if (!s.ok()) return ThrowStatus(env, s);
  return ReadResultToJs(env, result);
}

Napi::Value StoreWrap::ReadInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  crudjt::Store* store = OpenStoreRawOrThrow(env);
  if (!store) return env.Undefined();
  uint8_t* scratch = nullptr;
  size_t scratch_bytes = 0;
  if (!GetBytes(env, info[1], &scratch, &scratch_bytes) || scratch_bytes < kReadHeaderBytes) {
    return ThrowTypeError(env, kScratchMessage);
  }
  char buf[kTokenBufBytes];
  std::string_view token;
  switch (GetTokenView(env, info[0], buf, &token)) {
    case TokenArg::kInvalid: return env.Undefined();
    case TokenArg::kNeverFound: return Napi::Number::New(env, -1);
    case TokenArg::kOk: break;
  }
  crudjt::ReadResult result;
  crudjt::Status s = store->Read(token, &result);
  if (s.IsNotFound()) return Napi::Number::New(env, -1);
  if (!s.ok()) return ThrowStatus(env, s);
  // The engine ran no JavaScript, so `scratch` is still the caller's live
  // memory of at least scratch_bytes.
  const double meta[2] = {static_cast<double>(result.ttl_left_ms),
                          static_cast<double>(result.reads_left)};
  std::memcpy(scratch, meta, sizeof meta);
  const size_t n = result.payload.size();
  if (n > scratch_bytes - kReadHeaderBytes) {
    return Napi::Buffer<char>::Copy(env, result.payload.data(), n);
  }
  std::memcpy(scratch + kReadHeaderBytes, result.payload.data(), n);
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value StoreWrap::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  crudjt::Store* store = OpenStoreRawOrThrow(env);
  if (!store) return env.Undefined();
  char buf[kTokenBufBytes];
  std::string_view token;
  TokenArg t = GetTokenView(env, info[0], buf, &token);
  if (t == TokenArg::kInvalid) return env.Undefined();
  PayloadArgs args;
  if (!GetPayloadArgs(info, 1, &args, /*copy=*/false)) return env.Undefined();
  if (t == TokenArg::kNeverFound) return Napi::Boolean::New(env, false);
  bool updated = false;
  crudjt::Status s = store->Update(token, args.payload_view, args.ttl_ms, args.max_reads, &updated);
  if (!s.ok()) return ThrowStatus(env, s);
  return Napi::Boolean::New(env, updated);
}

Napi::Value StoreWrap::Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  crudjt::Store* store = OpenStoreRawOrThrow(env);
  if (!store) return env.Undefined();
  char buf[kTokenBufBytes];
  std::string_view token;
  switch (GetTokenView(env, info[0], buf, &token)) {
    case TokenArg::kInvalid: return env.Undefined();
    case TokenArg::kNeverFound: return Napi::Boolean::New(env, false);
    case TokenArg::kOk: break;
  }
  bool removed = false;
  crudjt::Status s = store->Remove(token, &removed);
  if (!s.ok()) return ThrowStatus(env, s);
  return Napi::Boolean::New(env, removed);
}

Napi::Value StoreWrap::CreateAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  PayloadArgs args;
  if (!GetPayloadArgs(info, 0, &args)) return env.Undefined();
  if (!GetSubject(env, info[3], true, &args.subject)) return env.Undefined();
  return (new CreateWorker(env, std::move(store), std::move(args)))->QueueAndGetPromise();
}

Napi::Value StoreWrap::ReadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string token;
  switch (GetToken(env, info[0], &token)) {
    case TokenArg::kInvalid: return env.Undefined();
    case TokenArg::kNeverFound: return Resolved(env, env.Null());
    case TokenArg::kOk: break;
  }
  return (new ReadWorker(env, std::move(store), std::move(token)))->QueueAndGetPromise();
}

Napi::Value StoreWrap::UpdateAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string token;
  TokenArg t = GetToken(env, info[0], &token);
  if (t == TokenArg::kInvalid) return env.Undefined();
  PayloadArgs args;
  if (!GetPayloadArgs(info, 1, &args)) return env.Undefined();
  if (t == TokenArg::kNeverFound) return Resolved(env, Napi::Boolean::New(env, false));
  return (new UpdateWorker(env, std::move(store), std::move(token), std::move(args)))
      ->QueueAndGetPromise();
}

Napi::Value StoreWrap::RemoveAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string token;
  switch (GetToken(env, info[0], &token)) {
    case TokenArg::kInvalid: return env.Undefined();
    case TokenArg::kNeverFound: return Resolved(env, Napi::Boolean::New(env, false));
    case TokenArg::kOk: break;
  }
  return (new RemoveWorker(env, std::move(store), std::move(token)))->QueueAndGetPromise();
}

Napi::Value StoreWrap::Touch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string token;
  TokenArg t = GetToken(env, info[0], &token);
  if (t == TokenArg::kInvalid) return env.Undefined();
  int64_t ttl = 0;
  CRUDJT_REQUIRE(env, ToLimit(info[1], crudjt::kMaxTtlMs, &ttl), kTtlMessage);
  if (t == TokenArg::kNeverFound) return Napi::Boolean::New(env, false);
  bool touched = false;
  crudjt::Status s = store->Touch(token, ttl, &touched);
  if (!s.ok()) return ThrowStatus(env, s);
  return Napi::Boolean::New(env, touched);
}

Napi::Value StoreWrap::TouchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string token;
  TokenArg t = GetToken(env, info[0], &token);
  if (t == TokenArg::kInvalid) return env.Undefined();
  int64_t ttl = 0;
  CRUDJT_REQUIRE(env, ToLimit(info[1], crudjt::kMaxTtlMs, &ttl), kTtlMessage);
  if (t == TokenArg::kNeverFound) return Resolved(env, Napi::Boolean::New(env, false));
  return (new TouchWorker(env, std::move(store), std::move(token), ttl))->QueueAndGetPromise();
}

Napi::Value StoreWrap::RevokeSubject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string subject;
  if (!GetSubject(env, info[0], false, &subject)) return env.Undefined();
  return (new RevokeSubjectWorker(env, std::move(store), std::move(subject)))->QueueAndGetPromise();
}

Napi::Value StoreWrap::ListSubject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string subject;
  if (!GetSubject(env, info[0], false, &subject)) return env.Undefined();
  std::vector<crudjt::SessionInfo> sessions;
  crudjt::Status s = store->ListSubject(subject, &sessions);
  if (!s.ok()) return ThrowStatus(env, s);
  return SessionsToJs(env, sessions);
}

Napi::Value StoreWrap::RevokeHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string handle;
  bool never = false;
  if (!GetHandle(env, info[0], &handle, &never)) return env.Undefined();
  if (never) return Napi::Boolean::New(env, false);
  bool removed = false;
  crudjt::Status s = store->RevokeHandle(handle, &removed);
  if (!s.ok()) return ThrowStatus(env, s);
  return Napi::Boolean::New(env, removed);
}

Napi::Value StoreWrap::RevokeHandleAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string handle;
  bool never = false;
  if (!GetHandle(env, info[0], &handle, &never)) return env.Undefined();
  if (never) return Resolved(env, Napi::Boolean::New(env, false));
  return (new RevokeHandleWorker(env, std::move(store), std::move(handle)))->QueueAndGetPromise();
}

Napi::Value StoreWrap::ApplyBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  ParsedBatch batch;
  if (!ParseBatch(env, info[0], &batch)) return env.Undefined();
  std::vector<crudjt::BatchResult> results;
  crudjt::Status s = store->ApplyBatch(batch.ops, &results);
  if (!s.ok()) return ThrowStatus(env, s);
  return BatchResultsToJs(env, batch.ops, results);
}

Napi::Value StoreWrap::ApplyBatchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::unique_ptr<ParsedBatch> batch(new ParsedBatch);
  if (!ParseBatch(env, info[0], batch.get())) return env.Undefined();
  return (new BatchWorker(env, std::move(store), std::move(batch)))->QueueAndGetPromise();
}

Napi::Value StoreWrap::ResealPrevious(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  return (new ResealWorker(env, std::move(store)))->QueueAndGetPromise();
}

Napi::Value StoreWrap::ExportRecords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string after;
  Napi::Value a = info[0];
  if (!a.IsNull()) {
    CRUDJT_REQUIRE(env,
                   a.IsTypedArray() && a.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array &&
                       a.As<Napi::Uint8Array>().ByteLength() == 16,
                   "afterKey must be null or a Buffer of 16 bytes");
    Napi::Uint8Array bytes = a.As<Napi::Uint8Array>();
    after.assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  }
  int64_t limit = 0;
  CRUDJT_REQUIRE(env, ToInteger(info[1], 1, 100000, &limit),
                 "limit must be an integer in 1..100000");
  std::vector<std::pair<std::string, std::string>> records;
  bool done = false;
  crudjt::Status s = store->ExportRecords(after, size_t(limit), &records, &done);
  if (!s.ok()) return ThrowStatus(env, s);
  Napi::Array out = Napi::Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    Napi::Array row = Napi::Array::New(env, 2);
    row.Set(0u, Napi::Buffer<char>::Copy(env, records[i].first.data(), records[i].first.size()));
    row.Set(1u, Napi::Buffer<char>::Copy(env, records[i].second.data(), records[i].second.size()));
    out.Set(uint32_t(i), row);
  }
  return out;
}

Napi::Value StoreWrap::Sweep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  return (new SweepWorker(env, std::move(store)))->QueueAndGetPromise();
}

Napi::Value StoreWrap::Flush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  return (new CallWorker(env, "crudjt:flush", std::move(store), &crudjt::Store::Flush))
      ->QueueAndGetPromise();
}

Napi::Value StoreWrap::Checkpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  return (new CallWorker(env, "crudjt:checkpoint", std::move(store),
                         &crudjt::Store::Checkpoint))
      ->QueueAndGetPromise();
}

Napi::Value StoreWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  crudjt::StoreStats st = store->GetStats();
  Napi::Object out = Napi::Object::New(env);
  auto num = [&](const char* name, double value) { out.Set(name, Napi::Number::New(env, value)); };
  num("liveTokens", static_cast<double>(st.live_tokens));
  num("pageFileBytes", static_cast<double>(st.page_file_bytes));
  num("logBytes", static_cast<double>(st.log_bytes));
  num("pagesTotal", static_cast<double>(st.pages_total));
  num("pagesFree", static_cast<double>(st.pages_free));
  num("cacheBytes", static_cast<double>(st.cache_bytes));
  num("lastFsyncMs", static_cast<double>(st.last_fsync_ms));
  num("lastCheckpointMs", static_cast<double>(st.last_checkpoint_ms));
  num("lastSweepMs", static_cast<double>(st.last_sweep_ms));
  num("lastSweepRemoved", static_cast<double>(st.last_sweep_removed));
  num("previousKeyRecords", static_cast<double>(st.previous_key_records));
  return out;
}

Napi::Value StoreWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (store_) {
    closing_ = std::move(store_);
    registry_->Remove(this);
  }
  if (!closing_) return Resolved(env, env.Undefined());  // torn down already
  return (new CallWorker(env, "crudjt:close", closing_, &crudjt::Store::Close))
      ->QueueAndGetPromise();
}

// ---- binding.open() ----------------------------------------------------------

Napi::Value StoreWrap::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CRUDJT_REQUIRE(env, info[0].IsString(), "dir must be a non-empty string");
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  CRUDJT_REQUIRE(env, !dir.empty() && dir.find('\0') == std::string::npos,
                 "dir must be a non-empty string without NUL characters");
  CRUDJT_REQUIRE_BYTES(info, 1, key, "secretKey must be a Buffer of 32, 48 or 64 bytes");
  bool size_ok = false;
  for (size_t size : crudjt::kSecretKeySizes) size_ok = size_ok || key.ByteLength() == size;
  CRUDJT_REQUIRE(env, size_ok, "secretKey must be a Buffer of 32, 48 or 64 bytes");
  crudjt::Options options;
  if (!ParseOptions(env, info[2], &options)) return env.Undefined();
  std::string secret(reinterpret_cast<const char*>(key.Data()), key.ByteLength());
  return (new OpenWorker(env, std::move(dir), std::move(secret), std::move(options)))
      ->QueueAndGetPromise();
}

}  // namespace crudjt_node
