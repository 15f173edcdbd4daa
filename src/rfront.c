/*
 * rfront.c -- the shared frontier's atomic steps as Lua scripts run in
 * Redis (see rfront.h for the keys).  This module owns the scripts and
 * the translation of their replies; it knows Redis through redis.h alone
 * and nothing of the crawler.  Every script takes the crawl's prefix as
 * KEYS[1] and reads the time from the server.
 */
#include "rfront.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct pf__rfront {
    struct pf__redis *r;
    char *prefix;
    char *worker;
    struct pf__rfront_conf conf;
};

/* What every script starts with. */
#define LUA_PRELUDE                                                            \
    "local P = KEYS[1]\n"                                                      \
    "local function now_ms()\n"                                                \
    "  local t = redis.call('TIME')\n"                                         \
    "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"     \
    "end\n"                                                                    \
    "local function open_add(d, n)\n"                                          \
    "  if redis.call('HINCRBY', P .. 'open', d, n) <= 0 then\n"                \
    "    redis.call('HDEL', P .. 'open', d)\n"                                 \
    "  end\n"                                                                  \
    "end\n"                                                                    \
    "local function meta(u)\n"                                                 \
    "  local m = redis.call('HGET', P .. 'seen', u)\n"                         \
    "  if not m then return nil end\n"                                         \
    "  local d, fl, h = string.match(m, '^(%d+)\\t(%d+)\\t([^\\t]*)\\t')\n"    \
    "  return tonumber(d), fl, h\n"                                            \
    "end\n"                                                                    \
    "local function give_back(w, u)\n"                                         \
    "  local d, fl, h = meta(u)\n"                                             \
    "  redis.call('HDEL', P .. 'lease', u)\n"                                  \
    "  redis.call('SREM', P .. 'held:' .. w, u)\n"                             \
    "  if redis.call('SREM', P .. 'slot', u) == 1 then\n"                      \
    "    redis.call('HINCRBY', P .. 'hin', h, -1)\n"                           \
    "  end\n"                                                                  \
    "  redis.call('ZADD', P .. 'q:' .. h, d, u)\n"                             \
    "  redis.call('SADD', P .. 'hosts', h)\n"                                  \
    "  redis.call('HINCRBY', P .. 'n', 'queued', 1)\n"                         \
    "  redis.call('HINCRBY', P .. 'n', 'leased', -1)\n"                        \
    "end\n"                                                                    \
    "local function reap(now)\n"                                               \
    "  local n = 0\n"                                                          \
    "  local dead = redis.call('ZRANGEBYSCORE', P .. 'workers', '-inf', "      \
    "now)\n"                                                                   \
    "  for _, w in ipairs(dead) do\n"                                          \
    "    for _, u in ipairs(redis.call('SMEMBERS', P .. 'held:' .. w)) do\n"   \
    "      if redis.call('HGET', P .. 'lease', u) == w then\n"                 \
    "        give_back(w, u)\n"                                                \
    "        n = n + 1\n"                                                      \
    "      end\n"                                                              \
    "    end\n"                                                                \
    "    redis.call('DEL', P .. 'held:' .. w)\n"                               \
    "    redis.call('ZREM', P .. 'workers', w)\n"                              \
    "    redis.call('SREM', P .. 'readers', w)\n"                              \
    "  end\n"                                                                  \
    "  return n\n"                                                             \
    "end\n"

/*
 * ARGV: (url, host, depth, flags, parent) per URL, parent "" for a seed.
 * A URL found again at a shorter depth while it waits moves up, with its
 * new parent; leased or done, it stays as it is.
 */
static struct pf__redis_script accept_lua = {
    LUA_PRELUDE
    "local res = {}\n"
    "for i = 1, #ARGV, 5 do\n"
    "  local u, h, d = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])\n"
    "  local v = d .. '\\t' .. ARGV[i + 3] .. '\\t' .. h .. '\\t' .. "
    "ARGV[i + 4]\n"
    "  local od = meta(u)\n"
    "  if od == nil then\n"
    "    redis.call('HSET', P .. 'seen', u, v)\n"
    "    redis.call('ZADD', P .. 'q:' .. h, d, u)\n"
    "    redis.call('SADD', P .. 'hosts', h)\n"
    "    open_add(d, 1)\n"
    "    redis.call('HINCRBY', P .. 'n', 'queued', 1)\n"
    "    redis.call('HSET', P .. 'n', 'started', 1)\n"
    "    res[#res + 1] = 0\n"
    "  else\n"
    "    if d < od and redis.call('ZSCORE', P .. 'q:' .. h, u) then\n"
    "      redis.call('HSET', P .. 'seen', u, v)\n"
    "      redis.call('ZADD', P .. 'q:' .. h, d, u)\n"
    "      open_add(od, -1)\n"
    "      open_add(d, 1)\n"
    "    end\n"
    "    res[#res + 1] = 1\n"
    "  end\n"
    "end\n"
    "return res\n",
    ""};

/*
 * ARGV: worker, k, per-host cap (0: none), lease ms, wait ms, gate (0/1).
 * Renews the worker, reaps the dead, then walks the hosts from where the
 * last lease stopped.  The gate: with m the smallest depth that has URLs
 * not complete, nothing deeper than m + 1 starts.  A host with a wait
 * starts one URL per lease, and not before its next start time.
 * Returns url, meta, url, meta...
 */
static struct pf__redis_script lease_lua = {
    LUA_PRELUDE
    "local w, k, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local lease_ms, wait_ms = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local now = now_ms()\n"
    "redis.call('ZADD', P .. 'workers', now + lease_ms, w)\n"
    "reap(now)\n"
    "local gate = -1\n"
    "if ARGV[6] == '1' then\n"
    "  for _, d in ipairs(redis.call('HKEYS', P .. 'open')) do\n"
    "    d = tonumber(d)\n"
    "    if gate < 0 or d + 1 < gate then gate = d + 1 end\n"
    "  end\n"
    "end\n"
    "local out, taken = {}, 0\n"
    "local hosts = redis.call('SMEMBERS', P .. 'hosts')\n"
    "local nh = #hosts\n"
    "if nh == 0 or k <= 0 then return out end\n"
    "local start = redis.call('INCR', P .. 'rr') % nh\n"
    "for j = 0, nh - 1 do\n"
    "  local h = hosts[(start + j) % nh + 1]\n"
    "  local room = k - taken\n"
    "  if cap > 0 then\n"
    "    local inflight = tonumber(redis.call('HGET', P .. 'hin', h) or 0)\n"
    "    room = math.min(room, cap - inflight)\n"
    "  end\n"
    "  if wait_ms > 0 then\n"
    "    room = math.min(room, 1)\n"
    "    if tonumber(redis.call('HGET', P .. 'hnext', h) or 0) > now then\n"
    "      room = 0\n"
    "    end\n"
    "  end\n"
    "  if room > 0 then\n"
    "    local q = P .. 'q:' .. h\n"
    "    local urls\n"
    "    if gate >= 0 then\n"
    "      urls = redis.call('ZRANGEBYSCORE', q, '-inf', gate, 'LIMIT', 0, "
    "room)\n"
    "    else\n"
    "      urls = redis.call('ZRANGE', q, 0, room - 1)\n"
    "    end\n"
    "    for _, u in ipairs(urls) do\n"
    "      redis.call('ZREM', q, u)\n"
    "      redis.call('HSET', P .. 'lease', u, w)\n"
    "      redis.call('SADD', P .. 'held:' .. w, u)\n"
    "      redis.call('SADD', P .. 'slot', u)\n"
    "      out[#out + 1] = u\n"
    "      out[#out + 1] = redis.call('HGET', P .. 'seen', u)\n"
    "    end\n"
    "    local n = #urls\n"
    "    if n > 0 then\n"
    "      taken = taken + n\n"
    "      redis.call('HINCRBY', P .. 'hin', h, n)\n"
    "      redis.call('HINCRBY', P .. 'n', 'queued', -n)\n"
    "      redis.call('HINCRBY', P .. 'n', 'leased', n)\n"
    "      if wait_ms > 0 then\n"
    "        redis.call('HSET', P .. 'hnext', h, now + wait_ms)\n"
    "      end\n"
    "      if redis.call('ZCARD', q) == 0 then\n"
    "        redis.call('SREM', P .. 'hosts', h)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if taken >= k then break end\n"
    "end\n"
    "return out\n",
    ""};

/* ARGV: worker, url.  The host slot goes back once, if still held. */
static struct pf__redis_script release_lua = {
    LUA_PRELUDE
    "local w, u = ARGV[1], ARGV[2]\n"
    "if redis.call('HGET', P .. 'lease', u) ~= w then return 0 end\n"
    "if redis.call('SREM', P .. 'slot', u) == 1 then\n"
    "  local d, fl, h = meta(u)\n"
    "  redis.call('HINCRBY', P .. 'hin', h, -1)\n"
    "end\n"
    "return 1\n",
    ""};

/*
 * ARGV: worker, url, the counter (done, failed, refused).  Fenced: only
 * the holder completes; 0 tells it the lease was lost.
 */
static struct pf__redis_script complete_lua = {
    LUA_PRELUDE
    "local w, u = ARGV[1], ARGV[2]\n"
    "if redis.call('HGET', P .. 'lease', u) ~= w then return 0 end\n"
    "local d, fl, h = meta(u)\n"
    "redis.call('HDEL', P .. 'lease', u)\n"
    "redis.call('SREM', P .. 'held:' .. w, u)\n"
    "if redis.call('SREM', P .. 'slot', u) == 1 then\n"
    "  redis.call('HINCRBY', P .. 'hin', h, -1)\n"
    "end\n"
    "open_add(d, -1)\n"
    "redis.call('HINCRBY', P .. 'n', 'leased', -1)\n"
    "redis.call('HINCRBY', P .. 'n', ARGV[3], 1)\n"
    "return 1\n",
    ""};

/*
 * ARGV: url, host.  Seen, never queued: depth 0 for the record, which
 * nothing reads (it never waits, so no shorter path moves it).
 */
static struct pf__redis_script alias_lua = {
    "local P = KEYS[1]\n"
    "return redis.call('HSETNX', P .. 'seen', ARGV[1], "
    "'0\\t0\\t' .. ARGV[2] .. '\\t') == 1 and 0 or 1\n",
    ""};

/* ARGV: worker, lease ms, reading (-1 unchanged, 0, 1). */
static struct pf__redis_script heartbeat_lua = {
    LUA_PRELUDE
    "local w = ARGV[1]\n"
    "local now = now_ms()\n"
    "redis.call('ZADD', P .. 'workers', now + tonumber(ARGV[2]), w)\n"
    "if ARGV[3] == '1' then redis.call('SADD', P .. 'readers', w)\n"
    "elseif ARGV[3] == '0' then redis.call('SREM', P .. 'readers', w) end\n"
    "return reap(now)\n",
    ""};

/* The counts, the live workers, started, and whether the crawl is over. */
static struct pf__redis_script status_lua = {
    LUA_PRELUDE
    "local now = now_ms()\n"
    "local c = redis.call('HMGET', P .. 'n', 'queued', 'leased', 'done', "
    "'failed', 'started')\n"
    "for i = 1, 5 do c[i] = tonumber(c[i] or 0) end\n"
    "local live = redis.call('ZCOUNT', P .. 'workers', '(' .. now, '+inf')\n"
    "local reading = 0\n"
    "for _, w in ipairs(redis.call('SMEMBERS', P .. 'readers')) do\n"
    "  local e = redis.call('ZSCORE', P .. 'workers', w)\n"
    "  if e and tonumber(e) > now then reading = reading + 1 end\n"
    "end\n"
    "local fin = 0\n"
    "if c[5] == 1 and c[1] == 0 and c[2] == 0 and reading == 0 then\n"
    "  fin = 1\n"
    "end\n"
    "return {c[1], c[2], c[3], c[4], live, c[5], fin}\n",
    ""};

int pf__rfront_new(struct pf__rfront **out, struct pf__redis *r,
                   const struct pf__rfront_conf *conf)
{
    struct pf__rfront *f = pf__calloc(1, sizeof(*f));

    *out = NULL;
    if (f == NULL)
        return PF_ENOMEM;
    f->r = r;
    f->conf = *conf;
    f->prefix = pf__asprintf("pfetch:%s:", conf->crawl_id);
    f->worker = pf__strdup(conf->worker);
    if (f->prefix == NULL || f->worker == NULL) {
        pf__rfront_free(f);
        return PF_ENOMEM;
    }
    f->conf.crawl_id = NULL;
    f->conf.worker = f->worker;
    *out = f;
    return 0;
}

void pf__rfront_free(struct pf__rfront *f)
{
    if (f == NULL)
        return;
    pf__free(f->prefix);
    pf__free(f->worker);
    pf__free(f);
}

const char *pf__rfront_prefix(const struct pf__rfront *f)
{
    return f->prefix;
}

/* Run sc with the prefix as its key; an error reply is PF_EIO. */
static int run(struct pf__rfront *f, struct pf__redis_script *sc,
               redisReply **reply, int argc, const char **argv,
               const size_t *lens)
{
    int rc;

    argv[0] = f->prefix;
    if (lens != NULL)
        ((size_t *)lens)[0] = strlen(f->prefix);
    rc = pf__redis_eval(f->r, sc, reply, 1, argc, argv, lens);
    if (rc == 0 && (*reply)->type == REDIS_REPLY_ERROR) {
        freeReplyObject(*reply);
        *reply = NULL;
        return PF_EIO;
    }
    return rc;
}

/* An integer reply's value, or PF_EIO for anything else. */
static int run_int(struct pf__rfront *f, struct pf__redis_script *sc, int argc,
                   const char **argv, long long *v)
{
    redisReply *rp;
    int rc = run(f, sc, &rp, argc, argv, NULL);

    if (rc < 0)
        return rc;
    rc = rp->type == REDIS_REPLY_INTEGER ? 0 : PF_EIO;
    *v = rp->integer;
    freeReplyObject(rp);
    return rc;
}

int pf__rfront_accept(struct pf__rfront *f, const struct pf__rfront_url *urls,
                      size_t n, int *res)
{
    const char **argv;
    char(*nums)[2][16];
    redisReply *rp = NULL;
    size_t i;
    int rc = PF_ENOMEM;

    if (n == 0)
        return 0;
    argv = pf__calloc(1 + 5 * n, sizeof(*argv));
    nums = pf__calloc(n, sizeof(*nums));
    if (argv == NULL || nums == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        const char **a = argv + 1 + 5 * i;

        snprintf(nums[i][0], sizeof(nums[i][0]), "%d", urls[i].depth);
        snprintf(nums[i][1], sizeof(nums[i][1]), "%d", urls[i].flags);
        a[0] = urls[i].url;
        a[1] = urls[i].host;
        a[2] = nums[i][0];
        a[3] = nums[i][1];
        a[4] = urls[i].parent != NULL ? urls[i].parent : "";
    }
    rc = run(f, &accept_lua, &rp, (int)(1 + 5 * n), argv, NULL);
    if (rc < 0)
        goto out;
    if (rp->type != REDIS_REPLY_ARRAY || rp->elements != n) {
        rc = PF_EIO;
        goto out;
    }
    for (i = 0; i < n; i++)
        res[i] = (int)rp->element[i]->integer;
out:
    if (rp != NULL)
        freeReplyObject(rp);
    pf__free(argv);
    pf__free(nums);
    return rc;
}

/* "depth\tflags\thost\tparent" into v (url set by the caller). */
static int parse_meta(const redisReply *m, struct pf__rfront_leased *v)
{
    const char *s, *t1, *t2, *t3;

    if (m->type != REDIS_REPLY_STRING)
        return PF_EIO;
    s = m->str;
    t1 = strchr(s, '\t');
    t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
    t3 = t2 != NULL ? strchr(t2 + 1, '\t') : NULL;
    if (t3 == NULL)
        return PF_EIO;
    v->depth = atoi(s);
    v->flags = atoi(t1 + 1);
    v->host = pf__strndup(t2 + 1, (size_t)(t3 - t2 - 1));
    v->parent = t3[1] != '\0' ? pf__strdup(t3 + 1) : NULL;
    if (v->host == NULL || (t3[1] != '\0' && v->parent == NULL))
        return PF_ENOMEM;
    return 0;
}

void pf__rfront_leased_free(struct pf__rfront_leased *v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++) {
        pf__free(v[i].url);
        pf__free(v[i].host);
        pf__free(v[i].parent);
    }
    pf__free(v);
}

static int leased_from(const redisReply *rp, struct pf__rfront_leased **out,
                       size_t *n)
{
    size_t i, m = rp->elements / 2;
    struct pf__rfront_leased *v;
    int rc = 0;

    if (rp->type != REDIS_REPLY_ARRAY || rp->elements % 2 != 0)
        return PF_EIO;
    if (m == 0)
        return 0;
    v = pf__calloc(m, sizeof(*v));
    if (v == NULL)
        return PF_ENOMEM;
    for (i = 0; i < m && rc == 0; i++) {
        const redisReply *u = rp->element[2 * i];

        v[i].url = u->type == REDIS_REPLY_STRING ? pf__strdup(u->str) : NULL;
        rc = v[i].url == NULL ? PF_ENOMEM
                              : parse_meta(rp->element[2 * i + 1], &v[i]);
    }
    if (rc < 0) {
        pf__rfront_leased_free(v, m);
        return rc;
    }
    *out = v;
    *n = m;
    return 0;
}

int pf__rfront_lease(struct pf__rfront *f, unsigned k,
                     struct pf__rfront_leased **out, size_t *n)
{
    char nums[4][24];
    const char *argv[7];
    redisReply *rp;
    int rc;

    *out = NULL;
    *n = 0;
    snprintf(nums[0], sizeof(nums[0]), "%u", k);
    snprintf(nums[1], sizeof(nums[1]), "%u", f->conf.per_host);
    snprintf(nums[2], sizeof(nums[2]), "%lld", (long long)f->conf.lease_ms);
    snprintf(nums[3], sizeof(nums[3]), "%lld", (long long)f->conf.wait_ms);
    argv[1] = f->worker;
    argv[2] = nums[0];
    argv[3] = nums[1];
    argv[4] = nums[2];
    argv[5] = nums[3];
    argv[6] = f->conf.gate ? "1" : "0";
    rc = run(f, &lease_lua, &rp, 7, argv, NULL);
    if (rc < 0)
        return rc;
    rc = leased_from(rp, out, n);
    freeReplyObject(rp);
    return rc;
}

int pf__rfront_release(struct pf__rfront *f, const char *url)
{
    const char *argv[3] = {NULL, f->worker, url};
    long long v;

    return run_int(f, &release_lua, 3, argv, &v);
}

int pf__rfront_complete(struct pf__rfront *f, const char *url,
                        enum pf__rfront_outcome how)
{
    static const char *const counter[] = {"done", "failed", "refused"};
    const char *argv[4] = {NULL, f->worker, url, counter[how]};
    long long v;
    int rc = run_int(f, &complete_lua, 4, argv, &v);

    return rc < 0 ? rc : v == 1;
}

int pf__rfront_alias(struct pf__rfront *f, const char *url, const char *host)
{
    const char *argv[3] = {NULL, url, host};
    long long v;
    int rc = run_int(f, &alias_lua, 3, argv, &v);

    return rc < 0 ? rc : (int)v;
}

static int heartbeat(struct pf__rfront *f, const char *reading)
{
    char ms[24];
    const char *argv[4] = {NULL, f->worker, ms, reading};
    long long v;
    int rc;

    snprintf(ms, sizeof(ms), "%lld", (long long)f->conf.lease_ms);
    rc = run_int(f, &heartbeat_lua, 4, argv, &v);
    return rc < 0 ? rc : (int)v;
}

int pf__rfront_heartbeat(struct pf__rfront *f)
{
    int rc = heartbeat(f, "-1");

    return rc < 0 ? rc : 0;
}

int pf__rfront_reading(struct pf__rfront *f, int on)
{
    int rc = heartbeat(f, on ? "1" : "0");

    return rc < 0 ? rc : 0;
}

int pf__rfront_keep(struct pf__rfront *f, const int *stop)
{
    int64_t pause = f->conf.lease_ms / 3 > 0 ? f->conf.lease_ms / 3 : 1;
    int rc;

    while (!*stop) {
        if (pf_sleep(pf__redis_sched(f->r), pause) < 0)
            return PF_ECANCELED;
        if (*stop)
            break;
        rc = pf__rfront_heartbeat(f);
        if (rc == PF_EIO || rc == PF_ETIMEDOUT) {
            if (pf__redis_connected(f->r))
                return rc; /* an error reply: not a lost connection */
            rc = pf__redis_reconnect_within(f->r, f->conf.lease_ms);
            if (rc == 0)
                rc = pf__rfront_heartbeat(f);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int pf__rfront_reap(struct pf__rfront *f)
{
    return heartbeat(f, "-1");
}

int pf__rfront_status(struct pf__rfront *f, struct pf__rfront_status *st)
{
    const char *argv[1];
    redisReply *rp;
    int rc;
    size_t i;
    int64_t v[7];

    rc = run(f, &status_lua, &rp, 1, argv, NULL);
    if (rc < 0)
        return rc;
    if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 7) {
        freeReplyObject(rp);
        return PF_EIO;
    }
    for (i = 0; i < 7; i++)
        v[i] = rp->element[i]->integer;
    freeReplyObject(rp);
    st->queued = v[0];
    st->leased = v[1];
    st->done = v[2];
    st->failed = v[3];
    st->workers = v[4];
    st->started = v[5] != 0;
    st->finished = v[6] != 0;
    return 0;
}
