/*
 * args.c -- the command line scanner of pfetch(1).  It owns nothing but
 * its position in argv, and never prints or exits: main.c decides what a
 * usage error does.  getopt_long() is not used because it accepts any
 * unambiguous abbreviation of a long name, so "--user alice" silently
 * meant "--user-agent alice", and would change meaning the day a --user
 * option came; and because its error reporting names argv elements by
 * index, which went wrong for clusters such as "-nc".
 */
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pfetch.h"

void args_init(struct args *a, const struct args_option *opts, size_t nopts,
               int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->opts = opts;
    a->nopts = nopts;
    a->argc = argc;
    a->argv = argv;
    a->next = 1;
}

/*
 * "unknown option '--NAME'", and the options NAME abbreviates, if any:
 * "; did you mean --a, --b or --c?".
 */
static void unknown_long(const struct args *a, const char *name, size_t len,
                         char *msg, size_t msglen)
{
    size_t i, n = 0, found = 0, off;

    for (i = 0; i < a->nopts; i++)
        found += strncmp(a->opts[i].name, name, len) == 0;
    off = (size_t)snprintf(msg, msglen, "unknown option '--%.*s'", (int)len,
                           name);
    for (i = 0; i < a->nopts && found > 0 && off < msglen; i++) {
        if (strncmp(a->opts[i].name, name, len) != 0)
            continue;
        n++;
        off += (size_t)snprintf(msg + off, msglen - off, "%s--%s",
                                n == 1       ? "; did you mean "
                                : n == found ? " or "
                                             : ", ",
                                a->opts[i].name);
    }
    if (found > 0 && off < msglen)
        snprintf(msg + off, msglen - off, "?");
}

/* A value for the option just read: the rest of its element, or the next
 * element of argv, whatever it looks like (as getopt does). */
static int take_value(struct args *a, const char *attached, const char *shown,
                      const char **value, char *msg, size_t msglen)
{
    if (attached != NULL) {
        *value = attached;
        return 0;
    }
    if (a->next >= a->argc) {
        snprintf(msg, msglen, "option '%s' needs a value", shown);
        return ARGS_ERROR;
    }
    *value = a->argv[a->next++];
    return 0;
}

static int next_long(struct args *a, const char *arg, const char **value,
                     char *msg, size_t msglen)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    size_t i;

    for (i = 0; i < a->nopts; i++) {
        const struct args_option *o = &a->opts[i];

        if (strlen(o->name) != len || strncmp(o->name, name, len) != 0)
            continue;
        if (!o->has_value) {
            if (eq != NULL) {
                snprintf(msg, msglen, "option '--%s' takes no value", o->name);
                return ARGS_ERROR;
            }
            *value = NULL;
            return o->id;
        }
        if (take_value(a, eq != NULL ? eq + 1 : NULL, arg, value, msg,
                       msglen) != 0)
            return ARGS_ERROR;
        return o->id;
    }
    unknown_long(a, name, len, msg, msglen);
    return ARGS_ERROR;
}

/* The next letter of a cluster such as "-qvj4". */
static int next_short(struct args *a, const char **value, char *msg,
                      size_t msglen)
{
    int c = (unsigned char)*a->cluster++;
    char shown[3] = {'-', (char)c, '\0'};
    size_t i;

    for (i = 0; i < a->nopts; i++) {
        const struct args_option *o = &a->opts[i];
        const char *rest = a->cluster;

        if (o->short_name != c)
            continue;
        if (*a->cluster == '\0' || o->has_value)
            a->cluster = NULL;
        if (!o->has_value) {
            *value = NULL;
            return o->id;
        }
        if (take_value(a, *rest != '\0' ? rest : NULL, shown, value, msg,
                       msglen) != 0)
            return ARGS_ERROR;
        return o->id;
    }
    a->cluster = NULL;
    if (strlen(a->element) > 2)
        snprintf(msg, msglen, "unknown option '%s' in '%s'", shown, a->element);
    else
        snprintf(msg, msglen, "unknown option '%s'", shown);
    return ARGS_ERROR;
}

int args_next(struct args *a, const char **value, char *msg, size_t msglen)
{
    const char *arg;

    *value = NULL;
    if (a->cluster != NULL)
        return next_short(a, value, msg, msglen);
    if (a->next >= a->argc)
        return ARGS_END;
    arg = a->argv[a->next++];
    if (a->operands_only || arg[0] != '-' || arg[1] == '\0') {
        *value = arg; /* "-" alone is an operand: standard input */
        return ARGS_OPERAND;
    }
    if (strcmp(arg, "--") == 0) {
        a->operands_only = 1;
        return args_next(a, value, msg, msglen);
    }
    if (arg[1] == '-')
        return next_long(a, arg, value, msg, msglen);
    a->element = arg;
    a->cluster = arg + 1;
    return next_short(a, value, msg, msglen);
}

/* Masking secrets in argv, for the log. */

enum secret {
    SECRET_NONE,   /* a plain value: only a URL's password is masked */
    SECRET_HEADER, /* "Name: value": the value of a credentials header */
    SECRET_USER    /* "user:password": the password */
};

/* The options whose values hold secrets, by name, in or out of the table. */
static const struct {
    const char *name;
    int short_name;
    enum secret kind;
} secret_options[] = {{"header", 'H', SECRET_HEADER},
                      {"user", 'u', SECRET_USER},
                      {"proxy-user", 0, SECRET_USER}};

/* Request headers whose values are credentials. */
static const char *const secret_headers[] = {"authorization",
                                             "proxy-authorization", "cookie"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Is o the option "--name" (len bytes), or "-short_name" when name is NULL? */
static int is_option(const char *oname, int oshort, const char *name,
                     size_t len, int short_name)
{
    if (name == NULL)
        return short_name != 0 && oshort == short_name;
    return strlen(oname) == len && strncmp(oname, name, len) == 0;
}

/*
 * Does the option "--name" (len bytes), or "-short_name" when name is
 * NULL, take a value?  *kind says what its value holds.  Options out of
 * the table take none, but those of secret_options, which are read as
 * their names say before the table has them.
 */
static int takes_value(const struct args_option *opts, size_t nopts,
                       const char *name, size_t len, int short_name,
                       enum secret *kind)
{
    size_t i;

    *kind = SECRET_NONE;
    for (i = 0; i < COUNT(secret_options); i++) {
        if (is_option(secret_options[i].name, secret_options[i].short_name,
                      name, len, short_name)) {
            *kind = secret_options[i].kind;
            return 1;
        }
    }
    for (i = 0; i < nopts; i++) {
        if (is_option(opts[i].name, opts[i].short_name, name, len, short_name))
            return opts[i].has_value;
    }
    return 0;
}

/* 1 if the header line v (its name ending at colon) carries credentials. */
static int secret_header(const char *v, const char *colon)
{
    size_t n = (size_t)(colon - v), i;

    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (colon[1 + strspn(colon + 1, " \t")] == '\0')
        return 0; /* an empty value removes the header: nothing to hide */
    for (i = 0; i < COUNT(secret_headers); i++) {
        if (strlen(secret_headers[i]) == n &&
            strncasecmp(v, secret_headers[i], n) == 0)
            return 1;
    }
    return 0;
}

/* v, a value of that kind, masked, malloc'd; NULL when out of memory. */
static char *mask_value(enum secret kind, const char *v)
{
    const char *colon = strchr(v, ':');
    char *out;
    size_t n;
    int len;

    if (colon != NULL && ((kind == SECRET_HEADER && secret_header(v, colon)) ||
                          (kind == SECRET_USER && colon[1] != '\0'))) {
        n = (size_t)(colon - v) + sizeof(": ***");
        out = malloc(n);
        if (out != NULL)
            snprintf(out, n, kind == SECRET_HEADER ? "%.*s: ***" : "%.*s:***",
                     (int)(colon - v), v);
        return out;
    }
    len = pf_url_mask(v, NULL, 0);
    if (len < 0)
        return NULL;
    out = malloc((size_t)len + 1);
    if (out != NULL)
        pf_url_mask(v, out, (size_t)len + 1);
    return out;
}

/* The line being joined; fail is set when memory ran out. */
struct line {
    char *s;
    size_t len, cap;
    int fail;
};

static void line_add(struct line *l, const char *p, size_t n)
{
    if (l->fail)
        return;
    if (l->len + n + 1 > l->cap) {
        size_t cap = (l->len + n + 1) * 2;
        char *s = realloc(l->s, cap);

        if (s == NULL) {
            l->fail = 1;
            return;
        }
        l->s = s;
        l->cap = cap;
    }
    memcpy(l->s + l->len, p, n);
    l->len += n;
    l->s[l->len] = '\0';
}

/*
 * Append the element e, its value from e + at masked as kind says (at
 * < 0: e holds no value), quoted when it must be.
 */
static void add_element(struct line *l, const char *e, long at,
                        enum secret kind)
{
    char *v = at >= 0 ? mask_value(kind, e + at) : NULL;
    size_t pre = at >= 0 ? (size_t)at : strlen(e);
    const char *rest = v != NULL ? v : "";
    int quote;

    if (at >= 0 && v == NULL) {
        l->fail = 1;
        return;
    }
    quote = (pre == 0 && rest[0] == '\0') || strcspn(e, " \t'\"") < pre ||
            strpbrk(rest, " \t'\"") != NULL;
    if (l->len > 0)
        line_add(l, " ", 1);
    if (quote)
        line_add(l, "'", 1);
    line_add(l, e, pre);
    line_add(l, rest, strlen(rest));
    if (quote)
        line_add(l, "'", 1);
    free(v);
}

/*
 * Where the value in the option element e starts (-1: in the next
 * element, or none), and what it holds.  *next says whether the next
 * element is this option's value.
 */
static long option_value(const struct args_option *opts, size_t nopts,
                         const char *e, enum secret *kind, int *next)
{
    size_t j;

    *next = 0;
    if (e[1] == '-') {
        const char *eq = strchr(e + 2, '=');
        size_t len = eq != NULL ? (size_t)(eq - (e + 2)) : strlen(e + 2);

        if (!takes_value(opts, nopts, e + 2, len, 0, kind))
            return -1;
        if (eq != NULL)
            return (long)(eq + 1 - e);
        *next = 1;
        return -1;
    }
    for (j = 1; e[j] != '\0'; j++) {
        if (takes_value(opts, nopts, NULL, 0, (unsigned char)e[j], kind)) {
            if (e[j + 1] != '\0')
                return (long)j + 1;
            *next = 1;
            return -1;
        }
    }
    return -1;
}

char *args_join_masked(const struct args_option *opts, size_t nopts, int argc,
                       char **argv)
{
    struct line l = {NULL, 0, 0, 0};
    enum secret kind = SECRET_NONE, pending_kind = SECRET_NONE;
    int pending = 0, operands_only = 0, i;

    line_add(&l, "", 0);
    for (i = 0; i < argc && !l.fail; i++) {
        const char *e = argv[i];
        long at = -1;
        int next = 0;

        if (i == 0) {
            add_element(&l, e, -1, SECRET_NONE); /* the program's name */
        } else if (pending) {
            add_element(&l, e, 0, pending_kind);
        } else if (operands_only || e[0] != '-' || e[1] == '\0') {
            add_element(&l, e, 0, SECRET_NONE);
        } else {
            operands_only = strcmp(e, "--") == 0;
            if (!operands_only)
                at = option_value(opts, nopts, e, &kind, &next);
            add_element(&l, e, at, kind);
        }
        pending = next;
        pending_kind = kind;
    }
    if (l.fail) {
        free(l.s);
        return NULL;
    }
    return l.s;
}
