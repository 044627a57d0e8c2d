/* SPDX-License-Identifier: MIT */
/*
 * testbed_proc.c - the testbed's dealings with the rest of the system:
 * child processes (ip, tc, nft, iperf3, ping) started with fork/exec and an
 * argv, never through a shell; sysctls inside a namespace; and the state
 * directory /run/miglab/testbed/ID that lets `down` and `clean` find what a
 * crashed run left behind (docs/testbed.md).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testbed.h"

#define MAX_ARGS 64

static const char *const host_names[TB_NHOSTS] = { "h1", "h2", "cl" };

char *testbed_ns_name(char *buf, size_t len, const char *id, enum tb_host h)
{
    assert((unsigned)h < TB_NHOSTS);
    snprintf(buf, len, TB_NS_PREFIX "%s-%s", id, host_names[h]);
    return buf;
}

const char *testbed_host_name(enum tb_host h)
{
    return (unsigned)h < TB_NHOSTS ? host_names[h] : "?";
}

int testbed_host_parse(const char *s, enum tb_host *out)
{
    for (int h = 0; h < TB_NHOSTS; h++) {
        if (!strcmp(s, host_names[h])) {
            *out = (enum tb_host)h;
            return 0;
        }
    }
    *out = TB_H1;
    return -EINVAL;
}

int testbed_id_check(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > TB_ID_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9')))
            return -EINVAL;
    }
    return 0;
}

double testbed_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *testbed_emulator_name(enum tb_emulator e)
{
    switch (e) {
    case TB_EMU_AUTO: return "auto";
    case TB_EMU_NETEM: return "netem";
    case TB_EMU_MIGLAB: return "miglab";
    }
    return "?";
}

static void redirect(int fd, const char *path, int flags)
{
    int nfd = open(path, flags | O_CLOEXEC, 0644);

    if (nfd >= 0) {
        dup2(nfd, fd);
        close(nfd);
    }
}

/* The child side of a fork: set up fds and exec; never returns. */
static void exec_child(char *const argv[], int out_fd, bool quiet,
                       const char *log)
{
    if (log) {
        redirect(STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_APPEND);
        redirect(STDERR_FILENO, log, O_WRONLY | O_CREAT | O_APPEND);
        redirect(STDIN_FILENO, "/dev/null", O_RDONLY);
    }
    if (out_fd >= 0)
        dup2(out_fd, STDOUT_FILENO);
    if (quiet)
        redirect(STDERR_FILENO, "/dev/null", O_WRONLY);
    execvp(argv[0], argv);
    _exit(127);
}

static int wait_status(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

int testbed_run(char *const argv[], bool quiet, char *out, size_t outlen)
{
    int pfd[2] = { -1, -1 };
    size_t got = 0;
    pid_t pid;
    int rc;

    if (out && outlen)
        out[0] = '\0';
    if (out && pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto out_close;
    }
    if (pid == 0)
        exec_child(argv, pfd[1], quiet, NULL);
    if (out) {
        close(pfd[1]);
        pfd[1] = -1;
        for (;;) {
            char sink[4096];
            ssize_t n;

            /* Keep draining past outlen so the child never blocks. */
            if (got + 1 < outlen)
                n = read(pfd[0], out + got, outlen - 1 - got);
            else
                n = read(pfd[0], sink, sizeof(sink));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            if (got + 1 < outlen)
                got += (size_t)n;
        }
        out[got] = '\0';
    }
    rc = wait_status(pid);
out_close:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    return rc;
}

int testbed_cmd(bool quiet, const char *arg0, ...)
{
    char *argv[MAX_ARGS];
    va_list ap;
    int n = 0;

    argv[n++] = (char *)arg0;
    va_start(ap, arg0);
    while (n < MAX_ARGS - 1) {
        char *a = va_arg(ap, char *);

        if (!a)
            break;
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    return testbed_run(argv, quiet, NULL, 0);
}

pid_t testbed_spawn(char *const argv[], const char *log)
{
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        exec_child(argv, -1, false, log ? log : "/dev/null");
    return pid;
}

int testbed_reap(pid_t pid, double timeout_s)
{
    double end = testbed_now() + timeout_s;
    int st;

    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == pid || (r < 0 && errno == ECHILD))
            return 0;
        if (testbed_now() >= end)
            break;
        usleep(10000);
    }
    kill(pid, SIGTERM);
    end = testbed_now() + 1.0;
    while (testbed_now() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -ETIMEDOUT;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -ETIMEDOUT;
}

int testbed_ns_sysctl(const char *ns, const char *key, const char *value)
{
    char path[256], nspath[256];
    pid_t pid;
    int rc;

    snprintf(nspath, sizeof(nspath), TB_NETNS_DIR "/%s", ns);
    snprintf(path, sizeof(path), "/proc/sys/%s", key);
    for (char *p = path + strlen("/proc/sys/"); *p; p++) {
        if (*p == '.')
            *p = '/';
    }
    /* /proc/sys/net follows the netns of the task that opens it, so a
     * child that has joined the namespace writes that namespace's value. */
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int nfd = open(nspath, O_RDONLY | O_CLOEXEC), fd;
        size_t n = strlen(value);

        if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0)
            _exit(1);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, value, n) != (ssize_t)n)
            _exit(1);
        _exit(0);
    }
    rc = wait_status(pid);
    return rc == 0 ? 0 : -EIO;
}

char *testbed_state_path(char *buf, size_t len, const char *id,
                         const char *file)
{
    if (file)
        snprintf(buf, len, TB_STATE_ROOT "/%s/%s", id, file);
    else
        snprintf(buf, len, TB_STATE_ROOT "/%s", id);
    return buf;
}

static int write_file(const char *path, const char *text)
{
    char tmp[300];
    FILE *f;
    int rc = 0;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return -errno;
    if (fputs(text, f) == EOF)
        rc = -EIO;
    if (fclose(f) != 0 && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path) < 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

int testbed_state_write_config(const struct tb_config *c)
{
    char path[256], text[1024];
    int n;

    n = snprintf(text, sizeof(text),
                 "id %s\nemulator %d\nemulator_name %s\njitter_dist %d\n",
                 c->id, (int)c->emulator, c->emulator_name,
                 (int)c->jitter_dist);
    for (int d = 0; d < 2 && n > 0 && (size_t)n < sizeof(text); d++)
        n += snprintf(text + n, sizeof(text) - (size_t)n,
                      "dir%d %.17g %.17g %.17g %.17g %.17g\n", d,
                      c->dir[d].rate_bps, c->dir[d].delay_s,
                      c->dir[d].jitter_s, c->dir[d].loss,
                      c->dir[d].queue_bytes);
    return write_file(testbed_state_path(path, sizeof(path), c->id,
                                         "config"), text);
}

int testbed_state_read_config(const char *id, struct tb_config *c)
{
    char path[256], line[256];
    FILE *f;
    int seen = 0;

    memset(c, 0, sizeof(*c));
    f = fopen(testbed_state_path(path, sizeof(path), id, "config"), "r");
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        int d, v;
        struct tb_dir t;

        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "id ", 3)) {
            snprintf(c->id, sizeof(c->id), "%.*s", TB_ID_MAX, line + 3);
            if (testbed_id_check(c->id) == 0)
                seen |= 1;
        } else if (sscanf(line, "emulator %d", &v) == 1) {
            c->emulator = (enum tb_emulator)v;
            seen |= 2;
        } else if (!strncmp(line, "emulator_name ", 14)) {
            snprintf(c->emulator_name, sizeof(c->emulator_name), "%.*s",
                     (int)sizeof(c->emulator_name) - 1, line + 14);
        } else if (sscanf(line, "jitter_dist %d", &v) == 1) {
            c->jitter_dist = (enum tb_jitter_dist)v;
        } else if (sscanf(line, "dir%d %lg %lg %lg %lg %lg", &d,
                          &t.rate_bps, &t.delay_s, &t.jitter_s, &t.loss,
                          &t.queue_bytes) == 6 &&
                   (d == 0 || d == 1)) {
            c->dir[d] = t;
            seen |= 4 << d;
        }
    }
    fclose(f);
    return seen == 15 ? 0 : -EINVAL;
}

pid_t testbed_state_read_pid(const char *id, const char *name)
{
    char path[256], file[64];
    long pid = 0;
    FILE *f;

    snprintf(file, sizeof(file), "%s.pid", name);
    f = fopen(testbed_state_path(path, sizeof(path), id, file), "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

int testbed_state_write_pid(const char *id, const char *name, pid_t pid)
{
    char path[256], file[64], text[32];

    snprintf(file, sizeof(file), "%s.pid", name);
    snprintf(text, sizeof(text), "%ld\n", (long)pid);
    return write_file(testbed_state_path(path, sizeof(path), id, file),
                      text);
}

bool testbed_pid_is_ours(pid_t pid, const char *id)
{
    char path[64], buf[1024];
    const char *prev = "";
    bool relay = false, ours = false;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* argv is NUL-separated: "... testbed relay --id ID ...". */
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
        if (!strcmp(buf + i, "relay") && !strcmp(prev, "testbed"))
            relay = true;
        if (relay && !strcmp(prev, "--id") && (!id || !strcmp(buf + i, id)))
            ours = true;
        prev = buf + i;
    }
    return relay && ours;
}
