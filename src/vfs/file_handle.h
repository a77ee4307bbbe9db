#pragma once
// File handles: which file system (by its index in the namespace) and which inode, plus the
// inode's generation so a handle to a deleted-and-reused inode is recognisably stale. The
// byte layout is ours; clients treat it as opaque (RFC 5661 §4.2).

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "vfs/types.h"

namespace dfs::vfs {

struct FileHandle {
  static constexpr uint8_t kFormat = 1;
  static constexpr size_t kSize = 24;

  uint32_t fs_index = 0;
  InodeId inode = kInvalidInode;
  uint64_t generation = 0;

  std::array<uint8_t, kSize> encode() const {
    std::array<uint8_t, kSize> out{};
    out[0] = kFormat;
    put(out.data() + 4, fs_index);
    put(out.data() + 8, inode);
    put(out.data() + 16, generation);
    return out;
  }
  // nullopt for bytes that are not a handle of ours (the protocol's BADHANDLE).
  static std::optional<FileHandle> decode(std::span<const uint8_t> bytes) {
    if (bytes.size() != kSize || bytes[0] != kFormat || bytes[1] || bytes[2] || bytes[3]) {
      return std::nullopt;
    }
    FileHandle h;
    h.fs_index = get<uint32_t>(bytes.data() + 4);
    h.inode = get<uint64_t>(bytes.data() + 8);
    h.generation = get<uint64_t>(bytes.data() + 16);
    if (h.inode == kInvalidInode) return std::nullopt;
    return h;
  }

 private:
  template <class T>
  static void put(uint8_t* p, T v) {
    for (size_t i = 0; i < sizeof(T); ++i)
      p[i] = static_cast<uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
  }
  template <class T>
  static T get(const uint8_t* p) {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v = static_cast<T>((v << 8) | p[i]);
    return v;
  }
};

}  // namespace dfs::vfs
