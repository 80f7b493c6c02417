#include "macros.h"

#include <cmath>

namespace crudjt_node {

bool ToInteger(const Napi::Value& value, int64_t min, int64_t max, int64_t* out) {
  if (!value.IsNumber()) return false;
  double d = value.As<Napi::Number>().DoubleValue();
  // NaN fails every comparison; infinities fail the range check; the range
  // check comes before the cast so the cast never overflows.
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max))) return false;
  if (std::trunc(d) != d) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

bool ToLimit(const Napi::Value& value, int64_t max, int64_t* out) {
  int64_t v = 0;
  if (!ToInteger(value, -1, max, &v) || v == 0) return false;
  *out = v;
  return true;
}

}  // namespace crudjt_node
