/*
 * global.c -- the only process-wide state of the library: the counted
 * initialisation of libcurl and libxml2, and the allocator given to
 * libcurl.
 *
 * libcurl allocates its receive buffer (CURLOPT_BUFFERSIZE, 512 KiB here)
 * at the start of every transfer and frees it at the end.  Through
 * malloc, a block that big is either mmap'd and unmapped each time (page
 * faults on every small transfer) or carved from the heap unaligned (the
 * kernel's copies into it are then markedly slower).  So big blocks get
 * their own path: page-aligned mappings kept in a small cache and reused.
 * Every block carries a 16-byte header saying which path it took; small
 * blocks go to malloc as before.
 */
#include <libxml/parser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"

static pthread_mutex_t global_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned global_count;

#define BIG_MIN (256u * 1024u) /* blocks this big take the cached path */
#define BIG_CACHE 64           /* mappings kept for reuse */
#define HDR 16                 /* header before every block */
#define PAGE 4096u

struct hdr {
    size_t size; /* bytes asked for */
    size_t big;  /* 1: mapping of map_size(size) bytes */
};

static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;
static void *big_cache[BIG_CACHE];
static size_t big_cache_size[BIG_CACHE];
static size_t big_cached;

/* A mapping: one page for the header, then the page-aligned data. */
static size_t map_size(size_t size)
{
    return PAGE + (size + PAGE - 1) / PAGE * PAGE;
}

static void *big_alloc(size_t size)
{
    size_t want = map_size(size);
    char *m = NULL;
    size_t i;
    struct hdr *h;

    pthread_mutex_lock(&big_mu);
    for (i = 0; i < big_cached; i++) {
        if (big_cache_size[i] == want) {
            m = big_cache[i];
            big_cached--;
            big_cache[i] = big_cache[big_cached];
            big_cache_size[i] = big_cache_size[big_cached];
            break;
        }
    }
    pthread_mutex_unlock(&big_mu);
    if (m == NULL) {
        m = mmap(NULL, want, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
    }
    h = (struct hdr *)(void *)(m + PAGE - HDR);
    h->size = size;
    h->big = 1;
    return m + PAGE;
}

static void big_free(char *data, size_t size)
{
    char *m = data - PAGE;
    size_t want = map_size(size);

    pthread_mutex_lock(&big_mu);
    if (big_cached < BIG_CACHE) {
        big_cache[big_cached] = m;
        big_cache_size[big_cached] = want;
        big_cached++;
        m = NULL;
    }
    pthread_mutex_unlock(&big_mu);
    if (m != NULL)
        munmap(m, want);
}

static void *cmalloc(size_t size)
{
    struct hdr *h;

    if (size >= BIG_MIN)
        return big_alloc(size);
    h = malloc(HDR + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    h->big = 0;
    return (char *)h + HDR;
}

static void cfree(void *p)
{
    struct hdr *h;

    if (p == NULL)
        return;
    h = (struct hdr *)(void *)((char *)p - HDR);
    if (h->big)
        big_free(p, h->size);
    else
        free(h);
}

static void *crealloc(void *p, size_t size)
{
    struct hdr *h;
    void *n;

    if (p == NULL)
        return cmalloc(size);
    h = (struct hdr *)(void *)((char *)p - HDR);
    if (!h->big && size < BIG_MIN) {
        struct hdr *nh = realloc(h, HDR + size);

        if (nh == NULL)
            return NULL; /* p is untouched and still the caller's */
        nh->size = size;
        return (char *)nh + HDR;
    }
    n = cmalloc(size);
    if (n == NULL)
        return NULL;
    memcpy(n, p, h->size < size ? h->size : size);
    cfree(p);
    return n;
}

static void *ccalloc(size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > (SIZE_MAX - HDR - PAGE) / size)
        return NULL;
    p = cmalloc(n * size);
    if (p != NULL) /* a reused mapping is not zero: clear in all cases */
        memset(p, 0, n * size);
    return p;
}

static char *cstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cmalloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

int pf_global_init(void)
{
    int rc = 0;

    pthread_mutex_lock(&global_mu);
    if (global_count == 0) {
        if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, cmalloc, cfree, crealloc,
                                 cstrdup, ccalloc) != CURLE_OK) {
            rc = PF_ECURL;
        } else {
            /* Parser threads need it done once, before they exist. */
            xmlInitParser();
        }
    }
    if (rc == 0)
        global_count++;
    pthread_mutex_unlock(&global_mu);
    return rc;
}

void pf_global_cleanup(void)
{
    pthread_mutex_lock(&global_mu);
    if (global_count > 0 && --global_count == 0) {
        xmlCleanupParser();
        curl_global_cleanup();
        pthread_mutex_lock(&big_mu);
        while (big_cached > 0) {
            big_cached--;
            munmap(big_cache[big_cached], big_cache_size[big_cached]);
        }
        pthread_mutex_unlock(&big_mu);
    }
    pthread_mutex_unlock(&global_mu);
}
