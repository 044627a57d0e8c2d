/* SPDX-License-Identifier: MIT */
/*
 * check_migrate.c - end-to-end tests of ref/sender.c + ref/receiver.c over
 * ref/transport.c: a sender (the test thread) and a receiver thread migrate
 * an emulated guest with a dirtying workload over a socketpair and over
 * loopback TCP, cold and live; refusals and failures must leave the guest
 * running and intact at the source; corrupt streams must give a receiver
 * error, never a crash.  Correctness only: no timing assertions (speed is
 * `make bench`); every wait is bounded by the channel timeout.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "guest_emu.h"
#include "migrate.h"
#include "receiver.h"
#include "sender.h"
#include "stream.h"

/* Send one fixed handshake message. */
static int send_hs(struct mig_chan *ch, enum mig_handshake which)
{
    size_t len;
    const char *msg = mig_handshake_bytes(which, &len);

    return mig_chan_send(ch, msg, len);
}

static bool under_valgrind(void)
{
    const char *v = getenv("MIGLAB_UNDER_VALGRIND");

    return v && *v && strcmp(v, "0") != 0;
}

static uint64_t guest_mem(void)
{
    return under_valgrind() ? 8 << 20 : 64 << 20;
}

static const char *guest_workload(void)
{
    return under_valgrind() ? "hotcold:wss=1M,hot=0.9,rate=2M"
                            : "hotcold:wss=4M,hot=0.9,rate=40M";
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static struct mig_guest *running_guest_wl(const char *wl)
{
    struct mig_guest_emu_cfg cfg = { .mem_bytes = guest_mem(), .vcpus = 2,
                                     .workload = wl ? wl : guest_workload(),
                                     .seed = 42 };
    struct mig_guest *g = NULL;
    char err[128] = "";

    ck_assert_msg(mig_guest_emu_new(&cfg, &g, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_int_eq(g->ops->start(g), 0);
    for (int i = 0; i < 4000 && mig_guest_emu_writes(g) < 50; i++)
        sleep_ms(5);
    ck_assert_uint_ge(mig_guest_emu_writes(g), 50);
    return g;
}

static struct mig_guest *running_guest(void)
{
    return running_guest_wl(NULL);
}

/* The guest keeps running at the source and its memory is consistent. */
static void assert_alive_and_intact(struct mig_guest *g)
{
    uint64_t w = mig_guest_emu_writes(g), first;

    for (int i = 0; i < 4000 && mig_guest_emu_writes(g) == w; i++)
        sleep_ms(5);
    ck_assert_uint_gt(mig_guest_emu_writes(g), w);
    ck_assert_int_eq(g->ops->suspend(g), 0);
    ck_assert_uint_eq(mig_guest_emu_check_stamps(g, &first), 0);
    ck_assert_int_eq(g->ops->resume(g), 0);
}

/* ---- receiver thread ---------------------------------------------------- */

struct rx {
    struct mig_chan *ch;
    int lfd;                    /* >= 0: accept on it first */
    uint64_t cap;               /* admission cap, bytes; 0 = none */
    struct mig_guest *g;
    struct mig_recv_info info;
    int rc;
    pthread_t th;
};

static void *rx_main(void *arg)
{
    struct rx *x = arg;
    struct mig_recv_opts o = { .create = mig_guest_emu_create,
                               .create_opaque = x->cap ? &x->cap : NULL };

    if (x->lfd >= 0) {
        x->rc = mig_chan_tcp_accept(x->lfd, 30000, NULL, &x->ch);
        if (x->rc)
            return NULL;
    }
    x->rc = mig_receive(x->ch, &o, &x->g, &x->info);
    /* Hang up, as a daemon does after a migration or a failure. */
    mig_chan_free(x->ch);
    x->ch = NULL;
    return NULL;
}

enum chan_kind { CHAN_SOCKETPAIR, CHAN_TCP, CHAN_PIPES };

/* Channels for both ends: a socketpair, loopback TCP, or two pipes (the
 * ssh-style fd pair). */
static void open_pair(enum chan_kind kind, struct mig_chan **snd,
                      struct rx *x)
{
    x->lfd = -1;
    if (kind == CHAN_PIPES) {
        int to_rx[2], to_tx[2];

        ck_assert_int_eq(pipe(to_rx), 0);
        ck_assert_int_eq(pipe(to_tx), 0);
        *snd = mig_chan_fd_new(to_tx[0], to_rx[1], 1);
        x->ch = mig_chan_fd_new(to_rx[0], to_tx[1], 1);
        ck_assert_int_eq(pthread_create(&x->th, NULL, rx_main, x), 0);
    } else if (kind == CHAN_TCP) {
        uint16_t port = 0;

        ck_assert_int_eq(mig_tcp_listen("127.0.0.1", 0, 4, &x->lfd, &port),
                         0);
        ck_assert_uint_gt(port, 0);
        ck_assert_int_eq(pthread_create(&x->th, NULL, rx_main, x), 0);
        ck_assert_int_eq(mig_chan_tcp_connect("127.0.0.1", port, 10000,
                                              NULL, snd), 0);
    } else {
        int sv[2];

        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        *snd = mig_chan_fd_new(sv[0], sv[0], 1);
        x->ch = mig_chan_fd_new(sv[1], sv[1], 1);
        ck_assert_ptr_nonnull(*snd);
        ck_assert_ptr_nonnull(x->ch);
        ck_assert_int_eq(pthread_create(&x->th, NULL, rx_main, x), 0);
    }
}

static void close_pair(struct mig_chan *snd, struct rx *x)
{
    mig_chan_free(snd);
    pthread_join(x->th, NULL);
    if (x->lfd >= 0)
        close(x->lfd);
}

/* ---- successful migrations --------------------------------------------- */

static const struct {
    const char *name;
    enum chan_kind chan;
    bool live;
    enum mig_policy_kind policy;
    const char *heavy;          /* workload instead of the default */
} ok_cases[] = {
    { "cold socketpair", CHAN_SOCKETPAIR, false, MIG_POLICY_XEN, NULL },
    { "live socketpair xen", CHAN_SOCKETPAIR, true, MIG_POLICY_XEN, NULL },
    { "cold tcp", CHAN_TCP, false, MIG_POLICY_XEN, NULL },
    { "live tcp xen", CHAN_TCP, true, MIG_POLICY_XEN, NULL },
    { "live tcp qemu", CHAN_TCP, true, MIG_POLICY_QEMU, NULL },
    { "live tcp xen-legacy", CHAN_TCP, true, MIG_POLICY_XEN_LEGACY, NULL },
    { "live pipes miglab", CHAN_PIPES, true, MIG_POLICY_MIGLAB, NULL },
    { "cold pipes", CHAN_PIPES, false, MIG_POLICY_XEN, NULL },
    /* Dirties faster than most passes finish: the 5-pass cap holds. */
    { "live tcp xen heavy", CHAN_TCP, true, MIG_POLICY_XEN,
      "uniform:rate=800M" },
};

START_TEST(test_migrate_ok)
{
    struct mig_guest *g = running_guest_wl(
        ok_cases[_i].heavy && !under_valgrind() ? ok_cases[_i].heavy : NULL);
    struct mig_send_opts o;
    struct mig_chan *snd = NULL;
    struct rx x = { 0 };
    struct mig_run run;
    struct json_object *j, *in, *v;
    uint64_t first, np = guest_mem() / 4096;
    int rc;

    mig_send_opts_defaults(&o);
    o.live = ok_cases[_i].live;
    mig_policy_defaults(&o.policy, ok_cases[_i].policy);
    o.name = "vm1";
    mig_run_init(&run);
    open_pair(ok_cases[_i].chan, &snd, &x);
    rc = mig_send(g, snd, &o, &run);
    close_pair(snd, &x);
    ck_assert_msg(rc == 0, "case %d (%s): send %s: %s", _i,
                  ok_cases[_i].name, mig_strerror(rc), run.msg);
    ck_assert_msg(x.rc == 0, "case %d: receive %s: %s", _i,
                  mig_strerror(x.rc), x.info.msg);
    ck_assert(run.committed);
    ck_assert(!run.resumed_at_source);
    ck_assert(run.integrity.checked);
    ck_assert_msg(run.integrity.ok, "case %d: %llu mismatches, first pfn "
                  "%llu", _i, (unsigned long long)run.integrity.mismatches,
                  (unsigned long long)run.integrity.mismatch_pfns[0]);
    ck_assert_uint_eq(run.integrity.pages_checked, np);
    ck_assert_uint_eq(run.integrity.mismatches, 0);
    ck_assert_uint_eq(run.result.mem_pages, np);
    ck_assert_int_eq(run.result.outcome, SIM_OUTCOME_COMPLETED);
    ck_assert_uint_ge(run.result.pages_sent, np);
    ck_assert_uint_ge(run.result.npasses, 1);
    ck_assert(!run.result.passes[run.result.npasses - 1].live);
    ck_assert_uint_eq(run.result.live_passes, run.result.npasses - 1);
    ck_assert(run.result.downtime_s > 0);
    ck_assert(run.result.total_time_s >= run.result.downtime_s);
    if (ok_cases[_i].live) {
        ck_assert_uint_ge(run.result.live_passes, 1);
        ck_assert_uint_eq(run.result.passes[0].pages, np);
        if (ok_cases[_i].policy == MIG_POLICY_XEN)
            ck_assert_uint_le(run.result.live_passes, 5);
        /* The pause waited for the destination to have the live passes
         * (policy drain, on by default), where the channel can tell. */
        ck_assert(run.result.drained == (ok_cases[_i].chan != CHAN_PIPES));
        ck_assert(run.result.drain_s >= 0);
    } else {
        ck_assert(!run.result.drained);
        ck_assert_uint_eq(run.result.live_passes, 0);
        ck_assert_uint_eq(run.result.passes[0].pages, np);
        ck_assert_int_eq(run.result.stop_reason, MIG_STOP_COLD);
    }
    ck_assert_uint_eq(x.info.desc.nr_pages, np);
    ck_assert(x.info.verify);

    /* The JSON carries the predict keys plus integrity. */
    j = mig_run_to_json(&run);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_object_object_get_ex(j, "downtime_parts", &v));
    ck_assert(json_object_object_get_ex(j, "passes", &v));
    ck_assert(json_object_object_get_ex(j, "integrity", &in));
    ck_assert(json_object_object_get_ex(in, "ok", &v));
    ck_assert(json_object_get_boolean(v));
    json_object_put(j);

    /* The destination runs on; stamps are consistent and continue the
     * source's generations. */
    ck_assert_ptr_nonnull(x.g);
    for (int i = 0; i < 4000 && mig_guest_emu_writes(x.g) <= 
                                    mig_guest_emu_writes(g); i++)
        sleep_ms(5);
    ck_assert_uint_gt(mig_guest_emu_writes(x.g), mig_guest_emu_writes(g));
    ck_assert_int_eq(x.g->ops->suspend(x.g), 0);
    ck_assert_uint_eq(mig_guest_emu_check_stamps(x.g, &first), 0);
    mig_guest_free(x.g);
    mig_guest_free(g);
    mig_run_clear(&run);
}
END_TEST

/* ---- refusals and failures: the guest stays at the source ------------- */

/* Fake receivers.  Each gets the receiving channel. */
static void fake_close_after_banner(struct mig_chan *ch)
{

    send_hs(ch, MIG_HS_BANNER);
}

static void fake_bad_banner(struct mig_chan *ch)
{
    static const char b[] = "xl migration receiver ready, send binary domain "
                            "dat!!\n";

    mig_chan_send(ch, b, sizeof(b) - 1);
}

/* Consume the whole stream, then run the tail with a given report. */
static void consume_stream(struct mig_chan *ch)
{
    struct mig_stream_dec *dec = mig_stream_dec_new(NULL);
    uint8_t *buf = malloc(1 << 16);

    while (!mig_stream_dec_done(dec)) {
        size_t got, used;

        if (mig_chan_recv(ch, buf, 1 << 16, &got) || got == 0 ||
            mig_stream_dec_feed_some(dec, buf, got, &used))
            break;
    }
    free(buf);
    mig_stream_dec_free(dec);
}

static void fake_bad_report(struct mig_chan *ch)
{
    struct mig_wbuf wb;
    uint8_t go[MIG_XL_GO_LEN];

    send_hs(ch, MIG_HS_BANNER);
    consume_stream(ch);
    send_hs(ch, MIG_HS_READY);
    mig_chan_recv_full(ch, go, sizeof(go));
    mig_wbuf_init(&wb, NULL);
    mig_stream_put_report(&wb, 3);
    mig_chan_send(ch, wb.data, wb.len);
    mig_wbuf_fini(&wb);
}

static void fake_no_ready(struct mig_chan *ch)
{

    send_hs(ch, MIG_HS_BANNER);
    consume_stream(ch);
    mig_chan_send(ch, "domain received, ready to unpaus!", MIG_XL_READY_LEN);
}

struct fake {
    struct mig_chan *ch;
    void (*fn)(struct mig_chan *ch);
};

static void *fake_main(void *arg)
{
    struct fake *f = arg;

    f->fn(f->ch);
    mig_chan_free(f->ch);
    f->ch = NULL;
    return NULL;
}

static const struct {
    const char *name;
    void (*fn)(struct mig_chan *ch);
    int rc;
} refuse_cases[] = {
    { "closes after banner", fake_close_after_banner, 0 /* any */ },
    { "bad banner", fake_bad_banner, MIG_EPROTO },
    { "bad report", fake_bad_report, MIG_EREFUSED },
    { "bad ready", fake_no_ready, MIG_EPROTO },
};

START_TEST(test_receiver_refuses)
{
    struct mig_guest *g = running_guest();
    struct mig_send_opts o;
    struct mig_chan *snd;
    struct fake f = { .fn = refuse_cases[_i].fn };
    struct mig_run run;
    pthread_t th;
    int sv[2], rc;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    snd = mig_chan_fd_new(sv[0], sv[0], 1);
    f.ch = mig_chan_fd_new(sv[1], sv[1], 1);
    mig_send_opts_defaults(&o);
    mig_run_init(&run);
    ck_assert_int_eq(pthread_create(&th, NULL, fake_main, &f), 0);
    rc = mig_send(g, snd, &o, &run);
    pthread_join(th, NULL);
    mig_chan_free(snd);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(!refuse_cases[_i].rc || rc == refuse_cases[_i].rc, "case %d (%s): got %s (%s)", _i,
                  refuse_cases[_i].name, mig_strerror(rc), run.msg);
    ck_assert(run.resumed_at_source);
    ck_assert(!run.committed);
    ck_assert_ptr_nonnull(strstr(run.msg, "guest resumed at source"));
    assert_alive_and_intact(g);
    mig_guest_free(g);
    mig_run_clear(&run);
}
END_TEST

START_TEST(test_admission_refused)
{
    struct mig_guest *g = running_guest();
    struct mig_send_opts o;
    struct mig_chan *snd = NULL;
    struct rx x = { .cap = guest_mem() / 2 };
    struct mig_run run;
    int rc;

    mig_send_opts_defaults(&o);
    mig_run_init(&run);
    open_pair(CHAN_SOCKETPAIR, &snd, &x);
    rc = mig_send(g, snd, &o, &run);
    close_pair(snd, &x);
    ck_assert_int_ne(rc, 0);
    ck_assert_int_eq(x.rc, MIG_ERANGE);
    ck_assert_ptr_null(x.g);
    ck_assert_ptr_nonnull(strstr(x.info.msg, "not enough memory"));
    ck_assert(run.resumed_at_source);
    assert_alive_and_intact(g);
    mig_guest_free(g);
    mig_run_clear(&run);
}
END_TEST

START_TEST(test_policy_abort)
{
    struct mig_guest *g = running_guest();
    struct mig_send_opts o;
    struct mig_chan *snd = NULL;
    struct rx x = { 0 };
    struct mig_run run;
    int rc;

    mig_send_opts_defaults(&o);
    mig_policy_defaults(&o.policy, MIG_POLICY_MIGLAB);
    o.policy.byte_budget = 4096;    /* exceeded by the first pass */
    o.policy.downtime_limit_s = 1e-9;
    mig_run_init(&run);
    open_pair(CHAN_SOCKETPAIR, &snd, &x);
    rc = mig_send(g, snd, &o, &run);
    close_pair(snd, &x);
    ck_assert_int_eq(rc, MIG_EABORTED);
    ck_assert_int_ne(x.rc, 0);
    ck_assert_ptr_null(x.g);
    ck_assert(run.resumed_at_source);
    assert_alive_and_intact(g);
    mig_guest_free(g);
    mig_run_clear(&run);
}
END_TEST

/* ---- corrupt streams ---------------------------------------------------- */

struct feeder {
    struct mig_chan *ch;
    const uint8_t *data;
    size_t len;
};

/* Fake sender: read the banner, write the bytes, close, drain. */
static void *feeder_main(void *arg)
{
    struct feeder *f = arg;
    uint8_t buf[256];
    size_t got;

    if (mig_chan_recv_full(f->ch, buf, MIG_XL_BANNER_LEN) == 0)
        mig_chan_send(f->ch, f->data, f->len);
    mig_chan_shutdown(f->ch);
    while (mig_chan_recv(f->ch, buf, sizeof(buf), &got) == 0 && got > 0)
        ;
    return NULL;
}

static int receive_bytes(const uint8_t *data, size_t len,
                         struct mig_recv_info *info)
{
    struct mig_recv_opts o = { .create = mig_guest_emu_create };
    struct feeder f = { .data = data, .len = len };
    struct mig_guest *g = (struct mig_guest *)1;
    struct mig_chan *ch;
    pthread_t th;
    int sv[2], rc;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ch = mig_chan_fd_new(sv[1], sv[1], 1);
    f.ch = mig_chan_fd_new(sv[0], sv[0], 1);
    mig_chan_set_timeout(ch, 10000);
    ck_assert_int_eq(pthread_create(&th, NULL, feeder_main, &f), 0);
    rc = mig_receive(ch, &o, &g, info);
    mig_chan_free(ch);
    pthread_join(th, NULL);
    mig_chan_free(f.ch);
    if (rc)
        ck_assert_ptr_null(g);
    mig_guest_free(g);
    return rc;
}

/* A small valid stream: 16-page guest, two batches, END. */
static void small_stream(struct mig_wbuf *wb, uint64_t bad_pfn)
{
    struct mig_domain_header dh = { MIG_DHDR_TYPE_X86_HVM, 12, 4, 19 };
    struct mig_guest_info gi = { .vcpus = 1, .nr_pages = 16 };
    static uint8_t pages[2][4096];
    const void *ptrs[2] = { pages[0], pages[1] };
    uint64_t pfns[2] = { MIG_PFN_WORD(0, 3), MIG_PFN_WORD(0, bad_pfn) };

    memset(pages[0], 0xab, sizeof(pages[0]));
    mig_wbuf_init(wb, NULL);
    ck_assert_int_eq(mig_stream_put_xl_header(wb, "{}"), 0);
    ck_assert_int_eq(mig_stream_put_libxl_header(wb), 0);
    ck_assert_int_eq(mig_stream_put_libxc_context(wb), 0);
    ck_assert_int_eq(mig_stream_put_image_header(wb), 0);
    ck_assert_int_eq(mig_stream_put_domain_header(wb, &dh), 0);
    ck_assert_int_eq(mig_stream_put_guest_info(wb, &gi), 0);
    ck_assert_int_eq(mig_stream_put_static_data_end(wb), 0);
    ck_assert_int_eq(mig_stream_put_page_data(wb, pfns, ptrs, 2), 0);
    ck_assert_int_eq(mig_stream_put_end(wb), 0);
    ck_assert_int_eq(mig_stream_put_libxl_end(wb), 0);
}

START_TEST(test_pfn_beyond_guest)
{
    struct mig_recv_info info;
    struct mig_wbuf wb;

    small_stream(&wb, 16);
    ck_assert_int_eq(receive_bytes(wb.data, wb.len, &info), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(info.msg, "beyond guest"));
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_valid_small_stream_then_sender_vanishes)
{
    struct mig_recv_info info;
    struct mig_wbuf wb;

    /* The stream is fine, but no GO follows: the copy is destroyed. */
    small_stream(&wb, 15);
    ck_assert_int_eq(receive_bytes(wb.data, wb.len, &info), MIG_EINCOMPLETE);
    ck_assert_uint_eq(info.desc.nr_pages, 16);
    ck_assert_uint_eq(info.pages_written, 2);
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_truncated_and_flipped)
{
    struct mig_recv_info info;
    struct mig_wbuf wb;
    uint8_t *copy;
    unsigned seed = 12345;

    small_stream(&wb, 15);
    copy = malloc(wb.len);
    /* Every truncation point in the headers, then some in the pages. */
    for (size_t cut = 0; cut < wb.len; cut += cut < 200 ? 7 : 997) {
        int rc = receive_bytes(wb.data, cut, &info);

        ck_assert_msg(rc != 0, "cut at %zu accepted", cut);
    }
    /* Bit flips anywhere: an error or a clean (page-content) change. */
    for (int i = 0; i < (under_valgrind() ? 10 : 60); i++) {
        size_t pos;

        seed = seed * 1103515245u + 12345u;
        pos = i < 30 ? (seed >> 8) % 200 : (seed >> 8) % wb.len;
        memcpy(copy, wb.data, wb.len);
        copy[pos] ^= (uint8_t)(1u << (seed % 8));
        (void)receive_bytes(copy, wb.len, &info);
    }
    free(copy);
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_garbage)
{
    static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    struct mig_recv_info info;

    ck_assert_int_ne(receive_bytes(junk, sizeof(junk), &info), 0);
    ck_assert_int_ne(receive_bytes(junk, 0, &info), 0);
}
END_TEST

/* ---- transport ----------------------------------------------------------- */

/* TCP_NODELAY of a socket: 1 on, 0 off, -1 on error. */
static int tcp_nodelay(int fd)
{
    int v = -1;
    socklen_t len = sizeof(v);

    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == -1)
        return -1;
    return v != 0;
}

START_TEST(test_tcp_options_and_timeouts)
{
    struct mig_tcp_opts opts = { .congestion = "reno", .sndbuf = 1 << 20,
                                 .rcvbuf = 1 << 20 };
    struct mig_tcp_opts bad = { .congestion = "no-such-cc" };
    struct mig_chan *c = NULL, *a = NULL;
    uint16_t port = 0, closed_port = 0;
    uint8_t buf[16];
    size_t got;
    int lfd, lfd2;

    ck_assert_int_eq(mig_tcp_listen("127.0.0.1", 0, 4, &lfd, &port), 0);
    /* Nobody connects: accept times out. */
    ck_assert_int_eq(mig_chan_tcp_accept(lfd, 50, NULL, &a), -ETIMEDOUT);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(mig_chan_tcp_connect("127.0.0.1", port, 5000, &opts,
                                          &c), 0);
    ck_assert_int_eq(mig_chan_tcp_accept(lfd, 5000, &opts, &a), 0);
    /* Nagle is off at both ends: the stream's last small segment (state,
     * END) must not wait an RTT for the ACK of an earlier one. */
    ck_assert_int_eq(tcp_nodelay(c->wfd), 1);
    ck_assert_int_eq(tcp_nodelay(a->wfd), 1);
    /* Nothing to read: recv times out; then data arrives in order. */
    mig_chan_set_timeout(a, 50);
    ck_assert_int_eq(mig_chan_recv(a, buf, sizeof(buf), &got), -ETIMEDOUT);
    mig_chan_set_timeout(a, 5000);
    ck_assert_int_eq(mig_chan_send(c, "hello", 5), 0);
    ck_assert_int_eq(mig_chan_recv_full(a, buf, 5), 0);
    ck_assert_mem_eq(buf, "hello", 5);
    ck_assert_uint_eq(c->bytes_sent, 5);
    ck_assert_uint_eq(a->bytes_recv, 5);
    /* The peer closes: recv_full reports the short read. */
    mig_chan_free(c);
    ck_assert_int_eq(mig_chan_recv_full(a, buf, 1), MIG_EINCOMPLETE);
    mig_chan_free(a);
    /* An unknown congestion control name is refused. */
    ck_assert_int_ne(mig_chan_tcp_connect("127.0.0.1", port, 5000, &bad, &c),
                     0);
    ck_assert_ptr_null(c);
    close(lfd);
    /* A closed port refuses the connection; a bad name is EINVAL. */
    ck_assert_int_eq(mig_tcp_listen("127.0.0.1", 0, 1, &lfd2, &closed_port),
                     0);
    close(lfd2);
    ck_assert_int_eq(mig_chan_tcp_connect("127.0.0.1", closed_port, 5000,
                                          NULL, &c), -ECONNREFUSED);
    ck_assert_int_eq(mig_chan_tcp_connect("no such host..", 1, 100, NULL,
                                          &c), MIG_EINVAL);
    mig_chan_free(NULL);
}
END_TEST

/* Reads everything from a channel until end of stream. */
static void *read_all(void *arg)
{
    static uint8_t sink[64 << 10];
    size_t got;

    while (mig_chan_recv(arg, sink, sizeof(sink), &got) == 0 && got > 0)
        ;
    return NULL;
}

/* A loopback TCP pair with a small MSS and a small receive buffer, as
 * plain fd channels (mig_chan_drain() reads the socket under either). */
static void small_tcp_pair(struct mig_chan **snd, struct mig_chan **rcv)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    int mss = 1000, rcvbuf = 4096, afd;

    ck_assert_int_ge(lfd, 0);
    ck_assert_int_ge(cfd, 0);
    ck_assert_int_eq(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
                                sizeof(rcvbuf)), 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    ck_assert_int_eq(setsockopt(cfd, IPPROTO_TCP, TCP_MAXSEG, &mss,
                                sizeof(mss)), 0);
    ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    afd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(afd, 0);
    close(lfd);
    *snd = mig_chan_fd_new(cfd, cfd, 1);
    *rcv = mig_chan_fd_new(afd, afd, 1);
}

/* The socket's SO_MAX_PACING_RATE, 0 on error. */
static uint64_t pacing_cap(int fd)
{
    uint64_t v = 0;
    socklen_t len = sizeof(v);

    return getsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &v, &len) == 0
               ? v : 0;
}

/* The pause waits for the send queue: the peer must have (nearly) all
 * that was written.  A peer that does not read keeps it queued.  Then the
 * burst is paced. */
START_TEST(test_drain_waits_for_the_peer)
{
    static uint8_t buf[100 << 10];
    struct mig_chan *c, *a, *x, *y;
    uint64_t left = 0;
    double waited = 0;
    pthread_t th;
    int sv[2], pv[2];

    small_tcp_pair(&c, &a);
    /* 100 KiB, the receiver not reading: far more than its window and
     * four segments stays unacknowledged; the drain gives up at the
     * channel's timeout. */
    ck_assert_int_eq(mig_chan_send(c, buf, sizeof(buf)), 0);
    mig_chan_set_timeout(c, 50);
    ck_assert_int_eq(mig_chan_drain(c, &waited, &left), -ETIMEDOUT);
    ck_assert(waited >= 0.05);
    ck_assert_uint_gt(left, 50 << 10);
    /* Once the peer reads, it drains to at most four segments. */
    ck_assert_int_eq(pthread_create(&th, NULL, read_all, a), 0);
    mig_chan_set_timeout(c, 10000);
    ck_assert_int_eq(mig_chan_drain(c, &waited, &left), 0);
    ck_assert_uint_le(left, 4 * 1000);
    mig_chan_free(c);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    mig_chan_free(a);

    /* The burst after the drain is paced by the kernel: the cap reads
     * back; <= 0 lifts it; a pipe has no pacing. */
    small_tcp_pair(&c, &a);
    ck_assert_int_eq(mig_chan_set_pacing(c, 12.5e6), 0);
    ck_assert_uint_eq(pacing_cap(c->wfd), 12500000);
    ck_assert_int_eq(mig_chan_set_pacing(c, 0), 0);
    ck_assert_uint_eq(pacing_cap(c->wfd), UINT64_MAX);
    mig_chan_free(c);
    mig_chan_free(a);

    /* A local socket drains to empty; a pipe cannot tell. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    x = mig_chan_fd_new(sv[0], sv[0], 1);
    y = mig_chan_fd_new(sv[1], sv[1], 1);
    ck_assert_int_eq(mig_chan_send(x, "queued", 6), 0);
    mig_chan_set_timeout(x, 20);
    ck_assert_int_eq(mig_chan_drain(x, NULL, &left), -ETIMEDOUT);
    ck_assert_uint_gt(left, 0);
    ck_assert_int_eq(mig_chan_recv_full(y, buf, 6), 0);
    ck_assert_int_eq(mig_chan_drain(x, NULL, &left), 0);
    ck_assert_uint_eq(left, 0);
    mig_chan_free(x);
    mig_chan_free(y);
    ck_assert_int_eq(pipe(pv), 0);
    x = mig_chan_fd_new(pv[0], pv[1], 1);
    ck_assert_int_eq(mig_chan_drain(x, NULL, NULL), MIG_ENOTSUP);
    ck_assert_int_ne(mig_chan_set_pacing(x, 1e6), 0);
    mig_chan_free(x);
}
END_TEST

START_TEST(test_rate_limit_paces)
{
    struct mig_chan *a, *b;
    struct timespec t0, t1;
    static uint8_t buf[64 << 10];
    size_t got, total = 0;
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    a = mig_chan_fd_new(sv[0], sv[0], 1);
    b = mig_chan_fd_new(sv[1], sv[1], 1);
    /* 64 KiB at 1 MiB/s cannot take less than 62 ms: a lower bound on
     * the sender's own clock, never an upper one. */
    mig_chan_set_rate(a, 1 << 20);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mig_chan_send(a, buf, sizeof(buf)), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert((t1.tv_sec - t0.tv_sec) * 1e3 +
              (t1.tv_nsec - t0.tv_nsec) / 1e6 >= 55.0);
    while (total < sizeof(buf) &&
           mig_chan_recv(b, buf, sizeof(buf), &got) == 0 && got > 0)
        total += got;
    ck_assert_uint_eq(total, sizeof(buf));
    mig_chan_free(a);
    mig_chan_free(b);
}
END_TEST

START_TEST(test_huge_guest_info)
{
    struct mig_domain_header dh = { MIG_DHDR_TYPE_X86_HVM, 12, 4, 19 };
    struct mig_guest_info gi = { .vcpus = 1, .nr_pages = 1ULL << 40 };
    struct mig_recv_info info;
    struct mig_wbuf wb;

    /* 4 PiB from the peer: refused by the default admission cap. */
    mig_wbuf_init(&wb, NULL);
    ck_assert_int_eq(mig_stream_put_xl_header(&wb, "{}"), 0);
    ck_assert_int_eq(mig_stream_put_libxl_header(&wb), 0);
    ck_assert_int_eq(mig_stream_put_libxc_context(&wb), 0);
    ck_assert_int_eq(mig_stream_put_image_header(&wb), 0);
    ck_assert_int_eq(mig_stream_put_domain_header(&wb, &dh), 0);
    ck_assert_int_eq(mig_stream_put_guest_info(&wb, &gi), 0);
    ck_assert_int_eq(receive_bytes(wb.data, wb.len, &info), MIG_ERANGE);
    ck_assert_ptr_nonnull(strstr(info.msg, "not enough memory"));
    mig_wbuf_fini(&wb);
}
END_TEST

static Suite *migrate_suite(void)
{
    Suite *s = suite_create("migrate");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_set_timeout(core, 600);
    tcase_set_timeout(limits, 600);
    tcase_set_timeout(corrupt, 600);
    tcase_add_loop_test(core, test_migrate_ok, 0,
                        sizeof(ok_cases) / sizeof(ok_cases[0]));
    tcase_add_loop_test(limits, test_receiver_refuses, 0,
                        sizeof(refuse_cases) / sizeof(refuse_cases[0]));
    tcase_add_test(limits, test_admission_refused);
    tcase_add_test(limits, test_policy_abort);
    tcase_add_test(limits, test_tcp_options_and_timeouts);
    tcase_add_test(limits, test_rate_limit_paces);
    tcase_add_test(limits, test_drain_waits_for_the_peer);
    tcase_add_test(corrupt, test_huge_guest_info);
    tcase_add_test(corrupt, test_pfn_beyond_guest);
    tcase_add_test(corrupt, test_valid_small_stream_then_sender_vanishes);
    tcase_add_test(corrupt, test_truncated_and_flipped);
    tcase_add_test(corrupt, test_garbage);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(migrate_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
