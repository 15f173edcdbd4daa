/*
 * consumer.c -- a program built against an installed libpfetch the way a
 * user builds one: pfetch.h and the library come from the installation
 * prefix, found with pkg-config or with find_package(pfetch), and nothing
 * of the source tree is used.  tests/integration/test_install.py builds it
 * both ways and runs it against the test server.
 *
 * Usage: consumer OUT_DIR URL...
 *
 * Fetches the URLs into OUT_DIR (with the log in OUT_DIR/pfetch.db) and
 * prints one line per result, "STATUS BYTES URL PATH".  Exits 0 when the
 * run succeeded and every URL got exactly one result, a success; 1
 * otherwise, with the reasons on standard error.
 */
#include <pfetch.h>
#include <stdio.h>
#include <string.h>

struct tally {
    int results;
    int failed;
};

static void on_done(pf_crawler *c, const struct pf_result *r, void *userdata)
{
    struct tally *t = userdata;

    (void)c;
    t->results++;
    if (r->err != 0 || r->status != 200 || r->path == NULL) {
        t->failed++;
        fprintf(stderr, "%s: %s\n", r->url,
                r->error != NULL ? r->error : "not saved");
        return;
    }
    printf("%ld %lld %s %s\n", r->status, (long long)r->bytes, r->url, r->path);
}

static void on_log(int level, const char *msg, void *userdata)
{
    (void)userdata;
    fprintf(stderr, "log %d: %s\n", level, msg);
}

int main(int argc, char **argv)
{
    struct tally t = {0, 0};
    struct pf_config cfg;
    pf_crawler *c = NULL;
    int i, rc;

    if (argc < 3) {
        fprintf(stderr, "usage: consumer OUT_DIR URL...\n");
        return 2;
    }
    if (strcmp(pf_version(), PF_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", PF_VERSION_STRING,
                pf_version());
        return 1;
    }
    rc = pf_global_init();
    if (rc != 0) {
        fprintf(stderr, "pf_global_init: %s\n", pf_strerror(rc));
        return 1;
    }
    pf_config_init(&cfg);
    cfg.out_dir = argv[1];
    cfg.jobs = 4;
    cfg.on_done = on_done;
    cfg.on_log = on_log;
    cfg.userdata = &t;
    rc = pf_crawler_new(&c, &cfg);
    for (i = 2; rc == 0 && i < argc; i++) {
        rc = pf_crawler_add_url(c, argv[i]);
        if (rc != 0)
            fprintf(stderr, "%s: %s\n", argv[i], pf_strerror(rc));
    }
    if (rc == 0)
        rc = pf_crawler_run(c);
    if (rc == 0 && pf_crawler_run_id(c) != 1) {
        fprintf(stderr, "run id %lld, want 1\n",
                (long long)pf_crawler_run_id(c));
        rc = PF_EDB;
    }
    pf_crawler_free(c);
    pf_global_cleanup();
    if (rc != 0) {
        fprintf(stderr, "consumer: %s\n", pf_strerror(rc));
        return 1;
    }
    if (t.results != argc - 2 || t.failed != 0) {
        fprintf(stderr, "%d results for %d URLs, %d failed\n", t.results,
                argc - 2, t.failed);
        return 1;
    }
    return 0;
}
