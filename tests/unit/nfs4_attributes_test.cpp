// NFSv4 attributes on the wire (RFC 5661 §5): encoding for GETATTR, decoding the settable ones
// for SETATTR / CREATE / OPEN, and the comparison behind VERIFY / NVERIFY.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nfs4/attributes.h"

namespace dfs::nfs4 {
namespace {

// Only fsid() and statfs() matter to attribute encoding; the rest refuses.
class FakeFs : public vfs::FileSystem {
 public:
  uint64_t fsid() const override { return 0x1234; }
  vfs::InodeId root() override { return 1; }
  bool read_only() const override { return false; }
  vfs::Result<vfs::Attributes> getattr(vfs::InodeId) override { return vfs::Status::kNotSupp; }
  vfs::Result<vfs::Attributes> setattr(const vfs::Identity&, vfs::InodeId,
                                       const vfs::SetAttributes&,
                                       std::optional<vfs::Timespec>) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<uint32_t> access(const vfs::Identity&, vfs::InodeId, uint32_t) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<vfs::InodeId> lookup(const vfs::Identity&, vfs::InodeId, std::string_view) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<vfs::InodeId> parent(vfs::InodeId) override { return vfs::Status::kNotSupp; }
  vfs::Result<vfs::CreateResult> create_file(const vfs::Identity&, vfs::InodeId, std::string_view,
                                             vfs::CreateMode, const vfs::SetAttributes&,
                                             const std::array<uint8_t, 8>&) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<vfs::CreateResult> create_node(const vfs::Identity&, vfs::InodeId, std::string_view,
                                             const vfs::NewNode&) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<vfs::DirChange> remove(const vfs::Identity&, vfs::InodeId,
                                     std::string_view) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<vfs::RenameResult> rename(const vfs::Identity&, vfs::InodeId, std::string_view,
                                        vfs::InodeId, std::string_view) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<vfs::DirChange> link(const vfs::Identity&, vfs::InodeId, vfs::InodeId,
                                   std::string_view) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<std::string> readlink(vfs::InodeId) override { return vfs::Status::kNotSupp; }
  vfs::Result<Listing> readdir(const vfs::Identity&, vfs::InodeId, uint64_t, size_t) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<vfs::ReadResult> read(vfs::InodeId, uint64_t, size_t) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Result<vfs::WriteResult> write(vfs::InodeId, uint64_t, std::span<const uint8_t>,
                                      bool) override {
    return vfs::Status::kNotSupp;
  }
  vfs::Status commit(vfs::InodeId) override { return vfs::Status::kNotSupp; }
  vfs::Result<vfs::FsStats> statfs() override {
    ++statfs_calls;
    if (statfs_fails) return vfs::Status::kIo;
    return vfs::FsStats{1000, 600, 500, 100, 60, 50};
  }

  int statfs_calls = 0;
  bool statfs_fails = false;  // a store that cannot count its files
};

class AttrTest : public ::testing::Test {
 protected:
  AttrTest() {
    attrs_.id = 77;
    attrs_.type = vfs::FileType::kCharDevice;
    attrs_.mode = 04755;
    attrs_.nlink = 2;
    attrs_.uid = 1000;
    attrs_.gid = 100;
    attrs_.size = 0x1'0000'0001ull;
    attrs_.space_used = 8192;
    attrs_.atime = {1600000000, 1};
    attrs_.mtime = {1700000000, 123456789};
    attrs_.ctime = {1700000001, 2};
    attrs_.btime = {1500000000, 3};
    attrs_.rdev = {8, 17};
    attrs_.change = 99;
    fh_.len = 4;
    fh_.data = {9, 9, 9, 9};
    src_.attrs = &attrs_;
    src_.fh = &fh_;
    src_.fs = &fs_;
    src_.settings = &settings_;
    src_.mounted_on_fileid = 5;
  }

  vfs::Attributes attrs_;
  Fh fh_;
  FakeFs fs_;
  Settings settings_;
  AttrSource src_;
};

TEST_F(AttrTest, EncodesRequestedSupportedAttributesInBitOrder) {
  // Requested out of order, with a write-only attribute and an unsupported one (ACL).
  Bitmap req{FATTR4_TIME_MODIFY, FATTR4_RAWDEV, FATTR4_OWNER,           FATTR4_MODE, FATTR4_FSID,
             FATTR4_SIZE,        FATTR4_TYPE,   FATTR4_TIME_MODIFY_SET, FATTR4_ACL,  100};
  Fattr out;
  encode_attrs(req, src_, out);
  Bitmap want{FATTR4_TYPE,  FATTR4_SIZE,   FATTR4_FSID,       FATTR4_MODE,
              FATTR4_OWNER, FATTR4_RAWDEV, FATTR4_TIME_MODIFY};
  EXPECT_EQ(out.mask, want);
  EXPECT_FALSE(out.mask.test(FATTR4_TIME_MODIFY_SET));
  EXPECT_FALSE(out.mask.test(FATTR4_ACL));

  xdr::Decoder d(out.vals.span());
  uint32_t type = 0, mode = 0, major = 0, minor = 0, nsec = 0;
  uint64_t size = 0, fsid_major = 0, fsid_minor = 0;
  std::string owner;
  int64_t sec = 0;
  ASSERT_TRUE(d(type, size, fsid_major, fsid_minor, mode, owner, major, minor, sec, nsec));
  EXPECT_EQ(d.remaining(), 0u);
  EXPECT_EQ(type, static_cast<uint32_t>(NF4CHR));
  EXPECT_EQ(size, 0x1'0000'0001ull);
  EXPECT_EQ(fsid_major, 0x1234u);
  EXPECT_EQ(fsid_minor, 0u);
  EXPECT_EQ(mode, 04755u);
  EXPECT_EQ(owner, "1000");
  EXPECT_EQ(major, 8u);
  EXPECT_EQ(minor, 17u);
  EXPECT_EQ(sec, 1700000000);
  EXPECT_EQ(nsec, 123456789u);

  // On the wire: bitmap4 words then the opaque values.
  auto wire = xdr::encode_to_buffer(out);
  xdr::Decoder w(wire.span());
  uint32_t nwords = 0, w0 = 0, w1 = 0, len = 0;
  ASSERT_TRUE(w(nwords, w0, w1, len));
  EXPECT_EQ(nwords, 2u);
  EXPECT_EQ(w0, (1u << FATTR4_TYPE) | (1u << FATTR4_SIZE) | (1u << FATTR4_FSID));
  EXPECT_EQ(w1, (1u << (FATTR4_MODE - 32)) | (1u << (FATTR4_OWNER - 32)) |
                    (1u << (FATTR4_RAWDEV - 32)) | (1u << (FATTR4_TIME_MODIFY - 32)));
  EXPECT_EQ(len, out.vals.size());
}

TEST_F(AttrTest, WriteOnlyAttributesAreNeverEncoded) {
  Fattr out;
  encode_attrs(Bitmap{FATTR4_TIME_ACCESS_SET, FATTR4_TIME_MODIFY_SET}, src_, out);
  EXPECT_TRUE(out.mask.empty());
  EXPECT_EQ(out.vals.size(), 0u);
  EXPECT_FALSE(supported_attrs().test(FATTR4_ACL));
  EXPECT_TRUE(supported_attrs().test(FATTR4_TIME_MODIFY_SET));
}

TEST_F(AttrTest, SupportedAttrsAndSettingsBackedValues) {
  settings_.lease_time = 33;
  src_.rdattr_error = NFS4ERR_ACCESS;
  Fattr out;
  encode_attrs(Bitmap{FATTR4_SUPPORTED_ATTRS, FATTR4_LEASE_TIME, FATTR4_RDATTR_ERROR,
                      FATTR4_FILEHANDLE, FATTR4_FILEID, FATTR4_MOUNTED_ON_FILEID},
               src_, out);
  xdr::Decoder d(out.vals.span());
  Bitmap supported;
  uint32_t lease = 0, err = 0;
  Fh fh;
  uint64_t fileid = 0, mounted_on = 0;
  ASSERT_TRUE(d(supported, lease, err, fh, fileid, mounted_on));
  EXPECT_EQ(d.remaining(), 0u);
  EXPECT_EQ(supported, supported_attrs());
  EXPECT_EQ(lease, 33u);
  EXPECT_EQ(err, static_cast<uint32_t>(NFS4ERR_ACCESS));
  EXPECT_EQ(fh, fh_);
  EXPECT_EQ(fileid, 77u);
  EXPECT_EQ(mounted_on, 5u);
}

TEST_F(AttrTest, FileSystemStatsAreFetchedOnceAndOnlyWhenAsked) {
  Fattr out;
  encode_attrs(Bitmap{FATTR4_TYPE, FATTR4_SIZE, FATTR4_MODE}, src_, out);
  EXPECT_EQ(fs_.statfs_calls, 0);
  encode_attrs(Bitmap{FATTR4_FILES_AVAIL, FATTR4_FILES_TOTAL, FATTR4_SPACE_AVAIL, FATTR4_SPACE_FREE,
                      FATTR4_SPACE_TOTAL},
               src_, out);
  EXPECT_EQ(fs_.statfs_calls, 1);
  xdr::Decoder d(out.vals.span());
  uint64_t files_avail = 0, files_total = 0, avail = 0, free = 0, total = 0;
  ASSERT_TRUE(d(files_avail, files_total, avail, free, total));
  EXPECT_EQ(files_avail, 50u);
  EXPECT_EQ(files_total, 100u);
  EXPECT_EQ(avail, 500u);
  EXPECT_EQ(free, 600u);
  EXPECT_EQ(total, 1000u);
}

// A store that cannot count (its reads fail) fails the attributes that need the counts,
// whole, and only those: the rest of an object's attributes are still answered.
TEST_F(AttrTest, FileSystemStatsThatCannotBeReadFailTheEncoding) {
  fs_.statfs_fails = true;
  Fattr out;
  EXPECT_EQ(encode_attrs(Bitmap{FATTR4_TYPE, FATTR4_SPACE_AVAIL}, src_, out), NFS4ERR_IO);
  EXPECT_TRUE(out.mask.empty());
  EXPECT_EQ(out.vals.size(), 0u);
  EXPECT_EQ(encode_attrs(Bitmap{FATTR4_TYPE, FATTR4_SIZE}, src_, out), NFS4_OK);
  EXPECT_EQ(out.mask, (Bitmap{FATTR4_TYPE, FATTR4_SIZE}));
  bool same = false;
  Fattr given;
  given.mask = Bitmap{FATTR4_FILES_FREE};
  EXPECT_EQ(compare_attrs(given, src_, same), NFS4ERR_IO);
}

TEST_F(AttrTest, MaxAttrSizeBoundsTheEncoding) {
  attrs_.uid = UINT32_MAX;  // the longest numeric owner
  attrs_.gid = UINT32_MAX;
  fh_.len = kFhSize;
  Bitmap all = supported_attrs();
  Fattr out;
  encode_attrs(all, src_, out);
  auto wire = xdr::encode_to_buffer(out);
  EXPECT_LE(wire.size(), max_attr_size(all));
}

// Builds a settable fattr4 from a mask and an encoder callback.
template <class F>
Fattr make_fattr(Bitmap mask, F fill) {
  Fattr f;
  f.mask = mask;
  xdr::Encoder e(f.vals);
  fill(e);
  return f;
}

TEST(AttrDecodeSettable, AllSettableAttributes) {
  auto in = make_fattr(Bitmap{FATTR4_SIZE, FATTR4_MODE, FATTR4_OWNER, FATTR4_OWNER_GROUP,
                              FATTR4_TIME_ACCESS_SET, FATTR4_TIME_MODIFY_SET},
                       [](xdr::Encoder& e) {
                         e.u64(4096);
                         e.u32(0640);
                         e.string("1000");
                         e.string("100@example.com");
                         e.u32(SET_TO_SERVER_TIME4);
                         e.u32(SET_TO_CLIENT_TIME4);
                         e.i64(1700000000);
                         e.u32(500);
                       });
  vfs::SetAttributes out;
  ASSERT_EQ(decode_settable(in, out), NFS4_OK);
  EXPECT_EQ(out.size, std::optional<uint64_t>(4096));
  EXPECT_EQ(out.mode, std::optional<uint32_t>(0640));
  EXPECT_EQ(out.uid, std::optional<uint32_t>(1000));
  EXPECT_EQ(out.gid, std::optional<uint32_t>(100));
  EXPECT_EQ(out.atime_how, vfs::SetAttributes::TimeHow::kServerTime);
  EXPECT_EQ(out.mtime_how, vfs::SetAttributes::TimeHow::kClientTime);
  EXPECT_EQ(out.mtime, (vfs::Timespec{1700000000, 500}));
}

TEST(AttrDecodeSettable, NothingSetLeavesEverythingUnchanged) {
  vfs::SetAttributes out;
  ASSERT_EQ(decode_settable(Fattr{}, out), NFS4_OK);
  EXPECT_TRUE(out.empty());
  auto in = make_fattr(Bitmap{FATTR4_MODE}, [](xdr::Encoder& e) { e.u32(07777); });
  ASSERT_EQ(decode_settable(in, out), NFS4_OK);
  EXPECT_EQ(out.mode, std::optional<uint32_t>(07777));
  EXPECT_FALSE(out.size.has_value());
  EXPECT_FALSE(out.uid.has_value());
  EXPECT_EQ(out.atime_how, vfs::SetAttributes::TimeHow::kDontChange);
}

TEST(AttrDecodeSettable, UnsupportedAttributeIsAttrNotSupp) {
  vfs::SetAttributes out;
  auto acl = make_fattr(Bitmap{FATTR4_ACL}, [](xdr::Encoder& e) { e.u32(0); });
  EXPECT_EQ(decode_settable(acl, out), NFS4ERR_ATTRNOTSUPP);
  auto hidden = make_fattr(Bitmap{FATTR4_MODE, 25 /* hidden */}, [](xdr::Encoder& e) {
    e.u32(0644);
    e.boolean(true);
  });
  EXPECT_EQ(decode_settable(hidden, out), NFS4ERR_ATTRNOTSUPP);

  // A bit beyond the words the server knows (from the wire) is unsupported too.
  xdr::ByteBuffer wire;
  xdr::Encoder e(wire);
  e.u32(5);
  for (int i = 0; i < 4; ++i)
    e.u32(0);
  e.u32(1);  // attribute 128
  e.u32(0);  // empty values
  Fattr far;
  ASSERT_TRUE(xdr::decode_exact(wire.span(), far));
  EXPECT_TRUE(far.mask.has_unknown());
  EXPECT_EQ(decode_settable(far, out), NFS4ERR_ATTRNOTSUPP);
}

TEST(AttrDecodeSettable, ReadOnlyAttributeIsInval) {
  vfs::SetAttributes out;
  auto type = make_fattr(Bitmap{FATTR4_TYPE}, [](xdr::Encoder& e) { e.u32(NF4REG); });
  EXPECT_EQ(decode_settable(type, out), NFS4ERR_INVAL);
  auto mtime = make_fattr(Bitmap{FATTR4_TIME_MODIFY}, [](xdr::Encoder& e) {
    e.i64(1);
    e.u32(0);
  });
  EXPECT_EQ(decode_settable(mtime, out), NFS4ERR_INVAL);
}

TEST(AttrDecodeSettable, BadValuesAreInval) {
  vfs::SetAttributes out;
  auto mode = make_fattr(Bitmap{FATTR4_MODE}, [](xdr::Encoder& e) { e.u32(010000); });
  EXPECT_EQ(decode_settable(mode, out), NFS4ERR_INVAL);
  auto nsec = make_fattr(Bitmap{FATTR4_TIME_MODIFY_SET}, [](xdr::Encoder& e) {
    e.u32(SET_TO_CLIENT_TIME4);
    e.i64(5);
    e.u32(1000000000);
  });
  EXPECT_EQ(decode_settable(nsec, out), NFS4ERR_INVAL);
  auto nsec_ok = make_fattr(Bitmap{FATTR4_TIME_ACCESS_SET}, [](xdr::Encoder& e) {
    e.u32(SET_TO_CLIENT_TIME4);
    e.i64(-5);  // before 1970 is a valid time
    e.u32(999999999);
  });
  vfs::SetAttributes ok;
  ASSERT_EQ(decode_settable(nsec_ok, ok), NFS4_OK);
  EXPECT_EQ(ok.atime, (vfs::Timespec{-5, 999999999}));
}

TEST(AttrDecodeSettable, Owners) {
  auto with_owner = [](const std::string& s) {
    return make_fattr(Bitmap{FATTR4_OWNER}, [&](xdr::Encoder& e) { e.string(s); });
  };
  vfs::SetAttributes out;
  EXPECT_EQ(decode_settable(with_owner("abc"), out), NFS4ERR_BADOWNER);
  EXPECT_EQ(decode_settable(with_owner(""), out), NFS4ERR_BADOWNER);
  EXPECT_EQ(decode_settable(with_owner("-1"), out), NFS4ERR_BADOWNER);
  EXPECT_EQ(decode_settable(with_owner("99999999999"), out), NFS4ERR_BADOWNER);
  EXPECT_EQ(decode_settable(with_owner("12ab"), out), NFS4ERR_BADOWNER);
  ASSERT_EQ(decode_settable(with_owner("1000@domain"), out), NFS4_OK);
  EXPECT_EQ(out.uid, std::optional<uint32_t>(1000));
  ASSERT_EQ(decode_settable(with_owner("root"), out), NFS4_OK);
  EXPECT_EQ(out.uid, std::optional<uint32_t>(0));

  uint32_t id = 1;
  EXPECT_TRUE(parse_owner("nobody@x", id));
  EXPECT_EQ(id, 65534u);
  EXPECT_TRUE(parse_owner("4294967295", id));
  EXPECT_EQ(id, UINT32_MAX);
  EXPECT_FALSE(parse_owner("4294967296", id));
  EXPECT_FALSE(parse_owner("@domain", id));
}

TEST(AttrDecodeSettable, MalformedValuesAreBadXdr) {
  vfs::SetAttributes out;
  auto truncated = make_fattr(Bitmap{FATTR4_SIZE}, [](xdr::Encoder& e) { e.u32(1); });
  EXPECT_EQ(decode_settable(truncated, out), NFS4ERR_BADXDR);
  auto missing = make_fattr(Bitmap{FATTR4_SIZE, FATTR4_MODE}, [](xdr::Encoder& e) { e.u64(1); });
  EXPECT_EQ(decode_settable(missing, out), NFS4ERR_BADXDR);
  auto trailing = make_fattr(Bitmap{FATTR4_MODE}, [](xdr::Encoder& e) {
    e.u32(0644);
    e.u32(0);
  });
  EXPECT_EQ(decode_settable(trailing, out), NFS4ERR_BADXDR);
  auto bad_how = make_fattr(Bitmap{FATTR4_TIME_MODIFY_SET}, [](xdr::Encoder& e) { e.u32(7); });
  EXPECT_EQ(decode_settable(bad_how, out), NFS4ERR_BADXDR);
  auto long_owner = make_fattr(
      Bitmap{FATTR4_OWNER}, [](xdr::Encoder& e) { e.string(std::string(kOpaqueLimit + 1, '1')); });
  EXPECT_EQ(decode_settable(long_owner, out), NFS4ERR_BADXDR);
}

TEST_F(AttrTest, CompareEqualAndNotEqual) {
  Bitmap req{FATTR4_SIZE, FATTR4_MODE, FATTR4_OWNER, FATTR4_TIME_MODIFY};
  Fattr given;
  encode_attrs(req, src_, given);
  bool same = false;
  ASSERT_EQ(compare_attrs(given, src_, same), NFS4_OK);
  EXPECT_TRUE(same);

  attrs_.size += 1;
  same = true;
  ASSERT_EQ(compare_attrs(given, src_, same), NFS4_OK);
  EXPECT_FALSE(same);

  attrs_.size -= 1;
  attrs_.mtime.nsec += 1;
  ASSERT_EQ(compare_attrs(given, src_, same), NFS4_OK);
  EXPECT_FALSE(same);
}

TEST_F(AttrTest, CompareRefusesWriteOnlyAndUnsupported) {
  bool same = false;
  auto wo = make_fattr(Bitmap{FATTR4_TIME_MODIFY_SET},
                       [](xdr::Encoder& e) { e.u32(SET_TO_SERVER_TIME4); });
  EXPECT_EQ(compare_attrs(wo, src_, same), NFS4ERR_INVAL);
  auto rderr = make_fattr(Bitmap{FATTR4_RDATTR_ERROR}, [](xdr::Encoder& e) { e.u32(0); });
  EXPECT_EQ(compare_attrs(rderr, src_, same), NFS4ERR_INVAL);
  auto acl = make_fattr(Bitmap{FATTR4_ACL}, [](xdr::Encoder& e) { e.u32(0); });
  EXPECT_EQ(compare_attrs(acl, src_, same), NFS4ERR_ATTRNOTSUPP);
}

TEST(AttrBitmap, EncodingTrimsTrailingZeroWordsAndDecodesBack) {
  auto enc = xdr::encode_to_buffer(Bitmap{FATTR4_TYPE});
  EXPECT_EQ(enc.size(), 8u);  // one word
  auto empty = xdr::encode_to_buffer(Bitmap{});
  EXPECT_EQ(empty.size(), 4u);
  Bitmap b{FATTR4_SIZE, FATTR4_SUPPATTR_EXCLCREAT};
  Bitmap back;
  ASSERT_TRUE(xdr::decode_exact(xdr::encode_to_buffer(b).span(), back));
  EXPECT_EQ(back, b);
  std::vector<uint32_t> bits;
  back.for_each([&](uint32_t bit) { bits.push_back(bit); });
  EXPECT_EQ(bits, (std::vector<uint32_t>{FATTR4_SIZE, FATTR4_SUPPATTR_EXCLCREAT}));
}

}  // namespace
}  // namespace dfs::nfs4
