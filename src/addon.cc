// The crudjt addon: exports { constants, open } (binding.d.ts NativeBinding).
//
// Loaded once per Node environment (the main thread and each worker thread
// get their own AddonData). An environment cleanup hook closes the stores
// that are still open when the environment ends, so a worker thread that
// exits without close() still releases its store's lock and checkpoints.
#include <napi.h>

#include "crudjt/store.h"
#include "store_wrap.h"

namespace crudjt_node {
Napi::Function RecordCodecClass(Napi::Env env);  // record_codec_wrap.cc (the Redis Cluster backend's codec)
namespace {

void CloseOpenStores(void* arg) {
  static_cast<OpenStores*>(arg)->CloseAll();
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  auto num = [&](const char* name, double value) { c.Set(name, Napi::Number::New(env, value)); };
  num("MAX_PAYLOAD_BYTES", static_cast<double>(crudjt::kMaxPayloadBytes));
  num("TOKEN_CHARS", static_cast<double>(crudjt::kTokenChars));
  num("MAX_TOKEN_CHARS", static_cast<double>(crudjt::kMaxTokenChars));
  num("MAX_TTL_MS", static_cast<double>(crudjt::kMaxTtlMs));
  num("MAX_READS", static_cast<double>(crudjt::kMaxReads));
  num("NO_LIMIT", static_cast<double>(crudjt::kNoLimit));
  c.Freeze();
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->store_constructor = Napi::Persistent(StoreWrap::DefineClass(env));
  // The hook keeps the registry alive on its own: it may run after or
  // before the instance data is freed, whatever Node's teardown order.
  auto* hook_registry = new std::shared_ptr<OpenStores>(data->open_stores);
  napi_add_env_cleanup_hook(
      env,
      [](void* arg) {
        auto* registry = static_cast<std::shared_ptr<OpenStores>*>(arg);
        CloseOpenStores(registry->get());
        delete registry;
      },
      hook_registry);
  env.SetInstanceData<AddonData>(data);

  exports.Set("constants", Constants(env));
  exports.Set("open", Napi::Function::New<&StoreWrap::Open>(env, "open"));
  exports.Set("RecordCodec", RecordCodecClass(env));
  return exports;
}

}  // namespace
}  // namespace crudjt_node

static Napi::Object InitCrudjt(Napi::Env env, Napi::Object exports) {
  return crudjt_node::Init(env, exports);
}

NODE_API_MODULE(crudjt, InitCrudjt)
