/*
 * faultio.c -- an LD_PRELOAD object that makes writes of body files fail
 * as a failing disk would, for test_io_error.py.
 *
 *   PFETCH_FAULTIO_DIR=DIR      absolute; nothing fails without it
 *   PFETCH_FAULTIO_AFTER=BYTES  default 0
 *   PFETCH_FAULTIO_ERRNO=NAME   EIO (default), EROFS, ENOSPC or EDQUOT
 *
 * A write to a descriptor whose file (readlink of /proc/self/fd/N) is
 * under DIR and ends in ".part" may take that file up to BYTES long:
 * the write that would pass BYTES writes what fits (a short count), and
 * any write past it fails with -1 and that errno.  The limit is on the
 * file, read from the descriptor at each call, so it holds per file
 * whatever the order of transfers, and there is no state to share
 * between threads or to forget when a descriptor number is reused.
 * Every other write (the log database, sockets, standard error) goes
 * through untouched, errno included.
 *
 * write, writev, pwrite and pwrite64 are interposed and forwarded to the
 * next definition (libc's, or a sanitizer's) found with dlsym(RTLD_NEXT).
 * After the constructor has run, a call does only async-signal-safe
 * system calls (readlink, fcntl, fstat, lseek), takes no lock and
 * allocates nothing.  A writev that would pass BYTES fails whole.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t write_fn(int, const void *, size_t);
typedef ssize_t writev_fn(int, const struct iovec *, int);
typedef ssize_t pwrite_fn(int, const void *, size_t, off_t);
typedef ssize_t pwrite64_fn(int, const void *, size_t, off64_t);

static write_fn *next_write;
static writev_fn *next_writev;
static pwrite_fn *next_pwrite;
static pwrite64_fn *next_pwrite64;

/* The configuration, set once by the constructor before any thread. */
static int fault_on;
static char fault_dir[PATH_MAX]; /* without a trailing '/' ("" for "/") */
static size_t fault_dir_len;
static long long fault_after;
static int fault_errno = EIO;

static const struct {
    const char *name;
    int value;
} errno_names[] = {
    {"EIO", EIO}, {"EROFS", EROFS}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}};

/*
 * Finds the next definitions.  The constructor calls it; a write made by
 * another library's constructor before ours also may (still one thread).
 */
static void resolve(void)
{
    next_write = (write_fn *)dlsym(RTLD_NEXT, "write");
    next_writev = (writev_fn *)dlsym(RTLD_NEXT, "writev");
    next_pwrite = (pwrite_fn *)dlsym(RTLD_NEXT, "pwrite");
    next_pwrite64 = (pwrite64_fn *)dlsym(RTLD_NEXT, "pwrite64");
    if (next_write == NULL || next_writev == NULL || next_pwrite == NULL ||
        next_pwrite64 == NULL)
        abort();
}

static void misconfigured(const char *what, const char *value)
{
    fprintf(stderr, "faultio: bad %s: \"%s\"\n", what, value);
    abort();
}

static void faultio_init(void) __attribute__((constructor));

static void faultio_init(void)
{
    const char *dir = getenv("PFETCH_FAULTIO_DIR");
    const char *after = getenv("PFETCH_FAULTIO_AFTER");
    const char *name = getenv("PFETCH_FAULTIO_ERRNO");
    char real[PATH_MAX];
    size_t i, len;

    if (next_write == NULL)
        resolve();
    if (dir == NULL || dir[0] == '\0')
        return;
    if (dir[0] != '/')
        misconfigured("PFETCH_FAULTIO_DIR (not absolute)", dir);
    /* /proc/self/fd names resolved paths: resolve DIR too, if it exists. */
    if (realpath(dir, real) != NULL)
        dir = real;
    len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len >= sizeof(fault_dir))
        misconfigured("PFETCH_FAULTIO_DIR (too long)", dir);
    if (after != NULL && after[0] != '\0') {
        char *end;

        errno = 0;
        fault_after = strtoll(after, &end, 10);
        if (errno != 0 || *end != '\0' || fault_after < 0)
            misconfigured("PFETCH_FAULTIO_AFTER", after);
    }
    if (name != NULL && name[0] != '\0') {
        for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
            if (strcmp(name, errno_names[i].name) == 0)
                break;
        if (i == sizeof(errno_names) / sizeof(errno_names[0]))
            misconfigured("PFETCH_FAULTIO_ERRNO", name);
        fault_errno = errno_names[i].value;
    }
    if (len == 1)
        len = 0; /* "/": every file */
    memcpy(fault_dir, dir, len);
    fault_dir[len] = '\0';
    fault_dir_len = len;
    fault_on = 1;
}

/* 1 if fd is a ".part" file under the fault directory. */
static int is_target(int fd)
{
    char link[32] = "/proc/self/fd/", digits[16], path[PATH_MAX];
    size_t n = strlen(link), k = 0;
    unsigned int u = (unsigned int)fd;
    ssize_t len;

    if (!fault_on || fd < 0)
        return 0;
    do {
        digits[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    while (k > 0)
        link[n++] = digits[--k];
    link[n] = '\0';
    len = readlink(link, path, sizeof(path));
    if (len <= 0 || (size_t)len >= sizeof(path))
        return 0;
    n = fault_dir_len;
    return (size_t)len > n + 6 && memcmp(path, fault_dir, n) == 0 &&
           path[n] == '/' && memcmp(path + len - 5, ".part", 5) == 0;
}

/*
 * How many of count bytes a write at pos may write: count, fewer up to
 * the limit, or -1 (errno set) when nothing may be.
 */
static ssize_t allowed(long long pos, size_t count)
{
    if (count == 0 || pos + (long long)count <= fault_after)
        return (ssize_t)count;
    if (pos >= fault_after) {
        errno = fault_errno;
        return -1;
    }
    return (ssize_t)(fault_after - pos);
}

/* Where a write() on fd starts, or -1 if that cannot be told. */
static long long write_position(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
    if (flags & O_APPEND) {
        struct stat sb;

        return fstat(fd, &sb) == 0 ? (long long)sb.st_size : -1;
    }
    return (long long)lseek(fd, 0, SEEK_CUR);
}

/*
 * How many bytes a write of count at pos (-1: the descriptor's own
 * position) may write; count for a descriptor that is not a target.
 * errno is left as it was unless the answer is -1.
 */
static ssize_t check(int fd, long long pos, size_t count)
{
    int saved = errno;
    ssize_t n = (ssize_t)count;

    if (is_target(fd)) {
        if (pos < 0)
            pos = write_position(fd);
        if (pos >= 0)
            n = allowed(pos, count);
    }
    if (n >= 0)
        errno = saved;
    return n;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    ssize_t n;

    if (next_write == NULL)
        resolve();
    n = check(fd, -1, count);
    return n < 0 ? -1 : next_write(fd, buf, (size_t)n);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    size_t total = 0;
    int i;

    if (next_writev == NULL)
        resolve();
    for (i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (check(fd, -1, total) != (ssize_t)total) {
        errno = fault_errno;
        return -1;
    }
    return next_writev(fd, iov, iovcnt);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
    ssize_t n;

    if (next_pwrite == NULL)
        resolve();
    n = check(fd, (long long)offset, count);
    return n < 0 ? -1 : next_pwrite(fd, buf, (size_t)n, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset)
{
    ssize_t n;

    if (next_pwrite64 == NULL)
        resolve();
    n = check(fd, (long long)offset, count);
    return n < 0 ? -1 : next_pwrite64(fd, buf, (size_t)n, offset);
}
