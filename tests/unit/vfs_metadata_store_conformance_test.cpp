// One suite for the MetadataStore interface, run against every implementation (memory and
// RocksDB); the durable stores also get the tests that close and open them again.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_results.h"
#include "vfs/metadata/memory_store.h"
#include "vfs/metadata/rocksdb_store.h"

namespace dfs::vfs {
namespace {

class MetadataStoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != "memory") {
      std::string tmpl = std::filesystem::temp_directory_path() / "dfs-meta.XXXXXX";
      dir_ = ::mkdtemp(tmpl.data());
    }
    store_ = open();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<MetadataStore> open() {
    if (GetParam() == "memory") return std::make_unique<MemoryMetadataStore>();
    return std::make_unique<RocksDbMetadataStore>(dir_ + "/metadata");
  }
  MetadataStore& store() { return *store_; }
  // Closes the store and opens it again from what it kept.
  MetadataStore& reopen() {
    store_.reset();
    store_ = open();
    return *store_;
  }
  std::string dir_;
  std::unique_ptr<MetadataStore> store_;
};

// The tests that close a store and open it again, for the durable implementations.
class DurableMetadataStoreConformance : public MetadataStoreConformance {};

InodeRecord dir_record(InodeId id, InodeId parent) {
  InodeRecord r;
  r.id = id;
  r.type = FileType::kDirectory;
  r.mode = 0755;
  r.nlink = 2;
  r.parent = parent;
  return r;
}

// Adds a file named `name` to `dir`, returning its id.
InodeId add_file(MetadataStore& s, InodeId dir, const std::string& name) {
  MetadataBatch b;
  InodeId id = ok(s.allocate_id());
  b.put_inodes.push_back(file_record(id));
  b.add_entries.push_back({dir, name, id});
  EXPECT_EQ(s.apply(b), Status::kOk);
  return id;
}

void remove_name(MetadataStore& s, InodeId dir, const std::string& name) {
  MetadataBatch b;
  b.remove_entries.push_back({dir, name});
  EXPECT_EQ(s.apply(b), Status::kOk);
}

TEST_P(MetadataStoreConformance, RootIsCreatedOnFirstCall) {
  MetadataStore& s = store();
  if (!s.durable()) {
    EXPECT_FALSE(found(s.get(1)).has_value());  // a durable store makes it at open
  }
  InodeId root = s.root();
  EXPECT_EQ(root, 1u);
  auto r = found(s.get(root));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, FileType::kDirectory);
  EXPECT_EQ(r->mode, 0755u);
  EXPECT_EQ(r->uid, 0u);
  EXPECT_EQ(r->gid, 0u);
  EXPECT_EQ(r->nlink, 2u);
  EXPECT_EQ(r->parent, root);
  EXPECT_EQ(s.root(), root);  // idempotent
  EXPECT_EQ(ok(s.inode_count()), 1u);
  EXPECT_TRUE(ok(s.is_empty_dir(root)));
}

TEST_P(MetadataStoreConformance, AllocateIdIsMonotonicAndSkipsRoot) {
  MetadataStore& s = store();
  InodeId a = ok(s.allocate_id());
  InodeId b = ok(s.allocate_id());
  EXPECT_NE(a, MemoryMetadataStore::kRootId);
  EXPECT_GT(b, a);
  s.root();
  InodeId c = ok(s.allocate_id());
  EXPECT_GT(c, b);
}

TEST_P(MetadataStoreConformance, PutGetLookupAndDelete) {
  MetadataStore& s = store();
  InodeId root = s.root();
  InodeId id = add_file(s, root, "a");
  EXPECT_EQ(found(s.lookup(root, "a")), id);
  EXPECT_FALSE(found(s.lookup(root, "b")).has_value());
  EXPECT_FALSE(found(s.lookup(12345, "a")).has_value());
  EXPECT_FALSE(ok(s.is_empty_dir(root)));
  EXPECT_EQ(ok(s.inode_count()), 2u);

  auto r = *found(s.get(id));
  r.size = 42;
  EXPECT_EQ(s.put(r), Status::kOk);
  EXPECT_EQ(found(s.get(id))->size, 42u);

  MetadataBatch b;
  b.remove_entries.push_back({root, "a"});
  b.delete_inodes.push_back(id);
  EXPECT_EQ(s.apply(b), Status::kOk);
  EXPECT_FALSE(found(s.get(id)).has_value());
  EXPECT_FALSE(found(s.lookup(root, "a")).has_value());
  EXPECT_TRUE(ok(s.is_empty_dir(root)));
  EXPECT_EQ(ok(s.inode_count()), 1u);
}

TEST_P(MetadataStoreConformance, GetManyAnswersInTheOrderAskedAcrossShards) {
  MetadataStore& s = store();
  InodeId root = s.root();
  std::vector<InodeId> made;
  for (int i = 0; i < 300; ++i)
    made.push_back(add_file(s, root, "f" + std::to_string(i)));
  // Out of order, repeated, and with ids that do not exist (one past the last, and huge).
  std::vector<InodeId> ask;
  for (size_t i = made.size(); i-- > 0;)
    ask.push_back(made[i]);
  ask.push_back(made[7]);
  ask.push_back(made.back() + 1);
  ask.push_back(InodeId{1} << 40);
  ask.push_back(root);
  auto got = ok(s.get_many(ask));
  ASSERT_EQ(got.size(), ask.size());
  for (size_t i = 0; i < ask.size(); ++i) {
    auto one = found(s.get(ask[i]));
    ASSERT_EQ(got[i].has_value(), one.has_value()) << i;
    if (one) {
      EXPECT_EQ(got[i]->id, ask[i]) << i;
    }
  }
  EXPECT_FALSE(got[made.size() + 1].has_value());
  EXPECT_FALSE(got[made.size() + 2].has_value());
  EXPECT_EQ(got.back()->type, FileType::kDirectory);
  EXPECT_TRUE(ok(s.get_many({})).empty());
}

TEST_P(MetadataStoreConformance, CookiesStartAtThreeAndIncrease) {
  MetadataStore& s = store();
  InodeId root = s.root();
  add_file(s, root, "a");
  add_file(s, root, "b");
  add_file(s, root, "c");
  auto l = ok(s.list(root, 0, 10));
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].cookie, 3u);
  EXPECT_EQ(l[0].name, "a");
  EXPECT_EQ(l[1].cookie, 4u);
  EXPECT_EQ(l[2].cookie, 5u);
  EXPECT_EQ(l[2].name, "c");
  EXPECT_TRUE(ok(s.valid_cookie(root, 0)));
  EXPECT_FALSE(ok(s.valid_cookie(root, 1)));
  EXPECT_FALSE(ok(s.valid_cookie(root, 2)));
  EXPECT_TRUE(ok(s.valid_cookie(root, 5)));
  EXPECT_FALSE(ok(s.valid_cookie(root, 6)));  // never handed out
  EXPECT_FALSE(ok(s.valid_cookie(999, 3)));   // no such directory
}

TEST_P(MetadataStoreConformance, CookiesAreStableAndNeverReusedAcrossRemoval) {
  MetadataStore& s = store();
  InodeId root = s.root();
  add_file(s, root, "a");
  add_file(s, root, "b");
  add_file(s, root, "c");
  remove_name(s, root, "b");  // cookie 4 gone
  // Re-adding the same name gets a new cookie, not 4.
  add_file(s, root, "b");
  auto l = ok(s.list(root, 0, 10));
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].name, "a");
  EXPECT_EQ(l[0].cookie, 3u);
  EXPECT_EQ(l[1].name, "c");
  EXPECT_EQ(l[1].cookie, 5u);
  EXPECT_EQ(l[2].name, "b");
  EXPECT_EQ(l[2].cookie, 6u);

  // The removed entry's cookie still resumes: continue with the next higher cookie.
  EXPECT_TRUE(ok(s.valid_cookie(root, 4)));
  auto after4 = ok(s.list(root, 4, 10));
  ASSERT_EQ(after4.size(), 2u);
  EXPECT_EQ(after4[0].name, "c");

  // Even after removing everything the cookies stay valid and the directory is empty.
  remove_name(s, root, "a");
  remove_name(s, root, "b");
  remove_name(s, root, "c");
  EXPECT_TRUE(ok(s.valid_cookie(root, 6)));
  EXPECT_TRUE(ok(s.list(root, 3, 10)).empty());
  add_file(s, root, "d");
  EXPECT_EQ(ok(s.list(root, 0, 10)).at(0).cookie, 7u);
}

TEST_P(MetadataStoreConformance, CookiesArePerDirectory) {
  MetadataStore& s = store();
  InodeId root = s.root();
  InodeId sub = ok(s.allocate_id());
  MetadataBatch b;
  b.put_inodes.push_back(dir_record(sub, root));
  b.add_entries.push_back({root, "sub", sub});
  ASSERT_EQ(s.apply(b), Status::kOk);
  add_file(s, sub, "x");
  EXPECT_EQ(ok(s.list(sub, 0, 10)).at(0).cookie, 3u);
  EXPECT_EQ(ok(s.list(root, 0, 10)).at(0).cookie, 3u);
  EXPECT_FALSE(ok(s.valid_cookie(sub, 4)));
}

TEST_P(MetadataStoreConformance, HundredThousandEntriesListInChunks) {
  MetadataStore& s = store();
  InodeId root = s.root();
  constexpr size_t kN = 100000;
  for (size_t i = 0; i < kN; ++i)
    add_file(s, root, "f" + std::to_string(i));
  EXPECT_EQ(ok(s.inode_count()), kN + 1);
  EXPECT_EQ(found(s.lookup(root, "f77777")).has_value(), true);

  // Remove every tenth entry, then page through in chunks of 1000 resuming from cookies.
  for (size_t i = 0; i < kN; i += 10)
    remove_name(s, root, "f" + std::to_string(i));
  std::set<std::string> seen;
  uint64_t cookie = 0;
  uint64_t last_cookie = 0;
  size_t pages = 0;
  while (true) {
    auto page = ok(s.list(root, cookie, 1000));
    if (page.empty()) break;
    ++pages;
    for (const auto& e : page) {
      EXPECT_GT(e.cookie, last_cookie);
      last_cookie = e.cookie;
      EXPECT_TRUE(seen.insert(e.name).second) << e.name;
    }
    cookie = page.back().cookie;
    ASSERT_TRUE(ok(s.valid_cookie(root, cookie)));
  }
  EXPECT_EQ(seen.size(), kN - kN / 10);
  EXPECT_EQ(pages, 90u);
  EXPECT_FALSE(seen.contains("f0"));
  EXPECT_TRUE(seen.contains("f1"));
}

TEST_P(MetadataStoreConformance, BatchIsAtomicOnFailure) {
  MetadataStore& s = store();
  InodeId root = s.root();
  InodeId a = add_file(s, root, "a");
  add_file(s, root, "b");

  // Puts and removals before a failing add must not be applied.
  MetadataBatch bad;
  InodeId c = ok(s.allocate_id());
  bad.put_inodes.push_back(file_record(c));
  auto changed = *found(s.get(a));
  changed.size = 99;
  bad.put_inodes.push_back(changed);
  bad.remove_entries.push_back({root, "a"});
  bad.add_entries.push_back({root, "c", c});
  bad.add_entries.push_back({root, "b", c});  // "b" exists and is not removed: kExist
  bad.delete_inodes.push_back(a);
  EXPECT_EQ(s.apply(bad), Status::kExist);
  EXPECT_FALSE(found(s.get(c)).has_value());
  EXPECT_EQ(found(s.get(a))->size, 0u);
  EXPECT_EQ(found(s.lookup(root, "a")), a);
  EXPECT_FALSE(found(s.lookup(root, "c")).has_value());
  EXPECT_EQ(ok(s.list(root, 0, 10)).size(), 2u);
  EXPECT_FALSE(ok(s.valid_cookie(root, 5)));  // no cookie was consumed

  // Removing a missing name fails the batch too.
  MetadataBatch missing;
  missing.remove_entries.push_back({root, "a"});
  missing.remove_entries.push_back({root, "zzz"});
  EXPECT_EQ(s.apply(missing), Status::kNoEnt);
  EXPECT_EQ(found(s.lookup(root, "a")), a);

  // The same name removed twice in one batch.
  MetadataBatch twice;
  twice.remove_entries.push_back({root, "a"});
  twice.remove_entries.push_back({root, "a"});
  EXPECT_EQ(s.apply(twice), Status::kNoEnt);

  // Adding the same name twice in one batch.
  MetadataBatch dup;
  dup.add_entries.push_back({root, "n", a});
  dup.add_entries.push_back({root, "n", a});
  EXPECT_EQ(s.apply(dup), Status::kExist);
  EXPECT_FALSE(found(s.lookup(root, "n")).has_value());

  // Adding into a non-directory, or a missing inode.
  MetadataBatch into_file;
  into_file.add_entries.push_back({a, "x", a});
  EXPECT_EQ(s.apply(into_file), Status::kNotDir);
  MetadataBatch dangling;
  dangling.add_entries.push_back({root, "x", 424242});
  EXPECT_EQ(s.apply(dangling), Status::kStale);
}

TEST_P(MetadataStoreConformance, RenameStyleBatchReplacesTarget) {
  MetadataStore& s = store();
  InodeId root = s.root();
  InodeId a = add_file(s, root, "a");
  InodeId b = add_file(s, root, "b");
  MetadataBatch mv;  // rename a -> b, replacing b
  mv.remove_entries.push_back({root, "a"});
  mv.remove_entries.push_back({root, "b"});
  mv.add_entries.push_back({root, "b", a});
  mv.delete_inodes.push_back(b);
  ASSERT_EQ(s.apply(mv), Status::kOk);
  EXPECT_EQ(found(s.lookup(root, "b")), a);
  EXPECT_FALSE(found(s.lookup(root, "a")).has_value());
  EXPECT_FALSE(found(s.get(b)).has_value());
  auto l = ok(s.list(root, 0, 10));
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].cookie, 5u);
}

TEST_P(MetadataStoreConformance, DeletingDirectoryDropsItsEntries) {
  MetadataStore& s = store();
  InodeId root = s.root();
  InodeId sub = ok(s.allocate_id());
  MetadataBatch b;
  b.put_inodes.push_back(dir_record(sub, root));
  b.add_entries.push_back({root, "sub", sub});
  ASSERT_EQ(s.apply(b), Status::kOk);
  EXPECT_TRUE(ok(s.is_empty_dir(sub)));
  EXPECT_TRUE(ok(s.valid_cookie(sub, 0)));
  MetadataBatch rm;
  rm.remove_entries.push_back({root, "sub"});
  rm.delete_inodes.push_back(sub);
  ASSERT_EQ(s.apply(rm), Status::kOk);
  EXPECT_TRUE(ok(s.list(sub, 0, 10)).empty());
  EXPECT_FALSE(ok(s.valid_cookie(sub, 3)));
}

TEST_P(MetadataStoreConformance, ListHonoursMaxEntries) {
  MetadataStore& s = store();
  InodeId root = s.root();
  for (int i = 0; i < 5; ++i)
    add_file(s, root, "n" + std::to_string(i));
  EXPECT_EQ(ok(s.list(root, 0, 2)).size(), 2u);
  EXPECT_TRUE(ok(s.list(root, 0, 0)).empty());
  EXPECT_EQ(ok(s.list(root, 4, 100)).size(), 3u);
}

TEST_P(MetadataStoreConformance, ConcurrentAddsGetDistinctCookies) {
  MetadataStore& s = store();
  InodeId root = s.root();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i)
        add_file(s, root, std::to_string(t) + "_" + std::to_string(i));
    });
  }
  for (auto& th : threads)
    th.join();
  auto l = ok(s.list(root, 0, 10000));
  ASSERT_EQ(l.size(), 2000u);
  for (size_t i = 0; i < l.size(); ++i)
    EXPECT_EQ(l[i].cookie, 3 + i);
}

// ---- durable stores: what a close and an open keep ----------------------------------------

TEST_P(DurableMetadataStoreConformance, ReopenKeepsRecordsEntriesCookiesAndIds) {
  MetadataStore& s = store();
  InodeId root = s.root();
  InodeId sub = ok(s.allocate_id());
  MetadataBatch mk;
  mk.put_inodes.push_back(dir_record(sub, root));
  mk.add_entries.push_back({root, "sub", sub});
  ASSERT_EQ(s.apply(mk), Status::kOk);
  InodeId a = add_file(s, sub, "a");
  add_file(s, sub, "b");
  InodeId c = add_file(s, sub, "c");
  remove_name(s, sub, "b");
  auto rec = *found(s.get(a));
  rec.size = 12345;
  rec.symlink_target = "";
  rec.create_verifier = std::array<uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_EQ(s.put(rec), Status::kOk);
  MetadataBatch mv;  // rename c -> "c2"
  mv.remove_entries.push_back({sub, "c"});
  mv.add_entries.push_back({sub, "c2", c});
  ASSERT_EQ(s.apply(mv), Status::kOk);
  ASSERT_EQ(s.sync(), Status::kOk);
  const auto before = ok(s.list(sub, 0, 100));
  const InodeId last_id = ok(s.allocate_id());
  const uint64_t count = ok(s.inode_count());

  MetadataStore& t = reopen();
  EXPECT_EQ(ok(t.inode_count()), count);
  EXPECT_EQ(t.root(), root);
  EXPECT_EQ(found(t.lookup(root, "sub")), sub);
  EXPECT_EQ(found(t.lookup(sub, "a")), a);
  EXPECT_FALSE(found(t.lookup(sub, "b")).has_value());
  EXPECT_FALSE(found(t.lookup(sub, "c")).has_value());
  EXPECT_EQ(found(t.lookup(sub, "c2")), c);
  auto got = found(t.get(a));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size, 12345u);
  EXPECT_EQ(got->create_verifier, rec.create_verifier);
  EXPECT_EQ(got->mtime, rec.mtime);
  EXPECT_EQ(found(t.get(sub))->parent, root);
  // The same listing with the same cookies; the removed entry's cookie still resumes, and
  // no cookie is handed out twice.
  const auto after = ok(t.list(sub, 0, 100));
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].name, before[i].name);
    EXPECT_EQ(after[i].cookie, before[i].cookie);
  }
  EXPECT_TRUE(ok(t.valid_cookie(sub, 4)));
  add_file(t, sub, "d");
  EXPECT_GT(ok(t.list(sub, 0, 100)).back().cookie, before.back().cookie);
  // Ids are never handed out again, not even ones allocated and never used.
  EXPECT_GT(ok(t.allocate_id()), last_id);
}

// An UNSTABLE WRITE's record (put_unstable) is read back at once like put's; a durable
// store writes it at the next sync() or when it closes, and a record removed meanwhile is
// not brought back by that late write.
TEST_P(MetadataStoreConformance, UnstablePutIsVisibleAtOnce) {
  MetadataStore& s = store();
  InodeId a = add_file(s, s.root(), "a");
  auto rec = *found(s.get(a));
  rec.size = 4096;
  ASSERT_EQ(s.put_unstable(rec), Status::kOk);
  EXPECT_EQ(found(s.get(a))->size, 4096u);
  rec.size = 8192;
  ASSERT_EQ(s.put_unstable(rec), Status::kOk);
  EXPECT_EQ(found(s.get(a))->size, 8192u);
}

TEST_P(DurableMetadataStoreConformance, UnstablePutsAreKeptBySyncAndByAStop) {
  MetadataStore& s = store();
  InodeId a = add_file(s, s.root(), "a");
  InodeId b = add_file(s, s.root(), "b");
  auto ra = *found(s.get(a));
  ra.size = 777;
  ASSERT_EQ(s.put_unstable(ra), Status::kOk);
  ASSERT_EQ(s.sync(), Status::kOk);
  auto rb = *found(s.get(b));
  rb.size = 999;
  ASSERT_EQ(s.put_unstable(rb), Status::kOk);  // no sync: written when the store closes
  MetadataStore& t = reopen();
  EXPECT_EQ(found(t.get(a))->size, 777u);
  EXPECT_EQ(found(t.get(b))->size, 999u);
}

TEST_P(DurableMetadataStoreConformance, AnInodeRemovedAfterAnUnstablePutStaysRemoved) {
  MetadataStore& s = store();
  InodeId a = add_file(s, s.root(), "a");
  auto ra = *found(s.get(a));
  ra.size = 123;
  ASSERT_EQ(s.put_unstable(ra), Status::kOk);
  MetadataBatch rm;
  rm.remove_entries.push_back({s.root(), "a"});
  rm.delete_inodes.push_back(a);
  ASSERT_EQ(s.apply(rm), Status::kOk);
  ASSERT_EQ(s.sync(), Status::kOk);
  MetadataStore& t = reopen();
  EXPECT_FALSE(found(t.get(a)).has_value());
  EXPECT_FALSE(found(t.lookup(t.root(), "a")).has_value());
}

TEST_P(DurableMetadataStoreConformance, ReopenAfterManyChangesGivesTheSameTree) {
  MetadataStore& s = store();
  InodeId root = s.root();
  std::map<std::string, InodeId> expect;
  for (int i = 0; i < 2000; ++i)
    expect["f" + std::to_string(i)] = add_file(s, root, "f" + std::to_string(i));
  for (int i = 0; i < 2000; i += 3) {
    remove_name(s, root, "f" + std::to_string(i));
    expect.erase("f" + std::to_string(i));
  }
  // A clean close keeps what was applied, synced or not.
  MetadataStore& t = reopen();
  std::map<std::string, InodeId> seen;
  for (const auto& e : ok(t.list(root, 0, 10000)))
    seen[e.name] = e.id;
  EXPECT_EQ(seen, expect);
  size_t records = 0;
  t.for_each_inode([&](const InodeRecord&) { ++records; });
  EXPECT_EQ(records, ok(t.inode_count()));
}

TEST_P(MetadataStoreConformance, ForEachInodeVisitsEveryRecordOnce) {
  MetadataStore& s = store();
  InodeId root = s.root();
  std::set<InodeId> made{root};
  for (int i = 0; i < 200; ++i)
    made.insert(add_file(s, root, "x" + std::to_string(i)));
  std::multiset<InodeId> seen;
  s.for_each_inode([&](const InodeRecord& r) { seen.insert(r.id); });
  EXPECT_EQ(std::set<InodeId>(seen.begin(), seen.end()), made);
  EXPECT_EQ(seen.size(), made.size());
}

TEST_P(MetadataStoreConformance, ConcurrentChangesAndSyncs) {
  MetadataStore& s = store();
  InodeId root = s.root();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        add_file(s, root, "s" + std::to_string(t) + "_" + std::to_string(i));
        if (s.sync() != Status::kOk) ++failures;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ok(s.list(root, 0, 1000)).size(), 400u);
  if (s.durable()) {
    EXPECT_EQ(ok(reopen().list(root, 0, 1000)).size(), 400u);
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, MetadataStoreConformance, ::testing::Values("memory", "rocksdb"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Durable, DurableMetadataStoreConformance, ::testing::Values("rocksdb"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dfs::vfs
