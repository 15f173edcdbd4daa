/*
 * json.h -- a log row as one line of JSON (JSON Lines, pfetch --json).
 * Pure: no I/O, no state; any thread.  Strings are escaped so that the
 * line is valid JSON whatever bytes a URL or a server's header held:
 * '"' and '\\' are escaped, control bytes (below 0x20, and 0x7f) become
 * \u00XX, and each byte that is not part of a well-formed UTF-8
 * sequence (a stray continuation byte, a truncated or overlong
 * sequence, a surrogate, a code point past U+10FFFF) becomes U+FFFD.
 */
#ifndef PF_JSON_H
#define PF_JSON_H

#include "pfetch.h"
#include "util.h"

/*
 * Append s as a JSON string (quotes included) to b, or null when s is
 * NULL.  n is its length: it may hold NUL bytes (escaped as \u0000).
 * 0 or PF_ENOMEM.
 */
int pf__json_string(struct pf__buf *b, const char *s, size_t n);

/*
 * Append the row of r as one JSON object and a '\n' to b: every column of
 * pfetch(5)'s fetches table but id and run_id, by name, in the table's
 * order, null for NULL.  started_at is the column's text (r's
 * started_at_ms formatted), or NULL.  0 or PF_ENOMEM.
 */
int pf__json_row(struct pf__buf *b, const struct pf_result *r,
                 const char *started_at);

#endif /* PF_JSON_H */
