#include "vfs/metadata/record_codec.h"

namespace dfs::vfs::codec {

namespace {

// Version of the record layout; a new field gets a new version and the decoder keeps reading
// the old ones.
constexpr uint8_t kRecordVersion = 1;

void put_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_time(std::string& out, const Timespec& t) {
  put_u64(out, static_cast<uint64_t>(t.sec));
  put_u32(out, t.nsec);
}

// Reads fixed-size fields off the front of a byte span; any read past the end fails the
// whole decode.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && at_ == b_.size(); }
  uint64_t u(size_t n) {
    if (!ok_ || b_.size() - at_ < n) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v = (v << 8) | b_[at_++];
    return v;
  }
  Timespec time() {
    Timespec t;
    t.sec = static_cast<int64_t>(u(8));
    t.nsec = static_cast<uint32_t>(u(4));
    return t;
  }
  std::string bytes(size_t n) {
    if (!ok_ || b_.size() - at_ < n) {
      ok_ = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(b_.data() + at_), n);
    at_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> b_;
  size_t at_ = 0;
  bool ok_ = true;
};

std::string id_key(char kind, uint64_t id) {
  std::string k(1, kind);
  put_u64(k, id);
  return k;
}

}  // namespace

std::string inode_key(InodeId id) {
  return id_key(kInodeKey, id);
}

std::string entry_key(InodeId dir, std::string_view name) {
  std::string k = id_key(kEntryKey, dir);
  k.append(name);
  return k;
}

std::string next_cookie_key(InodeId dir) {
  return id_key(kNextCookieKey, dir);
}

std::string id_limit_key() {
  return std::string(1, kIdLimitKey);
}

std::string u64_value(uint64_t v) {
  std::string out;
  put_u64(out, v);
  return out;
}

std::string entry_value(InodeId child, uint64_t cookie) {
  std::string out;
  put_u64(out, child);
  put_u64(out, cookie);
  return out;
}

std::string encode_record(const InodeRecord& r) {
  std::string out;
  out.reserve(128 + r.symlink_target.size());
  out.push_back(static_cast<char>(kRecordVersion));
  put_u64(out, r.id);
  out.push_back(static_cast<char>(r.type));
  put_u32(out, r.mode);
  put_u32(out, r.nlink);
  put_u32(out, r.uid);
  put_u32(out, r.gid);
  put_u64(out, r.size);
  put_time(out, r.atime);
  put_time(out, r.mtime);
  put_time(out, r.ctime);
  put_time(out, r.btime);
  put_u32(out, r.rdev.major);
  put_u32(out, r.rdev.minor);
  put_u64(out, r.change);
  put_u64(out, r.generation);
  put_u64(out, r.parent);
  put_u32(out, static_cast<uint32_t>(r.symlink_target.size()));
  out.append(r.symlink_target);
  out.push_back(r.create_verifier ? 1 : 0);
  if (r.create_verifier) out.append(r.create_verifier->begin(), r.create_verifier->end());
  return out;
}

std::optional<InodeRecord> decode_record(std::span<const uint8_t> bytes) {
  Reader in(bytes);
  if (in.u(1) != kRecordVersion) return std::nullopt;
  InodeRecord r;
  r.id = in.u(8);
  uint64_t type = in.u(1);
  if (type < static_cast<uint64_t>(FileType::kRegular) ||
      type > static_cast<uint64_t>(FileType::kFifo)) {
    return std::nullopt;
  }
  r.type = static_cast<FileType>(type);
  r.mode = static_cast<uint32_t>(in.u(4));
  r.nlink = static_cast<uint32_t>(in.u(4));
  r.uid = static_cast<uint32_t>(in.u(4));
  r.gid = static_cast<uint32_t>(in.u(4));
  r.size = in.u(8);
  r.atime = in.time();
  r.mtime = in.time();
  r.ctime = in.time();
  r.btime = in.time();
  r.rdev.major = static_cast<uint32_t>(in.u(4));
  r.rdev.minor = static_cast<uint32_t>(in.u(4));
  r.change = in.u(8);
  r.generation = in.u(8);
  r.parent = in.u(8);
  r.symlink_target = in.bytes(static_cast<size_t>(in.u(4)));
  if (in.u(1) == 1) {
    std::string v = in.bytes(8);
    if (in.ok()) {
      std::array<uint8_t, 8> verifier{};
      std::copy(v.begin(), v.end(), verifier.begin());
      r.create_verifier = verifier;
    }
  }
  if (!in.done() || r.id == kInvalidInode) return std::nullopt;
  return r;
}

std::optional<uint64_t> read_u64(std::string_view bytes, size_t at) {
  if (bytes.size() < at + 8) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  return v;
}

std::optional<EntryKey> parse_entry_key(std::string_view key) {
  if (key.size() < 10 || key[0] != kEntryKey) return std::nullopt;  // a name has 1+ bytes
  auto dir = read_u64(key, 1);
  if (!dir) return std::nullopt;
  return EntryKey{*dir, key.substr(9)};
}

}  // namespace dfs::vfs::codec
