/*
 * test_hasher.c -- the hasher thread: a digest lent while a file grows
 * comes back fed every byte, in order, whatever the pieces and however
 * many files are lent at once; a cancelled job gives the digest back as
 * it was; a file that shrinks behind the job is an error, not a wrong
 * digest.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hasher.h"
#include "test.h"

#define FILES 3
#define SIZE (5 * 1024 * 1024 + 123)

static void digest_of(const unsigned char *p, size_t n, unsigned char out[32])
{
    unsigned int len = 0;

    CHECK_EQ(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
    CHECK_EQ(len, 32);
}

static void final_of(EVP_MD_CTX *md, unsigned char out[32])
{
    unsigned int len = 0;

    CHECK_EQ(EVP_DigestFinal_ex(md, out, &len), 1);
    CHECK_EQ(len, 32);
}

static void temp_file(int *fd)
{
    char path[] = "/tmp/pfetch-hasher-XXXXXX";

    *fd = mkstemp(path);
    CHECK(*fd >= 0);
    unlink(path);
}

/* Three files written in uneven pieces, interleaved, all lent at once. */
static void test_files_in_pieces(void)
{
    struct pf__hasher *h = NULL;
    struct pf__hashjob *j[FILES];
    EVP_MD_CTX *md[FILES];
    unsigned char *body = malloc(SIZE), want[32], got[32];
    int64_t at[FILES];
    int fd[FILES], i, live = FILES;
    size_t k;

    CHECK(body != NULL);
    for (k = 0; k < SIZE; k++)
        body[k] = (unsigned char)(k * 2654435761u >> 13);
    digest_of(body, SIZE, want);
    CHECK_EQ(pf__hasher_new(&h), 0);
    for (i = 0; i < FILES; i++) {
        temp_file(&fd[i]);
        md[i] = EVP_MD_CTX_new();
        CHECK(md[i] != NULL);
        CHECK_EQ(EVP_DigestInit_ex(md[i], EVP_sha256(), NULL), 1);
        /* The first 1000 bytes hashed in line, as the store does. */
        CHECK_EQ(write(fd[i], body, 1000), 1000);
        CHECK_EQ(EVP_DigestUpdate(md[i], body, 1000), 1);
        at[i] = 1000;
        CHECK_EQ(pf__hashjob_start(h, &j[i], md[i], fd[i], 1000), 0);
    }
    while (live > 0) {
        for (i = 0; i < FILES; i++) {
            int64_t n = 1 + (at[i] * 7 + i * 40961) % 300000;

            if (at[i] == SIZE)
                continue;
            if (n > SIZE - at[i])
                n = SIZE - at[i];
            CHECK_EQ(write(fd[i], body + at[i], (size_t)n), (ssize_t)n);
            at[i] += n;
            pf__hashjob_grow(j[i], at[i]);
            if (at[i] == SIZE) {
                live--;
                /* One taken back at once, the others after a while. */
                if (i > 0)
                    usleep(20000);
                CHECK_EQ(pf__hashjob_reclaim(j[i]), 0);
                final_of(md[i], got);
                CHECK(memcmp(got, want, 32) == 0);
            }
        }
    }
    for (i = 0; i < FILES; i++) {
        EVP_MD_CTX_free(md[i]);
        close(fd[i]);
    }
    pf__hasher_free(h);
    free(body);
}

static void test_cancel_and_short_file(void)
{
    struct pf__hasher *h = NULL;
    struct pf__hashjob *j = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    static unsigned char body[300000];
    unsigned char want[32], got[32];
    int fd = -1;

    temp_file(&fd);
    memset(body, 'x', sizeof(body));
    CHECK_EQ(pf__hasher_new(&h), 0);
    /* Cancelled: md is given back; the caller starts it over. */
    CHECK_EQ(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    CHECK_EQ(pf__hashjob_start(h, &j, md, fd, 0), 0);
    CHECK_EQ(write(fd, body, sizeof(body)), (ssize_t)sizeof(body));
    pf__hashjob_grow(j, sizeof(body));
    pf__hashjob_cancel(j);
    CHECK_EQ(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    CHECK_EQ(EVP_DigestUpdate(md, "abc", 3), 1);
    final_of(md, got);
    digest_of((const unsigned char *)"abc", 3, want);
    CHECK(memcmp(got, want, 32) == 0);
    /* Told of more bytes than the file holds: an error, never a digest. */
    CHECK_EQ(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    CHECK_EQ(pf__hashjob_start(h, &j, md, fd, 0), 0);
    pf__hashjob_grow(j, (int64_t)sizeof(body) + 4096);
    errno = 0;
    CHECK_EQ(pf__hashjob_reclaim(j), -1);
    CHECK_EQ(errno, EIO);
    EVP_MD_CTX_free(md);
    close(fd);
    pf__hasher_free(h);
}

/* A hasher that never got a job starts no thread and frees cleanly. */
static void test_idle(void)
{
    struct pf__hasher *h = NULL;

    CHECK_EQ(pf__hasher_new(&h), 0);
    pf__hasher_free(h);
    pf__hasher_free(NULL);
}

TEST_MAIN(TEST(test_files_in_pieces), TEST(test_cancel_and_short_file),
          TEST(test_idle))
