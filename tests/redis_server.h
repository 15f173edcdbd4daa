/*
 * redis_server.h -- unit tests' own redis-server: started on a free
 * loopback port in a temporary directory, stopped and removed at the end.
 * When redis-server is not installed the tests that need it say so and
 * pass as skipped.
 */
#ifndef PF_TEST_REDIS_SERVER_H
#define PF_TEST_REDIS_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct test_redis {
    pid_t pid;
    int port;
    int aof; /* appendonly yes, fsync always: survives a kill -9 */
    char dir[64];
};

/* A port nobody listens on now (the kernel's pick, released). */
static int test_free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int test_port_open(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int test_redis_present(void)
{
    return system("command -v redis-server >/dev/null 2>&1") == 0;
}

/* Start one on rs->port (a free one when 0): 0, or -1. */
static int test_redis_start(struct test_redis *rs)
{
    char port[16];
    int i;

    if (rs->dir[0] == '\0') {
        snprintf(rs->dir, sizeof(rs->dir), "/tmp/pf-redis-XXXXXX");
        if (mkdtemp(rs->dir) == NULL)
            return -1;
    }
    if (rs->port == 0)
        rs->port = test_free_port();
    snprintf(port, sizeof(port), "%d", rs->port);
    rs->pid = fork();
    if (rs->pid < 0)
        return -1;
    if (rs->pid == 0) {
        int null = open("/dev/null", O_RDWR);

        /* Gone with the test, even when it crashes; quiet. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execlp("redis-server", "redis-server", "--port", port, "--bind",
               "127.0.0.1", "--dir", rs->dir, "--save", "", "--appendonly",
               rs->aof ? "yes" : "no", "--appendfsync", "always", "--logfile",
               "redis.log", (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 500; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};

        if (test_port_open(rs->port))
            return 0;
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void test_redis_stop(struct test_redis *rs)
{
    if (rs->pid > 0) {
        kill(rs->pid, SIGKILL);
        waitpid(rs->pid, NULL, 0);
        rs->pid = 0;
    }
}

static void test_redis_remove(struct test_redis *rs)
{
    char cmd[128];

    test_redis_stop(rs);
    if (rs->dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rs->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", rs->dir);
    }
}

#endif /* PF_TEST_REDIS_SERVER_H */
