// dfs_store_choice: the write the durable metadata store makes for each namespace change,
// on the two embedded engines Debian offers that dfs already links (RocksDB, SQLite), from
// N threads at once, each waiting until its change is durable before the next: what
// concurrent NFS clients creating files ask of the store (docs/architecture.md, "Durable
// stores", says why RocksDB).
//
// One change = an inode record (160 bytes) and a directory entry (60 bytes) written
// atomically and made durable.
//   rocksdb  a WriteBatch of the two with WriteOptions::sync (RocksDB groups concurrent
//            syncing writers: one log write and one fsync for the group)
//   sqlite   BEGIN IMMEDIATE; two INSERT OR REPLACE; COMMIT, one connection per thread, WAL
//            journal with synchronous=FULL (each COMMIT syncs the log; writers take turns)
//
//   dfs_store_choice [--dir /tmp] [--threads 1,4,16,32] [--seconds 3]

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// One thread's change number n: (inode key, inode value, entry key, entry value).
struct Change {
  std::string inode_key, inode, entry_key, entry;
};
Change change(unsigned thread, uint64_t n) {
  const uint64_t id = (uint64_t{thread} << 40) | n;
  Change c;
  // Formatted with snprintf: building them with std::string operators trips GCC 12's
  // -Wrestrict false positive at -O3.
  char key[48];
  std::snprintf(key, sizeof key, "i%llu", static_cast<unsigned long long>(id));
  c.inode_key = key;
  c.inode.assign(160, static_cast<char>('a' + n % 26));
  std::snprintf(key, sizeof key, "d1/%u-%llu", thread, static_cast<unsigned long long>(n));
  c.entry_key = key;
  c.entry.assign(60, static_cast<char>('A' + n % 26));
  return c;
}

// Runs `step(thread, n)` on `threads` threads for `seconds`; returns changes per second.
double drive(unsigned threads, double seconds,
             const std::function<void(unsigned, uint64_t)>& step) {
  std::atomic<bool> stop{false};
  std::vector<uint64_t> done(threads * 8, 0);
  std::vector<std::thread> ts;
  const auto t0 = Clock::now();
  for (unsigned t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed))
        step(t, n++);
      done[t * 8] = n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : ts)
    t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  uint64_t total = 0;
  for (unsigned t = 0; t < threads; ++t)
    total += done[t * 8];
  return static_cast<double>(total) / secs;
}

double run_rocksdb(const std::string& dir, unsigned threads, double seconds) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(options, dir, &raw);
  if (!st.ok()) throw std::runtime_error("rocksdb: " + st.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  return drive(threads, seconds, [&](unsigned t, uint64_t n) {
    Change c = change(t, n);
    rocksdb::WriteBatch wb;
    wb.Put(c.inode_key, c.inode);
    wb.Put(c.entry_key, c.entry);
    if (!db->Write(sync, &wb).ok()) std::abort();
  });
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error(std::string("sqlite: ") + sql + ": " + e);
  }
}

double run_sqlite(const std::string& dir, unsigned threads, double seconds) {
  std::string path = dir;
  path += "/meta.db";
  {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB NOT NULL)");
    sqlite3_close(db);
  }
  std::vector<sqlite3*> conns(threads);
  std::vector<sqlite3_stmt*> puts(threads);
  for (unsigned t = 0; t < threads; ++t) {
    if (sqlite3_open(path.c_str(), &conns[t]) != SQLITE_OK) throw std::runtime_error("open");
    sqlite3_busy_timeout(conns[t], 60000);
    exec(conns[t], "PRAGMA synchronous=FULL");
    sqlite3_prepare_v2(conns[t], "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", -1, &puts[t],
                       nullptr);
  }
  auto put = [](sqlite3_stmt* st, const std::string& k, const std::string& v) {
    sqlite3_bind_text(st, 1, k.data(), static_cast<int>(k.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) std::abort();
    sqlite3_reset(st);
  };
  double rate = drive(threads, seconds, [&](unsigned t, uint64_t n) {
    Change c = change(t, n);
    exec(conns[t], "BEGIN IMMEDIATE");
    put(puts[t], c.inode_key, c.inode);
    put(puts[t], c.entry_key, c.entry);
    exec(conns[t], "COMMIT");
  });
  for (unsigned t = 0; t < threads; ++t) {
    sqlite3_finalize(puts[t]);
    sqlite3_close(conns[t]);
  }
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = "/tmp";
  std::vector<unsigned> threads{1, 4, 16, 32};
  double seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--dir") {
      base = argv[i + 1];
    } else if (a == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (a == "--threads") {
      threads.clear();
      for (const char* s = argv[i + 1]; *s;) {
        threads.push_back(static_cast<unsigned>(std::strtoul(s, nullptr, 10)));
        const char* comma = std::strchr(s, ',');
        if (!comma) break;
        s = comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--dir D] [--threads 1,4,16] [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  std::printf("%-8s %8s %16s\n", "engine", "threads", "changes/s");
  for (const char* engine : {"rocksdb", "sqlite"}) {
    for (unsigned t : threads) {
      std::string tmpl = base;
      tmpl += "/dfs-store-choice.XXXXXX";
      const std::string dir = ::mkdtemp(tmpl.data());
      double rate = std::string(engine) == "rocksdb" ? run_rocksdb(dir + "/db", t, seconds)
                                                     : run_sqlite(dir, t, seconds);
      std::filesystem::remove_all(dir);
      std::printf("%-8s %8u %16.0f\n", engine, t, rate);
      std::fflush(stdout);
    }
  }
  return 0;
}
