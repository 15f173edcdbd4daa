/*
 * hasher.h -- SHA-256 of big bodies on a thread of its own: while the
 * loop thread writes a body, the hasher reads what is written back from
 * the page cache and feeds it to the body's digest, so that on two cores
 * receiving and hashing overlap instead of adding up.
 */
#ifndef PF_HASHER_H
#define PF_HASHER_H

#include <stdint.h>

#include <openssl/evp.h>

struct pf__hasher;
struct pf__hashjob;

/* A hasher; its thread starts with its first job.  0 or PF_ENOMEM. */
int pf__hasher_new(struct pf__hasher **out);
/* Stop the thread.  Every job must have been taken back. */
void pf__hasher_free(struct pf__hasher *h);

/*
 * Lend md, which has been fed bytes [0, from) of the file fd, to the
 * hasher: it feeds md the bytes from `from` on as pf__hashjob_grow() says
 * they are written.  fd is duplicated: the caller may close its own.
 * 0, PF_ENOMEM or PF_ESYS (the thread or dup failed: md is untouched and
 * still the caller's).
 */
int pf__hashjob_start(struct pf__hasher *h, struct pf__hashjob **out,
                      EVP_MD_CTX *md, int fd, int64_t from);
/* The file now holds upto bytes (it only grows while the job is lent). */
void pf__hashjob_grow(struct pf__hashjob *j, int64_t upto);
/*
 * Take md back, fed every byte up to the last pf__hashjob_grow(): waits
 * for the block the hasher is reading (at most HASH_BLOCK bytes), then
 * hashes what is left on the calling thread.  0, or -1 with errno when a
 * byte could not be read back (md is then incomplete).  The job is freed.
 */
int pf__hashjob_reclaim(struct pf__hashjob *j);
/* Take md back as it is, whatever it has been fed: the job is freed. */
void pf__hashjob_cancel(struct pf__hashjob *j);

#endif /* PF_HASHER_H */
