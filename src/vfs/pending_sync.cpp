#include "vfs/pending_sync.h"

#include <algorithm>

namespace dfs::vfs {

namespace {
thread_local PendingSync* installed = nullptr;
}

PendingSync::Scope::Scope(PendingSync& p) : previous_(installed) {
  installed = &p;
}

PendingSync::Scope::~Scope() {
  installed = previous_;
}

PendingSync* PendingSync::current() {
  return installed;
}

void PendingSync::add_data(std::shared_ptr<BlockStore> store, InodeId id) {
  for (const auto& [s, i] : data_) {
    if (s == store && i == id) return;
  }
  data_.emplace_back(std::move(store), id);
}

void PendingSync::add_metadata(std::shared_ptr<MetadataStore> store) {
  if (std::find(metadata_.begin(), metadata_.end(), store) == metadata_.end()) {
    metadata_.push_back(std::move(store));
  }
}

void PendingSync::add_task(std::function<Status()> task) {
  tasks_.push_back(std::move(task));
}

Status PendingSync::run() {
  Status first = Status::kOk;
  for (const auto& [store, id] : data_) {
    Status s = store->sync(id);
    if (first == Status::kOk) first = s;
  }
  for (const auto& store : metadata_) {
    Status s = store->sync();
    if (first == Status::kOk) first = s;
  }
  for (const auto& task : tasks_) {
    Status s = task();
    if (first == Status::kOk) first = s;
  }
  return first;
}

}  // namespace dfs::vfs
