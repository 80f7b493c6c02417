// Store::Open and the Store destructor.
#include "crudjt/store.h"

#include "store/store_impl.h"

namespace crudjt {

Store::~Store() = default;

Status Store::Open(const std::string& dir, std::string_view secret_key, const Options& options,
                   std::unique_ptr<Store>* store, OpenInfo* info) {
  store->reset();
  if (dir.empty()) return Status::InvalidArgument("store directory is empty");
  OpenInfo local;
  std::unique_ptr<StoreImpl> impl(new StoreImpl(dir, options));
  Status s = impl->Init(secret_key, options.previous_secret_keys, &local);
  if (!s.ok()) return s;  // impl's destructor releases what Init took
  if (info) *info = local;
  *store = std::move(impl);
  return Status::OK();
}

}  // namespace crudjt
