/*
 * The floor of the filesystem object store on this machine: the store's pattern of system calls, in C, with
 * nothing else running in the process. Each of LANES threads creates FILES files of 100 bytes, in batches of
 * BATCH, all ending up in one shared directory (DIR/day), and prints the CPU time per file it spent (user +
 * system, getrusage RUSAGE_THREAD); the program prints the files per second of wall time.
 *
 *   gcc -O2 -pthread -o /tmp/durable-files sluice-bench/native/durable-files.c
 *   /tmp/durable-files DIR LANES FILES BATCH SYNC [MODE]
 *
 * MODE 0 (default), as FilesystemObjectStore's lanes do: each file is written in the lane's own temporary
 *   directory (DIR/.tmp-N), and renamed into DIR/day in the next batch, after the batch that wrote it was
 *   flushed.
 * MODE 1: each file is created directly under its final name (not atomic: a reader may see it half written).
 * MODE 2: O_TMPFILE in DIR/day, then linkat(2) through /proc/self/fd under its final name.
 * MODE 3: as the store would with O_TMPFILE: each file is written to an unnamed file (O_TMPFILE in the lane's
 *   directory) whose descriptor stays open, and linked under its final name in DIR/day with linkat(2) in the
 *   next batch, after the batch that wrote it was flushed; then closed.
 * SYNC 1: one syncfs(2) per batch (the store's durability); SYNC 0: none (the kernel writes back later, on its
 *   own threads, which the per-file figure then leaves out).
 * DIR must not exist yet, or be empty; use a fresh one per run.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *root;
static int files, batch, sync_each_batch, mode;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void check(int ok, const char *what, const char *path) {
  if (!ok) {
    perror(what);
    fprintf(stderr, "  on %s\n", path);
    exit(1);
  }
}

static void final_name(char *out, size_t size, long lane, long i) {
  snprintf(out, size, "%s/day/%016lx%08ld.json", root, (unsigned long)lane * 0x9e3779b97f4a7c15UL, i);
}

static void temp_name(char *out, size_t size, long lane, long i) {
  snprintf(out, size, "%s/.tmp-%ld/t%ld", root, lane, i);
}

static void write_file(int fd, const char *content, const char *path) {
  check(write(fd, content, 100) == 100, "write", path);
  check(close(fd) == 0, "close", path);
}

static void *lane(void *arg) {
  long id = (long)arg;
  char a[600], b[600], content[100], dir[512];
  memset(content, 'x', sizeof content);
  snprintf(dir, sizeof dir, "%s/.tmp-%ld", root, id);
  check(mkdir(dir, 0755) == 0, "mkdir", dir);
  snprintf(dir, sizeof dir, "%s/day", root);
  int rootfd = open(root, O_RDONLY | O_DIRECTORY);
  check(rootfd >= 0, "open", root);
  long done = 0, previous = -1, previous_count = 0;
  int *fds = calloc(2 * (size_t)batch, sizeof(int)); /* mode 3: this batch's and the previous one's */
  char lanedir[512];
  snprintf(lanedir, sizeof lanedir, "%s/.tmp-%ld", root, id);
  while (done < files || previous >= 0) {
    long count = done + batch <= files ? batch : files - done;
    for (long i = done; i < done + count; i++) {
      if (mode == 0) {
        temp_name(a, sizeof a, id, i);
        int fd = open(a, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        check(fd >= 0, "open", a);
        write_file(fd, content, a);
      } else if (mode == 1) {
        final_name(b, sizeof b, id, i);
        int fd = open(b, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        check(fd >= 0, "open", b);
        write_file(fd, content, b);
      } else if (mode == 3) {
        int fd = open(lanedir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        check(fd >= 0, "open O_TMPFILE", lanedir);
        check(write(fd, content, 100) == 100, "write", lanedir);
        fds[(i / batch % 2) * batch + i % batch] = fd;
      } else {
        final_name(b, sizeof b, id, i);
        int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        check(fd >= 0, "open O_TMPFILE", dir);
        check(write(fd, content, 100) == 100, "write", dir);
        snprintf(a, sizeof a, "/proc/self/fd/%d", fd);
        check(linkat(AT_FDCWD, a, AT_FDCWD, b, AT_SYMLINK_FOLLOW) == 0, "linkat", b);
        check(close(fd) == 0, "close", b);
      }
    }
    if (mode == 3) {
      for (long i = previous; previous >= 0 && i < previous + previous_count; i++) {
        int fd = fds[(i / batch % 2) * batch + i % batch];
        final_name(b, sizeof b, id, i);
        snprintf(a, sizeof a, "/proc/self/fd/%d", fd);
        check(linkat(AT_FDCWD, a, AT_FDCWD, b, AT_SYMLINK_FOLLOW) == 0, "linkat", b);
        check(close(fd) == 0, "close", b);
      }
      previous = count > 0 ? done : -1;
      previous_count = count;
    }
    if (mode == 0) {
      for (long i = previous; previous >= 0 && i < previous + previous_count; i++) {
        temp_name(a, sizeof a, id, i);
        final_name(b, sizeof b, id, i);
        check(rename(a, b) == 0, "rename", b);
      }
      previous = count > 0 ? done : -1;
      previous_count = count;
    }
    if (sync_each_batch) {
      check(syncfs(rootfd) == 0, "syncfs", root);
    }
    done += count;
  }
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  double user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  double sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  printf("lane %ld: %.1f us of CPU per file (system %.1f)\n", id, (user + sys) * 1e6 / files, sys * 1e6 / files);
  close(rootfd);
  free(fds);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s DIR LANES FILES BATCH SYNC [MODE]  (see the comment at the top)\n", argv[0]);
    return 2;
  }
  root = argv[1];
  int lanes = atoi(argv[2]);
  files = atoi(argv[3]);
  batch = atoi(argv[4]);
  sync_each_batch = atoi(argv[5]);
  mode = argc > 6 ? atoi(argv[6]) : 0;
  if (lanes < 1 || lanes > 64 || files < 1 || batch < 1 || mode < 0 || mode > 3) {
    fprintf(stderr, "LANES 1-64, FILES and BATCH at least 1, MODE 0-3\n");
    return 2;
  }
  char day[512];
  snprintf(day, sizeof day, "%s/day", root);
  mkdir(root, 0755);
  check(mkdir(day, 0755) == 0, "mkdir", day);
  pthread_t threads[64];
  double start = now();
  for (long i = 0; i < lanes; i++) {
    pthread_create(&threads[i], NULL, lane, (void *)i);
  }
  for (int i = 0; i < lanes; i++) {
    pthread_join(threads[i], NULL);
  }
  double elapsed = now() - start;
  printf("%d lanes x %d files, batches of %d, %s, mode %d: %.0f files/s of wall time\n", lanes, files, batch,
         sync_each_batch ? "syncfs per batch" : "no syncfs", mode, lanes * files / elapsed);
  return 0;
}
