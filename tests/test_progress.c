/*
 * test_progress.c -- the arithmetic of pfetch(1)'s progress bar: rates
 * over a moving window, the ETA from files and from the bytes of
 * transfers of known size, and a bar that fits narrow terminals.
 */
#include <math.h>
#include <string.h>

#include "progress.h"
#include "test.h"

/* Ticks every 250 ms from t0 to t1 (ms) at the given rates. */
static void feed(struct rate_window *w, struct pf_stats *st, int64_t t0,
                 int64_t t1, double files_per_s, double bytes_per_s)
{
    int64_t t;

    for (t = t0; t <= t1; t += 250) {
        st->elapsed_ms = t;
        st->done = (uint64_t)(files_per_s * (double)t / 1000.0);
        st->bytes = (uint64_t)(bytes_per_s * (double)t / 1000.0);
        rate_add(w, st);
    }
}

static void test_rate_window(void)
{
    struct rate_window w;
    struct pf_stats st;
    double f, b;

    memset(&w, 0, sizeof(w));
    memset(&st, 0, sizeof(st));
    CHECK_EQ(rate_get(&w, &f, &b), 0);
    feed(&w, &st, 0, 0, 0, 0);
    CHECK_EQ(rate_get(&w, &f, &b), 0);
    feed(&w, &st, 250, 2000, 10, 1000);
    CHECK_EQ(rate_get(&w, &f, &b), 2000);
    CHECK(fabs(f - 10) < 0.6 && fabs(b - 1000) < 1);
    feed(&w, &st, 2250, 60000, 10, 1000);
    CHECK_EQ(rate_get(&w, &f, &b), RATE_WINDOW_MS);
    CHECK(fabs(b - 1000) < 1);
}

/* After a minute at 1000 B/s, 5 s of stall: the rate says 0 at once. */
static void test_rate_recent(void)
{
    struct rate_window w;
    struct pf_stats st;
    double f, b;
    int64_t t;

    memset(&w, 0, sizeof(w));
    memset(&st, 0, sizeof(st));
    feed(&w, &st, 0, 60000, 2, 1000);
    for (t = 60250; t <= 65000; t += 250) {
        st.elapsed_ms = t;
        rate_add(&w, &st);
    }
    CHECK_EQ(rate_get(&w, &f, &b), RATE_WINDOW_MS);
    CHECK(f == 0 && b == 0);
}

static void test_eta(void)
{
    struct pf_stats st;

    memset(&st, 0, sizeof(st));
    st.accepted = 2280;
    st.done = 1280;
    st.in_flight = 16;
    st.queued = 984;
    /* 1000 files at 10 files/s. */
    CHECK(fabs(progress_eta(&st, 0, 10, 1e6) - 100) < 1e-9);
    /* Unknown while a list is read, or in a crawl. */
    st.reading = 1;
    CHECK_EQ(progress_eta(&st, 0, 10, 1e6), -1);
    st.reading = 0;
    CHECK_EQ(progress_eta(&st, 1, 10, 1e6), -1);
    /* No file finished lately, sizes unknown: no estimate, not 0. */
    CHECK_EQ(progress_eta(&st, 0, 0, 1e6), -1);
    /* The last files, all in flight, some of unknown size. */
    st.queued = 0;
    CHECK_EQ(progress_eta(&st, 0, 10, 1e6), -1);
    /* The last file, 19 MiB to come at 256 KiB/s, none finished lately. */
    st.accepted = 915;
    st.done = 914;
    st.in_flight = st.sized = 1;
    st.bytes_left = 19 * 1024 * 1024;
    CHECK(fabs(progress_eta(&st, 0, 0, 256 * 1024) - 76) < 1e-9);
    /* Bytes outweigh files: the larger estimate wins. */
    st.accepted = 1000;
    st.done = 900;
    st.queued = 99;
    CHECK(fabs(progress_eta(&st, 0, 10, 256 * 1024) - 76) < 1e-9);
    CHECK(fabs(progress_eta(&st, 0, 1, 256 * 1024) - 100) < 1e-9);
    /* A stall with bytes to come: unknown. */
    CHECK_EQ(progress_eta(&st, 0, 10, 0), -1);
    st.done = st.accepted;
    CHECK_EQ(progress_eta(&st, 0, 0, 0), 0);
}

static void test_bar(void)
{
    struct pf_stats st;
    char line[256];

    memset(&st, 0, sizeof(st));
    st.done = 1291;
    st.accepted = 2280;
    st.bytes = 23383244;
    st.in_flight = 4;
    st.failed = 50;
    progress_format_bar(line, sizeof(line), 100, &st, 0, 265420.8, 68);
    CHECK_STR(line, "[1291/2280 files]  22.3 MiB  259.2 KiB/s  4 active  "
                    "ETA 0:01:08  50 failed");
    st.reading = 1;
    progress_format_bar(line, sizeof(line), 100, &st, 0, 265420.8, -1);
    CHECK_STR(line, "[1291/2280+ files]  22.3 MiB  259.2 KiB/s  4 active  "
                    "50 failed");
    st.reading = 0;
    progress_format_bar(line, sizeof(line), 40, &st, 0, 265420.8, 68);
    CHECK_STR(line, "[1291/2280] ETA 0:01:08 50 failed");
    progress_format_bar(line, sizeof(line), 60, &st, 1, 265420.8, -1);
    CHECK_STR(line, "[1291/2280+ files]  22.3 MiB  259.2 KiB/s  50 failed");
    progress_format_bar(line, sizeof(line), 10, &st, 0, 265420.8, 68);
    CHECK_STR(line, "[1291/228");
}

TEST_MAIN(TEST(test_rate_window), TEST(test_rate_recent), TEST(test_eta),
          TEST(test_bar))
