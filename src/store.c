/*
 * store.c -- the output directory: where each URL's body goes on disk.
 *
 * This module owns the output directory and everything pfetch creates in
 * it: the names claimed in this run, a small cache of open directory file
 * descriptors, and the NAME.part files bodies stream into.  What a URL is
 * called comes from names.c; this module only decides which of those
 * names is free and never builds one itself.  It must never create,
 * write, rename or remove anything outside the output directory, never
 * follow a symbolic link found inside it, never leave an incomplete body
 * at a final name, and never write over the log database.  Every path is
 * walked one component at a time with openat(O_NOFOLLOW) and mkdirat()
 * from the directory's file descriptor, so ".." in a URL, an absolute
 * Content-Disposition file name or a planted symbolic link cannot lead
 * out of it.  Loop thread only.
 *
 * The rules below and names.c's are the on-disk contract; pfetch(5)
 * repeats them.
 *
 * Flat names.  In the flat layout a URL is named when it is accepted
 * (pf__store_reserve), not when its body comes: the log's name for the URL
 * when an earlier run saved it, else the name names.c gives its last
 * segment.  Only a server's Content-Disposition file name, for a URL the
 * log did not name, is taken when the body comes.  So names follow the
 * order of the list and not of completion.
 *
 * Uniqueness in one run.  The store remembers every path it gave out in this
 * run.  A URL whose path is already taken in this run (two URLs named
 * "file.txt" in the flat layout, "/a/" and "/a/index.html" in the tree layout)
 * gets "NAME.1", then "NAME.2", and so on: ".N" is appended to the whole name,
 * extension included.  The exception is a directory URL saved again ("/sub/"
 * listed, and "/sub" redirected to it): once the first body is complete, the
 * second writes the same file, and both rows name it; while the first is still
 * being written, the second takes ".N" (a known limit: two writers cannot share
 * one NAME.part).  A file left by an earlier run is overwritten, not renamed
 * around; the log database and its -wal, -shm and -journal companions are the
 * exception and are never used as a file or directory name (the body gets ".N",
 * a directory ".d").
 *
 * File/directory clashes.  When a directory is needed where a file (or a
 * name claimed for a file in this run) already is, the directory
 * "NAME.d" is used instead, and "NAME.d.d" if that is a file too.  When a
 * file is to be saved where a directory already is, the file gets the
 * next free "NAME.N".  So "http://h/a" and "http://h/a/b" are both saved,
 * as "h/a" and "h/a.d/b" when fetched in that order and as "h/a.1" and
 * "h/a/b" in the other, and the log records each path.  A symbolic link
 * met where a directory is needed is never followed: that URL fails with
 * ELOOP.
 *
 * Temporary files.  A body is written to "NAME.part" (shortened with the
 * hash rule when "NAME.part" would exceed 255 bytes) in the same
 * directory and renamed to NAME when complete.  Without resume the .part
 * file is always created afresh (O_EXCL, after removing whatever had that
 * name), so a FIFO, a hard link or a symbolic link planted at that name
 * is never opened.  Known limit: a file of an earlier run whose name ends
 * in ".part" may be replaced when another URL's temporary file needs
 * that name; in one run the store keeps them apart.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/types.h>
#include <unistd.h>

#include "hasher.h"
#include "names.h"
#include "url.h"
#include "util.h"

/*
 * Directories kept open between files, so that 10,000 files in one
 * directory cost one walk, not 10,000.  Each slot holds one directory and
 * is lent to every sink writing into it; 32 covers a crawl's working set
 * of directories and costs 32 descriptors at most.  Known limit: a cached
 * directory removed or renamed by another program during the run is not
 * noticed, and files meant for it fail with ENOENT.
 */
#define DIR_CACHE_SLOTS 32

/*
 * The longest whole path of a saved file (the output directory as given,
 * '/', the file's relative path), its NUL aside: PATH_MAX on Linux, so
 * any program can open the file with the path the log gives.
 */
#define PATH_BYTES 4095

/*
 * What a tree path keeps free under PATH_BYTES for what the store may
 * add to it after naming: ".part" and ".N" to the file name, ".d" to
 * directories that meet a file.  A path that still ends up too long is
 * refused (ENAMETOOLONG) rather than saved where no one can open it.
 */
#define PATH_SLACK 128

/* Bounds on the search for a free name; reaching one fails the URL. */
#define MAX_NAME_TRIES 100000
#define MAX_DIR_TRIES 64

/*
 * What a path in the claims set stands for: the tag of its fingerprint
 * (0 is no claim).  A set of fingerprints rather than of paths keeps a
 * run of a million files from holding a million path strings; a
 * fingerprint clash (odds in util.h) only makes a free name look taken,
 * so that file gets a ".N" name.
 */
enum claim {
    CLAIM_FILE = 1, /* a final name given to a sink in this run */
    CLAIM_PART,     /* a shortened .part name in use in this run */
    CLAIM_DIR,      /* a directory walked in this run */
    CLAIM_RESERVED  /* the log database and its companions */
};

/* One cached directory. */
struct dir_slot {
    char *key;     /* the directory's path as mapped from URLs */
    char *phys;    /* where it really is (after ".d" renames) */
    uint64_t hash; /* of key */
    uint64_t used; /* store->clock at last use, for LRU eviction */
    unsigned refs; /* sinks borrowing fd now; evictable at 0 */
    int fd;        /* -1 when the slot is empty */
};

/*
 * A flat layout name reserved for a URL when it was accepted: the name
 * its body gets, whichever transfer ends first.
 */
struct reservation {
    int logged;  /* the log's name for the URL, from an earlier run */
    char name[]; /* one component of the output directory */
};

struct pf__store {
    struct pf__hasher *hasher; /* big bodies' SHA-256; NULL: all in line */
    int dirfd;                 /* the output directory */
    size_t dir_len;            /* the length of its name, as given */
    enum pf_layout layout;
    struct pf__fpset claims;    /* relative path -> enum claim */
    struct pf__strmap next_n;   /* base path -> unsigned long *, next ".N" */
    struct pf__strmap reserved; /* URL -> struct reservation * (flat) */
    struct pf__strmap index;    /* directory URL -> char *, its saved path */
    struct dir_slot cache[DIR_CACHE_SLOTS];
    uint64_t clock;
    /* Scratch buffers for pf__sink_open (one call at a time). */
    struct pf__buf phys; /* directory part of the path being built */
    struct pf__buf key;  /* candidate relative path of the file */
    struct pf__buf tmp;  /* any other path */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* PF_EDISKFULL for a full disk or quota, PF_EIO for any other errno. */
static int errno_code(int e)
{
    return e == ENOSPC || e == EDQUOT ? PF_EDISKFULL : PF_EIO;
}

/* The temporary name of the component name, into out (PF__NAME_BUF bytes). */
static size_t part_name(char *out, const char *name, size_t nlen)
{
    return pf__name_join(out, name, nlen, ".part", 5);
}

/* ------------------------------------------------------------------ */
/* The store                                                           */
/* ------------------------------------------------------------------ */

/*
 * mkdir -p dir.  Errors are left to the open() that follows, except that
 * the errno of the last mkdir() is returned (0 if it succeeded or the
 * directory existed) so that a failure is reported by its real cause.
 */
static int make_dirs(const char *dir)
{
    size_t len = strlen(dir), i;
    char *s = pf__strndup(dir, len);
    int err = 0;

    if (s == NULL)
        return ENOMEM;
    for (i = 1; i < len; i++) {
        if (s[i] == '/' && s[i - 1] != '/') {
            s[i] = '\0';
            (void)mkdir(s, 0777);
            s[i] = '/';
        }
    }
    if (mkdir(s, 0777) < 0 && errno != EEXIST)
        err = errno;
    pf__free(s);
    return err;
}

static int claim(struct pf__store *st, const char *path, enum claim c)
{
    int rc = pf__fpset_put(&st->claims, pf__fingerprint(path, strlen(path)),
                           (unsigned)c);

    return rc < 0 ? rc : 0;
}

/* What path is claimed as in this run, or 0. */
static int claimed(const struct pf__store *st, const char *path)
{
    int tag = pf__fpset_get(&st->claims, pf__fingerprint(path, strlen(path)));

    return tag < 0 ? 0 : tag;
}

/*
 * Reserve the log database's name and its companions when db_path lies
 * inside the output directory.  Both directories are resolved with
 * realpath(), so "out/./x.db" or a symbolic link to out are recognised;
 * the database itself need not exist yet, its directory must.
 */
static int reserve_db(struct pf__store *st, const char *dir,
                      const char *db_path)
{
    static const char *const companions[] = {"", "-wal", "-shm", "-journal"};
    char *copy = pf__strdup(db_path);
    char *dreal = pf__malloc(PATH_MAX);
    char *preal = pf__malloc(PATH_MAX);
    char *slash, *base, *rel = NULL;
    const char *parent, *sub = NULL;
    size_t len, i;
    int rc = 0;

    if (copy == NULL || dreal == NULL || preal == NULL) {
        rc = PF_ENOMEM;
        goto done;
    }
    len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    slash = strrchr(copy, '/');
    if (slash == NULL) {
        parent = ".";
        base = copy;
    } else if (slash == copy) {
        parent = "/";
        base = slash + 1;
    } else {
        *slash = '\0';
        parent = copy;
        base = slash + 1;
    }
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        goto done;
    if (realpath(dir, dreal) == NULL || realpath(parent, preal) == NULL)
        goto done; /* no directory, no database there */
    len = strlen(dreal);
    if (strcmp(dreal, preal) == 0)
        sub = "";
    else if (strcmp(dreal, "/") == 0)
        sub = preal + 1;
    else if (strncmp(preal, dreal, len) == 0 && preal[len] == '/')
        sub = preal + len + 1;
    else
        goto done; /* the database lives elsewhere */
    for (i = 0; rc == 0 && i < PF__ARRAY_LEN(companions); i++) {
        rel = pf__asprintf("%s%s%s%s", sub, sub[0] != '\0' ? "/" : "", base,
                           companions[i]);
        rc = rel != NULL ? claim(st, rel, CLAIM_RESERVED) : PF_ENOMEM;
        pf__free(rel);
    }
done:
    pf__free(copy);
    pf__free(dreal);
    pf__free(preal);
    return rc;
}

static void free_value(void *p)
{
    pf__free(p);
}

int pf__store_open(struct pf__store **out, const char *dir,
                   enum pf_layout layout, const char *db_path)
{
    struct pf__store *st;
    int rc, err, mkerr, i;

    if (dir == NULL || dir[0] == '\0')
        dir = ".";
    st = pf__calloc(1, sizeof(*st));
    if (st == NULL) {
        errno = ENOMEM;
        return PF_ENOMEM;
    }
    st->layout = layout;
    st->dir_len = strlen(dir);
    for (i = 0; i < DIR_CACHE_SLOTS; i++)
        st->cache[i].fd = -1;
    if (pf__hasher_new(&st->hasher) < 0)
        st->hasher = NULL; /* every body is then hashed in line */
    mkerr = make_dirs(dir);
    if (mkerr == ENOMEM) {
        rc = PF_ENOMEM;
        err = ENOMEM;
        goto fail;
    }
    st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0) {
        err = errno == ENOENT && mkerr != 0 ? mkerr : errno;
        rc = PF_EOUTDIR;
        goto fail;
    }
    if (db_path != NULL && db_path[0] != '\0') {
        rc = reserve_db(st, dir, db_path);
        if (rc < 0) {
            err = ENOMEM;
            goto fail;
        }
    }
    *out = st;
    return 0;
fail:
    pf__store_close(st);
    errno = err;
    return rc;
}

void pf__store_close(struct pf__store *st)
{
    int i;

    if (st == NULL)
        return;
    for (i = 0; i < DIR_CACHE_SLOTS; i++) {
        if (st->cache[i].fd >= 0)
            close(st->cache[i].fd);
        pf__free(st->cache[i].key);
        pf__free(st->cache[i].phys);
    }
    if (st->dirfd >= 0)
        close(st->dirfd);
    pf__hasher_free(st->hasher);
    pf__fpset_free(&st->claims);
    pf__strmap_free(&st->next_n, free_value);
    pf__strmap_free(&st->reserved, free_value);
    pf__strmap_free(&st->index, free_value);
    pf__buf_free(&st->phys);
    pf__buf_free(&st->key);
    pf__buf_free(&st->tmp);
    pf__free(st);
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */
/* ------------------------------------------------------------------ */

/* dst = phys + "/" + name (just name when phys is empty). */
static int make_key(struct pf__buf *dst, const struct pf__buf *phys,
                    const char *name, size_t n)
{
    int rc = 0;

    pf__buf_truncate(dst, 0);
    if (phys->len > 0) {
        rc = pf__buf_append(dst, phys->data, phys->len);
        if (rc == 0)
            rc = pf__buf_appendc(dst, '/');
    }
    if (rc == 0)
        rc = pf__buf_append(dst, name, n);
    return rc;
}

/*
 * Enter (creating it if needed) the directory component name, of length
 * *nlen, inside pfd, whose relative path is st->phys; on success *nfd is
 * the new directory's fd and st->phys its relative path.  name has room
 * for PF__NAME_BUF bytes and is changed when the ".d" rule applies.
 */
static int enter_dir(struct pf__store *st, int pfd, char *name, size_t *nlen,
                     int *nfd, int *err)
{
    size_t base = st->phys.len;
    int tries, rc, fd, e;

    for (tries = 0; tries < MAX_DIR_TRIES; tries++) {
        int tag;
        struct stat sb;

        pf__buf_truncate(&st->phys, base);
        if (base > 0)
            rc = pf__buf_appendc(&st->phys, '/');
        else
            rc = 0;
        if (rc == 0)
            rc = pf__buf_append(&st->phys, name, *nlen);
        if (rc < 0) {
            *err = ENOMEM;
            return rc;
        }
        tag = claimed(st, st->phys.data);
        if (tag != 0 && tag != CLAIM_DIR) {
            *nlen = pf__name_join(name, name, *nlen, ".d", 2);
            continue;
        }
        fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            rc = tag == 0 ? claim(st, st->phys.data, CLAIM_DIR) : 0;
            if (rc < 0) {
                close(fd);
                *err = ENOMEM;
                return rc;
            }
            *nfd = fd;
            return 0;
        }
        e = errno;
        if (e == ENOENT) {
            if (mkdirat(pfd, name, 0777) < 0 && errno != EEXIST) {
                *err = errno;
                return errno_code(*err);
            }
            continue;
        }
        if (e != ENOTDIR) {
            *err = e;
            return errno_code(e);
        }
        /* Not a directory: a symbolic link fails, a file gets ".d". */
        if (fstatat(pfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISLNK(sb.st_mode)) {
                *err = ELOOP;
                return PF_EIO;
            }
            if (S_ISDIR(sb.st_mode))
                continue; /* replaced under us: look again */
        }
        *nlen = pf__name_join(name, name, *nlen, ".d", 2);
    }
    *err = EEXIST;
    return PF_EIO;
}

/*
 * Walk (and create) the directory dir[0..len) from the output directory.
 * *fd gets the last directory's fd (owned by the caller), st->phys its
 * relative path.
 */
static int walk_dirs(struct pf__store *st, const char *dir, size_t len, int *fd,
                     int *err)
{
    const char *p = dir, *end = dir + len;
    int cur = st->dirfd, rc = 0;

    pf__buf_truncate(&st->phys, 0);
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *ce = slash != NULL ? slash : end;
        size_t clen = (size_t)(ce - p);
        char name[PF__NAME_BUF];
        int nfd;

        if (clen == 0) {
            p = ce + 1;
            continue;
        }
        if (clen > PF__NAME_MAX_BYTES) {
            *err = ENAMETOOLONG;
            rc = PF_EIO;
            break;
        }
        memcpy(name, p, clen);
        name[clen] = '\0';
        rc = enter_dir(st, cur, name, &clen, &nfd, err);
        if (rc < 0)
            break;
        if (cur != st->dirfd)
            close(cur);
        cur = nfd;
        p = ce + 1;
    }
    if (rc < 0) {
        if (cur != st->dirfd)
            close(cur);
        return rc;
    }
    *fd = cur;
    return 0;
}

/*
 * The fd of the directory dir[0..len) (mapped path), its real relative
 * path left in st->phys.  The fd is the output directory's own for an
 * empty dir, a cached one lent to the caller (its slot's refs counted),
 * or, when every slot is lent out, a new one the caller owns; in every
 * case release_dir() gives it back.
 */
static int acquire_dir(struct pf__store *st, const char *dir, size_t len,
                       int *fd, int *err)
{
    uint64_t h;
    struct dir_slot *s, *victim = NULL;
    int i, rc, nfd;

    if (len == 0) {
        pf__buf_truncate(&st->phys, 0);
        *fd = st->dirfd;
        return 0;
    }
    h = pf__hash64(dir, len);
    for (i = 0; i < DIR_CACHE_SLOTS; i++) {
        s = &st->cache[i];
        if (s->fd >= 0 && s->hash == h && strncmp(s->key, dir, len) == 0 &&
            s->key[len] == '\0') {
            pf__buf_truncate(&st->phys, 0);
            rc = pf__buf_append(&st->phys, s->phys, strlen(s->phys));
            if (rc < 0) {
                *err = ENOMEM;
                return rc;
            }
            s->refs++;
            s->used = ++st->clock;
            *fd = s->fd;
            return 0;
        }
        if (s->refs == 0 && (victim == NULL || s->fd < 0 ||
                             (victim->fd >= 0 && s->used < victim->used)))
            victim = s;
    }
    rc = walk_dirs(st, dir, len, &nfd, err);
    if (rc < 0)
        return rc;
    *fd = nfd;
    if (victim == NULL)
        return 0; /* every slot lent out: the caller owns nfd */
    if (victim->fd >= 0)
        close(victim->fd);
    pf__free(victim->key);
    pf__free(victim->phys);
    victim->fd = -1;
    victim->key = pf__strndup(dir, len);
    victim->phys = pf__strdup(pf__buf_str(&st->phys));
    if (victim->key == NULL || victim->phys == NULL) {
        pf__free(victim->key);
        pf__free(victim->phys);
        victim->key = NULL;
        victim->phys = NULL;
        return 0; /* not cached: the caller owns nfd */
    }
    victim->fd = nfd;
    victim->hash = h;
    victim->refs = 1;
    victim->used = ++st->clock;
    return 0;
}

/* Give back a directory fd from acquire_dir(). */
static void release_dir(struct pf__store *st, int fd)
{
    int i;

    if (fd < 0)
        return;
    if (st != NULL) {
        if (fd == st->dirfd)
            return;
        for (i = 0; i < DIR_CACHE_SLOTS; i++) {
            if (st->cache[i].fd == fd && st->cache[i].refs > 0) {
                st->cache[i].refs--;
                return;
            }
        }
    }
    close(fd);
}

/* ------------------------------------------------------------------ */
/* Choosing a file name                                                */
/* ------------------------------------------------------------------ */

/*
 * Whether the candidate st->key, whose last component is comp, may be
 * given out: neither it nor its .part name is claimed in this run, and
 * it is not itself the .part name of a file claimed in this run.
 */
static int available(struct pf__store *st, const char *comp, size_t clen)
{
    char part[PF__NAME_BUF];
    size_t plen = part_name(part, comp, clen);
    size_t klen = st->key.len;
    int rc;

    if (claimed(st, st->key.data) != 0)
        return 0;
    rc = make_key(&st->tmp, &st->phys, part, plen);
    if (rc < 0)
        return rc;
    if (claimed(st, st->tmp.data) != 0)
        return 0;
    if (klen > 5 && memcmp(st->key.data + klen - 5, ".part", 5) == 0) {
        pf__buf_truncate(&st->tmp, 0);
        rc = pf__buf_append(&st->tmp, st->key.data, klen - 5);
        if (rc < 0)
            return rc;
        if (claimed(st, st->tmp.data) == CLAIM_FILE)
            return 0;
    }
    return 1;
}

/*
 * Find the first free name for name[0..nlen) in the directory st->phys,
 * trying name itself when *n is 0, then name.N from where earlier clashes
 * on the same name left off.  On success st->key holds the relative path,
 * comp (PF__NAME_BUF bytes) the component and *n its suffix number.
 */
static int pick_name(struct pf__store *st, const char *name, size_t nlen,
                     unsigned long *n, char *comp, size_t *clen)
{
    int tries, rc;

    for (tries = 0; tries < MAX_NAME_TRIES; tries++) {
        if (*n == 0) {
            memcpy(comp, name, nlen);
            comp[nlen] = '\0';
            *clen = nlen;
        } else {
            char sfx[PF__NAME_SUFFIX_MAX];
            int sl = snprintf(sfx, sizeof(sfx), ".%lu", *n);

            *clen = pf__name_join(comp, name, nlen, sfx, (size_t)sl);
        }
        rc = make_key(&st->key, &st->phys, comp, *clen);
        if (rc == 0)
            rc = available(st, comp, *clen);
        if (rc < 0)
            return rc;
        if (rc > 0)
            return 0;
        if (*n == 0) {
            unsigned long *next = pf__strmap_get(&st->next_n, st->key.data);

            *n = next != NULL ? *next : 1;
        } else {
            (*n)++;
        }
    }
    return PF_EIO;
}

/* Remember that name's suffixes up to n are used up in st->phys. */
static void note_suffix(struct pf__store *st, const char *name, size_t nlen,
                        unsigned long n)
{
    unsigned long *next;

    if (n == 0 || make_key(&st->tmp, &st->phys, name, nlen) < 0)
        return;
    next = pf__strmap_get(&st->next_n, st->tmp.data);
    if (next == NULL) {
        next = pf__malloc(sizeof(*next));
        if (next == NULL)
            return; /* only an optimisation: the search still works */
        if (pf__strmap_put(&st->next_n, st->tmp.data, next) != 1) {
            pf__free(next);
            return;
        }
    }
    *next = n + 1;
}

/*
 * Claim st->key (component comp) for a file, and its .part name too when
 * that was shortened (a plain NAME.part is recognised by available()).
 */
static int claim_file(struct pf__store *st, const char *comp, size_t clen)
{
    char part[PF__NAME_BUF];
    size_t plen;
    int rc = claim(st, st->key.data, CLAIM_FILE);

    if (rc < 0 || clen + 5 <= PF__NAME_MAX_BYTES)
        return rc;
    plen = part_name(part, comp, clen);
    rc = make_key(&st->tmp, &st->phys, part, plen);
    if (rc == 0)
        rc = claim(st, st->tmp.data, CLAIM_PART);
    return rc;
}

/*
 * Whether logged, the name an earlier run's log gave a URL in the flat
 * layout, may be given to it again: a component as sanitising leaves it
 * (the log is only a file: a name in it must not lead anywhere a URL
 * could not), and not claimed in this run (the log database's names,
 * another URL's).  On 1, st->key holds it.
 */
static int logged_usable(struct pf__store *st, const char *logged)
{
    size_t n = logged != NULL ? strlen(logged) : 0;
    char *clean = NULL;
    int same, rc;

    if (n == 0 || n > PF__NAME_MAX_BYTES)
        return 0;
    rc = pf__name_sanitize(logged, n, &clean);
    if (rc < 0)
        return rc;
    same = strcmp(clean, logged) == 0;
    pf__free(clean);
    if (!same)
        return 0;
    rc = make_key(&st->key, &st->phys, logged, n);
    return rc < 0 ? rc : available(st, logged, n);
}

/*
 * The flat layout names a URL when it is accepted, not when its body
 * comes, so that a list always gives the same names whatever order the
 * transfers end in.  The name claimed is the log's, when an earlier run
 * saved the URL and nothing in this run took that name first, else the
 * first free one by the usual rule.
 */
int pf__store_reserve(struct pf__store *st, const char *url, const char *logged)
{
    struct reservation *r;
    char comp[PF__NAME_BUF], *base = NULL;
    size_t clen = 0;
    unsigned long n = 0;
    int rc, is_logged;

    if (st->layout != PF_LAYOUT_FLAT || pf__strmap_has(&st->reserved, url))
        return 0;
    pf__buf_truncate(&st->phys, 0);
    is_logged = logged_usable(st, logged);
    if (is_logged < 0)
        return is_logged;
    if (is_logged) {
        clen = strlen(logged);
        memcpy(comp, logged, clen + 1);
        rc = 0;
    } else {
        rc = pf__name_flat(url, NULL, &base);
        if (rc == PF_ENOMEM)
            return rc;
        if (rc < 0)
            return 0; /* not a URL: its sink fails to open, as before */
        rc = pick_name(st, base, strlen(base), &n, comp, &clen);
    }
    if (rc == 0)
        rc = claim_file(st, comp, clen);
    r = rc == 0 ? pf__malloc(sizeof(*r) + clen + 1) : NULL;
    if (r != NULL) {
        r->logged = is_logged;
        memcpy(r->name, comp, clen + 1);
        rc = pf__strmap_put(&st->reserved, url, r);
        if (rc != 1)
            pf__free(r);
        rc = rc < 0 ? rc : 0;
    } else if (rc == 0) {
        rc = PF_ENOMEM;
    }
    if (rc == 0 && base != NULL)
        note_suffix(st, base, strlen(base), n);
    pf__free(base);
    return rc == PF_EIO ? 0 : rc;
}

/*
 * Open the .part file part in dirfd.  With resume an existing plain file
 * is reopened for appending and its size stored in *offset; anything
 * else found there (a FIFO, a symbolic link, a file with other hard
 * links) is removed and a new file created with O_EXCL, so only a file
 * this call made, or a .part file of ours, is ever written.  With
 * PF__SINK_RESUME_ONLY nothing is created or removed: -1 with ENOENT
 * when there is no .part of ours to go on with.  Returns the fd, or -1
 * with errno set (EISDIR: a directory has that name).
 */
static int open_part_file(int dirfd, const char *part, int mode,
                          int64_t *offset)
{
    int i, fd;

    *offset = 0;
    if (mode != PF__SINK_NEW) {
        struct stat sb;

        /* Readable too: its body so far is hashed (sha256). */
        fd = openat(dirfd, part,
                    O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
                        (mode == PF__SINK_RESUME ? O_CREAT : 0),
                    0666);
        if (fd >= 0) {
            if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
                sb.st_nlink == 1) {
                *offset = (int64_t)sb.st_size;
                return fd;
            }
            close(fd);
        } else if (errno != ELOOP && errno != ENXIO) {
            return -1;
        }
        if (mode == PF__SINK_RESUME_ONLY) {
            errno = ENOENT;
            return -1;
        }
    }
    for (i = 0; i < 3; i++) {
        /* Readable too: the hasher reads a big body back (hasher.h). */
        fd = openat(dirfd, part,
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        if (unlinkat(dirfd, part, 0) < 0 && errno != ENOENT) {
            if (errno == EISDIR || errno == EPERM)
                errno = EISDIR;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

/* ------------------------------------------------------------------ */
/* SHA-256 (libcrypto's EVP digests)                                   */
/* ------------------------------------------------------------------ */

/*
 * Feed the first len bytes of fd (read with pread, from 0) to md.  0, or
 * -1 with errno set.
 */
static int hash_fd(EVP_MD_CTX *md, int fd, int64_t len)
{
    char buf[65536];
    int64_t off = 0;

    while (len < 0 || off < len) {
        size_t want = len < 0 || len - off > (int64_t)sizeof(buf)
                          ? sizeof(buf)
                          : (size_t)(len - off);
        ssize_t n = pread(fd, buf, want, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
            errno = ENOMEM;
            return -1;
        }
        off += n;
    }
    if (len >= 0 && off < len) {
        errno = EIO; /* shorter than it was a moment ago */
        return -1;
    }
    return 0;
}

static void hex_digest(EVP_MD_CTX *md, char hex[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    hex[0] = '\0';
    if (EVP_DigestFinal_ex(md, d, &n) != 1 || n != 32)
        return;
    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/*
 * The sink's digest, started over; a resumed .part's body so far is fed
 * to it first, so that the digest covers the whole file.  0, PF_ENOMEM,
 * or PF_EIO (sys_errno set).
 */
static int hash_start(struct pf__sink *sk)
{
    if (sk->md == NULL)
        sk->md = EVP_MD_CTX_new();
    if (sk->md == NULL || EVP_DigestInit_ex(sk->md, EVP_sha256(), NULL) != 1) {
        sk->sys_errno = ENOMEM;
        return PF_ENOMEM;
    }
    if (sk->offset > 0 && hash_fd(sk->md, sk->fd, sk->offset) < 0) {
        sk->sys_errno = errno;
        return PF_EIO;
    }
    return 0;
}

int pf__store_file_size(struct pf__store *st, const char *relpath,
                        int64_t *size)
{
    struct stat sb;

    if (relpath == NULL || relpath[0] == '/' ||
        fstatat(st->dirfd, relpath, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(sb.st_mode))
        return -1;
    *size = (int64_t)sb.st_size;
    return 0;
}

int pf__store_file_sha256(struct pf__store *st, const char *relpath,
                          char hex[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int fd = -1, rc = -1;

    hex[0] = '\0';
    if (md != NULL && relpath != NULL && relpath[0] != '/')
        fd = openat(st->dirfd, relpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
        hash_fd(md, fd, -1) == 0) {
        hex_digest(md, hex);
        rc = hex[0] != '\0' ? 0 : -1;
    }
    if (fd >= 0)
        close(fd);
    EVP_MD_CTX_free(md);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Sinks                                                               */
/* ------------------------------------------------------------------ */

/*
 * url's tree path, its deep directories folded (pf__name_fit()) when the
 * whole path would not fit in PATH_BYTES.
 */
static int tree_path_fit(struct pf__store *st, const char *url, char **mapped)
{
    char *path = NULL;
    int rc = pf__name_tree_path(url, &path);
    size_t room = PATH_BYTES > st->dir_len + 1 + PATH_SLACK
                      ? PATH_BYTES - st->dir_len - 1 - PATH_SLACK
                      : 0;

    *mapped = NULL;
    if (rc < 0 || strlen(path) <= room) {
        *mapped = path;
        return rc;
    }
    rc = pf__name_fit(path, room, mapped);
    pf__free(path);
    return rc;
}

/*
 * What url's body is named after, into *mapped (pf__malloc'd).  Tree
 * layout: url's path, or final_url's when the redirect only added the
 * slash; *dir_url is then the URL whose index.html this is (its path
 * ends in '/'), else NULL, and *given the path an earlier sink of this
 * run saved that URL under, else NULL.  Flat layout: the log's name;
 * else the server's (Content-Disposition); else the name reserved at
 * acceptance; else the URL's.  *exact: the last component is the URL's
 * own already (reserved), to be taken as it is.
 */
static int map_url(struct pf__store *st, const char *url, const char *final_url,
                   const char *cd, char **mapped, int *exact,
                   const char **dir_url, const char **given)
{
    struct reservation *r;
    const char *from = url;
    struct pf__url_parts u;
    int rc;

    *exact = 0;
    *dir_url = NULL;
    *given = NULL;
    if (st->layout == PF_LAYOUT_FLAT) {
        r = pf__strmap_get(&st->reserved, url);
        if (r == NULL)
            return pf__name_flat(url, cd, mapped);
        if (!r->logged && cd != NULL) {
            rc = pf__name_parse_content_disposition(cd, mapped);
            if (rc < 0 || *mapped != NULL)
                return rc;
        }
        *mapped = pf__strdup(r->name);
        *exact = 1;
        return *mapped != NULL ? 0 : PF_ENOMEM;
    }
    if (pf__name_slash_redirect(url, final_url))
        from = final_url;
    rc = tree_path_fit(st, from, mapped);
    if (rc == 0 && pf__url_split(from, &u) == 0 && u.path_len > 0 &&
        from[u.path_off + u.path_len - 1] == '/') {
        *dir_url = from;
        *given = pf__strmap_get(&st->index, from);
    }
    return rc;
}

/*
 * Pick the name of the sink's file for name[0..nlen) in the directory
 * sk->dirfd (st->phys) and open its .part: the name itself when exact,
 * else the first free name.  A .part name that is a directory moves on
 * to the next ".N".  On success *fd is open, comp (PF__NAME_BUF bytes) and
 * *clen the component, *n its suffix number.  1 when mode is
 * PF__SINK_RESUME_ONLY and there is no .part.
 */
static int open_named(struct pf__store *st, struct pf__sink *sk,
                      const char *name, size_t nlen, int exact, int mode,
                      char *comp, size_t *clen, unsigned long *n, int *fd)
{
    char part[PF__NAME_BUF];
    int tries, rc;

    for (tries = 0; tries < MAX_DIR_TRIES; tries++) {
        if (exact && *n == 0) {
            memcpy(comp, name, nlen);
            comp[nlen] = '\0';
            *clen = nlen;
            rc = make_key(&st->key, &st->phys, comp, nlen);
        } else {
            rc = pick_name(st, name, nlen, n, comp, clen);
        }
        if (rc < 0) {
            sk->sys_errno = rc == PF_ENOMEM ? ENOMEM : EEXIST;
            return rc;
        }
        part_name(part, comp, *clen);
        *fd = open_part_file(sk->dirfd, part, mode, &sk->offset);
        if (*fd >= 0)
            return 0;
        sk->sys_errno = errno;
        if (errno == ENOENT && mode == PF__SINK_RESUME_ONLY)
            return 1;
        if (errno != EISDIR)
            return errno_code(errno);
        (*n)++; /* NAME.part is a directory: try the next name */
    }
    sk->sys_errno = EEXIST;
    return PF_EIO;
}

/*
 * A sink's file descriptors and strings:
 *
 *   dirfd    lent by the store (the output directory itself, or a cached
 *            directory whose slot counts the loan) or, when every cache
 *            slot is lent out, owned by the sink.  release_dir() tells
 *            them apart, so commit, abort and free never need to know.
 *            dirfd >= 0 also means "the .part file is ours to remove":
 *            commit and abort give it back and set it to -1.
 *   relpath  one allocation; name points at its last component.
 *
 * Every sink must be freed before pf__store_close().
 */
int pf__sink_open(struct pf__store *st, struct pf__sink *sk, const char *url,
                  const char *final_url, const char *cd, int mode)
{
    char *mapped = NULL;
    const char *slash, *name, *dir_url, *given;
    char comp[PF__NAME_BUF];
    size_t dlen, nlen, clen = 0;
    unsigned long n = 0;
    int rc, fd = -1, exact;

    memset(sk, 0, sizeof(*sk));
    sk->st = st;
    sk->fd = -1;
    sk->dirfd = -1;
    rc = map_url(st, url, final_url, cd, &mapped, &exact, &dir_url, &given);
    if (rc < 0 || mapped == NULL) {
        sk->sys_errno = rc == PF_ENOMEM ? ENOMEM : EINVAL;
        return rc == PF_ENOMEM ? rc : PF_EIO;
    }
    slash = strrchr(mapped, '/');
    dlen = slash != NULL ? (size_t)(slash - mapped) : 0;
    name = slash != NULL ? slash + 1 : mapped;
    nlen = strlen(name);
    if (nlen > PF__NAME_MAX_BYTES) { /* the mappers never make one */
        sk->sys_errno = ENAMETOOLONG;
        pf__free(mapped);
        return PF_EIO;
    }
    rc = acquire_dir(st, mapped, dlen, &sk->dirfd, &sk->sys_errno);
    /* The same directory URL saved before in this run: the same file. */
    slash = given != NULL ? strrchr(given, '/') : NULL;
    if (rc == 0 && slash != NULL && (size_t)(slash - given) == st->phys.len &&
        memcmp(given, pf__buf_str(&st->phys), st->phys.len) == 0) {
        name = slash + 1;
        nlen = strlen(name);
        exact = 1;
    }
    /* The whole path, .part and all, must stay openable (PATH_BYTES). */
    if (rc == 0 &&
        st->dir_len + 1 + st->phys.len + 1 + nlen + PF__NAME_SUFFIX_MAX >
            PATH_BYTES) {
        sk->sys_errno = ENAMETOOLONG;
        rc = PF_EIO;
    }
    if (rc == 0)
        rc = open_named(st, sk, name, nlen, exact, mode, comp, &clen, &n, &fd);
    if (rc == 0) {
        rc = claim_file(st, comp, clen);
        if (rc == 0) {
            sk->relpath = pf__strndup(st->key.data, st->key.len);
            sk->dir_url = dir_url != NULL ? pf__strdup(dir_url) : NULL;
            rc = sk->relpath != NULL && (dir_url == NULL || sk->dir_url)
                     ? 0
                     : PF_ENOMEM;
        }
        if (rc < 0) {
            char part[PF__NAME_BUF];

            close(fd);
            part_name(part, comp, clen);
            unlinkat(sk->dirfd, part, 0);
            sk->sys_errno = ENOMEM;
        }
    }
    if (rc != 0) {
        release_dir(st, sk->dirfd);
        sk->dirfd = -1;
        sk->offset = 0;
        pf__free(sk->relpath);
        pf__free(sk->dir_url);
        sk->dir_url = NULL;
        sk->relpath = mapped; /* for the caller's message */
        return rc;
    }
    note_suffix(st, name, nlen, n);
    pf__free(mapped);
    sk->fd = fd;
    sk->name = sk->relpath + (st->key.len - clen);
    return hash_start(sk);
}

/*
 * A body past this size is hashed by the store's hasher thread, from the
 * page cache, while the loop goes on receiving: on the large workload
 * (2 x 256 MiB) hashing in line took the loop thread from 0.5 to 0.9 s
 * of CPU and halved the rate.  Smaller bodies are hashed in line: a hop
 * to a thread would cost them more than it saves.
 */
#define HASH_OFFLOAD_MIN (256 * 1024)

/* Lend the sink's digest to the hasher, when it has one to lend. */
static void hash_offload(struct pf__sink *sk)
{
    if (sk->st->hasher != NULL &&
        pf__hashjob_start(sk->st->hasher, &sk->hj, sk->md, sk->fd,
                          sk->offset + sk->bytes) < 0)
        sk->hj = NULL; /* hashed in line, as smaller bodies are */
}

/* Take the digest back from the hasher; 0, or PF_EIO (sys_errno set). */
static int hash_reclaim(struct pf__sink *sk)
{
    struct pf__hashjob *hj = sk->hj;

    if (hj == NULL)
        return 0;
    sk->hj = NULL;
    if (pf__hashjob_reclaim(hj) < 0) {
        sk->sys_errno = errno;
        return PF_EIO;
    }
    return 0;
}

static void hash_cancel(struct pf__sink *sk)
{
    if (sk->hj != NULL)
        pf__hashjob_cancel(sk->hj);
    sk->hj = NULL;
}

int pf__sink_write(struct pf__sink *sk, const void *buf, size_t n)
{
    const char *p = buf;

    if (sk->hj == NULL &&
        sk->offset + sk->bytes + (int64_t)n >= HASH_OFFLOAD_MIN)
        hash_offload(sk);

    while (n > 0) {
        ssize_t w = write(sk->fd, p, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            sk->sys_errno = errno;
            return errno_code(errno);
        }
        if (w == 0) {
            sk->sys_errno = EIO;
            return PF_EIO;
        }
        if (sk->hj == NULL && EVP_DigestUpdate(sk->md, p, (size_t)w) != 1) {
            sk->sys_errno = ENOMEM;
            return PF_ENOMEM;
        }
        p += w;
        n -= (size_t)w;
        sk->bytes += w;
    }
    if (sk->hj != NULL)
        pf__hashjob_grow(sk->hj, sk->offset + sk->bytes);
    return 0;
}

/* Where a .part keeps its response's validator, for If-Range. */
#define VALIDATOR_XATTR "user.pfetch.validator"

int pf__sink_truncate(struct pf__sink *sk)
{
    hash_cancel(sk);     /* the digest starts over below */
    if (sk->validated) { /* the old body's: the new one brings its own */
        fremovexattr(sk->fd, VALIDATOR_XATTR);
        sk->validated = 0;
    }
    if (ftruncate(sk->fd, 0) < 0 || lseek(sk->fd, 0, SEEK_SET) < 0) {
        sk->sys_errno = errno;
        return PF_EIO;
    }
    sk->offset = 0;
    sk->bytes = 0;
    return hash_start(sk);
}

/*
 * A directory took the final name since the sink opened (another URL of
 * this run, or one left by an earlier run): move on to the next free
 * NAME.N and make it the sink's path.
 */
static int next_final_name(struct pf__sink *sk)
{
    struct pf__store *st = sk->st;
    size_t dlen = (size_t)(sk->name - sk->relpath);
    char name[PF__NAME_BUF], comp[PF__NAME_BUF];
    size_t nlen = strlen(sk->name), clen;
    unsigned long n = 1;
    char *rel;
    int rc;

    memcpy(name, sk->name, nlen + 1);
    pf__buf_truncate(&st->phys, 0);
    rc = pf__buf_append(&st->phys, sk->relpath, dlen > 0 ? dlen - 1 : 0);
    if (rc == 0)
        rc = pick_name(st, name, nlen, &n, comp, &clen);
    if (rc == 0)
        rc = claim_file(st, comp, clen);
    rel = rc == 0 ? pf__strndup(st->key.data, st->key.len) : NULL;
    if (rel == NULL) {
        sk->sys_errno = rc == PF_EIO ? EEXIST : ENOMEM;
        return rc < 0 ? rc : PF_ENOMEM;
    }
    note_suffix(st, name, nlen, n);
    pf__free(sk->relpath);
    sk->relpath = rel;
    sk->name = rel + (st->key.len - clen);
    return 0;
}

void pf__sink_set_validator(struct pf__sink *sk, const char *v)
{
    if (sk->fd >= 0 && fsetxattr(sk->fd, VALIDATOR_XATTR, v, strlen(v), 0) == 0)
        sk->validated = 1;
}

size_t pf__sink_get_validator(struct pf__sink *sk, char *buf, size_t n)
{
    ssize_t len;

    if (sk->fd < 0 || n == 0)
        return 0;
    len = fgetxattr(sk->fd, VALIDATOR_XATTR, buf, n - 1);
    if (len <= 0) {
        buf[0] = '\0';
        return 0;
    }
    buf[len] = '\0';
    sk->validated = 1;
    return (size_t)len;
}

/*
 * The path a directory URL's body was saved under, for a later sink of
 * the same URL (one that came through a slash redirect, say) to write
 * the same file.  Out of memory it is not kept: that sink then takes the
 * next ".N", as any clash does.
 */
static void remember_index(struct pf__store *st, const char *url,
                           const char *relpath)
{
    char *copy = pf__strdup(relpath);
    void *old = NULL;

    if (copy == NULL)
        return;
    if (pf__strmap_lookup(&st->index, url, &old)) {
        pf__free(old);
        pf__strmap_set(&st->index, url, copy);
    } else if (pf__strmap_put(&st->index, url, copy) != 1) {
        pf__free(copy);
    }
}

int pf__sink_commit(struct pf__sink *sk)
{
    char part[PF__NAME_BUF];
    int tries, rc;

    if (sk->fd < 0 || sk->dirfd < 0 || sk->name == NULL) {
        sk->sys_errno = EBADF;
        return PF_EIO;
    }
    part_name(part, sk->name, strlen(sk->name));
    rc = hash_reclaim(sk);
    if (rc < 0)
        return rc;
    if (sk->md != NULL)
        hex_digest(sk->md, sk->sha256);
    /* The complete file carries nothing of ours. */
    if (sk->validated)
        fremovexattr(sk->fd, VALIDATOR_XATTR);
    rc = close(sk->fd);
    sk->fd = -1;
    if (rc < 0 && errno != EINTR) {
        sk->sys_errno = errno;
        return errno_code(errno);
    }
    for (tries = 0;; tries++) {
        int e;

        if (renameat(sk->dirfd, part, sk->dirfd, sk->name) == 0)
            break;
        e = errno;
        if ((e != EISDIR && e != ENOTEMPTY && e != EEXIST) ||
            tries >= MAX_DIR_TRIES) {
            sk->sys_errno = e;
            return errno_code(e);
        }
        rc = next_final_name(sk);
        if (rc < 0)
            return rc;
    }
    release_dir(sk->st, sk->dirfd);
    sk->dirfd = -1;
    if (sk->dir_url != NULL)
        remember_index(sk->st, sk->dir_url, sk->relpath);
    return 0;
}

void pf__sink_abort(struct pf__sink *sk, int keep_part)
{
    hash_cancel(sk);
    if (sk->fd >= 0) {
        close(sk->fd);
        sk->fd = -1;
    }
    if (sk->dirfd >= 0) {
        if (!keep_part && sk->name != NULL) {
            char part[PF__NAME_BUF];

            part_name(part, sk->name, strlen(sk->name));
            unlinkat(sk->dirfd, part, 0);
        }
        release_dir(sk->st, sk->dirfd);
        sk->dirfd = -1;
    }
}

void pf__sink_free(struct pf__sink *sk)
{
    hash_cancel(sk);
    if (sk->fd >= 0) {
        close(sk->fd);
        sk->fd = -1;
    }
    release_dir(sk->st, sk->dirfd);
    sk->dirfd = -1;
    pf__free(sk->relpath);
    pf__free(sk->dir_url);
    EVP_MD_CTX_free(sk->md);
    sk->md = NULL;
    sk->relpath = NULL;
    sk->dir_url = NULL;
    sk->name = NULL;
}
