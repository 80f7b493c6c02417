#include "store_wrap.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

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

// Overwrites a copy of the secret key before its memory is released.
void Wipe(std::string* s) {
  volatile char* p = s->empty() ? nullptr : &(*s)[0];
  for (size_t i = 0; i < s->size(); ++i) p[i] = 0;
  s->clear();
}

enum class TokenArg { kOk, kNeverFound, kInvalid };

// Reads a token argument. kNeverFound: a string too long to be a token of
// any crudjt store (read -> null, update/remove -> false, no engine call and
// no conversion of a huge string). kInvalid: TypeError pending.
TokenArg GetToken(Napi::Env env, const Napi::Value& value, std::string* token) {
  if (!value.IsString()) {
    ThrowTypeError(env, kTokenMessage);
    return TokenArg::kInvalid;
  }
  size_t units = 0;
  if (napi_get_value_string_utf16(env, value, nullptr, 0, &units) != napi_ok || units == 0) {
    if (!env.IsExceptionPending()) ThrowTypeError(env, kTokenMessage);
    return TokenArg::kInvalid;
  }
  if (units > crudjt::kMaxTokenChars) return TokenArg::kNeverFound;
  *token = value.As<Napi::String>().Utf8Value();
  return TokenArg::kOk;
}

struct PayloadArgs {
  std::string payload;
  int64_t ttl_ms = crudjt::kNoLimit;
  int64_t max_reads = crudjt::kNoLimit;
};

// Reads (payload, ttlMs, maxReads) from info[first..first+2]; copies the
// payload (the caller may reuse its Buffer). False: TypeError pending.
bool GetPayloadArgs(const Napi::CallbackInfo& info, size_t first, PayloadArgs* out) {
  Napi::Env env = info.Env();
  Napi::Value payload = info[first];
  if (!payload.IsTypedArray() ||
      payload.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(env, kPayloadMessage);
    return false;
  }
  Napi::Uint8Array bytes = payload.As<Napi::Uint8Array>();
  if (bytes.ByteLength() == 0 || bytes.ByteLength() > crudjt::kMaxPayloadBytes) {
    ThrowTypeError(env, kPayloadMessage);
    return false;
  }
  if (!ToLimit(info[first + 1], crudjt::kMaxTtlMs, &out->ttl_ms)) {
    ThrowTypeError(env, kTtlMessage);
    return false;
  }
  if (!ToLimit(info[first + 2], crudjt::kMaxReads, &out->max_reads)) {
    ThrowTypeError(env, kReadsMessage);
    return false;
  }
  out->payload.assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  return true;
}

// [payload, ttlLeftMs, readsLeft]
Napi::Value ReadResultToJs(Napi::Env env, const crudjt::ReadResult& result) {
  Napi::Array array = Napi::Array::New(env, 3);
  array.Set(0u, Napi::Buffer<char>::Copy(env, result.payload.data(), result.payload.size()));
  array.Set(1u, Napi::Number::New(env, static_cast<double>(result.ttl_left_ms)));
  array.Set(2u, Napi::Number::New(env, static_cast<double>(result.reads_left)));
  return array;
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
    return store_->Create(args_.payload, args_.ttl_ms, args_.max_reads, &token_);
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

class OpenWorker final : public PromiseWorker {
 public:
  OpenWorker(Napi::Env env, std::string dir, std::string key, crudjt::Options options)
      : PromiseWorker(env, "crudjt:open"),
        dir_(std::move(dir)),
        key_(std::move(key)),
        options_(std::move(options)) {}
  ~OpenWorker() override { Wipe(&key_); }

 private:
  crudjt::Status Run() override {
    crudjt::Status s = crudjt::Store::Open(dir_, key_, options_, &store_, &info_);
    Wipe(&key_);
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
          InstanceMethod<&StoreWrap::Update>("update"),
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

Napi::Value StoreWrap::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  PayloadArgs args;
  if (!GetPayloadArgs(info, 0, &args)) return env.Undefined();
  std::string token;
  crudjt::Status s = store->Create(args.payload, args.ttl_ms, args.max_reads, &token);
  if (!s.ok()) return ThrowStatus(env, s);
  return Napi::String::New(env, token);
}

Napi::Value StoreWrap::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string token;
  switch (GetToken(env, info[0], &token)) {
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

Napi::Value StoreWrap::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string token;
  TokenArg t = GetToken(env, info[0], &token);
  if (t == TokenArg::kInvalid) return env.Undefined();
  PayloadArgs args;
  if (!GetPayloadArgs(info, 1, &args)) return env.Undefined();
  if (t == TokenArg::kNeverFound) return Napi::Boolean::New(env, false);
  bool updated = false;
  crudjt::Status s = store->Update(token, args.payload, args.ttl_ms, args.max_reads, &updated);
  if (!s.ok()) return ThrowStatus(env, s);
  return Napi::Boolean::New(env, updated);
}

Napi::Value StoreWrap::Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StorePtr store = OpenStoreOrThrow(env);
  if (!store) return env.Undefined();
  std::string token;
  switch (GetToken(env, info[0], &token)) {
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
