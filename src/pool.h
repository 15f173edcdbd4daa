/*
 * pool.h -- internal interface of the executor (pool.c).  The public API
 * is in pfetch.h ("Executor and futures"); this header only adds what the
 * library and its tests need to look inside.  Any thread.
 */
#ifndef PF_POOL_H
#define PF_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "pfetch.h"

/* A snapshot of an executor's counters, taken under its lock. */
struct pf__executor_counts {
    size_t queued;      /* tasks waiting to run */
    size_t blocked;     /* pf_submit() calls waiting for room in the queue */
    unsigned idle;      /* workers asleep, waiting for work */
    unsigned alive;     /* workers that have not exited */
    unsigned shut;      /* 1 once pf_executor_shutdown() was called */
    uint64_t cancelled; /* futures cancelled so far */
};

/*
 * Fill *c with ex's counters as they are right now.  For tests, which
 * poll them to know that a thread is blocked where they expect it (a
 * submit waiting for room, a worker asleep) without sleeping to pass.
 */
void pf__executor_counts(pf_executor *ex, struct pf__executor_counts *c);

#endif /* PF_POOL_H */
