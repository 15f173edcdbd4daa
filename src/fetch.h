/*
 * fetch.h -- internal interface of the libcurl glue (fetch.c) beyond the
 * public pf_fetch(): what the crawler sets on the scheduler's CURLM
 * without reaching for it.  Loop thread only.
 */
#ifndef PF_FETCH_H
#define PF_FETCH_H

#include "pfetch.h"

/*
 * Keep at most n idle connections open (CURLMOPT_MAXCONNECTS) on the
 * CURLM that s's transfers share, creating it if need be.  Returns 0,
 * PF_ENOMEM, or PF_ECURL when libcurl cannot make the handle.
 */
int pf__fetch_set_maxconnects(pf_sched *s, long n);

/*
 * Let transfers to one host share a connection, multiplexed (HTTP/2),
 * or not (on 0).  Returns as pf__fetch_set_maxconnects().
 */
int pf__fetch_set_multiplex(pf_sched *s, int on);

#endif /* PF_FETCH_H */
