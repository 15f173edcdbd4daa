/*
 * util.c -- allocation, clocks, buffers, hashing and the error table.
 * Holds no state but the allocation fault countdown used by tests.
 */

#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/*
 * Fault injection for the OOM tests.  Only single-threaded tests arm it,
 * but every thread counts, hence the relaxed atomics: the count is a
 * statistic, the countdown is only ever armed while one thread runs.
 */
static _Atomic long fail_countdown;
static _Atomic long alloc_count;

static int should_fail(void)
{
    atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
    if (atomic_load_explicit(&fail_countdown, memory_order_relaxed) > 0 &&
        atomic_fetch_sub_explicit(&fail_countdown, 1, memory_order_relaxed) ==
            1)
        return 1;
    return 0;
}

long pf__malloc_fail_at(long nth)
{
    long n = atomic_exchange(&alloc_count, 0);

    atomic_store(&fail_countdown, nth);
    return n;
}

void *pf__malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *pf__calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *pf__realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

char *pf__strndup(const char *s, size_t n)
{
    char *d = pf__malloc(n + 1);

    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pf__strdup(const char *s)
{
    return pf__strndup(s, strlen(s));
}

void pf__free(void *p)
{
    free(p);
}

char *pf__asprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    /* va_start is above; clang 14's analyzer misreads va_list. */
    n = vsnprintf(NULL, 0, fmt, ap); /* NOLINT */
    va_end(ap);
    if (n < 0)
        return NULL;
    s = pf__malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap); /* NOLINT */
    va_end(ap);
    return s;
}

int64_t pf__now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t pf__now_ms(void)
{
    return pf__now_ns() / 1000000;
}

int64_t pf__wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pf__buf_append(struct pf__buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *d;

        while (cap < b->len + n + 1)
            cap *= 2;
        d = pf__realloc(b->data, cap);
        if (d == NULL)
            return PF_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int pf__buf_appendc(struct pf__buf *b, char c)
{
    return pf__buf_append(b, &c, 1);
}

void pf__buf_reset(struct pf__buf *b)
{
    pf__buf_truncate(b, 0);
}

void pf__buf_free(struct pf__buf *b)
{
    pf__free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

uint64_t pf__hash64(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 14695981039346656037ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Fingerprints. */

static uint64_t fp_key[2];
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

static void fp_key_init(void)
{
    if (getrandom(fp_key, sizeof(fp_key), GRND_NONBLOCK) !=
        (ssize_t)sizeof(fp_key)) {
        /* No entropy yet: still a key nobody chose beforehand. */
        fp_key[0] = (uint64_t)pf__now_ns() ^ ((uint64_t)getpid() << 32);
        fp_key[1] = pf__hash64(fp_key, sizeof(fp_key[0]));
    }
    fp_key[0] |= 1;
    fp_key[1] |= 1;
}

/* The high and low halves of a * b, folded together. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t pf__fingerprint(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h, w;

    (void)pthread_once(&fp_once, fp_key_init);
    h = fp_key[1] ^ (n * 0x9E3779B97F4A7C15ULL);
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = fold_mul(h ^ w, fp_key[0]);
    }
    w = 0;
    if (n > 0)
        memcpy(&w, s, n);
    h = fold_mul(h ^ w ^ ((uint64_t)n << 56), fp_key[0]);
    h = fold_mul(h ^ (h >> 31), fp_key[1]);
    h &= ~PF__FP_TAG_MASK;
    return h != 0 ? h : PF__FP_TAG_MASK + 1;
}

/* The slot of fp in slots, or the empty one where it would go. */
static uint64_t *fp_slot(uint64_t *slots, size_t cap, uint64_t fp)
{
    size_t i = (size_t)(fp >> PF__FP_TAG_BITS) & (cap - 1);

    while (slots[i] != 0 && (slots[i] & ~PF__FP_TAG_MASK) != fp)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

int pf__fpset_get(const struct pf__fpset *s, uint64_t fp)
{
    uint64_t *slot;

    if (s->cap == 0)
        return -1;
    slot = fp_slot(s->slots, s->cap, fp);
    return *slot != 0 ? (int)(*slot & PF__FP_TAG_MASK) : -1;
}

int pf__fpset_put(struct pf__fpset *s, uint64_t fp, unsigned tag)
{
    uint64_t *slot;

    if ((s->len + 1) * 4 > s->cap * 3) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint64_t *slots = pf__calloc(cap, sizeof(*slots));
        size_t i;

        if (slots == NULL)
            return PF_ENOMEM;
        for (i = 0; i < s->cap; i++)
            if (s->slots[i] != 0)
                *fp_slot(slots, cap, s->slots[i] & ~PF__FP_TAG_MASK) =
                    s->slots[i];
        pf__free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    slot = fp_slot(s->slots, s->cap, fp);
    if (*slot != 0)
        return 0;
    *slot = fp | (tag & PF__FP_TAG_MASK);
    s->len++;
    return 1;
}

void pf__fpset_free(struct pf__fpset *s)
{
    pf__free(s->slots);
    memset(s, 0, sizeof(*s));
}

struct pf__fpmap_slot {
    uint64_t fp; /* 0: empty */
    void *v;
};

static struct pf__fpmap_slot *fpmap_slot(struct pf__fpmap_slot *slots,
                                         size_t cap, uint64_t fp)
{
    size_t i = (size_t)(fp >> PF__FP_TAG_BITS) & (cap - 1);

    while (slots[i].fp != 0 && slots[i].fp != fp)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

void *pf__fpmap_get(const struct pf__fpmap *m, uint64_t fp)
{
    return m->cap == 0 ? NULL : fpmap_slot(m->slots, m->cap, fp)->v;
}

int pf__fpmap_set(struct pf__fpmap *m, uint64_t fp, void *v)
{
    struct pf__fpmap_slot *slot;

    if ((m->len + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct pf__fpmap_slot *slots = pf__calloc(cap, sizeof(*slots));
        size_t i;

        if (slots == NULL)
            return PF_ENOMEM;
        for (i = 0; i < m->cap; i++)
            if (m->slots[i].fp != 0)
                *fpmap_slot(slots, cap, m->slots[i].fp) = m->slots[i];
        pf__free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    slot = fpmap_slot(m->slots, m->cap, fp);
    if (slot->fp == 0)
        m->len++;
    slot->fp = fp;
    slot->v = v;
    return 0;
}

/*
 * Deletion by backward shift: the members after the hole that probed past
 * it move into it, so that every member stays reachable from its home
 * slot without tombstones.
 */
void pf__fpmap_del(struct pf__fpmap *m, uint64_t fp)
{
    size_t mask = m->cap - 1, hole, i;
    struct pf__fpmap_slot *slot;

    if (m->cap == 0)
        return;
    slot = fpmap_slot(m->slots, m->cap, fp);
    if (slot->fp == 0)
        return;
    hole = (size_t)(slot - m->slots);
    for (i = (hole + 1) & mask; m->slots[i].fp != 0; i = (i + 1) & mask) {
        size_t home = (size_t)(m->slots[i].fp >> PF__FP_TAG_BITS) & mask;

        /* Does i's probe path from home pass through the hole? */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    m->slots[hole].fp = 0;
    m->slots[hole].v = NULL;
    m->len--;
}

void pf__fpmap_free(struct pf__fpmap *m)
{
    pf__free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* The string map: linear probing, no deletion (not needed: sets grow). */
struct pf__strmap_slot {
    char *key;
    void *value;
    uint64_t hash;
};

static struct pf__strmap_slot *find_slot(struct pf__strmap_slot *slots,
                                         size_t cap, const char *key,
                                         uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);

    for (;;) {
        struct pf__strmap_slot *s = &slots[i];

        if (s->key == NULL || (s->hash == h && strcmp(s->key, key) == 0))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

void *pf__strmap_get(const struct pf__strmap *m, const char *key)
{
    struct pf__strmap_slot *s;

    if (m->cap == 0)
        return NULL;
    s = find_slot(m->slots, m->cap, key, pf__hash64(key, strlen(key)));
    return s->key ? s->value : NULL;
}

int pf__strmap_has(const struct pf__strmap *m, const char *key)
{
    struct pf__strmap_slot *s;

    if (m->cap == 0)
        return 0;
    s = find_slot(m->slots, m->cap, key, pf__hash64(key, strlen(key)));
    return s->key != NULL;
}

static int grow(struct pf__strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct pf__strmap_slot *slots = pf__calloc(cap, sizeof(*slots));
    size_t i;

    if (slots == NULL)
        return PF_ENOMEM;
    for (i = 0; i < m->cap; i++) {
        struct pf__strmap_slot *o = &m->slots[i];

        if (o->key != NULL)
            *find_slot(slots, cap, o->key, o->hash) = *o;
    }
    pf__free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int pf__strmap_put(struct pf__strmap *m, const char *key, void *value)
{
    uint64_t h = pf__hash64(key, strlen(key));
    struct pf__strmap_slot *s;

    if ((m->len + 1) * 4 > m->cap * 3) {
        int rc = grow(m);

        if (rc < 0)
            return rc;
    }
    s = find_slot(m->slots, m->cap, key, h);
    if (s->key != NULL)
        return 0;
    s->key = pf__strdup(key);
    if (s->key == NULL)
        return PF_ENOMEM;
    s->value = value;
    s->hash = h;
    m->len++;
    return 1;
}

int pf__strmap_lookup(const struct pf__strmap *m, const char *key, void **value)
{
    struct pf__strmap_slot *s;

    if (m->cap == 0)
        return 0;
    s = find_slot(m->slots, m->cap, key, pf__hash64(key, strlen(key)));
    if (s->key == NULL)
        return 0;
    *value = s->value;
    return 1;
}

int pf__strmap_set(struct pf__strmap *m, const char *key, void *value)
{
    struct pf__strmap_slot *s;

    if (m->cap == 0)
        return 0;
    s = find_slot(m->slots, m->cap, key, pf__hash64(key, strlen(key)));
    if (s->key == NULL)
        return 0;
    s->value = value;
    return 1;
}

void pf__strmap_free(struct pf__strmap *m, void (*free_value)(void *))
{
    size_t i;

    for (i = 0; i < m->cap; i++) {
        if (m->slots[i].key != NULL) {
            pf__free(m->slots[i].key);
            if (free_value != NULL)
                free_value(m->slots[i].value);
        }
    }
    pf__free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

const char *pf_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define PF_ERR_CASE_(name, val, text)                                          \
    case (val):                                                                \
        return text;
        PF_ERR_MAP(PF_ERR_CASE_)
#undef PF_ERR_CASE_
    default:
        return "unknown error";
    }
}

const char *pf_version(void)
{
    return PF_VERSION_STRING;
}
