#include "vfs/metadata/rocksdb_store.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include "vfs/metadata/record_codec.h"

namespace dfs::vfs {

namespace {

rocksdb::Slice slice(const std::string& s) {
  return rocksdb::Slice(s.data(), s.size());
}

// RocksDB's own messages go to dfs's log, not to a LOG file in the store's directory: that
// file is one more thing to fill a disk, and Debian's RocksDB (built with assertions) aborts
// the process on the message after a write to it failed, so a full disk would kill dfs.
class SpdlogLogger final : public rocksdb::Logger {
 public:
  SpdlogLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      spdlog::error("rocksdb: {}", line);
    } else {
      spdlog::warn("rocksdb: {}", line);
    }
  }
};

}  // namespace

RocksDbMetadataStore::RocksDbMetadataStore(const std::string& path,
                                           std::optional<uint64_t> free_floor) {
  options_ = std::make_unique<rocksdb::Options>();
  rocksdb::Options& options = *options_;
  path_ = path;
  options.create_if_missing = true;
  // The log is synced by sync() (group commit); a write only appends to it.
  options.manual_wal_flush = false;
  // Corruption at the log's tail (a crash mid-append) drops the torn record and what follows
  // it: those changes were never synced, so never acknowledged as stable.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.max_background_jobs = 2;
  options.info_log = std::make_shared<SpdlogLogger>();
  // After a full disk stopped it, RocksDB takes writes again only once this much is free
  // (room to flush a memtable): 4 MiB instead of the default 64 lets a small or nearly full
  // disk recover. Every read is served from memory, so small memtables cost only more,
  // smaller table files.
  options.write_buffer_size = 4 << 20;
  // Made here, so RocksDB does not log an error for a store opened the first time.
  std::error_code made;
  std::filesystem::create_directories(path, made);
  rocksdb::DB* db = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(options, path, &db);
  if (!st.ok()) throw std::runtime_error("metadata store " + path + ": " + st.ToString());
  db_.reset(db);
  space_ = std::make_unique<util::SpaceFloor>(
      path, free_floor.value_or(util::SpaceFloor::default_floor(path) / 2));
  load();
  mem_.root();  // creates (and records) the root of a new store
  if (sync() != Status::kOk) throw std::runtime_error("metadata store " + path + ": sync failed");
}

RocksDbMetadataStore::~RocksDbMetadataStore() {
  // Whatever was applied is kept (UNSTABLE writes' records too); a clean stop leaves
  // nothing for the next start to replay.
  write_dirty();
  if (log_usable() && db_) db_->SyncWAL();
  if (db_) db_->Close();
}

void RocksDbMetadataStore::load() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  size_t inodes = 0;
  size_t entries = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    auto corrupt = [&] {
      throw std::runtime_error("metadata store: unreadable record under key kind '" +
                               std::string(1, key.empty() ? '?' : key[0]) + "'");
    };
    if (key.empty()) corrupt();
    switch (key[0]) {
      case codec::kInodeKey: {
        auto r = codec::decode_record(
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
        if (!r) corrupt();
        mem_.restore_inode(std::move(*r));
        ++inodes;
        break;
      }
      case codec::kEntryKey: {
        auto k = codec::parse_entry_key(key);
        auto child = codec::read_u64(value, 0);
        auto cookie = codec::read_u64(value, 8);
        if (!k || !child || !cookie) corrupt();
        mem_.restore_entry(k->dir, std::string(k->name), *child, *cookie);
        ++entries;
        break;
      }
      case codec::kNextCookieKey: {
        auto dir = codec::read_u64(key, 1);
        auto next = codec::read_u64(value, 0);
        if (!dir || !next) corrupt();
        mem_.restore_next_cookie(*dir, *next);
        break;
      }
      case codec::kIdLimitKey: {
        auto limit = codec::read_u64(value, 0);
        if (!limit) corrupt();
        mem_.restore_next_id(*limit);
        break;
      }
      default:
        corrupt();
    }
  }
  if (!it->status().ok()) throw std::runtime_error("metadata store: " + it->status().ToString());
  if (inodes > 0) spdlog::info("metadata store: loaded {} inodes, {} entries", inodes, entries);
}

Status RocksDbMetadataStore::record_batch(
    const MetadataBatch& batch, std::span<const uint64_t> cookies,
    std::span<const std::pair<InodeId, uint64_t>> next_cookies) {
  rocksdb::WriteBatch wb;
  for (const auto& r : batch.put_inodes)
    wb.Put(slice(codec::inode_key(r.id)), slice(codec::encode_record(r)));
  for (const auto& e : batch.remove_entries)
    wb.Delete(slice(codec::entry_key(e.dir, e.name)));
  for (size_t i = 0; i < batch.add_entries.size(); ++i) {
    const auto& a = batch.add_entries[i];
    wb.Put(slice(codec::entry_key(a.dir, a.name)), slice(codec::entry_value(a.child, cookies[i])));
  }
  for (const auto& [dir, next] : next_cookies)
    wb.Put(slice(codec::next_cookie_key(dir)), slice(codec::u64_value(next)));
  for (InodeId id : batch.delete_inodes) {
    wb.Delete(slice(codec::inode_key(id)));
    wb.Delete(slice(codec::next_cookie_key(id)));  // a removed directory's cookie counter
  }
  // A batch that only adds (a create or a link) grows the store; one that removes or renames
  // may be what frees the disk, and always goes through.
  if (batch.remove_entries.empty() && batch.delete_inodes.empty() && !batch.add_entries.empty() &&
      !space_->admit(wb.GetDataSize())) {
    return Status::kNoSpc;
  }
  return write(wb);
}

Status RocksDbMetadataStore::record_put(const InodeRecord& record) {
  rocksdb::WriteBatch wb;
  wb.Put(slice(codec::inode_key(record.id)), slice(codec::encode_record(record)));
  return write(wb);
}

Status RocksDbMetadataStore::record_id_limit(InodeId limit) {
  rocksdb::WriteBatch wb;
  wb.Put(slice(codec::id_limit_key()), slice(codec::u64_value(limit)));
  return write(wb);
}

rocksdb::Status RocksDbMetadataStore::write_once(rocksdb::WriteBatch& wb) {
  std::shared_lock db(db_mu_);
  if (!db_ || log_failed_.load(std::memory_order_acquire)) {
    return rocksdb::Status::IOError("the metadata log failed earlier and is not open again yet");
  }
  rocksdb::Status st = db_->Write(rocksdb::WriteOptions(), &wb);
  if (!st.ok()) log_failed_.store(true, std::memory_order_release);
  return st;
}

Status RocksDbMetadataStore::write(rocksdb::WriteBatch& wb) {
  rocksdb::Status st = rocksdb::Status::NoSpace("the metadata log cannot be opened again yet");
  if (log_usable()) {
    st = write_once(wb);
    if (!st.ok() && log_usable()) st = write_once(wb);
  }
  if (!st.ok()) {
    if (uint64_t held = 0; write_errors_.due(held)) {
      spdlog::error("metadata store: write failed: {} ({} more since the last logged)",
                    st.ToString(), held);
    }
    return st.IsNoSpace() ? Status::kNoSpc : Status::kIo;
  }
  return Status::kOk;
}

bool RocksDbMetadataStore::log_usable() {
  if (!log_failed_.load(std::memory_order_acquire)) return true;
  std::lock_guard lock(resume_mu_);
  if (!log_failed_.load(std::memory_order_relaxed)) return true;
  // RocksDB cannot be trusted to let go of a log whose write failed: DB::Resume may report
  // success and go on appending to it, and the next append aborts the process (an assertion
  // in Debian's RocksDB; a flush refuses with "Seen error"). So the database is closed and
  // opened again, once no write or sync is using it: recovery replays the log up to its last
  // whole record into a table file and starts a new log. Until that works (the disk is still
  // full), every write and sync is refused.
  std::unique_lock exclusive(db_mu_);
  if (db_) {
    db_->Close();
    db_.reset();
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(*options_, path_, &db);
  if (!st.ok()) {
    if (uint64_t held = 0; write_errors_.due(held)) {
      spdlog::warn("metadata store: cannot open the database again yet: {}", st.ToString());
    }
    return false;
  }
  db_.reset(db);
  log_failed_.store(false, std::memory_order_release);
  spdlog::info("metadata store: writing again after an earlier failure");
  return true;
}

Status RocksDbMetadataStore::put_unstable(const InodeRecord& record) {
  if (Status s = mem_.put_unjournaled(record); s != Status::kOk) return s;
  DirtyShard& d = dirty_[record.id % kDirtyShards];
  std::lock_guard lock(d.mu);
  d.ids.insert(record.id);
  return Status::kOk;
}

Status RocksDbMetadataStore::write_dirty() {
  std::lock_guard flushing(flush_mu_);
  Status first = Status::kOk;
  for (size_t i = 0; i < kDirtyShards; ++i) {
    DirtyShard& d = dirty_[i];
    std::unordered_set<InodeId> ids;
    {
      std::lock_guard lock(d.mu);
      if (d.ids.empty()) continue;
      ids.swap(d.ids);
    }
    for (auto it = ids.begin(); it != ids.end();) {
      Status s = mem_.journal_current(*it);
      if (s == Status::kOk) {
        it = ids.erase(it);
      } else {
        if (first == Status::kOk) first = s;
        ++it;
      }
    }
    if (!ids.empty()) {
      std::lock_guard lock(d.mu);
      d.ids.merge(ids);
    }
  }
  return first;
}

Status RocksDbMetadataStore::sync() {
  // The records of UNSTABLE writes made before this call go to the log first, so the sync
  // below covers them.
  if (Status s = write_dirty(); s != Status::kOk) return s;
  // A log that failed a write cannot be synced (RocksDB's writer aborts the process if
  // asked to); until the database is open again there is nothing durable to add anyway.
  if (!log_usable()) return Status::kIo;
  // Every write this caller made has a sequence number at or below this one.
  uint64_t target = 0;
  {
    std::shared_lock db(db_mu_);
    if (!db_) return Status::kIo;
    target = db_->GetLatestSequenceNumber();
  }
  std::lock_guard lock(sync_mu_);
  if (synced_seq_ >= target) return Status::kOk;  // another caller's sync covered it
  std::shared_lock db(db_mu_);
  if (!db_ || log_failed_.load(std::memory_order_acquire)) return Status::kIo;
  const uint64_t upto = db_->GetLatestSequenceNumber();
  rocksdb::Status st = db_->SyncWAL();
  if (!st.ok()) {
    spdlog::error("metadata store: log sync failed: {}", st.ToString());
    return st.IsNoSpace() ? Status::kNoSpc : Status::kIo;
  }
  synced_seq_ = upto;
  syncs_.fetch_add(1, std::memory_order_relaxed);
  return Status::kOk;
}

}  // namespace dfs::vfs
