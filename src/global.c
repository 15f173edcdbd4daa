/*
 * global.c -- the only process-wide state of the library: the counted
 * initialisation of libcurl and libxml2.
 */
#include <libxml/parser.h>
#include <pthread.h>

#include "util.h"

static pthread_mutex_t global_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned global_count;

int pf_global_init(void)
{
    int rc = 0;

    pthread_mutex_lock(&global_mu);
    if (global_count == 0) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            rc = PF_ECURL;
        } else {
            /* Parser threads need it done once, before they exist. */
            xmlInitParser();
        }
    }
    if (rc == 0)
        global_count++;
    pthread_mutex_unlock(&global_mu);
    return rc;
}

void pf_global_cleanup(void)
{
    pthread_mutex_lock(&global_mu);
    if (global_count > 0 && --global_count == 0) {
        xmlCleanupParser();
        curl_global_cleanup();
    }
    pthread_mutex_unlock(&global_mu);
}
