/*
 * args.h -- the command line scanner of pfetch(1): options from a table,
 * long names matched exactly (as curl does, so that a new option never
 * changes what an old abbreviation meant), short ones clustered, values
 * attached or separate, operands anywhere, "--" ending the options.
 * Reports errors as text instead of printing, so that it can be tested
 * on its own.
 */
#ifndef PF_ARGS_H
#define PF_ARGS_H

#include <stddef.h>

struct args_option {
    const char *name; /* long name without "--", matched exactly */
    int short_name;   /* the one-letter form, or 0 */
    int has_value;    /* 1: takes a value, 0: a switch */
    int id;           /* what args_next() returns for it; > 0 */
};

enum { ARGS_END = 0, ARGS_OPERAND = -1, ARGS_ERROR = -2 };

struct args {
    const struct args_option *opts;
    size_t nopts;
    int argc;
    char **argv;
    int next;            /* the next element of argv to read */
    const char *cluster; /* the rest of "-abc" still to read, or NULL */
    const char *element; /* the element the cluster came from */
    int operands_only;   /* "--" has been read */
};

void args_init(struct args *a, const struct args_option *opts, size_t nopts,
               int argc, char **argv);

/*
 * The next option or operand.  Returns an option's id, with *value its
 * value (NULL for a switch); ARGS_OPERAND with *value the operand;
 * ARGS_END when argv is read; or ARGS_ERROR with the reason in msg, such
 * as "unknown option '--use'; did you mean --user-agent or --user?".
 */
int args_next(struct args *a, const char **value, char *msg, size_t msglen);

/*
 * argv as one line for the log's runs.argv, an argument quoted when it is
 * empty or holds a space, a tab or a quote, with its secrets masked:
 *   - the value of a header option (-H, --header) whose name is
 *     Authorization, Proxy-Authorization or Cookie, in any case:
 *     "Cookie: ***";
 *   - the password of a credentials option (-u, --user, --proxy-user):
 *     "alice:***", also before the table has such an option;
 *   - the password of any URL, operand or option value:
 *     "http://alice:***@host/" (pf_url_mask()).
 * Values are found as args_next() finds them: attached ("-Hcookie: x",
 * "--user=alice:pw", the end of a cluster "-qH"), or the next element.
 * Returns a malloc'd string, or NULL when out of memory.
 */
char *args_join_masked(const struct args_option *opts, size_t nopts, int argc,
                       char **argv);

#endif /* PF_ARGS_H */
