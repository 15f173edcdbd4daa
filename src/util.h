/*
 * util.h -- internal helpers shared by every module: allocation (with a
 * fault-injection countdown for tests), clocks, an intrusive doubly linked
 * queue, and a growable byte buffer.  Any thread.
 */
#ifndef PF_UTIL_H
#define PF_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "pfetch.h"

#define PF__HIDDEN __attribute__((visibility("hidden")))

#define pf__container_of(ptr, type, member)                                    \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define PF__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: every allocation of the library goes through these. */
void *pf__malloc(size_t n);
void *pf__calloc(size_t n, size_t size);
void *pf__realloc(void *p, size_t n);
char *pf__strdup(const char *s);
char *pf__strndup(const char *s, size_t n);
void pf__free(void *p);

/*
 * Tests only: make the nth pf__malloc/calloc/realloc/strdup from now fail
 * (1 = the next one); 0 turns failures off.  Returns how many allocations
 * were made since the last call.  Not thread-safe: single-threaded tests.
 */
long pf__malloc_fail_at(long nth);

/* Monotonic clock in ms and in ns; wall clock in ms since the epoch. */
int64_t pf__now_ms(void);
int64_t pf__now_ns(void);
int64_t pf__wall_ms(void);

/* printf-style into a new pf__malloc'd string; NULL on failure. */
char *pf__asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Intrusive circular doubly linked queue (libuv uv__queue style). */
struct pf__queue {
    struct pf__queue *next;
    struct pf__queue *prev;
};

static inline void pf__queue_init(struct pf__queue *q)
{
    q->next = q;
    q->prev = q;
}

static inline int pf__queue_empty(const struct pf__queue *q)
{
    return q->next == q;
}

static inline void pf__queue_insert_tail(struct pf__queue *h,
                                         struct pf__queue *q)
{
    q->next = h;
    q->prev = h->prev;
    q->prev->next = q;
    h->prev = q;
}

static inline void pf__queue_insert_head(struct pf__queue *h,
                                         struct pf__queue *q)
{
    q->next = h->next;
    q->prev = h;
    q->next->prev = q;
    h->next = q;
}

static inline void pf__queue_remove(struct pf__queue *q)
{
    q->prev->next = q->next;
    q->next->prev = q->prev;
    q->next = q;
    q->prev = q;
}

/* Move every element of from (left empty) to the empty queue to. */
static inline void pf__queue_move(struct pf__queue *from, struct pf__queue *to)
{
    if (pf__queue_empty(from)) {
        pf__queue_init(to);
        return;
    }
    *to = *from;
    to->next->prev = to;
    to->prev->next = to;
    pf__queue_init(from);
}

static inline struct pf__queue *pf__queue_head(const struct pf__queue *h)
{
    return h->next;
}

/* Growable byte buffer, always NUL-terminated when len > 0. */
struct pf__buf {
    char *data;
    size_t len;
    size_t cap;
};

int pf__buf_append(struct pf__buf *b, const void *p, size_t n);
int pf__buf_appendc(struct pf__buf *b, char c);
void pf__buf_reset(struct pf__buf *b);
void pf__buf_free(struct pf__buf *b);

/* Cut b back to its first n bytes (n <= len), NUL-terminated. */
static inline void pf__buf_truncate(struct pf__buf *b, size_t n)
{
    b->len = n;
    if (b->data != NULL)
        b->data[n] = '\0';
}

/* b's text, "" when empty. */
static inline const char *pf__buf_str(const struct pf__buf *b)
{
    return b->len > 0 ? b->data : "";
}

/*
 * ASCII character classes, free of the locale and of signed-char
 * pitfalls.  "White space" means three different sets to the formats we
 * read, and a byte that one counts and another does not would change
 * what we make of a header or a style sheet, so each set has its name:
 *
 *   pf__is_space        SP HT LF VT FF CR   C's isspace() in the "C"
 *                                           locale (URL lists, robots.txt)
 *   pf__is_ascii_space  SP HT LF FF CR      the WHATWG and CSS set (no VT)
 *   pf__is_http_space   SP HT LF CR         Fetch's HTTP white space
 *                                           (header values: no VT, no FF)
 */
static inline int pf__is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static inline int pf__is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static inline int pf__is_http_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int pf__is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int pf__is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* The value of the hex digit c (either case), or -1 when it is none. */
static inline int pf__hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline int pf__is_hex(unsigned char c)
{
    return pf__hex_value(c) >= 0;
}

/*
 * Percent-encoding (RFC 3986 2.1).  pf__pct_decode() gives the octet the
 * escape "%XX" (hex digits of either case) at the start of s stands for,
 * reading at most n bytes, or -1 when s does not start with one: a '%'
 * without two hex digits after it is an ordinary byte to every caller.
 * pf__pct_encode() writes the escape of c, with upper-case digits as RFC
 * 3986 6.2.2.1 recommends, into out[0..3) (no NUL).
 */
static inline int pf__pct_decode(const char *s, size_t n)
{
    int hi, lo;

    if (n < 3 || s[0] != '%')
        return -1;
    hi = pf__hex_value((unsigned char)s[1]);
    lo = pf__hex_value((unsigned char)s[2]);
    return hi >= 0 && lo >= 0 ? hi * 16 + lo : -1;
}

static inline void pf__pct_encode(char out[3], unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";

    out[0] = '%';
    out[1] = hex[c >> 4];
    out[2] = hex[c & 15];
}

/* FNV-1a, 64 bits. */
uint64_t pf__hash64(const void *p, size_t n);

/*
 * A string-keyed hash set/map with open addressing; keys are copied and
 * owned by the table, values are borrowed pointers.  Loop thread.
 */
struct pf__strmap {
    struct pf__strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
};

void *pf__strmap_get(const struct pf__strmap *m, const char *key);
int pf__strmap_has(const struct pf__strmap *m, const char *key);
/* 1 if inserted, 0 if the key was present (value left alone), <0 error. */
int pf__strmap_put(struct pf__strmap *m, const char *key, void *value);
/* 1 and *value set when key is present, else 0: one probe for both. */
int pf__strmap_lookup(const struct pf__strmap *m, const char *key,
                      void **value);
/* Replace the value of a present key: 1, or 0 when the key is absent. */
int pf__strmap_set(struct pf__strmap *m, const char *key, void *value);
void pf__strmap_free(struct pf__strmap *m, void (*free_value)(void *));

/*
 * Fingerprints: a 64-bit keyed hash of a string (the key is drawn at
 * random once per process, so that no page can choose URLs that collide),
 * with its low PF__FP_TAG_BITS bits clear and never 0.  Sets of millions
 * of URLs or paths keep these 8 bytes instead of a copy of each string.
 * Two strings with one fingerprint count as one: for n members the odds
 * that any two collide are about n * n / 2^62, 2e-7 for a million.
 */
#define PF__FP_TAG_BITS 3
#define PF__FP_TAG_MASK ((uint64_t)((1u << PF__FP_TAG_BITS) - 1))

uint64_t pf__fingerprint(const void *p, size_t n);

/*
 * A set of fingerprints, each with a tag (0..PF__FP_TAG_MASK), in one flat
 * array of 8-byte slots: linear probing, no deletion.  Loop thread.
 */
struct pf__fpset {
    uint64_t *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
};

/* The tag of fp, or -1 when fp is not in the set. */
int pf__fpset_get(const struct pf__fpset *s, uint64_t fp);
/* 1 if inserted with tag, 0 if fp was there (its tag left alone), <0. */
int pf__fpset_put(struct pf__fpset *s, uint64_t fp, unsigned tag);
void pf__fpset_free(struct pf__fpset *s);

/*
 * A map from fingerprints to borrowed pointers, with deletion: for the
 * few members that need a value (URLs waiting in a crawl's queues) while
 * a pf__fpset holds all of them.  Loop thread.
 */
struct pf__fpmap {
    struct pf__fpmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
};

void *pf__fpmap_get(const struct pf__fpmap *m, uint64_t fp);
/* Set fp's value (v not NULL), inserting it if absent: 0, or PF_ENOMEM. */
int pf__fpmap_set(struct pf__fpmap *m, uint64_t fp, void *v);
void pf__fpmap_del(struct pf__fpmap *m, uint64_t fp);
void pf__fpmap_free(struct pf__fpmap *m);

#endif /* PF_UTIL_H */
