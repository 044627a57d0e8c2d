/* SPDX-License-Identifier: MIT */
/*
 * transport.h - byte channels the sender and receiver talk over.
 *
 * A struct mig_chan moves bytes in order, both ways, with a per-operation
 * timeout (poll) and full-length loops that survive EINTR and partial I/O.
 * Two kinds, behind one small ops table:
 *   tcp     one connected socket (mig_chan_tcp_connect / mig_chan_tcp_accept):
 *           Nagle off (TCP_NODELAY), optional congestion control
 *           algorithm by name (TCP_CONGESTION) and SO_SNDBUF/SO_RCVBUF cap;
 *   fd      a read fd and a write fd (an ssh-style pipe pair, or both ends
 *           the same socketpair fd in tests).
 * A channel can pace its sends to a byte rate (the policy's max_bandwidth).
 * Authentication is not done here: ref/auth.h runs on a channel (the host
 * daemon does so before any migration byte).
 */
#ifndef MIG_TRANSPORT_H
#define MIG_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mig_err.h"

struct mig_chan;

struct mig_chan_ops {
    /* Write all len bytes or fail. */
    int (*send)(struct mig_chan *ch, const void *data, size_t len);
    /* Read at least 1 and at most cap bytes; *got = 0 at end of stream. */
    int (*recv)(struct mig_chan *ch, void *buf, size_t cap, size_t *got);
    void (*close)(struct mig_chan *ch);
};

struct mig_chan {
    const struct mig_chan_ops *ops;
    int rfd, wfd;
    int own_fds;                /* close them in mig_chan_free() */
    int timeout_ms;             /* per operation; < 0 = none */
    double rate_Bps;            /* send pacing; 0 = none */
    double pace_t0;             /* pacing epoch (CLOCK_MONOTONIC s) */
    uint64_t pace_bytes;        /* bytes sent since pace_t0 */
    uint64_t bytes_sent;
    uint64_t bytes_recv;
    int inject;                 /* enum mig_chan_inject, one-shot */
};

/* Faults a test can arm on a channel's next send (docs/faults.md). */
enum mig_chan_inject {
    MIG_INJECT_NONE,
    MIG_INJECT_CORRUPT,         /* flip the first byte of the next send */
    MIG_INJECT_TRUNCATE,        /* send half of it, then shut the write
                                   side; the send itself reports success */
};

/* TCP tuning; zero = leave the kernel default. */
struct mig_tcp_opts {
    const char *congestion;     /* "cubic", "bbr", ...; NULL = default */
    int sndbuf;                 /* SO_SNDBUF bytes; 0 = default */
    int rcvbuf;                 /* SO_RCVBUF bytes */
};

#define MIG_CHAN_TIMEOUT_MS 30000
/* Unsent bytes a TCP channel may queue (TCP_NOTSENT_LOWAT). */
#define MIG_TCP_NOTSENT_LOWAT (128 * 1024)

/*
 * Channel over rfd/wfd (may be equal).  own: close them on free.  Timeout
 * MIG_CHAN_TIMEOUT_MS.  Caller frees with mig_chan_free().  NULL on ENOMEM.
 */
struct mig_chan *mig_chan_fd_new(int rfd, int wfd, int own);

/*
 * Connect to host:port (numeric or name) within timeout_ms.  opts may be
 * NULL.  On success *out is a new channel (caller frees).  Returns 0,
 * -ETIMEDOUT, -errno, MIG_EINVAL (bad address) or MIG_ENOMEM.
 */
int mig_chan_tcp_connect(const char *host, uint16_t port, int timeout_ms,
                         const struct mig_tcp_opts *opts,
                         struct mig_chan **out);

/*
 * Listening socket on host:port (host NULL = any; port 0 = ephemeral).
 * *fd is the socket (caller closes), *bound the port actually bound.
 */
int mig_tcp_listen(const char *host, uint16_t port, int backlog, int *fd,
                   uint16_t *bound);

/* Accept one connection within timeout_ms (< 0: wait forever). */
int mig_chan_tcp_accept(int lfd, int timeout_ms,
                        const struct mig_tcp_opts *opts,
                        struct mig_chan **out);

/* Close and free; NULL is a no-op. */
void mig_chan_free(struct mig_chan *ch);

/* Operations; all return 0 or -ETIMEDOUT / -errno.  recv_full returns
 * MIG_EINCOMPLETE when the peer closes first. */
int mig_chan_send(struct mig_chan *ch, const void *data, size_t len);
/* Write all bytes of iov[0..iovcnt) in order (gather write: the pages of a
 * PAGE_DATA record go out without a copy).  Same results as send. */
int mig_chan_sendv(struct mig_chan *ch, const struct iovec *iov,
                   int iovcnt);
int mig_chan_recv(struct mig_chan *ch, void *buf, size_t cap, size_t *got);
int mig_chan_recv_full(struct mig_chan *ch, void *buf, size_t len);
void mig_chan_set_timeout(struct mig_chan *ch, int timeout_ms);
/* Pace sends to rate_Bps bytes/s from now on (0 = unlimited). */
void mig_chan_set_rate(struct mig_chan *ch, double rate_Bps);
/* Arm a fault on the next non-empty send (mig_chan_send or _sendv); it
 * fires once.  For fault-injection tests only. */
void mig_chan_inject(struct mig_chan *ch, enum mig_chan_inject what);
/*
 * Wait until the peer has (nearly) all that was sent: the socket's send
 * queue (SIOCOUTQ: unsent + unacknowledged) down to a few segments on TCP,
 * empty on a local socket; polled every 0.5 ms, within the channel's
 * timeout.  *waited_s the wait, *left the bytes still queued (either may
 * be NULL).  0; MIG_ENOTSUP when the channel cannot tell (a pipe: nothing
 * waited); -ETIMEDOUT when the queue did not drain in time (the peer
 * stopped reading).  The sender calls it before pausing the guest.
 */
int mig_chan_drain(struct mig_chan *ch, double *waited_s, uint64_t *left);
/*
 * Let the kernel pace this socket's sends at no more than rate_Bps bytes
 * of segments per second (SO_MAX_PACING_RATE: TCP paces internally, any
 * congestion control); <= 0 removes the cap.  0 or -errno (not a socket,
 * or not TCP).
 */
int mig_chan_set_pacing(struct mig_chan *ch, double rate_Bps);
/* Shut down the write side (the peer sees end of stream). */
void mig_chan_shutdown(struct mig_chan *ch);

#endif
