/*
 * bench_links.c -- the CPU cost of link extraction: every .html page
 * under the directories given, read into memory once, then parsed PASSES
 * times by html.c's tokenizer and by libxml2's HTML parser
 * (pf__parse_mem and pf__parse_mem_xml).  Prints, for each, the process
 * CPU time per pass, the rate, and the links found (which must agree).
 * Not a ctest: a measurement.
 *
 *   build/tests/bench_links /usr/share/doc/python3.11/html [PASSES]
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "parse.h"

#define MAX_PAGES 20000

static char *docs[MAX_PAGES];
static size_t lens[MAX_PAGES];
static size_t ndocs;

static int load(const char *path, const struct stat *sb, int type,
                struct FTW *ftw)
{
    const char *dot = strrchr(path, '.');
    FILE *fp;

    (void)ftw;
    if (type != FTW_F || dot == NULL || strcmp(dot, ".html") != 0 ||
        ndocs == MAX_PAGES)
        return 0;
    fp = fopen(path, "rb");
    if (fp == NULL)
        return 0;
    docs[ndocs] = malloc((size_t)sb->st_size + 1);
    if (docs[ndocs] != NULL) {
        lens[ndocs] = fread(docs[ndocs], 1, (size_t)sb->st_size, fp);
        ndocs++;
    }
    fclose(fp);
    return 0;
}

static double cpu_seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One way, passes times over every page: links found in one pass. */
static size_t run(int xml, int passes, size_t bytes)
{
    double t0 = cpu_seconds(), t;
    size_t links = 0, i;
    int p;

    for (p = 0; p < passes; p++) {
        for (i = 0; i < ndocs; i++) {
            struct pf__links l;

            pf__links_init(&l);
            if (xml)
                pf__parse_mem_xml(docs[i], lens[i], PF__DOC_HTML,
                                  "http://docs.example/dir/page.html", &l);
            else
                pf__parse_mem(docs[i], lens[i], PF__DOC_HTML,
                              "http://docs.example/dir/page.html", &l);
            links += l.n;
            pf__links_free(&l);
        }
    }
    t = (cpu_seconds() - t0) / passes;
    printf("%-9s %zu pages, %.1f MB: %.3f s CPU per pass, %.1f MB/s, "
           "%zu links\n",
           xml ? "libxml2" : "tokenizer", ndocs, (double)bytes / 1e6, t,
           (double)bytes / 1e6 / t, links / (size_t)passes);
    return links / (size_t)passes;
}

int main(int argc, char **argv)
{
    int passes = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    size_t bytes = 0, i, a, b;

    if (argc < 2 || passes < 1) {
        fprintf(stderr, "usage: bench_links DIR [PASSES]\n");
        return 2;
    }
    if (nftw(argv[1], load, 16, FTW_PHYS) != 0 || ndocs == 0) {
        fprintf(stderr, "bench_links: no .html pages under %s\n", argv[1]);
        return 1;
    }
    for (i = 0; i < ndocs; i++)
        bytes += lens[i];
    a = run(0, passes, bytes);
    b = run(1, passes, bytes);
    for (i = 0; i < ndocs; i++)
        free(docs[i]);
    return a == b ? 0 : 1;
}
