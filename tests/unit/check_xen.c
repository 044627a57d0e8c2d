/* SPDX-License-Identifier: MIT */
/*
 * check_xen.c - unit tests of the Xen backend's parts that need no
 * hypervisor: the progress capture of the xentoollog logger
 * (ref/xen_progress.c), the xl migrate handshake of ref/xen_handshake.c
 * (sender against receiver, and each against a scripted peer over a
 * socketpair: banner mismatch, missing "ready", failed report -> resume
 * path), and the dirty-trace writer round trip through
 * sim_workload_parse("trace:FILE").  One real-Xen test skips (exit 77
 * semantics: a printed reason) unless MIG_TEST_XEN=1 and /proc/xen exist.
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest_xen.h"
#include "mig_err.h"
#include "stream.h"
#include "transport.h"
#include "workload.h"
#include "check_main.h"

/* ---- progress capture ------------------------------------------------- */

struct rep {
    double t;
    const char *what;
    unsigned long done, total;
};

static void feed(struct mig_xen_progress *p, const struct rep *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mig_xen_progress_report(p, 100.0 + r[i].t, "xc", r[i].what,
                                r[i].done, r[i].total);
}

START_TEST(test_progress_live)
{
    static const struct rep r[] = {
        { 0.10, "Start of stream", 0, 0 },
        /* As Xen 4.17 reports them: live passes from 0, the final pass
         * numbered next (here it reuses the last number instead, which
         * the parser must split too). */
        { 0.20, "Frames iteration 0", 0, 32768 },
        { 0.50, "Frames iteration 0", 1024, 32768 },
        { 1.90, "Frames iteration 0", 32768, 32768 },
        { 2.00, "Frames iteration 1", 0, 8000 },
        { 2.50, "Frames iteration 1", 8000, 8000 },
        { 2.60, "Frames iteration 2", 40, 40 },
        { 2.70, "Domain now suspended", 0, 0 },
        { 2.71, "Frames iteration 2", 0, 300 },
        { 2.80, "Frames iteration 2", 300, 300 },
        { 2.90, "End of stream", 0, 0 },
    };
    struct mig_xen_progress p;

    mig_xen_progress_init(&p, 100.0);
    mig_xen_progress_message(&p, 100.15, 5, "xc",
                             "Saving domain 3, type x86 PV");
    mig_xen_progress_message(&p, 102.65, 1, "libxl",
                             "issuing PV suspend request via XenBus");
    feed(&p, r, sizeof(r) / sizeof(r[0]));
    ck_assert_uint_eq(p.npasses, 4);
    ck_assert(p.passes[0].live && p.passes[1].live && p.passes[2].live);
    ck_assert(!p.passes[3].live);
    ck_assert_uint_eq(p.passes[0].pages, 32768);
    ck_assert_uint_eq(p.passes[1].pages, 8000);
    ck_assert_uint_eq(p.passes[2].pages, 40);
    ck_assert_uint_eq(p.passes[3].pages, 300);
    ck_assert_uint_eq(p.passes[3].iteration, 2);
    ck_assert_uint_eq(p.passes[0].iteration, 0);
    ck_assert_uint_eq(p.passes[0].reports, 3);
    ck_assert_double_eq_tol(p.passes[0].t_first, 0.20, 1e-9);
    ck_assert_double_eq_tol(p.passes[0].t_last, 1.90, 1e-9);
    ck_assert_double_eq_tol(p.t_stream, 0.15, 1e-9);  /* the message */
    ck_assert_double_eq_tol(p.t_susp_req, 2.65, 1e-9);
    ck_assert_double_eq_tol(p.t_suspended, 2.70, 1e-9);
    ck_assert_double_eq_tol(p.t_stream_end, 2.90, 1e-9);
    ck_assert_str_eq(p.last_error, "");
}
END_TEST

/* Regression: Xen 4.17 numbers live passes from 0; each report of pass 0
 * used to start a new pass (33 passes seen in the first nested boot). */
START_TEST(test_progress_xen417_numbering)
{
    struct mig_xen_progress p;
    char what[40];
    double t = 0;

    mig_xen_progress_init(&p, 0);
    for (unsigned it = 0; it <= 4; it++) {
        unsigned long total = it ? 8000 >> it : 32768;

        snprintf(what, sizeof(what), "Frames iteration %u", it);
        for (unsigned long d = 0; d <= total; d += 1024)
            mig_xen_progress_report(&p, t += 0.01, "xc", what, d, total);
        mig_xen_progress_report(&p, t += 0.01, "xc", what, total, total);
    }
    mig_xen_progress_report(&p, t += 0.01, "xc", "Domain now suspended", 0,
                            0);
    mig_xen_progress_report(&p, t += 0.01, "xc", "Frames iteration 5", 0,
                            900);
    mig_xen_progress_report(&p, t += 0.01, "xc", "Frames iteration 5", 900,
                            900);
    ck_assert_uint_eq(p.npasses, 6);
    for (unsigned i = 0; i < 5; i++)
        ck_assert(p.passes[i].live && p.passes[i].numbered);
    ck_assert(!p.passes[5].live);
    ck_assert_uint_eq(p.passes[0].pages, 32768);
    ck_assert_uint_eq(p.passes[0].reports, 34);
    ck_assert_uint_eq(p.passes[5].pages, 900);
}
END_TEST

START_TEST(test_progress_cold)
{
    static const struct rep r[] = {
        { 0.1, "Domain now suspended", 0, 0 },
        { 0.2, "Frames", 0, 1 },
        { 0.9, "Frames", 16384, 32768 },
        { 1.5, "Frames", 32768, 32768 },
    };
    struct mig_xen_progress p;

    mig_xen_progress_init(&p, 100.0);
    feed(&p, r, sizeof(r) / sizeof(r[0]));
    ck_assert_uint_eq(p.npasses, 1);
    ck_assert(!p.passes[0].live);
    ck_assert_uint_eq(p.passes[0].pages, 32768);
    ck_assert_uint_eq(p.passes[0].reports, 3);
    mig_xen_progress_message(&p, 101.6, 8, "libxl", "something broke");
    ck_assert_str_eq(p.last_error, "libxl: something broke");
}
END_TEST

/* Reports the parser must ignore or bound. */
START_TEST(test_progress_limits)
{
    struct mig_xen_progress p;
    char what[40];

    mig_xen_progress_init(&p, 0);
    mig_xen_progress_report(&p, 1, "xc", NULL, 1, 2);
    mig_xen_progress_report(&p, 1, "xc", "Frames iteration ", 1, 2);
    mig_xen_progress_report(&p, 1, "xc", "Frames iteration x", 1, 2);
    mig_xen_progress_report(&p, 1, "xc", "Frames iteration 99999999", 1, 2);
    mig_xen_progress_report(&p, 1, "xc", "Something else", 1, 2);
    mig_xen_progress_message(&p, 1, 1, NULL, NULL);
    ck_assert_uint_eq(p.npasses, 0);
    for (unsigned i = 1; i <= MIG_XEN_MAX_PASSES + 3; i++) {
        snprintf(what, sizeof(what), "Frames iteration %u", i);
        mig_xen_progress_report(&p, i, "xc", what, i, i);
    }
    ck_assert_uint_eq(p.npasses, MIG_XEN_MAX_PASSES);
    ck_assert_uint_eq(p.dropped, 3);
    ck_assert_uint_eq(mig_xen_pass_bytes(0), 0);
    ck_assert_uint_eq(mig_xen_pass_bytes(1024), 1024 * 4104 + 16);
    ck_assert_uint_eq(mig_xen_pass_bytes(1025), 1025 * 4104 + 32);
}
END_TEST

/* ---- handshake -------------------------------------------------------- */

#define STREAM_LEN 10000
#define CONFIG "{\"c_info\":{\"name\":\"vm1\"}}"

struct fake {
    int get_config, suspend, rename_away, rename_back, resume, destroy;
    int restore, rename_final, unpause;
    int fail_suspend, fail_unpause;
    char config[128];
};

static int f_get_config(void *o, char **json)
{
    struct fake *f = o;

    f->get_config++;
    *json = strdup(CONFIG);
    return *json ? 0 : MIG_ENOMEM;
}

static int f_suspend(void *o, int fd, bool live)
{
    struct fake *f = o;
    char buf[STREAM_LEN];

    (void)live;
    f->suspend++;
    if (f->fail_suspend)
        return f->fail_suspend;
    memset(buf, 'S', sizeof(buf));
    return write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) ? 0 : -EIO;
}

static int f_rename_away(void *o) { ((struct fake *)o)->rename_away++; return 0; }
static int f_rename_back(void *o) { ((struct fake *)o)->rename_back++; return 0; }
static int f_resume(void *o) { ((struct fake *)o)->resume++; return 0; }
static int f_destroy(void *o) { ((struct fake *)o)->destroy++; return 0; }
static int f_rename_final(void *o) { ((struct fake *)o)->rename_final++; return 0; }

static int f_unpause(void *o)
{
    struct fake *f = o;

    f->unpause++;
    return f->fail_unpause;
}

static int f_restore(void *o, const char *json, int rfd, int wfd)
{
    struct fake *f = o;
    char buf[STREAM_LEN];
    size_t got = 0;

    (void)wfd;
    f->restore++;
    snprintf(f->config, sizeof(f->config), "%s", json);
    while (got < sizeof(buf)) {
        ssize_t n = read(rfd, buf + got, sizeof(buf) - got);

        if (n <= 0)
            return MIG_EINCOMPLETE;
        got += (size_t)n;
    }
    return buf[0] == 'S' && buf[STREAM_LEN - 1] == 'S' ? 0 : MIG_ECORRUPT;
}

static const struct mig_xen_dom_ops fake_ops = {
    .get_config = f_get_config, .suspend = f_suspend,
    .rename_away = f_rename_away, .rename_back = f_rename_back,
    .resume = f_resume, .destroy = f_destroy, .restore = f_restore,
    .rename_final = f_rename_final, .unpause = f_unpause,
};

static void chan_pair(struct mig_chan **a, int *peer)
{
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *a = mig_chan_fd_new(sv[0], sv[0], 1);
    ck_assert_ptr_nonnull(*a);
    *peer = sv[1];
}

struct recv_side {
    struct mig_chan *ch;
    struct fake fake;
    enum mig_xen_stage stage;
    int rc;
};

static void *run_recv(void *arg)
{
    struct recv_side *r = arg;
    struct mig_xen_recv_opts o = { .io_timeout_ms = 5000 };

    r->rc = mig_xen_recv(r->ch, &fake_ops, &r->fake, &o, &r->stage);
    return NULL;
}

START_TEST(test_handshake_both_sides)
{
    struct recv_side rs = { 0 };
    struct mig_xen_send_opts so = { .live = true, .io_timeout_ms = 5000,
                                    .mem_pages = 32768 };
    struct mig_xen_progress p;
    struct fake sf = { 0 };
    struct mig_chan *sch;
    enum mig_xen_stage st;
    struct mig_run run;
    pthread_t th;
    int peer;

    chan_pair(&sch, &peer);
    rs.ch = mig_chan_fd_new(peer, peer, 1);
    ck_assert_ptr_nonnull(rs.ch);
    mig_xen_progress_init(&p, mig__now() - 1);   /* reports in the past */
    mig_xen_progress_report(&p, p.t0 + 0.01, "xc", "Frames iteration 0",
                            32768, 32768);
    mig_xen_progress_report(&p, p.t0 + 0.02, "xc", "Domain now suspended",
                            0, 0);
    mig_xen_progress_report(&p, p.t0 + 0.03, "xc", "Frames iteration 1",
                            7, 7);
    so.progress = &p;
    mig_run_init(&run);
    ck_assert_int_eq(pthread_create(&th, NULL, run_recv, &rs), 0);
    ck_assert_int_eq(mig_xen_send(sch, &fake_ops, &sf, &so, &run, &st), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(rs.rc, 0);
    ck_assert_int_eq(st, MIG_XEN_ST_DONE);
    ck_assert_int_eq(rs.stage, MIG_XEN_ST_DONE);
    ck_assert_str_eq(rs.fake.config, CONFIG);
    ck_assert_int_eq(sf.suspend, 1);
    ck_assert_int_eq(sf.rename_away, 1);
    ck_assert_int_eq(sf.destroy, 1);
    ck_assert_int_eq(sf.resume, 0);
    ck_assert_int_eq(rs.fake.restore, 1);
    ck_assert_int_eq(rs.fake.rename_final, 1);
    ck_assert_int_eq(rs.fake.unpause, 1);
    ck_assert_int_eq(rs.fake.destroy, 0);
    ck_assert(run.committed);
    ck_assert_uint_eq(run.result.npasses, 2);
    ck_assert_uint_eq(run.result.live_passes, 1);
    ck_assert_uint_eq(run.result.passes[0].pages, 32768);
    ck_assert_uint_eq(run.result.passes[0].dirty_after, 7);
    ck_assert_uint_eq(run.result.passes[1].index, 2);
    ck_assert_int_eq(run.result.outcome, SIM_OUTCOME_COMPLETED);
    ck_assert(run.result.downtime_s > 0);
    ck_assert(run.result.total_time_s >= run.result.downtime_s);
    mig_run_clear(&run);
    mig_chan_free(sch);
    mig_chan_free(rs.ch);
}
END_TEST

/* Scripted receiver behaviours against the real sender. */
enum script { SC_BAD_BANNER, SC_NO_READY, SC_BAD_REPORT, SC_GOOD };

struct peer {
    int fd;
    enum script sc;
    int ok;
};

static int read_n(int fd, void *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);

        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_msg(int fd, enum mig_handshake which)
{
    size_t len;
    const char *b = mig_handshake_bytes(which, &len);

    return write(fd, b, len) == (ssize_t)len ? 0 : -1;
}

static void *run_peer(void *arg)
{
    struct peer *p = arg;
    struct mig_wbuf wb;
    char buf[STREAM_LEN + 256];
    char report[MIG_XL_REPORT_MSG_LEN];
    size_t hlen;

    if (p->sc == SC_BAD_BANNER) {
        static const char bad[MIG_XL_BANNER_LEN] = "xl migration receiver "
                                                   "NOT ready";

        p->ok = write(p->fd, bad, sizeof(bad)) == (ssize_t)sizeof(bad);
        shutdown(p->fd, SHUT_WR);
        return NULL;
    }
    mig_wbuf_init(&wb, NULL);
    ck_assert_int_eq(mig_stream_put_xl_header(&wb, CONFIG), 0);
    hlen = wb.len;
    mig_wbuf_fini(&wb);
    if (write_msg(p->fd, MIG_HS_BANNER) ||
        read_n(p->fd, buf, hlen + STREAM_LEN))
        return NULL;
    if (memcmp(buf, MIG_XL_MAGIC, MIG_XL_MAGIC_LEN) || buf[hlen] != 'S')
        return NULL;
    if (p->sc == SC_NO_READY) {
        /* The target "fails": it closes without "ready". */
        p->ok = 1;
        shutdown(p->fd, SHUT_WR);
        return NULL;
    }
    if (write_msg(p->fd, MIG_HS_READY) ||
        read_n(p->fd, buf, MIG_XL_GO_LEN) ||
        mig_handshake_match(MIG_HS_GO, buf, MIG_XL_GO_LEN))
        return NULL;
    mig_wbuf_init(&wb, NULL);
    ck_assert_int_eq(mig_stream_put_report(&wb, p->sc == SC_GOOD ? 0 : 3),
                     0);
    memcpy(report, wb.data, sizeof(report));
    mig_wbuf_fini(&wb);
    if (write(p->fd, report, sizeof(report)) != (ssize_t)sizeof(report))
        return NULL;
    if (p->sc == SC_BAD_REPORT && write_msg(p->fd, MIG_HS_GO))
        return NULL;
    p->ok = 1;
    return NULL;
}

static const struct {
    const char *name;
    enum script sc;
    int rc;                     /* expected mig_xen_send result */
    enum mig_xen_stage stage;
    int suspend, resume, rename_back, destroy;
    bool committed;
} scripts[] = {
    { "banner mismatch", SC_BAD_BANNER, MIG_EPROTO, MIG_XEN_ST_BANNER,
      0, 0, 0, 0, false },
    { "missing ready", SC_NO_READY, MIG_EINCOMPLETE, MIG_XEN_ST_READY,
      1, 1, 0, 0, false },
    { "bad report", SC_BAD_REPORT, MIG_EREFUSED, MIG_XEN_ST_REPORT,
      1, 1, 1, 0, true },
    { "good", SC_GOOD, 0, MIG_XEN_ST_DONE, 1, 0, 0, 1, true },
};

START_TEST(test_sender_scripted)
{
    struct mig_xen_send_opts so = { .live = true, .io_timeout_ms = 5000 };
    struct peer pe = { .sc = scripts[_i].sc };
    struct fake sf = { 0 };
    struct mig_chan *ch;
    enum mig_xen_stage st;
    struct mig_run run;
    pthread_t th;
    int rc;

    chan_pair(&ch, &pe.fd);
    mig_run_init(&run);
    ck_assert_int_eq(pthread_create(&th, NULL, run_peer, &pe), 0);
    rc = mig_xen_send(ch, &fake_ops, &sf, &so, &run, &st);
    pthread_join(th, NULL);
    ck_assert_msg(pe.ok, "case %d (%s): peer script", _i, scripts[_i].name);
    ck_assert_msg(rc == scripts[_i].rc, "case %d (%s): rc %d (%s)", _i,
                  scripts[_i].name, rc, mig_strerror(rc));
    ck_assert_msg(st == scripts[_i].stage, "case %d (%s): stage %s", _i,
                  scripts[_i].name, mig_xen_stage_name(st));
    ck_assert_msg(sf.suspend == scripts[_i].suspend &&
                  sf.resume == scripts[_i].resume &&
                  sf.rename_back == scripts[_i].rename_back &&
                  sf.destroy == scripts[_i].destroy,
                  "case %d (%s): suspend %d resume %d rename_back %d "
                  "destroy %d", _i, scripts[_i].name, sf.suspend, sf.resume,
                  sf.rename_back, sf.destroy);
    ck_assert_msg(run.committed == scripts[_i].committed, "case %d (%s)",
                  _i, scripts[_i].name);
    ck_assert(run.resumed_at_source == (scripts[_i].resume > 0));
    if (rc)
        ck_assert_msg(run.msg[0], "case %d: no message", _i);
    mig_run_clear(&run);
    mig_chan_free(ch);
    close(pe.fd);
}
END_TEST

/* The sender fails to stream (not a suspend timeout): resume. */
START_TEST(test_sender_stream_fails)
{
    struct mig_xen_send_opts so = { .io_timeout_ms = 5000 };
    struct fake sf = { .fail_suspend = MIG_EIO };
    struct mig_chan *ch;
    enum mig_xen_stage st;
    struct mig_run run;
    int peer;

    chan_pair(&ch, &peer);
    ck_assert_int_eq(write_msg(peer, MIG_HS_BANNER), 0);
    mig_run_init(&run);
    ck_assert_int_eq(mig_xen_send(ch, &fake_ops, &sf, &so, &run, &st),
                     MIG_EIO);
    ck_assert_int_eq(st, MIG_XEN_ST_STREAM);
    ck_assert_int_eq(sf.resume, 1);
    /* A guest that never suspended is not resumed (as xl). */
    sf = (struct fake){ .fail_suspend = -ETIMEDOUT };
    mig_chan_free(ch);
    close(peer);
    chan_pair(&ch, &peer);
    ck_assert_int_eq(write_msg(peer, MIG_HS_BANNER), 0);
    ck_assert_int_eq(mig_xen_send(ch, &fake_ops, &sf, &so, &run, &st),
                     -ETIMEDOUT);
    ck_assert_int_eq(sf.resume, 0);
    mig_run_clear(&run);
    mig_chan_free(ch);
    close(peer);
}
END_TEST

/* Receiver: a hostile header never reaches restore. */
static const struct {
    const char *name;
    size_t off;                 /* byte to change in a good header */
    uint8_t val;
    size_t cut;                 /* 0: whole header, else send this many */
} bad_headers[] = {
    { "magic", 0, 'Y', 0 },
    { "optional length huge", 47, 0x7f, 0 },
    { "unknown mandatory flag", 36, 0x80, 0 },
    { "config length beyond data", 48, 0xff, 0 },
    { "truncated", 0, 0, 30 },
};

START_TEST(test_receiver_bad_header)
{
    struct recv_side rs = { 0 };
    struct mig_wbuf wb;
    char banner[MIG_XL_BANNER_LEN];
    pthread_t th;
    int peer;

    chan_pair(&rs.ch, &peer);
    ck_assert_int_eq(pthread_create(&th, NULL, run_recv, &rs), 0);
    ck_assert_int_eq(read_n(peer, banner, sizeof(banner)), 0);
    ck_assert_int_eq(mig_handshake_match(MIG_HS_BANNER, banner,
                                         sizeof(banner)), 0);
    mig_wbuf_init(&wb, NULL);
    ck_assert_int_eq(mig_stream_put_xl_header(&wb, CONFIG), 0);
    wb.data[bad_headers[_i].off] = bad_headers[_i].val;
    ck_assert_int_eq(write(peer, wb.data, bad_headers[_i].cut
                                          ? bad_headers[_i].cut
                                          : wb.len) > 0, 1);
    shutdown(peer, SHUT_WR);
    pthread_join(th, NULL);
    ck_assert_msg(rs.rc != 0, "case %d (%s): accepted", _i,
                  bad_headers[_i].name);
    ck_assert_int_eq(rs.stage, MIG_XEN_ST_HEADER);
    ck_assert_int_eq(rs.fake.restore, 0);
    mig_wbuf_fini(&wb);
    mig_chan_free(rs.ch);
    close(peer);
}
END_TEST

/* Receiver: unpause fails -> report status, destroy, GO back. */
START_TEST(test_receiver_unpause_fails)
{
    struct recv_side rs = { .fake = { .fail_unpause = MIG_EIO } };
    struct mig_xen_send_opts so = { .io_timeout_ms = 5000 };
    struct fake sf = { 0 };
    struct mig_chan *sch;
    enum mig_xen_stage st;
    struct mig_run run;
    pthread_t th;
    int peer;

    chan_pair(&sch, &peer);
    rs.ch = mig_chan_fd_new(peer, peer, 1);
    mig_run_init(&run);
    ck_assert_int_eq(pthread_create(&th, NULL, run_recv, &rs), 0);
    ck_assert_int_eq(mig_xen_send(sch, &fake_ops, &sf, &so, &run, &st),
                     MIG_EREFUSED);
    pthread_join(th, NULL);
    ck_assert_int_eq(rs.rc, MIG_EIO);
    ck_assert_int_eq(rs.fake.destroy, 1);
    ck_assert_int_eq(sf.resume, 1);
    ck_assert_int_eq(sf.rename_back, 1);
    ck_assert_int_eq(sf.destroy, 0);
    ck_assert(run.resumed_at_source);
    mig_run_clear(&run);
    mig_chan_free(sch);
    mig_chan_free(rs.ch);
}
END_TEST

/* ---- dirty traces ----------------------------------------------------- */

START_TEST(test_dirty_roundtrip)
{
    /* 200 pages; three intervals: {0-3, 64, 199}, {}, {5, 70-72}. */
    uint64_t bm[4] = { 0 };
    struct mig_xen_dirty *d = mig_xen_dirty_new(200, 0.1);
    struct sim_workload *wl = NULL;
    char path[] = "/tmp/check_xen_traceXXXXXX";
    char err[200];
    FILE *f;
    int fd;

    ck_assert_ptr_nonnull(d);
    bm[0] = 0xf;
    bm[1] = 1;
    bm[3] = UINT64_C(1) << (199 - 192);
    ck_assert_int_eq(mig_xen_dirty_add_bitmap(d, bm), 0);
    memset(bm, 0, sizeof(bm));
    ck_assert_int_eq(mig_xen_dirty_add_bitmap(d, bm), 0);
    bm[0] = 1u << 5;
    bm[1] = 0x7u << 6;
    /* Bits past npages are not pages. */
    bm[3] = UINT64_C(1) << 10;
    ck_assert_int_eq(mig_xen_dirty_add_bitmap(d, bm), 0);
    ck_assert_uint_eq(d->nintervals, 3);
    ck_assert_uint_eq(d->npfns, 10);

    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(mig_xen_dirty_write_trace(d, f, "test capture"), 0);
    fclose(f);
    {
        char spec[64];

        snprintf(spec, sizeof(spec), "trace:%s", path);
        ck_assert_msg(sim_workload_parse(spec, NULL, &wl, err,
                                         sizeof(err)) == 0, "%s", err);
    }
    ck_assert_int_eq(wl->kind, SIM_WL_TRACE);
    ck_assert_uint_eq(wl->trace->npages, 200);
    ck_assert_double_eq_tol(wl->trace->interval_s, 0.1, 1e-12);
    ck_assert_uint_eq(wl->trace->nintervals, 3);
    ck_assert_uint_eq(wl->trace->off[1], 6);
    ck_assert_uint_eq(wl->trace->off[2], 6);
    ck_assert_uint_eq(wl->trace->off[3], 10);
    for (size_t i = 0; i < 10; i++)
        ck_assert_uint_eq(wl->trace->pfns[i], d->pfns[i]);
    ck_assert_uint_eq(wl->trace->pfns[5], 199);
    ck_assert_uint_eq(wl->trace->pfns[9], 72);
    /* Whole trace: 10 distinct pages. */
    ck_assert_double_eq_tol(sim_workload_distinct(wl, 200, 0, 0.3, 1), 10,
                            1e-9);
    sim_workload_free(wl);
    unlink(path);
    mig_xen_dirty_free(d);
}
END_TEST

START_TEST(test_dirty_wws)
{
    uint64_t bm[1];
    struct mig_xen_dirty *d = mig_xen_dirty_new(64, 0.1);
    struct json_object *o, *wws, *e, *v;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    ck_assert_ptr_nonnull(d);
    /* Intervals {0,1}, {1,2}, {3}: windows of 1: 2,2,1; of 2: 3,3; 3: 4. */
    bm[0] = 0x3;
    ck_assert_int_eq(mig_xen_dirty_add_bitmap(d, bm), 0);
    bm[0] = 0x6;
    ck_assert_int_eq(mig_xen_dirty_add_bitmap(d, bm), 0);
    bm[0] = 0x8;
    ck_assert_int_eq(mig_xen_dirty_add_bitmap(d, bm), 0);
    f = open_memstream(&buf, &len);
    ck_assert_int_eq(mig_xen_dirty_write_wws(d, f), 0);
    fclose(f);
    o = json_tokener_parse(buf);
    ck_assert_ptr_nonnull(o);
    ck_assert(json_object_object_get_ex(o, "wws", &wws));
    ck_assert_uint_eq(json_object_array_length(wws), 3);
    e = json_object_array_get_idx(wws, 0);
    ck_assert(json_object_object_get_ex(e, "distinct_max", &v));
    ck_assert_int_eq(json_object_get_int(v), 2);
    ck_assert(json_object_object_get_ex(e, "distinct_mean", &v));
    ck_assert_double_eq_tol(json_object_get_double(v), 5.0 / 3, 1e-9);
    e = json_object_array_get_idx(wws, 1);
    ck_assert(json_object_object_get_ex(e, "distinct_max", &v));
    ck_assert_int_eq(json_object_get_int(v), 3);
    e = json_object_array_get_idx(wws, 2);
    ck_assert(json_object_object_get_ex(e, "distinct_max", &v));
    ck_assert_int_eq(json_object_get_int(v), 4);
    json_object_put(o);
    free(buf);
    mig_xen_dirty_free(d);
    mig_xen_dirty_free(NULL);
}
END_TEST

/* ---- real Xen (skips without one) ------------------------------------- */

START_TEST(test_real_xen_open)
{
    const char *want = getenv("MIG_TEST_XEN");
    struct mig_xen *x = NULL;
    char err[300];
    int rc;

    if (*mig_xen_compiled_out()) {
        rc = mig_xen_open(NULL, &x, err, sizeof(err));
        ck_assert_int_eq(rc, MIG_ENOTSUP);
        ck_assert_ptr_null(x);
        printf("check_xen: real-Xen test skipped: %s\n", err);
        return;
    }
    if (!want || strcmp(want, "1") || access("/proc/xen", F_OK)) {
        printf("check_xen: real-Xen test skipped: needs MIG_TEST_XEN=1 and "
               "a Xen dom0 (/proc/xen)\n");
        return;
    }
    rc = mig_xen_open(NULL, &x, err, sizeof(err));
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(mig_xen_select(x, "Domain-0", err, sizeof(err)), 0);
    ck_assert_uint_gt(mig_xen_mem_pages(x), 0);
    mig_xen_close(x);
}
END_TEST

static Suite *xen_suite(void)
{
    Suite *s = suite_create("xen");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_add_test(core, test_progress_live);
    tcase_add_test(core, test_progress_cold);
    tcase_add_test(core, test_progress_xen417_numbering);
    tcase_add_test(core, test_handshake_both_sides);
    tcase_add_loop_test(core, test_sender_scripted, 0,
                        sizeof(scripts) / sizeof(scripts[0]));
    tcase_add_test(core, test_sender_stream_fails);
    tcase_add_test(core, test_receiver_unpause_fails);
    tcase_add_test(core, test_dirty_roundtrip);
    tcase_add_test(core, test_dirty_wws);
    tcase_add_test(core, test_real_xen_open);
    tcase_add_test(limits, test_progress_limits);
    tcase_add_loop_test(corrupt, test_receiver_bad_header, 0,
                        sizeof(bad_headers) / sizeof(bad_headers[0]));
    tcase_set_timeout(core, 30);
    tcase_set_timeout(corrupt, 30);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(xen_suite());
}
