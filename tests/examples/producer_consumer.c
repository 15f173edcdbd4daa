/*
 * producer_consumer.c -- one coroutine reads a list of URLs into a small
 * channel, N coroutines take URLs from it and download them: gevent's
 * Queue(maxsize) pattern, with pf_chan.
 *
 *     producer_consumer LIST [CONSUMERS [CAPACITY]]     (defaults: 3, 2)
 *
 * The channel holds at most CAPACITY URLs, so the producer never reads
 * far ahead of the downloads: when the channel is full, pf_chan_put()
 * waits (the coroutine yields) until a consumer takes one.  At the end of
 * the list the producer closes the channel; each consumer drains what is
 * left and stops when pf_chan_get() says PF_ESTATE.  Python, with gevent:
 *
 *     q = gevent.queue.Queue(maxsize=2)
 *     def producer():
 *         for line in open(path): q.put(line.strip())
 *         for _ in range(n): q.put(StopIteration)
 *     def consumer():
 *         for url in q: urlopen(url).read()
 */
#define _POSIX_C_SOURCE 200809L /* getline, strdup */
#include <stdlib.h>
#include <string.h>

#include "pfetch.h"

static pf_sched *sched;
static pf_chan *chan;
static size_t capacity = 2;
static int waits, urls, ok, failed;
static curl_off_t bytes;

/* Producer coroutine: stream the list, one line at a time, never whole. */
static void producer(void *path)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL, *url;
    size_t cap = 0;

    while (fp != NULL && getline(&line, &cap, fp) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        url = strdup(line); /* the channel carries pointers: give one away */
        if (url == NULL)
            break;
        if (pf_chan_len(chan) == capacity) {
            waits++; /* full: this put will wait for a consumer */
            printf("producer waits: channel full (%zu)\n", capacity);
        }
        if (pf_chan_put(chan, url) != 0) {
            free(url); /* not taken: still ours */
            break;
        }
        urls++;
    }
    if (fp == NULL)
        fprintf(stderr, "%s: cannot open\n", (const char *)path);
    else
        fclose(fp);
    free(line);
    pf_chan_close(chan); /* end of input: consumers drain, then stop */
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Consumer coroutine: one easy handle, reused, so connections are too. */
static void consumer(void *arg)
{
    int id = (int)(intptr_t)arg;
    CURL *easy = curl_easy_init();
    void *item;

    curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    while (pf_chan_get(chan, &item) == 0) { /* PF_ESTATE: closed, empty */
        char *url = item;
        curl_off_t size = 0;
        CURLcode rc;

        curl_easy_setopt(easy, CURLOPT_URL, url);
        if (pf_fetch(sched, easy, &rc) != 0)
            rc = CURLE_ABORTED_BY_CALLBACK;
        curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
        if (rc == CURLE_OK) {
            ok++;
            bytes += size;
            printf("consumer %d: %ld %s\n", id, (long)size, url);
        } else {
            failed++;
            printf("consumer %d: failed %s: %s\n", id, url,
                   curl_easy_strerror(rc));
        }
        free(url);
    }
    curl_easy_cleanup(easy);
}

int main(int argc, char **argv)
{
    int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3, i;
    pf_co *cos[65];

    if (argc > 3)
        capacity = (size_t)strtol(argv[3], NULL, 10);
    if (argc < 2 || argc > 4 || n < 1 || n > 64 || capacity < 1 ||
        capacity > 4096) {
        fprintf(stderr, "usage: %s LIST [CONSUMERS [CAPACITY]]\n", argv[0]);
        return 2;
    }
    if (pf_global_init() != 0 || pf_sched_new(&sched, 0) != 0 ||
        pf_chan_new(&chan, sched, capacity) != 0)
        return 1;
    if (pf_spawn(sched, producer, argv[1], &cos[0]) != 0)
        return 1;
    for (i = 1; i <= n; i++) {
        if (pf_spawn(sched, consumer, (void *)(intptr_t)i, &cos[i]) != 0)
            return 1;
    }
    pf_joinall(sched, cos, (size_t)n + 1);
    printf("%d urls, %d ok, %d failed, %ld bytes, producer waited %d times\n",
           urls, ok, failed, (long)bytes, waits);
    pf_chan_free(chan);
    pf_sched_free(sched);
    pf_global_cleanup();
    return failed == 0 ? 0 : 1;
}
