#pragma once
// A shared mutex under which a waiting exclusive locker holds back new shared lockers.
//
// Why: std::shared_mutex in libstdc++ is a glibc rwlock with the default kind, which lets
// a new reader in whenever another reader holds the lock. Where shared holders come one after
// another without a gap (sixteen clients writing one file, each WRITE taking its file's lock
// shared), an exclusive locker (a truncation, a remove) would wait for as long as they keep
// coming. glibc's "prefer writer, non-recursive" kind makes new shared lockers queue behind
// a waiting exclusive one, so it gets the lock once the holders in flight are done. The
// non-recursive kind is why a thread must not take it shared twice: a writer queued between
// the two would deadlock it.

#include <pthread.h>

#include <system_error>

namespace dfs::util {

class WriterFirstSharedMutex {
 public:
  WriterFirstSharedMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    const int rc = pthread_rwlock_init(&mu_, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_rwlock_init");
  }
  ~WriterFirstSharedMutex() { pthread_rwlock_destroy(&mu_); }
  WriterFirstSharedMutex(const WriterFirstSharedMutex&) = delete;
  WriterFirstSharedMutex& operator=(const WriterFirstSharedMutex&) = delete;

  void lock() { check(pthread_rwlock_wrlock(&mu_), "pthread_rwlock_wrlock"); }
  bool try_lock() { return pthread_rwlock_trywrlock(&mu_) == 0; }
  void unlock() { pthread_rwlock_unlock(&mu_); }

  void lock_shared() { check(pthread_rwlock_rdlock(&mu_), "pthread_rwlock_rdlock"); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&mu_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&mu_); }

 private:
  // EDEADLK (this thread already holds it exclusively) is a bug in the caller, as it is for
  // std::shared_mutex, which throws the same way.
  static void check(int rc, const char* what) {
    if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
  }

  pthread_rwlock_t mu_;
};

}  // namespace dfs::util
