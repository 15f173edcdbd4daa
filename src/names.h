/*
 * names.h -- what a URL's body is called on disk: URL -> safe relative
 * path (tree layout) or one component (flat layout), the sanitising and
 * shortening of a component, the slash redirect rule and the file name of
 * a Content-Disposition header.  Pure functions: no file system access,
 * no state; any thread.  The store (store.c) decides which of these names
 * is free and creates the files.
 */
#ifndef PF_NAMES_H
#define PF_NAMES_H

#include <stddef.h>

/* The longest file name component most file systems accept. */
#define PF__NAME_MAX_BYTES 255

/* Room for a suffix appended to a name: ".part", ".d", ".N". */
#define PF__NAME_SUFFIX_MAX 24

/* A component and its NUL. */
#define PF__NAME_BUF (PF__NAME_MAX_BYTES + 1)

/*
 * Pure mapping functions (fuzzed):
 *
 * pf__name_tree_path: "http://Host:8080/a/b/?q=1" ->
 * "host:8080/a/b/index.html?q=1"; the port is kept only when the URL
 * names one that is not the scheme's default.  Each path segment is
 * percent-decoded where the result is a safe character and sanitised with
 * pf__name_sanitize().  *out is pf__malloc'd.
 *
 * pf__name_flat: the name for the flat layout, from the sanitised
 * Content-Disposition file name when cd is not NULL and holds one,
 * else the URL's last segment, else "index.html".
 *
 * Both return 0, PF_EURL for what is not an http(s) URL with a host, or
 * PF_ENOMEM.  Any thread.
 */
int pf__name_tree_path(const char *url, char **out);
int pf__name_flat(const char *url, const char *cd, char **out);

/*
 * Fit a tree path (as pf__name_tree_path() made it) into max bytes: the
 * path itself when it fits; else its host directory, as many of its
 * leading directories as fit, one directory "folded~" and the 16 hex
 * digits of a 64-bit hash of the directories it replaces, and the file
 * name.  So files of one deep directory stay together, and two URLs
 * differing anywhere keep distinct paths.  *out is pf__malloc'd.  0,
 * PF_ENOMEM, or PF_EIO when even host/folded~.../name is over max.
 * Any thread.
 */
int pf__name_fit(const char *path, size_t max, char **out);

/* Where a folded path's folding directory starts: "folded~". */
#define PF__NAME_FOLD_TAG "folded~"

/*
 * 1 when a response from final_url to a request of url is a slash
 * redirect: final_url is url with '/' appended to its path, the scheme,
 * host (in any case), port and query the same.  The tree layout then
 * saves the body as final_url's ("sub/index.html", not "sub").  0 for
 * anything else, NULL included.  Any thread.
 */
int pf__name_slash_redirect(const char *url, const char *final_url);

/*
 * Sanitise one file name component in place into a new string: no '/',
 * '\\', NUL or control characters (percent-encoded), not "." or ".."
 * (encoded as "%2E" / "%2E%2E"), not empty, at most 255 bytes (longer
 * names are cut and given a hash of the whole name so they stay unique,
 * keeping the extension when it is short).  *out is pf__malloc'd.
 * 0 or PF_ENOMEM.  Any thread.
 */
int pf__name_sanitize(const char *name, size_t len, char **out);

/*
 * name + suffix as one component in out (PF__NAME_BUF bytes), shortened
 * by the same hash rule when longer than PF__NAME_MAX_BYTES.
 * nlen <= PF__NAME_MAX_BYTES, slen <= PF__NAME_SUFFIX_MAX; out may be
 * name itself.  Returns the length; out is NUL-terminated.  Any thread.
 */
size_t pf__name_join(char *out, const char *name, size_t nlen,
                     const char *suffix, size_t slen);

/*
 * The file name carried by a Content-Disposition header value
 * (filename*=UTF-8''..., else filename="..." or filename=...), reduced to
 * its last path component and sanitised; NULL in *out when it has none.
 * 0 or PF_ENOMEM.  Any thread.
 */
int pf__name_parse_content_disposition(const char *value, char **out);

#endif /* PF_NAMES_H */
