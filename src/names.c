/*
 * names.c -- what a URL's body is called: the naming rules of the output
 * directory, as pure functions of their arguments.
 *
 * This module owns the mapping of a URL to a safe relative path (tree
 * layout) or to one file name (flat layout), the sanitising of one
 * component, the shortening of a long one with a hash, the percent-decoding
 * of a path segment, the slash redirect rule and the file name carried by a
 * Content-Disposition header.  It never touches the file system, holds no
 * state and never knows which names are taken: choosing a free name, the
 * ".N" and ".d" rules and the files themselves are store.c's.  Every
 * function may be called from any thread, and the fuzzer calls them with
 * any bytes.
 *
 * The rules below are part of the on-disk contract; pfetch(5) repeats them.
 *
 * Names.  A URL maps, in the tree layout, to "host[:port]/seg/.../name": the
 * port only when it is not the scheme's default, empty segments dropped,
 * "index.html" for a URL whose path ends in "/", and the query, when there is
 * one, kept as "name?query".  Each path segment is percent-decoded where the
 * byte it gives is harmless in a file name (printable ASCII other than '/',
 * '\\', '%' and '?', and bytes that form valid UTF-8); the query is kept as
 * sent.  A URL answered through a slash redirect (the same URL with '/' added
 * to its path) is named after the URL that answered: "h/sub/index.html", not
 * "h/sub", as wget names it, so that its relative links find their files.  In
 * the flat layout the name is the sanitised Content-Disposition file name when
 * the server sent one, else the URL's last segment, else "index.html" (the
 * query is not used); the store may keep an earlier run's name instead (see
 * store.c).  Every component is then sanitised: '/', '\\', control bytes and
 * bytes that are not valid UTF-8 become "%XX"; a component "." becomes "%2E",
 * ".." becomes "%2E%2E", and an empty one "_".  A component longer than 255
 * bytes is cut and ends with "~" and the 16 hex digits of a 64-bit FNV-1a hash
 * of the whole component, followed by its extension when that is at most 16
 * bytes, so distinct long names stay distinct.
 */
#include "names.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "url.h"
#include "util.h"

/* Longest extension kept by a shortened name, its dot included. */
#define EXT_MAX 16

/* "~" and 16 hex digits. */
#define HASH_TAG_LEN 17

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Whether s[0..n) equals the lowercase word w, ignoring ASCII case. */
static int word_is(const char *s, size_t n, const char *w)
{
    size_t i;

    if (strlen(w) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != w[i])
            return 0;
    return 1;
}

static const char *last_byte(const char *s, size_t n, int c)
{
    while (n > 0) {
        n--;
        if (s[n] == c)
            return s + n;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Sanitising one component                                            */
/* ------------------------------------------------------------------ */

/*
 * The length of the valid UTF-8 sequence at s (2 to 4 bytes), or 0 when
 * s does not start one.  Overlong forms, surrogates, code points beyond
 * U+10FFFF and the C1 controls U+0080..U+009F are not valid here.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned long cp;
    size_t len, i;

    if (s[0] < 0xC2)
        return 0;
    if (s[0] < 0xE0) {
        len = 2;
        cp = s[0] & 0x1Fu;
    } else if (s[0] < 0xF0) {
        len = 3;
        cp = s[0] & 0x0Fu;
    } else if (s[0] < 0xF5) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 2 && cp < 0xA0) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* A byte that is copied as it is into a file name. */
static int is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7F && c != '/' && c != '\\';
}

/*
 * Shorten the component full[0..len), len > PF__NAME_MAX_BYTES, into out
 * (PF__NAME_BUF bytes): a prefix cut at a character boundary, "~", the hash
 * of the whole component in hex, and its extension when short.  Returns
 * the new length, at most PF__NAME_MAX_BYTES; out is NUL-terminated.
 */
static size_t shorten(char *out, const char *full, size_t len)
{
    uint64_t h = pf__hash64(full, len);
    const char *dot = last_byte(full, len, '.');
    size_t ext = 0, keep;
    char tag[HASH_TAG_LEN + 1];

    if (dot != NULL && dot > full && (size_t)(full + len - dot) <= EXT_MAX)
        ext = (size_t)(full + len - dot);
    keep = PF__NAME_MAX_BYTES - HASH_TAG_LEN - ext;
    /* Do not cut a UTF-8 sequence or a %XX escape in two. */
    while (keep > 0 && ((unsigned char)full[keep] & 0xC0u) == 0x80u)
        keep--;
    if (keep >= 1 && full[keep - 1] == '%')
        keep -= 1;
    else if (keep >= 2 && full[keep - 2] == '%')
        keep -= 2;
    memcpy(out, full, keep);
    snprintf(tag, sizeof(tag), "~%016llx", (unsigned long long)h);
    memcpy(out + keep, tag, HASH_TAG_LEN);
    memcpy(out + keep + HASH_TAG_LEN, full + len - ext, ext);
    out[keep + HASH_TAG_LEN + ext] = '\0';
    return keep + HASH_TAG_LEN + ext;
}

/*
 * Append the sanitised form of name[0..len) to b, as pf__name_sanitize()
 * describes it.
 */
static int sanitize_into(struct pf__buf *b, const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t start = b->len, i = 0;
    int rc = 0;

    if (len == 0)
        return pf__buf_append(b, "_", 1);
    if (len == 1 && s[0] == '.')
        return pf__buf_append(b, "%2E", 3);
    if (len == 2 && s[0] == '.' && s[1] == '.')
        return pf__buf_append(b, "%2E%2E", 6);
    while (rc == 0 && i < len) {
        size_t j = i, n;

        while (j < len && is_plain(s[j]))
            j++;
        if (j > i) {
            rc = pf__buf_append(b, s + i, j - i);
            i = j;
            continue;
        }
        n = s[i] >= 0x80 ? utf8_len(s + i, len - i) : 0;
        if (n > 0) {
            rc = pf__buf_append(b, s + i, n);
            i += n;
        } else {
            char esc[3];

            pf__pct_encode(esc, s[i]);
            rc = pf__buf_append(b, esc, 3);
            i++;
        }
    }
    if (rc == 0 && b->len - start > PF__NAME_MAX_BYTES) {
        char cut[PF__NAME_BUF];
        size_t n = shorten(cut, b->data + start, b->len - start);

        pf__buf_truncate(b, start);
        rc = pf__buf_append(b, cut, n);
    }
    return rc;
}

int pf__name_sanitize(const char *name, size_t len, char **out)
{
    struct pf__buf b = {NULL, 0, 0};
    int rc = sanitize_into(&b, name, len);

    if (rc < 0) {
        pf__buf_free(&b);
        return rc;
    }
    *out = b.data;
    return 0;
}

size_t pf__name_join(char *out, const char *name, size_t nlen,
                     const char *suffix, size_t slen)
{
    char tmp[PF__NAME_MAX_BYTES + PF__NAME_SUFFIX_MAX + 1];
    size_t n = nlen + slen;

    memcpy(tmp, name, nlen);
    memcpy(tmp + nlen, suffix, slen);
    if (n <= PF__NAME_MAX_BYTES) {
        memcpy(out, tmp, n);
        out[n] = '\0';
        return n;
    }
    return shorten(out, tmp, n);
}

/* ------------------------------------------------------------------ */
/* URLs to names                                                       */
/* ------------------------------------------------------------------ */

/*
 * URLs are cut by pf__url_split(), which takes any string (the mappers
 * are fuzzed with any) and refuses what is not http(s) with a host and a
 * valid port; the input of the real program is already normalised.
 */

/*
 * A byte that %XX in a path segment is decoded to: what is harmless and
 * readable in a file name.  '%' and '?' stay encoded so that a name keeps
 * telling "a%3Fb" from the query of "a?b"; bytes >= 0x80 are decoded and
 * re-encoded by sanitize_into() unless they form valid UTF-8.
 */
static int decodable(int c)
{
    return c >= 0x80 || (c >= 0x20 && c < 0x7F && c != '/' && c != '\\' &&
                         c != '%' && c != '?');
}

/* Append the percent-decoded segment s[0..n) to b. */
static int decode_into(struct pf__buf *b, const char *s, size_t n)
{
    size_t i = 0;
    int rc = 0;

    while (rc == 0 && i < n) {
        const char *pct = memchr(s + i, '%', n - i);
        size_t j = pct != NULL ? (size_t)(pct - s) : n;
        int v;

        if (j > i) {
            rc = pf__buf_append(b, s + i, j - i); /* a run without '%' */
            i = j;
            continue;
        }
        v = pf__pct_decode(s + i, n - i);
        if (v >= 0 && decodable(v)) {
            rc = pf__buf_appendc(b, (char)v);
            i += 3;
        } else {
            rc = pf__buf_appendc(b, '%');
            i++;
        }
    }
    return rc;
}

/* The last segment of url's path: what follows its last '/'. */
static void last_segment(const char *url, const struct pf__url_parts *u,
                         const char **seg, size_t *n)
{
    const char *path = url + u->path_off;
    const char *end = path + u->path_len;
    const char *slash = last_byte(path, u->path_len, '/');

    *seg = slash != NULL ? slash + 1 : end;
    *n = (size_t)(end - *seg);
}

int pf__name_tree_path(const char *url, char **out)
{
    struct pf__url_parts u;
    struct pf__buf b = {NULL, 0, 0}, t = {NULL, 0, 0};
    const char *p, *file;
    size_t flen, i;
    int rc;

    rc = pf__url_split(url, &u);
    if (rc < 0)
        return rc;
    /* host[:port], lowercase; no port when it is the scheme's default. */
    rc = pf__buf_append(&t, url + u.host_off, u.host_len);
    for (i = 0; rc == 0 && i < t.len; i++)
        t.data[i] = (char)lower((unsigned char)t.data[i]);
    if (rc == 0 && u.port != u.default_port && u.port != 0) {
        char port[16];
        int n = snprintf(port, sizeof(port), ":%u", u.port);

        rc = pf__buf_append(&t, port, (size_t)n);
    }
    if (rc == 0)
        rc = sanitize_into(&b, t.data, t.len);
    /* Directories: the non-empty segments before the last '/'. */
    last_segment(url, &u, &file, &flen);
    for (p = url + u.path_off; rc == 0 && p < file;) {
        const char *s = memchr(p, '/', (size_t)(file - p));

        if (s == NULL)
            break;
        if (s > p) {
            pf__buf_truncate(&t, 0);
            rc = decode_into(&t, p, (size_t)(s - p));
            if (rc == 0)
                rc = pf__buf_appendc(&b, '/');
            if (rc == 0)
                rc = sanitize_into(&b, t.data, t.len);
        }
        p = s + 1;
    }
    /* The file: its name (or index.html), then ?query. */
    pf__buf_truncate(&t, 0);
    if (rc == 0)
        rc = flen == 0 ? pf__buf_append(&t, "index.html", 10)
                       : decode_into(&t, file, flen);
    if (rc == 0 && u.query_len > 0) {
        rc = pf__buf_appendc(&t, '?');
        if (rc == 0)
            rc = pf__buf_append(&t, url + u.query_off, u.query_len);
    }
    if (rc == 0)
        rc = pf__buf_appendc(&b, '/');
    if (rc == 0)
        rc = sanitize_into(&b, t.data, t.len);
    pf__buf_free(&t);
    if (rc < 0) {
        pf__buf_free(&b);
        return rc;
    }
    *out = b.data;
    return 0;
}

int pf__name_fit(const char *path, size_t max, char **out)
{
    size_t len = strlen(path), keep, fold;
    const char *first = strchr(path, '/');
    const char *last = strrchr(path, '/');
    const char *s;
    char tag[sizeof(PF__NAME_FOLD_TAG) + 17];
    int n;

    *out = NULL;
    if (len <= max || first == NULL || first == last)
        goto whole;
    /* folded~HASH and the file name, after the kept directories. */
    fold = strlen(PF__NAME_FOLD_TAG) + 16 + 1 + (size_t)(path + len - last);
    if ((size_t)(first - path) + 1 + fold > max)
        return PF_EIO;
    /* Keep whole directories while the rest still fits. */
    keep = (size_t)(first - path);
    for (s = first; s < last;) {
        const char *next = strchr(s + 1, '/');

        if ((size_t)(next - path) + 1 + fold > max)
            break;
        keep = (size_t)(next - path);
        s = next;
    }
    n = snprintf(tag, sizeof(tag), "%s%016llx", PF__NAME_FOLD_TAG,
                 (unsigned long long)pf__hash64(
                     path + keep + 1, (size_t)(last - path) - keep - 1));
    *out = pf__asprintf("%.*s/%.*s%s", (int)keep, path, n, tag, last);
    return *out != NULL ? 0 : PF_ENOMEM;
whole:
    if (len > max)
        return PF_EIO;
    *out = pf__strdup(path);
    return *out != NULL ? 0 : PF_ENOMEM;
}

int pf__name_flat(const char *url, const char *cd, char **out)
{
    struct pf__url_parts u;
    struct pf__buf b = {NULL, 0, 0}, t = {NULL, 0, 0};
    const char *file;
    size_t flen;
    int rc;

    rc = pf__url_split(url, &u);
    if (rc < 0)
        return rc;
    if (cd != NULL) {
        char *name = NULL;

        rc = pf__name_parse_content_disposition(cd, &name);
        if (rc < 0)
            return rc;
        if (name != NULL) {
            *out = name;
            return 0;
        }
    }
    last_segment(url, &u, &file, &flen);
    rc = flen == 0 ? pf__buf_append(&t, "index.html", 10)
                   : decode_into(&t, file, flen);
    if (rc == 0)
        rc = sanitize_into(&b, t.data, t.len);
    pf__buf_free(&t);
    if (rc < 0) {
        pf__buf_free(&b);
        return rc;
    }
    *out = b.data;
    return 0;
}

/* Whether a[0..n) and b[0..n) are equal, ignoring ASCII case. */
static int same_nocase(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

int pf__name_slash_redirect(const char *url, const char *final_url)
{
    struct pf__url_parts u, f;

    if (url == NULL || final_url == NULL || pf__url_split(url, &u) < 0 ||
        pf__url_split(final_url, &f) < 0)
        return 0;
    /* A path that already ends in '/' gains nothing from one more. */
    if (u.path_len > 0 && url[u.path_off + u.path_len - 1] == '/')
        return 0;
    return u.scheme_len == f.scheme_len &&
           same_nocase(url, final_url, u.scheme_len) &&
           u.host_len == f.host_len &&
           same_nocase(url + u.host_off, final_url + f.host_off, u.host_len) &&
           u.port == f.port && f.path_len == u.path_len + 1 &&
           memcmp(url + u.path_off, final_url + f.path_off, u.path_len) == 0 &&
           final_url[f.path_off + u.path_len] == '/' &&
           u.has_query == f.has_query && u.query_len == f.query_len &&
           memcmp(url + u.query_off, final_url + f.query_off, u.query_len) == 0;
}

/* ------------------------------------------------------------------ */
/* Content-Disposition                                                 */
/* ------------------------------------------------------------------ */

/*
 * Decode an RFC 8187 ext-value, charset'language'percent-encoded, into
 * dst as UTF-8.  Returns 1 when decoded, 0 when malformed or in a charset
 * other than UTF-8 and ISO-8859-1, or PF_ENOMEM.
 */
static int decode_ext_value(struct pf__buf *dst, const char *s, size_t n)
{
    const char *q1, *q2, *p, *end = s + n;
    int latin1;
    int rc = 0;

    if (n == 0)
        return 0;
    q1 = memchr(s, '\'', n);
    if (q1 == NULL)
        return 0;
    q2 = memchr(q1 + 1, '\'', (size_t)(end - q1 - 1));
    if (q2 == NULL)
        return 0;
    if (word_is(s, (size_t)(q1 - s), "utf-8"))
        latin1 = 0;
    else if (word_is(s, (size_t)(q1 - s), "iso-8859-1"))
        latin1 = 1;
    else
        return 0;
    for (p = q2 + 1; rc == 0 && p < end; p++) {
        unsigned char c = (unsigned char)*p;
        int v = pf__pct_decode(p, (size_t)(end - p));

        if (v >= 0) {
            c = (unsigned char)v;
            p += 2;
        }
        if (latin1 && c >= 0x80) {
            rc = pf__buf_appendc(dst, (char)(0xC0 | (c >> 6)));
            if (rc == 0)
                rc = pf__buf_appendc(dst, (char)(0x80 | (c & 0x3F)));
        } else {
            rc = pf__buf_appendc(dst, (char)c);
        }
    }
    return rc < 0 ? rc : 1;
}

/*
 * The last path component of the file name in b, trimmed of blanks, or
 * 0 when there is none worth saving under (empty, "." or "..").
 */
static int base_name(const struct pf__buf *b, const char **s, size_t *n)
{
    const char *p = pf__buf_str(b), *end = p + b->len;
    const char *q;

    for (q = end; q > p; q--) {
        if (q[-1] == '/' || q[-1] == '\\') {
            p = q;
            break;
        }
    }
    while (p < end && pf__is_http_space((unsigned char)*p))
        p++;
    while (end > p && pf__is_http_space((unsigned char)end[-1]))
        end--;
    *s = p;
    *n = (size_t)(end - p);
    if (*n == 0 || (*n == 1 && p[0] == '.') ||
        (*n == 2 && p[0] == '.' && p[1] == '.'))
        return 0;
    return 1;
}

int pf__name_parse_content_disposition(const char *value, char **out)
{
    struct pf__buf val = {NULL, 0, 0}, plain = {NULL, 0, 0};
    struct pf__buf ext = {NULL, 0, 0}, res = {NULL, 0, 0};
    int have_plain = 0, have_ext = 0, rc = 0;
    const char *p = value, *name = NULL;
    size_t n = 0;

    *out = NULL;
    if (value == NULL)
        return 0;
    while (rc == 0 && *p != '\0') {
        const char *ns, *ne;

        while (*p == ';' || pf__is_http_space((unsigned char)*p))
            p++;
        ns = p;
        while (*p != '\0' && *p != '=' && *p != ';')
            p++;
        ne = p;
        while (ne > ns && pf__is_http_space((unsigned char)ne[-1]))
            ne--;
        if (*p != '=')
            continue; /* the disposition type, or a bare word */
        p++;
        while (pf__is_http_space((unsigned char)*p))
            p++;
        pf__buf_truncate(&val, 0);
        if (*p == '"') {
            /* A quoted string: backslash quotes the next character. */
            for (p++; rc == 0 && *p != '\0' && *p != '"'; p++) {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                rc = pf__buf_appendc(&val, *p);
            }
            if (*p == '"')
                p++;
            while (*p != '\0' && *p != ';')
                p++;
        } else {
            const char *vs = p, *ve;

            while (*p != '\0' && *p != ';')
                p++;
            ve = p;
            while (ve > vs && pf__is_http_space((unsigned char)ve[-1]))
                ve--;
            rc = pf__buf_append(&val, vs, (size_t)(ve - vs));
        }
        if (rc < 0)
            break;
        if (!have_ext && word_is(ns, (size_t)(ne - ns), "filename*")) {
            rc = decode_ext_value(&ext, pf__buf_str(&val), val.len);
            if (rc > 0) {
                have_ext = 1;
                rc = 0;
            }
        } else if (!have_plain && word_is(ns, (size_t)(ne - ns), "filename")) {
            have_plain = 1;
            rc = pf__buf_append(&plain, pf__buf_str(&val), val.len);
        }
    }
    /* filename* wins over filename (RFC 6266), when it names something. */
    if (rc == 0 && !(have_ext && base_name(&ext, &name, &n)) &&
        !(have_plain && base_name(&plain, &name, &n)))
        name = NULL;
    if (rc == 0 && name != NULL)
        rc = sanitize_into(&res, name, n);
    pf__buf_free(&val);
    pf__buf_free(&plain);
    pf__buf_free(&ext);
    if (rc < 0) {
        pf__buf_free(&res);
        return rc;
    }
    *out = name != NULL ? res.data : NULL;
    return 0;
}
