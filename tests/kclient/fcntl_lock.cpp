// POSIX byte-range locks through the NFS client (run in the kclient VM, linked statically):
// a write lock conflicts with another process's overlapping lock and not with a disjoint one,
// F_GETLK reports the holder, and unlocking frees the range. Exit status 0 when all hold.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

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

}  // namespace

int main(int argc, char** argv) {
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
