// Argument checks for the N-API methods.
//
// The addon is built without C++ exceptions (NODE_ADDON_API_DISABLE_CPP_
// EXCEPTIONS): a failed check schedules a JavaScript exception and returns
// from the method at once. TypeScript validates first with user-facing
// messages (lib/validation.ts); these re-checks only guarantee that nothing
// the engine would reject, or that would overflow a conversion, gets through.
#ifndef CRUDJT_SRC_MACROS_H_
#define CRUDJT_SRC_MACROS_H_

#include <napi.h>

#include <cstdint>

namespace crudjt_node {

// Throws a TypeError in `env`. Returns undefined so that methods can
// `return ThrowTypeError(env, "...")`.
inline Napi::Value ThrowTypeError(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// True when `value` is a finite number with an integral value in
// [min, max] (both exactly representable as doubles); stores it in *out.
bool ToInteger(const Napi::Value& value, int64_t min, int64_t max, int64_t* out);

// A limit argument (ttlMs, maxReads): -1 (no limit) or 1..max.
bool ToLimit(const Napi::Value& value, int64_t max, int64_t* out);

}  // namespace crudjt_node

// Fails the current method with a TypeError unless `cond` holds.
#define CRUDJT_REQUIRE(env, cond, message)                 \
  do {                                                     \
    if (!(cond)) return ::crudjt_node::ThrowTypeError(env, message); \
  } while (0)

// Declares `Napi::Uint8Array var` from info[index] (a Buffer or Uint8Array).
#define CRUDJT_REQUIRE_BYTES(info, index, var, message)                          \
  CRUDJT_REQUIRE((info).Env(),                                                   \
                 (info)[index].IsTypedArray() &&                                 \
                     (info)[index].As<Napi::TypedArray>().TypedArrayType() ==    \
                         napi_uint8_array,                                       \
                 message);                                                       \
  Napi::Uint8Array var = (info)[index].As<Napi::Uint8Array>()

#endif  // CRUDJT_SRC_MACROS_H_
