/* SPDX-License-Identifier: MIT */
/*
 * transport.c - TCP and fd-pair channels (transport.h): full-length send and
 * receive loops over non-blocking-safe poll() waits with per-operation
 * timeouts, EINTR and partial I/O handled, optional send pacing, and the TCP
 * socket set-up (connect with timeout, listen, accept, socket options).
 */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IO_CHUNK (1U << 20)
#define IOV_MAX_LOCAL 1024U     /* <= IOV_MAX (1024 on Linux) */
/* Bytes offered to one gather write.  The kernel copies in the whole iovec
 * array on every call, while a socket takes a few hundred KiB per call
 * (TCP_NOTSENT_LOWAT): offering 1025 page-sized pieces each time copied
 * 16 KiB of iovecs per ~300 KiB sent. */
#define SENDV_WINDOW (1U << 20)
/* How often mig_chan_drain() looks at the send queue: late by at most
 * this, the guest still running (harmless to the downtime). */
#define DRAIN_POLL_NS 500000L

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wait until fd is ready for events; 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    double deadline = now_s() + timeout_ms / 1000.0;

    for (;;) {
        int left = timeout_ms < 0 ? -1
                 : (int)ceil((deadline - now_s()) * 1000.0);
        int n;

        if (timeout_ms >= 0 && left < 0)
            left = 0;
        n = poll(&p, 1, left);
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static void pace(struct mig_chan *ch, size_t len)
{
    double due;

    if (!(ch->rate_Bps > 0))
        return;
    ch->pace_bytes += len;
    due = ch->pace_t0 + (double)ch->pace_bytes / ch->rate_Bps;
    for (;;) {
        double wait = due - now_s();
        struct timespec ts;

        if (wait <= 0)
            return;
        ts.tv_sec = (time_t)wait;
        ts.tv_nsec = (long)((wait - floor(wait)) * 1e9);
        nanosleep(&ts, NULL);
    }
}

static int fd_send(struct mig_chan *ch, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len > 0) {
        size_t n = len < IO_CHUNK ? len : IO_CHUNK;
        ssize_t w;
        int rc = wait_fd(ch->wfd, POLLOUT, ch->timeout_ms);

        if (rc)
            return rc;
        w = send(ch->wfd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == ENOTSOCK)
            w = write(ch->wfd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
        ch->bytes_sent += (uint64_t)w;
        pace(ch, (size_t)w);
    }
    return 0;
}

static int fd_recv(struct mig_chan *ch, void *buf, size_t cap, size_t *got)
{
    *got = 0;
    for (;;) {
        ssize_t r;
        int rc = wait_fd(ch->rfd, POLLIN, ch->timeout_ms);

        if (rc)
            return rc;
        r = read(ch->rfd, buf, cap);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -errno;
        }
        *got = (size_t)r;
        ch->bytes_recv += (uint64_t)r;
        return 0;
    }
}

static void fd_close(struct mig_chan *ch)
{
    if (!ch->own_fds)
        return;
    if (ch->rfd >= 0)
        close(ch->rfd);
    if (ch->wfd >= 0 && ch->wfd != ch->rfd)
        close(ch->wfd);
}

static const struct mig_chan_ops fd_ops = {
    .send = fd_send,
    .recv = fd_recv,
    .close = fd_close,
};

struct mig_chan *mig_chan_fd_new(int rfd, int wfd, int own)
{
    struct mig_chan *ch = calloc(1, sizeof(*ch));

    if (!ch)
        return NULL;
    ch->ops = &fd_ops;
    ch->rfd = rfd;
    ch->wfd = wfd;
    ch->own_fds = own;
    ch->timeout_ms = MIG_CHAN_TIMEOUT_MS;
    return ch;
}

void mig_chan_free(struct mig_chan *ch)
{
    if (!ch)
        return;
    ch->ops->close(ch);
    free(ch);
}

void mig_chan_inject(struct mig_chan *ch, enum mig_chan_inject what)
{
    ch->inject = (int)what;
}

/* The armed fault on this send: a flipped first byte, or half the bytes
 * and the write side shut (the peer sees a truncated stream). */
static int send_injected(struct mig_chan *ch, const void *data, size_t len)
{
    uint8_t *copy;
    int rc;

    if (ch->inject == MIG_INJECT_TRUNCATE) {
        ch->inject = MIG_INJECT_NONE;
        rc = ch->ops->send(ch, data, len / 2);
        mig_chan_shutdown(ch);
        return rc;
    }
    ch->inject = MIG_INJECT_NONE;
    copy = malloc(len);
    if (!copy)
        return MIG_ENOMEM;
    memcpy(copy, data, len);
    copy[0] ^= 0xff;
    rc = ch->ops->send(ch, copy, len);
    free(copy);
    return rc;
}

int mig_chan_send(struct mig_chan *ch, const void *data, size_t len)
{
    if (ch->inject && len > 0)
        return send_injected(ch, data, len);
    return ch->ops->send(ch, data, len);
}

int mig_chan_sendv(struct mig_chan *ch, const struct iovec *iov,
                   int iovcnt)
{
    struct iovec v[IOV_MAX_LOCAL];
    int i = 0, n;

    if (ch->ops->send != fd_send || ch->inject) {
        /* Another kind of channel, or an armed fault: one send per
         * piece. */
        for (int k = 0; k < iovcnt; k++) {
            int rc = mig_chan_send(ch, iov[k].iov_base, iov[k].iov_len);

            if (rc)
                return rc;
        }
        return 0;
    }
    while (i < iovcnt) {
        ssize_t w;
        int rc;

        /* A private copy of the next window, advanced on partial writes. */
        n = iovcnt - i < (int)IOV_MAX_LOCAL ? iovcnt - i : (int)IOV_MAX_LOCAL;
        memcpy(v, iov + i, (size_t)n * sizeof(*v));
        i += n;
        for (int k = 0; k < n;) {
            struct msghdr m = { .msg_iov = v + k };
            size_t offered = v[k].iov_len;
            int e = k + 1;

            if (v[k].iov_len == 0) {
                k++;
                continue;
            }
            while (e < n && offered < SENDV_WINDOW)
                offered += v[e++].iov_len;
            m.msg_iovlen = (size_t)(e - k);
            rc = wait_fd(ch->wfd, POLLOUT, ch->timeout_ms);
            if (rc)
                return rc;
            w = sendmsg(ch->wfd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno == ENOTSOCK)
                w = writev(ch->wfd, v + k, e - k);
            if (w < 0) {
                if (errno == EINTR || errno == EAGAIN ||
                    errno == EWOULDBLOCK)
                    continue;
                return -errno;
            }
            ch->bytes_sent += (uint64_t)w;
            pace(ch, (size_t)w);
            while (w > 0) {
                size_t d = (size_t)w < v[k].iov_len ? (size_t)w
                                                     : v[k].iov_len;

                v[k].iov_base = (uint8_t *)v[k].iov_base + d;
                v[k].iov_len -= d;
                w -= (ssize_t)d;
                if (v[k].iov_len == 0)
                    k++;
            }
        }
    }
    return 0;
}

int mig_chan_recv(struct mig_chan *ch, void *buf, size_t cap, size_t *got)
{
    return ch->ops->recv(ch, buf, cap, got);
}

int mig_chan_recv_full(struct mig_chan *ch, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        size_t got;
        int rc = ch->ops->recv(ch, p, len, &got);

        if (rc)
            return rc;
        if (got == 0)
            return MIG_EINCOMPLETE;
        p += got;
        len -= got;
    }
    return 0;
}

void mig_chan_set_timeout(struct mig_chan *ch, int timeout_ms)
{
    ch->timeout_ms = timeout_ms;
}

void mig_chan_set_rate(struct mig_chan *ch, double rate_Bps)
{
    ch->rate_Bps = rate_Bps > 0 ? rate_Bps : 0;
    ch->pace_t0 = now_s();
    ch->pace_bytes = 0;
}

void mig_chan_shutdown(struct mig_chan *ch)
{
    if (shutdown(ch->wfd, SHUT_WR) == -1 && errno == ENOTSOCK &&
        ch->wfd != ch->rfd && ch->own_fds) {
        close(ch->wfd);
        ch->wfd = -1;
    }
}

/* Bytes the peer has not acknowledged yet (TCP: written, unsent or in
 * flight; AF_UNIX: not read yet).  MIG_ENOTSUP when fd cannot tell (a
 * pipe). */
static int unacked(int fd, uint64_t *queued)
{
    int n = 0;

    if (ioctl(fd, SIOCOUTQ, &n) == -1 || n < 0)
        return MIG_ENOTSUP;
    *queued = (uint64_t)n;
    return 0;
}

/* What counts as drained: on TCP four segments, so that one the peer's
 * delayed ACK holds does not stall the wait; nothing on other sockets. */
static uint64_t drained_below(int fd)
{
    int proto = 0, mss = 0;
    socklen_t len = sizeof(proto);

    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == -1 ||
        proto != IPPROTO_TCP)
        return 0;
    len = sizeof(mss);
    if (getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) == -1 ||
        mss <= 0)
        mss = 1448;
    return 4 * (uint64_t)mss;
}

int mig_chan_drain(struct mig_chan *ch, double *waited_s, uint64_t *left)
{
    const struct timespec tick = { .tv_nsec = DRAIN_POLL_NS };
    double t0 = now_s();
    uint64_t queued = 0, enough = drained_below(ch->wfd);
    int rc = unacked(ch->wfd, &queued);

    while (!rc && queued > enough) {
        if (ch->timeout_ms >= 0 &&
            now_s() - t0 > ch->timeout_ms / 1000.0) {
            rc = -ETIMEDOUT;
            break;
        }
        nanosleep(&tick, NULL);
        rc = unacked(ch->wfd, &queued);
    }
    if (waited_s)
        *waited_s = now_s() - t0;
    if (left)
        *left = queued;
    return rc;
}

int mig_chan_set_pacing(struct mig_chan *ch, double rate_Bps)
{
    uint64_t v = rate_Bps > 0 && rate_Bps < 1e18 ? (uint64_t)rate_Bps
                                                 : UINT64_MAX;

    return setsockopt(ch->wfd, SOL_SOCKET, SO_MAX_PACING_RATE, &v,
                      sizeof(v)) == 0 ? 0 : -errno;
}

/* ---- TCP ---------------------------------------------------------------- */

static int tune(int fd, const struct mig_tcp_opts *o)
{
    int on = 1, lowat = MIG_TCP_NOTSENT_LOWAT;

    /* Nagle off.  Writes are whole records (page batches of up to 1 MiB),
     * so there is nothing for it to coalesce, but it held the stream's
     * last partial segment (the final pages' tail, the CPU state and END
     * records) until the ACK of the previous small segment came back: one
     * to two RTTs of downtime on a WAN (tests/evidence/README.md,
     * "Evidence 4": 28-101 ms stalls before END on the 50 ms lossy-wan
     * point in 3 of 6 runs, none in 6 runs with TCP_NODELAY). */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
        return -errno;
    /* Keep little unsent data in the socket: a pass then ends when its
     * pages are on the wire, not when they are queued, so pass timing is
     * what the link did and the guest is not paused while megabytes of an
     * earlier pass still wait in the send buffer.  Best effort: kernels
     * without the option just queue more. */
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
    if (!o)
        return 0;
    if (o->congestion &&
        setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, o->congestion,
                   (socklen_t)strlen(o->congestion)) == -1)
        return -errno;
    if (o->sndbuf > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf,
                   sizeof(o->sndbuf)) == -1)
        return -errno;
    if (o->rcvbuf > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
                   sizeof(o->rcvbuf)) == -1)
        return -errno;
    return 0;
}

static int resolve(const char *host, uint16_t port, int passive,
                   struct addrinfo **res)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = passive ? AI_PASSIVE : 0 };
    char ports[8];

    snprintf(ports, sizeof(ports), "%u", (unsigned)port);
    if (getaddrinfo(host, ports, &hints, res) != 0)
        return MIG_EINVAL;
    return 0;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, int *fdp)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
    int rc = 0, flags, soerr = 0;
    socklen_t sl = sizeof(soerr);

    if (fd == -1)
        return -errno;
    flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
        if (errno != EINPROGRESS) {
            rc = -errno;
            goto out_close;
        }
        rc = wait_fd(fd, POLLOUT, timeout_ms);
        if (rc)
            goto out_close;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
            soerr = errno;
        if (soerr) {
            rc = -soerr;
            goto out_close;
        }
    }
    fcntl(fd, F_SETFL, flags);
    *fdp = fd;
    return 0;

out_close:
    close(fd);
    return rc;
}

int mig_chan_tcp_connect(const char *host, uint16_t port, int timeout_ms,
                         const struct mig_tcp_opts *opts,
                         struct mig_chan **out)
{
    struct addrinfo *res = NULL, *ai;
    int rc, fd = -1;

    *out = NULL;
    rc = resolve(host, port, 0, &res);
    if (rc)
        return rc;
    rc = -ECONNREFUSED;
    for (ai = res; ai; ai = ai->ai_next) {
        rc = connect_one(ai, timeout_ms, &fd);
        if (!rc)
            break;
    }
    freeaddrinfo(res);
    if (rc)
        return rc;
    rc = tune(fd, opts);
    if (rc)
        goto out_close;
    *out = mig_chan_fd_new(fd, fd, 1);
    if (!*out) {
        rc = MIG_ENOMEM;
        goto out_close;
    }
    return 0;

out_close:
    close(fd);
    return rc;
}

int mig_tcp_listen(const char *host, uint16_t port, int backlog, int *fdp,
                   uint16_t *bound)
{
    struct addrinfo *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd, one = 1, rc;

    *fdp = -1;
    rc = resolve(host, port, 1, &res);
    if (rc)
        return rc;
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
                res->ai_protocol);
    if (fd == -1) {
        rc = -errno;
        goto out_free;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
        listen(fd, backlog) == -1 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
        rc = -errno;
        close(fd);
        goto out_free;
    }
    if (bound)
        *bound = ss.ss_family == AF_INET6
                     ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *fdp = fd;
out_free:
    freeaddrinfo(res);
    return rc;
}

int mig_chan_tcp_accept(int lfd, int timeout_ms,
                        const struct mig_tcp_opts *opts,
                        struct mig_chan **out)
{
    int fd, rc;

    *out = NULL;
    for (;;) {
        rc = wait_fd(lfd, POLLIN, timeout_ms);
        if (rc)
            return rc;
        fd = accept(lfd, NULL, NULL);
        if (fd >= 0) {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
            break;
        }
        if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
            return -errno;
    }
    rc = tune(fd, opts);
    if (rc)
        goto out_close;
    *out = mig_chan_fd_new(fd, fd, 1);
    if (!*out) {
        rc = MIG_ENOMEM;
        goto out_close;
    }
    return 0;

out_close:
    close(fd);
    return rc;
}
