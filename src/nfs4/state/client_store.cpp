#include "nfs4/state/client_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace dfs::nfs4::state {

namespace {

// File names: two FNV-1a hashes of the owner (an owner is up to 1 KiB, longer than a file
// name may be); the file holds the owner itself, which is what load() returns.
uint64_t fnv1a(const std::vector<uint8_t>& bytes, uint64_t seed) {
  uint64_t h = seed;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

bool sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

ClientStore::ClientStore(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("client records " + dir_ + ": " + ec.message());
}

std::string ClientStore::path_of(const std::vector<uint8_t>& owner) const {
  char name[40];
  std::snprintf(name, sizeof name, "%016llx%016llx",
                static_cast<unsigned long long>(fnv1a(owner, 14695981039346656037ull)),
                static_cast<unsigned long long>(fnv1a(owner, 0x9e3779b97f4a7c15ull)));
  return dir_ + "/" + name;
}

std::vector<std::vector<uint8_t>> ClientStore::load() const {
  std::vector<std::vector<uint8_t>> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() != 32) continue;  // ".", "..", and temporaries of a write cut short
    std::ifstream in(dir_ + "/" + name, std::ios::binary);
    std::vector<uint8_t> owner((std::istreambuf_iterator<char>(in)), {});
    if (!owner.empty()) out.push_back(std::move(owner));
  }
  ::closedir(d);
  return out;
}

bool ClientStore::record(const std::vector<uint8_t>& owner) {
  std::lock_guard lock(mu_);
  const std::string path = path_of(owner);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  if (ok) {
    ok = ::write(fd, owner.data(), owner.size()) == static_cast<ssize_t>(owner.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
  }
  ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0 && sync_dir(dir_);
  if (!ok) spdlog::error("client records: cannot record a client in {}", dir_);
  return ok;
}

void ClientStore::forget(const std::vector<uint8_t>& owner) {
  std::lock_guard lock(mu_);
  ::unlink(path_of(owner).c_str());
}

}  // namespace dfs::nfs4::state
