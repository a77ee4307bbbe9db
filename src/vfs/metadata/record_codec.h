#pragma once
// The byte form of inode records and of the keys a durable metadata store writes. Keys put
// ids big-endian after a one-byte kind, so a store's key order groups records, and a
// directory's entries sit together under its id.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vfs/metadata_store.h"

namespace dfs::vfs::codec {

// Key kinds.
inline constexpr char kInodeKey = 'i';       // i + id             -> record
inline constexpr char kEntryKey = 'e';       // e + dir + name     -> child + cookie
inline constexpr char kNextCookieKey = 'c';  // c + dir            -> next cookie
inline constexpr char kIdLimitKey = 'n';     // n                  -> id limit

std::string inode_key(InodeId id);
std::string entry_key(InodeId dir, std::string_view name);
std::string next_cookie_key(InodeId dir);
std::string id_limit_key();

std::string u64_value(uint64_t v);
std::string entry_value(InodeId child, uint64_t cookie);

std::string encode_record(const InodeRecord& r);
// nullopt for bytes that are not a record this version wrote (a corrupt store).
std::optional<InodeRecord> decode_record(std::span<const uint8_t> bytes);

// Reading keys and values back; nullopt when malformed.
std::optional<uint64_t> read_u64(std::string_view bytes, size_t at = 0);
struct EntryKey {
  InodeId dir;
  std::string_view name;
};
std::optional<EntryKey> parse_entry_key(std::string_view key);

}  // namespace dfs::vfs::codec
