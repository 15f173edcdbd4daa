/*
 * config.h -- a job's configuration checked before anything is made,
 * and what is derived from it.  Pure but for the descriptor limit it
 * asks the system for.  Any thread.
 */
#ifndef PF_CONFIG_H
#define PF_CONFIG_H

#include <stddef.h>

#include "pfetch.h"

/* 0, or PF_EINVAL for a value out of range (pfetch(1) lists them). */
int pf__config_check(const struct pf_config *cfg);

/*
 * The product token robots.txt names us by: "pfetch" of "pfetch/0.1",
 * into out (n bytes, NUL-terminated, cut short if need be).
 */
void pf__product_token(const char *user_agent, char *out, size_t n);

#endif /* PF_CONFIG_H */
