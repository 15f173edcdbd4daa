/*
 * links.c -- the link list: the URLs found in a document, each once, in
 * order of first appearance, with what each is for, and the open-addressed
 * hash set that dedupes them while they are added.  It owns the list's
 * storage and the rule that a URL seen as both kinds is a requisite.  It
 * must never parse, resolve or normalise (a URL comes in as its dedupe key
 * already), never cap the list (the parser decides how many is enough)
 * and never share anything between lists: any thread may fill its own.
 */
#include <stdint.h>
#include <string.h>

#include "links.h"
#include "util.h"

/* Any thread, as are all in this file: l is the caller's alone. */
void pf__links_init(struct pf__links *l)
{
    memset(l, 0, sizeof(*l));
}

void pf__links_free(struct pf__links *l)
{
    pf__buf_free(&l->text);
    pf__free(l->off);
    pf__free(l->kind);
    pf__free(l->slot);
    memset(l, 0, sizeof(*l));
}

/* The slot of url (hash h): the one holding it, or the free one to use. */
static size_t *find_slot(const struct pf__links *l, const char *url, uint64_t h)
{
    size_t i = (size_t)h & (l->slot_cap - 1);

    for (;;) {
        size_t *s = &l->slot[i];

        if (*s == 0 || strcmp(l->text.data + l->off[*s - 1], url) == 0)
            return s;
        i = (i + 1) & (l->slot_cap - 1);
    }
}

/* Double the table (kept at most half full). */
static int grow_slots(struct pf__links *l)
{
    size_t cap = l->slot_cap != 0 ? l->slot_cap * 2 : 64;
    size_t *old = l->slot;
    size_t old_cap = l->slot_cap;
    size_t i;

    l->slot = pf__calloc(cap, sizeof(*l->slot));
    if (l->slot == NULL) {
        l->slot = old;
        return PF_ENOMEM;
    }
    l->slot_cap = cap;
    for (i = 0; i < old_cap; i++) {
        if (old[i] != 0) {
            const char *u = l->text.data + l->off[old[i] - 1];

            *find_slot(l, u, pf__hash64(u, strlen(u))) = old[i];
        }
    }
    pf__free(old);
    return 0;
}

int pf__links_add(struct pf__links *l, const char *url, size_t len, int kind)
{
    uint64_t h = pf__hash64(url, len);
    size_t *s;
    int rc;

    if ((l->n + 1) * 2 > l->slot_cap) {
        rc = grow_slots(l);
        if (rc < 0)
            return rc;
    }
    s = find_slot(l, url, h);
    if (*s != 0) {
        if (kind == PF__LINK_REQ)
            l->kind[*s - 1] = PF__LINK_REQ;
        return 0;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 32;
        size_t *off = pf__realloc(l->off, cap * sizeof(*off));
        unsigned char *k;

        if (off == NULL)
            return PF_ENOMEM;
        l->off = off;
        k = pf__realloc(l->kind, cap);
        if (k == NULL)
            return PF_ENOMEM;
        l->kind = k;
        l->cap = cap;
    }
    l->off[l->n] = l->text.len;
    rc = pf__buf_append(&l->text, url, len + 1); /* with its NUL */
    if (rc < 0)
        return rc;
    l->kind[l->n] = (unsigned char)kind;
    l->n++;
    *s = l->n;
    return 1;
}
