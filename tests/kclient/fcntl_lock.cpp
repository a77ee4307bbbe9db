// POSIX byte-range locks through the NFS client (run in the kclient VM, linked statically):
// a write lock conflicts with another process's overlapping lock and not with a disjoint one,
// F_GETLK reports the holder, and unlocking frees the range. Exit status 0 when all hold.
//
// `fcntl_lock hold FILE READY RELEASE` keeps a file open with a write lock on bytes 0-99
// across a server restart: it locks, creates READY, waits (10 min at most) for RELEASE to
// appear, then checks that the open still writes and reads and that the lock is still held
// at the server (another process is refused it): what the client reclaimed.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

int set_lock(int fd, short type, off_t start, off_t len) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  return fcntl(fd, F_SETLK, &fl);
}

int child_checks(const char* path, pid_t holder, bool expect_locked) {
  int fd = open(path, O_RDWR);
  if (fd < 0) return 10;
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 50;
  fl.l_len = 10;
  if (fcntl(fd, F_GETLK, &fl) != 0) return 11;
  if (expect_locked) {
    if (fl.l_type != F_WRLCK || fl.l_pid != holder) return 12;
    if (set_lock(fd, F_WRLCK, 50, 10) == 0 || (errno != EAGAIN && errno != EACCES)) return 13;
    if (set_lock(fd, F_RDLCK, 50, 10) == 0) return 14;
    if (set_lock(fd, F_WRLCK, 200, 100) != 0) return 15;  // disjoint range
  } else {
    if (fl.l_type != F_UNLCK) return 16;
    if (set_lock(fd, F_WRLCK, 0, 100) != 0) return 17;
  }
  close(fd);
  return 0;
}

int run_child(const char* path, pid_t holder, bool expect_locked) {
  pid_t pid = fork();
  if (pid == 0) _exit(child_checks(path, holder, expect_locked));
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

bool exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int hold(const char* path, const char* ready, const char* release) {
  int fd = open(path, O_RDWR | O_CREAT, 0644);
  if (fd < 0) return 20;
  if (set_lock(fd, F_WRLCK, 0, 100) != 0) return 21;
  if (pwrite(fd, "held", 4, 0) != 4 || fsync(fd) != 0) return 22;
  int r = open(ready, O_WRONLY | O_CREAT, 0644);
  if (r < 0) return 23;
  close(r);
  const struct timespec tick = {0, 100 * 1000 * 1000};
  for (int i = 0; !exists(release); ++i) {
    if (i > 6000) return 24;  // 10 minutes
    nanosleep(&tick, nullptr);
  }
  // The same descriptor after the restart: no EIO (its open was reclaimed).
  char block[4096];
  std::memset(block, 'r', sizeof block);
  if (pwrite(fd, block, sizeof block, 4096) != static_cast<ssize_t>(sizeof block)) return 25;
  if (fsync(fd) != 0) return 26;
  char back[4096];
  if (pread(fd, back, sizeof back, 4096) != static_cast<ssize_t>(sizeof back)) return 27;
  if (std::memcmp(back, block, sizeof block) != 0) return 28;
  // Another process is refused the locked range: the server still has the lock.
  if (int rc = run_child(path, getpid(), true); rc != 0) return 30 + rc;
  close(fd);
  std::printf("fcntl hold: open and lock kept across the restart\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "hold") == 0) {
    int rc = hold(argv[2], argv[3], argv[4]);
    if (rc != 0) std::fprintf(stderr, "fcntl_lock hold: failed (%d, errno %d)\n", rc, errno);
    return rc;
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: fcntl_lock FILE\n");
    return 2;
  }
  int fd = open(argv[1], O_RDWR);
  if (fd < 0) return 3;
  if (set_lock(fd, F_WRLCK, 0, 100) != 0) return 4;
  if (int rc = run_child(argv[1], getpid(), true); rc != 0) {
    std::fprintf(stderr, "fcntl_lock: locked-range checks failed (%d)\n", rc);
    return rc;
  }
  // Downgrade part of the range, then release everything.
  if (set_lock(fd, F_RDLCK, 0, 50) != 0) return 5;
  if (set_lock(fd, F_UNLCK, 0, 0) != 0) return 6;
  if (int rc = run_child(argv[1], getpid(), false); rc != 0) {
    std::fprintf(stderr, "fcntl_lock: unlocked-range checks failed (%d)\n", rc);
    return rc;
  }
  close(fd);
  std::printf("fcntl: OK\n");
  return 0;
}
