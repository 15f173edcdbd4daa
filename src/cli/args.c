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
#include <string.h>

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
