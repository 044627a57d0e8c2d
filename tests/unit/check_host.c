/* SPDX-License-Identifier: MIT */
/*
 * check_host.c - the host daemon library (ref/host.h): the control
 * protocol (good and bad request lines), admission arithmetic, the guest
 * table, admission refused before any page at the stream level, a live
 * migration between two in-process hosts, and who may send a guest in: the
 * allow-list and the pre-shared key (ref/auth.h) checked before any page.
 */
#include <check.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_main.h"
#include "guest_emu.h"
#include "heartbeat.h"
#include "host.h"
#include "migrate.h"
#include "receiver.h"
#include "sender.h"
#include "stream_format.h"
#include "transport.h"

static bool under_valgrind(void)
{
    const char *v = getenv("MIGLAB_UNDER_VALGRIND");

    return v && *v && strcmp(v, "0");
}

/* Guest memory for the tests: small under valgrind. */
static const char *test_mem(void)
{
    return under_valgrind() ? "4194304" : "16777216";
}

/* ---- a host with its run loop in a thread ------------------------------ */

struct th_host {
    struct mig_host *h;
    char dir[64];
    char path[96];
    int stop[2];
    pthread_t th;
};

static void *run_main(void *arg)
{
    struct th_host *t = arg;

    mig_host_run(t->h, t->stop[0]);
    return NULL;
}

/* Who may send a host a guest: its key (NULL = none), allow-list, no_auth. */
struct th_sec {
    const char *secret;         /* key bytes, NULL = no key */
    const char *allow;          /* one CIDR, NULL = nobody */
    bool no_auth;
};

/* What host_up() gives: a shared key, loopback allowed. */
static const struct th_sec sec_default = { "check_host key one, 32 bytes..",
                                           "127.0.0.0/8", false };

static void host_up_sec(struct th_host *t, const char *name, uint64_t cap,
                        const struct th_sec *sec)
{
    struct mig_host_cfg cfg = { .listen_host = "127.0.0.1",
                                .mem_capacity = cap, .name = name,
                                .no_auth = sec->no_auth };
    struct mig_allow allow = { 0 };
    struct mig_psk psk;
    char err[256];

    if (sec->secret) {
        ck_assert_int_eq(mig_psk_from_bytes(sec->secret,
                                            strlen(sec->secret), &psk), 0);
        cfg.psk = &psk;
    }
    if (sec->allow)
        ck_assert_int_eq(mig_allow_add(&allow, sec->allow), 0);
    cfg.allow = &allow;

    snprintf(t->dir, sizeof(t->dir), "/tmp/check_host.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/ctl.sock", t->dir);
    cfg.control_path = t->path;
    ck_assert_int_eq(mig_host_new(&cfg, &t->h, err, sizeof(err)), 0);
    ck_assert_int_eq(pipe(t->stop), 0);
    ck_assert_int_eq(pthread_create(&t->th, NULL, run_main, t), 0);
}

static void host_up(struct th_host *t, const char *name, uint64_t cap)
{
    host_up_sec(t, name, cap, &sec_default);
}

static void host_down(struct th_host *t)
{
    ck_assert_int_eq(write(t->stop[1], "x", 1), 1);
    pthread_join(t->th, NULL);
    mig_host_free(t->h);
    close(t->stop[0]);
    close(t->stop[1]);
    /* The control socket is gone with the host. */
    ck_assert_int_ne(access(t->path, F_OK), 0);
    ck_assert_int_eq(rmdir(t->dir), 0);
}

/* ---- requests ---------------------------------------------------------- */

struct replies {
    unsigned n;                 /* lines emitted */
    unsigned progress;          /* of which progress lines */
    struct json_object *last;   /* the final reply */
};

static int collect(void *opaque, const char *line)
{
    struct replies *r = opaque;
    struct json_object *o = json_tokener_parse(line), *v;

    ck_assert_msg(o != NULL, "reply is not JSON: %s", line);
    ck_assert_ptr_null(strchr(line, '\n'));
    r->n++;
    if (json_object_object_get_ex(o, "progress", &v)) {
        r->progress++;
        json_object_put(o);
        return 0;
    }
    ck_assert_msg(r->last == NULL, "two final replies");
    r->last = o;
    return 0;
}

/* Run one request; returns the final reply (caller puts). */
static struct json_object *req(struct mig_host *h, const char *line,
                               unsigned *progress)
{
    struct replies r = { 0 };

    ck_assert_int_eq(mig_host_request(h, line, collect, &r), 0);
    ck_assert_ptr_nonnull(r.last);
    if (progress)
        *progress = r.progress;
    return r.last;
}

static bool reply_ok(struct json_object *o)
{
    struct json_object *v;

    ck_assert(json_object_object_get_ex(o, "ok", &v));
    return json_object_get_boolean(v);
}

static const char *reply_str(struct json_object *o, const char *k)
{
    struct json_object *v;

    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
                                               : "";
}

static void expect_ok(struct mig_host *h, const char *line)
{
    struct json_object *o = req(h, line, NULL);

    ck_assert_msg(reply_ok(o), "%s -> %s", line, reply_str(o, "error"));
    json_object_put(o);
}

static void create_guest(struct mig_host *h, const char *name,
                         const char *wl)
{
    char line[256];

    snprintf(line, sizeof(line), "{\"cmd\":\"create\",\"name\":\"%s\","
             "\"mem\":%s,\"workload\":\"%s\",\"seed\":3}", name, test_mem(),
             wl);
    expect_ok(h, line);
}

/* Number of guests and the state of the named one ("" if absent). */
static int list_guests(struct mig_host *h, const char *name, char *state,
                       size_t len)
{
    struct json_object *o = req(h, "{\"cmd\":\"list\"}", NULL), *arr;
    int n;

    ck_assert(reply_ok(o));
    ck_assert(json_object_object_get_ex(o, "guests", &arr));
    n = (int)json_object_array_length(arr);
    snprintf(state, len, "%s", "");
    for (int i = 0; i < n; i++) {
        struct json_object *g = json_object_array_get_idx(arr, i);

        if (!strcmp(reply_str(g, "name"), name))
            snprintf(state, len, "%s", reply_str(g, "state"));
    }
    json_object_put(o);
    return n;
}

/* ---- core -------------------------------------------------------------- */

START_TEST(test_guest_table)
{
    struct th_host a;
    struct json_object *o, *lines;
    char state[32];

    host_up(&a, "A", 1ULL << 30);
    create_guest(a.h, "vm1", "idle");
    create_guest(a.h, "vm2", "uniform:rate=1MB/s");
    ck_assert_int_eq(list_guests(a.h, "vm2", state, sizeof(state)), 2);
    ck_assert_str_eq(state, "running");

    /* Same name twice: input error, table unchanged. */
    o = req(a.h, "{\"cmd\":\"create\",\"name\":\"vm1\",\"mem\":4096}", NULL);
    ck_assert(!reply_ok(o));
    ck_assert_str_eq(reply_str(o, "kind"), "input");
    json_object_put(o);

    o = req(a.h, "{\"cmd\":\"console\",\"name\":\"vm1\"}", NULL);
    ck_assert(reply_ok(o));
    ck_assert(json_object_object_get_ex(o, "lines", &lines));
    ck_assert_uint_ge(json_object_array_length(lines), 1);
    ck_assert_ptr_nonnull(strstr(json_object_get_string(
        json_object_array_get_idx(lines, 0)), "created on host A"));
    json_object_put(o);

    expect_ok(a.h, "{\"cmd\":\"destroy\",\"name\":\"vm1\"}");
    ck_assert_int_eq(list_guests(a.h, "vm1", state, sizeof(state)), 1);
    ck_assert_str_eq(state, "");
    /* vm2 is destroyed by the shutdown. */
    host_down(&a);
}
END_TEST

START_TEST(test_migrate_between_hosts)
{
    struct th_host a, b;
    struct json_object *o, *res, *in, *v;
    unsigned progress = 0;
    char line[256], state[32];

    host_up(&a, "A", 1ULL << 30);
    host_up(&b, "B", 1ULL << 30);
    create_guest(a.h, "vm1", "uniform:rate=2MB/s");
    snprintf(line, sizeof(line), "{\"cmd\":\"migrate\",\"name\":\"vm1\","
             "\"host\":\"127.0.0.1\",\"port\":%u,\"live\":true,"
             "\"policy\":[[\"policy\",\"xen\"],[\"max-passes\",\"5\"]]}",
             (unsigned)mig_host_port(b.h));
    o = req(a.h, line, &progress);
    ck_assert_msg(reply_ok(o), "%s", reply_str(o, "error"));
    ck_assert_uint_ge(progress, 2);     /* >= 1 live pass + stop-and-copy */
    ck_assert(json_object_object_get_ex(o, "result", &res));
    ck_assert_str_eq(reply_str(res, "mode"), "live");
    ck_assert(json_object_object_get_ex(res, "integrity", &in));
    ck_assert(json_object_object_get_ex(in, "ok", &v));
    ck_assert(json_object_get_boolean(v));
    ck_assert(json_object_object_get_ex(in, "mismatches", &v));
    ck_assert_int_eq(json_object_get_int64(v), 0);
    json_object_put(o);

    ck_assert_int_eq(list_guests(a.h, "vm1", state, sizeof(state)), 0);
    ck_assert_int_eq(list_guests(b.h, "vm1", state, sizeof(state)), 1);
    ck_assert_str_eq(state, "running");
    o = req(b.h, "{\"cmd\":\"console\",\"name\":\"vm1\"}", NULL);
    ck_assert_ptr_nonnull(strstr(json_object_to_json_string(o),
                                 "resumed on host B after"));
    ck_assert_ptr_nonnull(strstr(json_object_to_json_string(o),
                                 "created on host A"));
    json_object_put(o);
    host_down(&a);
    host_down(&b);
}
END_TEST

/* ---- limits ------------------------------------------------------------ */

static const struct {
    const char *name;
    uint64_t cap, used, need;
    int rc;
    const char *msg;
} admit_cases[] = {
    { "fits exactly", 1 << 30, 512 << 20, 512 << 20, 0, NULL },
    { "fits", 1 << 30, 0, 64 << 20, 0, NULL },
    { "one page over", 1 << 30, 512 << 20, (512 << 20) + 4096, MIG_ERANGE,
      "needs 512.00 MiB, 512.00 MiB free" },
    { "the issue's example", 1 << 30, 512 << 20, 1 << 30, MIG_ERANGE,
      "host B refuses guest vm1: needs 1.00 GiB, 512.00 MiB free" },
    { "overcommitted host", 1 << 30, 2U << 30, 4096, MIG_ERANGE,
      "needs 4.00 KiB, 0 B free" },
    { "huge guest", 1 << 30, 0, UINT64_MAX, MIG_ERANGE, "16.00 EiB" },
};

START_TEST(test_admit_check)
{
    char err[200] = "";
    int rc = mig_host_admit_check(admit_cases[_i].cap, admit_cases[_i].used,
                                  admit_cases[_i].need, "B", "vm1", err,
                                  sizeof(err));

    ck_assert_msg(rc == admit_cases[_i].rc, "case %d %s: rc %d", _i,
                  admit_cases[_i].name, rc);
    if (admit_cases[_i].msg)
        ck_assert_msg(strstr(err, admit_cases[_i].msg), "case %d %s: '%s'",
                      _i, admit_cases[_i].name, err);
}
END_TEST

static int refuse_all(void *opaque, const struct mig_admit_req *r, char *err,
                      size_t errlen)
{
    uint64_t *seen = opaque;

    *seen = r->mem_bytes;
    return mig_host_admit_check(1 << 20, 0, r->mem_bytes, "B", r->name, err,
                                errlen);
}

struct refuse_rx {
    struct mig_chan *ch;
    uint64_t seen;
    struct mig_recv_info info;
    int rc;
};

static void *refuse_main(void *arg)
{
    struct refuse_rx *x = arg;
    struct mig_recv_opts o = { .create = mig_guest_emu_create,
                               .admit = refuse_all, .admit_opaque = &x->seen };
    struct mig_guest *g = NULL;

    x->rc = mig_receive(x->ch, &o, &g, &x->info);
    mig_guest_free(g);
    return NULL;
}

/* The destination refuses after the xl header: no page crosses, the source
 * guest never pauses, the sender says why. */
START_TEST(test_admission_before_pages)
{
    struct mig_guest_emu_cfg cfg = { .mem_bytes = 4U << 20, .vcpus = 1,
                                     .workload = "idle" };
    struct refuse_rx x = { 0 };
    struct mig_send_opts o;
    struct mig_chan *snd;
    struct mig_guest *g;
    struct mig_run run;
    pthread_t th;
    char err[200];
    int sv[2], rc;

    ck_assert_int_eq(mig_guest_emu_new(&cfg, &g, err, sizeof(err)), 0);
    ck_assert_int_eq(g->ops->start(g), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    snd = mig_chan_fd_new(sv[0], sv[0], 1);
    x.ch = mig_chan_fd_new(sv[1], sv[1], 1);
    ck_assert_int_eq(pthread_create(&th, NULL, refuse_main, &x), 0);
    mig_send_opts_defaults(&o);
    o.name = "vm1";
    o.admission = true;
    mig_run_init(&run);
    rc = mig_send(g, snd, &o, &run);
    mig_chan_free(snd);
    pthread_join(th, NULL);
    mig_chan_free(x.ch);

    ck_assert_int_eq(rc, MIG_ERANGE);
    ck_assert_int_eq(x.rc, MIG_ERANGE);
    ck_assert(run.refused);
    ck_assert(run.resumed_at_source);
    ck_assert_uint_eq(x.seen, 4U << 20);
    ck_assert_str_eq(x.info.name, "vm1");
    /* Only the xl save header crossed: less than one page. */
    ck_assert_uint_lt(x.info.bytes_recv, 4096);
    ck_assert_uint_eq(run.result.npasses, 0);
    ck_assert_msg(strstr(run.msg, "migration failed, guest resumed at "
                         "source: host B refuses guest vm1: needs 4.00 MiB, "
                         "1.00 MiB free"), "%s", run.msg);
    mig_run_clear(&run);
    mig_guest_free(g);
}
END_TEST

START_TEST(test_refused_by_host)
{
    struct th_host a, c;
    struct json_object *o, *v;
    char line[256], state[32];

    host_up(&a, "A", 1ULL << 30);
    host_up(&c, "C", 1U << 20);
    create_guest(a.h, "vm1", "idle");
    snprintf(line, sizeof(line), "{\"cmd\":\"migrate\",\"name\":\"vm1\","
             "\"host\":\"127.0.0.1\",\"port\":%u,\"live\":true}",
             (unsigned)mig_host_port(c.h));
    o = req(a.h, line, NULL);
    ck_assert(!reply_ok(o));
    ck_assert_str_eq(reply_str(o, "kind"), "failed");
    ck_assert(json_object_object_get_ex(o, "refused", &v));
    ck_assert(json_object_get_boolean(v));
    ck_assert_ptr_nonnull(strstr(reply_str(o, "error"),
                                 "host C refuses guest vm1: needs"));
    json_object_put(o);
    ck_assert_int_eq(list_guests(a.h, "vm1", state, sizeof(state)), 1);
    ck_assert_str_eq(state, "running");
    ck_assert_int_eq(list_guests(c.h, "vm1", state, sizeof(state)), 0);

    /* Nobody listening: the guest stays too. */
    o = req(a.h, "{\"cmd\":\"migrate\",\"name\":\"vm1\",\"host\":"
            "\"127.0.0.1\",\"port\":1,\"live\":false}", NULL);
    ck_assert(!reply_ok(o));
    ck_assert_ptr_nonnull(strstr(reply_str(o, "error"), "cannot connect"));
    json_object_put(o);
    ck_assert_int_eq(list_guests(a.h, "vm1", state, sizeof(state)), 1);
    ck_assert_str_eq(state, "running");

    /* Capacity is accounted on create too. */
    o = req(c.h, "{\"cmd\":\"create\",\"name\":\"big\",\"mem\":2097152}",
            NULL);
    ck_assert(!reply_ok(o));
    ck_assert_ptr_nonnull(strstr(reply_str(o, "error"),
                                 "host C refuses guest big: needs 2.00 MiB,"
                                 " 1.00 MiB free"));
    json_object_put(o);
    host_down(&a);
    host_down(&c);
}
END_TEST

/* ---- auth: allow-list and pre-shared key -------------------------------- */

/* Migrate vm1 from src to dst cold; the final reply (caller puts). */
static struct json_object *migrate_to(struct th_host *src,
                                      struct th_host *dst)
{
    char line[256];

    snprintf(line, sizeof(line), "{\"cmd\":\"migrate\",\"name\":\"vm1\","
             "\"host\":\"127.0.0.1\",\"port\":%u,\"live\":false}",
             (unsigned)mig_host_port(dst->h));
    return req(src->h, line, NULL);
}

/* The migration failed with msg in its error, and the guest still runs at
 * src (the reply says it resumed there) while dst holds no guest. */
static void expect_kept(struct th_host *src, struct th_host *dst,
                        const char *msg)
{
    struct json_object *o = migrate_to(src, dst), *v;
    char state[32];

    ck_assert(!reply_ok(o));
    ck_assert_msg(strstr(reply_str(o, "error"), msg), "want '%s' in '%s'",
                  msg, reply_str(o, "error"));
    ck_assert(json_object_object_get_ex(o, "resumed_at_source", &v));
    ck_assert(json_object_get_boolean(v));
    json_object_put(o);
    ck_assert_int_eq(list_guests(src->h, "vm1", state, sizeof(state)), 1);
    ck_assert_str_eq(state, "running");
    ck_assert_int_eq(list_guests(dst->h, "vm1", state, sizeof(state)), 0);
}

/* The migration succeeded with integrity checked; vm1 now runs at dst. */
static void expect_moved(struct th_host *src, struct th_host *dst)
{
    struct json_object *o = migrate_to(src, dst), *res, *in, *v;
    char state[32];

    ck_assert_msg(reply_ok(o), "%s", reply_str(o, "error"));
    ck_assert(json_object_object_get_ex(o, "result", &res));
    ck_assert(json_object_object_get_ex(res, "integrity", &in));
    ck_assert(json_object_object_get_ex(in, "ok", &v));
    ck_assert(json_object_get_boolean(v));
    json_object_put(o);
    ck_assert_int_eq(list_guests(src->h, "vm1", state, sizeof(state)), 0);
    ck_assert_int_eq(list_guests(dst->h, "vm1", state, sizeof(state)), 1);
    ck_assert_str_eq(state, "running");
}

START_TEST(test_auth_keys)
{
    static const struct th_sec other_key = { "check_host key two, 32 bytes..",
                                             "127.0.0.0/8", false };
    static const struct th_sec no_key = { NULL, "127.0.0.0/8", true };
    struct th_host a, b, c, x, n;

    host_up(&a, "A", 1ULL << 30);
    host_up_sec(&b, "B", 1ULL << 30, &other_key);
    host_up(&c, "C", 1ULL << 30);
    host_up_sec(&x, "X", 1ULL << 30, &no_key);
    create_guest(a.h, "vm1", "uniform:rate=1MB/s");
    /* Different keys: refused before any page, the source keeps it. */
    expect_kept(&a, &b, "authentication");
    /* A key against a host that speaks plain xl. */
    expect_kept(&a, &x, "does not authenticate (it answered with xl's "
                "banner)");
    /* The same key: accepted. */
    expect_moved(&a, &c);
    /* No key against a host that requires one. */
    host_up_sec(&n, "N", 1ULL << 30, &no_key);
    create_guest(n.h, "vm1", "uniform:rate=1MB/s");
    expect_kept(&n, &a, "requires authentication (start this host with "
                "--psk)");
    /* Both without authentication (--no-auth on both): accepted. */
    expect_moved(&n, &x);
    host_down(&a);
    host_down(&b);
    host_down(&c);
    host_down(&x);
    host_down(&n);
}
END_TEST

START_TEST(test_auth_refuses_by_default)
{
    static const struct th_sec elsewhere = { "check_host key one, 32 bytes..",
                                             "10.0.0.0/24", false };
    static const struct th_sec nothing = { NULL, "127.0.0.0/8", false };
    static const struct th_sec empty = { "check_host key one, 32 bytes..",
                                         NULL, false };
    struct th_host a, b, c, d;
    char note[200];

    host_up(&a, "A", 1ULL << 30);
    host_up_sec(&b, "B", 1ULL << 30, &elsewhere);
    host_up_sec(&c, "C", 1ULL << 30, &nothing);
    host_up_sec(&d, "D", 1ULL << 30, &empty);
    create_guest(a.h, "vm1", "idle");
    /* Same key, but 127.0.0.1 is outside B's allow-list. */
    expect_kept(&a, &b, "authentication");
    /* No key and no no_auth: every incoming migration refused. */
    expect_kept(&a, &c, "authentication");
    ck_assert_ptr_nonnull(strstr(mig_host_auth_note(c.h, note, sizeof(note)),
                                 "all refused"));
    /* An empty allow-list allows nobody. */
    expect_kept(&a, &d, "authentication");
    ck_assert_ptr_nonnull(strstr(mig_host_auth_note(d.h, note, sizeof(note)),
                                 "nobody"));
    host_down(&a);
    host_down(&b);
    host_down(&c);
    host_down(&d);
}
END_TEST

/* A raw client skips authentication and sends an xl save header: it is
 * told it is refused and the connection closes; no guest appears. */
START_TEST(test_auth_raw_xl_header)
{
    struct th_host b;
    struct mig_chan *ch;
    uint8_t challenge[MIG_AUTH_MAGIC_LEN + MIG_AUTH_NONCE_LEN];
    uint8_t junk[MIG_AUTH_MAGIC_LEN + MIG_AUTH_NONCE_LEN + MIG_AUTH_MAC_LEN];
    uint8_t verdict[MIG_AUTH_MAGIC_LEN + 1 + MIG_AUTH_MAC_LEN];
    char state[32];
    size_t got = 1;

    host_up(&b, "B", 1ULL << 30);
    ck_assert_int_eq(mig_chan_tcp_connect("127.0.0.1", mig_host_port(b.h),
                                          5000, NULL, &ch), 0);
    ck_assert_int_eq(mig_chan_recv_full(ch, challenge, sizeof(challenge)),
                     0);
    ck_assert_mem_eq(challenge, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    /* The xl save header where the key proof should be, and more. */
    memset(junk, 0, sizeof(junk));
    memcpy(junk, MIG_XL_MAGIC, MIG_XL_MAGIC_LEN);
    ck_assert_int_eq(mig_chan_send(ch, junk, sizeof(junk)), 0);
    ck_assert_int_eq(mig_chan_recv_full(ch, verdict, sizeof(verdict)), 0);
    ck_assert_mem_eq(verdict, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    ck_assert_uint_eq(verdict[MIG_AUTH_MAGIC_LEN], 1);      /* refused */
    /* Then the destination closes: no banner, nothing more. */
    ck_assert_int_eq(mig_chan_recv(ch, junk, sizeof(junk), &got), 0);
    ck_assert_uint_eq(got, 0);
    mig_chan_free(ch);
    ck_assert_int_eq(list_guests(b.h, "vm1", state, sizeof(state)), 0);
    host_down(&b);
}
END_TEST

START_TEST(test_auth_cfg)
{
    struct mig_host_cfg cfg = { .listen_host = "127.0.0.1",
                                .mem_capacity = 1 << 30, .no_auth = true,
                                .control_path = "/tmp/check_host.never" };
    struct mig_host *h = NULL;
    struct mig_psk psk;
    char err[200] = "";

    ck_assert_int_eq(mig_psk_from_bytes("0123456789abcdef", 16, &psk), 0);
    cfg.psk = &psk;
    ck_assert_int_eq(mig_host_new(&cfg, &h, err, sizeof(err)), MIG_EINVAL);
    ck_assert_ptr_null(h);
    ck_assert_ptr_nonnull(strstr(err, "--psk or --no-auth"));
}
END_TEST

/* ---- corrupt: bad request lines ----------------------------------------- */

static const struct {
    const char *name;
    const char *line;
    const char *msg;
} bad_lines[] = {
    { "empty", "", "not a JSON object" },
    { "not json", "create vm1", "not a JSON object" },
    { "array", "[1,2]", "not a JSON object" },
    { "truncated", "{\"cmd\":\"list\"", "not a JSON object" },
    { "no cmd", "{}", "no \"cmd\"" },
    { "cmd not string", "{\"cmd\":5}", "no \"cmd\"" },
    { "unknown cmd", "{\"cmd\":\"reboot\"}", "unknown command" },
    { "no name", "{\"cmd\":\"create\",\"mem\":4096}", "\"name\"" },
    { "bad name", "{\"cmd\":\"create\",\"name\":\"a b\",\"mem\":4096}",
      "\"name\"" },
    { "long name", "{\"cmd\":\"destroy\",\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "\"name\"" },
    { "no mem", "{\"cmd\":\"create\",\"name\":\"x\"}", "\"mem\"" },
    { "odd mem", "{\"cmd\":\"create\",\"name\":\"x\",\"mem\":4097}",
      "\"mem\"" },
    { "mem string", "{\"cmd\":\"create\",\"name\":\"x\",\"mem\":\"64M\"}",
      "\"mem\"" },
    { "negative mem", "{\"cmd\":\"create\",\"name\":\"x\",\"mem\":-4096}",
      "\"mem\"" },
    { "vcpus 0", "{\"cmd\":\"create\",\"name\":\"x\",\"mem\":4096,"
      "\"vcpus\":0}", "\"vcpus\"" },
    { "vcpus 65", "{\"cmd\":\"create\",\"name\":\"x\",\"mem\":4096,"
      "\"vcpus\":65}", "\"vcpus\"" },
    { "bad workload", "{\"cmd\":\"create\",\"name\":\"x\",\"mem\":4096,"
      "\"workload\":\"spin:fast\"}", "" },
    { "bad ip", "{\"cmd\":\"create\",\"name\":\"x\",\"mem\":4096,"
      "\"ip\":\"10.1.2.300\"}", "\"ip\"" },
    { "ip not string", "{\"cmd\":\"create\",\"name\":\"x\",\"mem\":4096,"
      "\"ip\":1}", "\"ip\"" },
    { "console unknown", "{\"cmd\":\"console\",\"name\":\"nope\"}",
      "no guest nope" },
    { "destroy unknown", "{\"cmd\":\"destroy\",\"name\":\"nope\"}",
      "no guest nope" },
    { "migrate no host", "{\"cmd\":\"migrate\",\"name\":\"x\",\"port\":1}",
      "\"host\"" },
    { "migrate port 0", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":\"h\","
      "\"port\":0}", "\"port\"" },
    { "migrate port big", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":"
      "\"h\",\"port\":70000}", "\"port\"" },
    { "migrate live str", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":"
      "\"h\",\"port\":1,\"live\":\"yes\"}", "\"live\"" },
    { "policy not list", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":"
      "\"h\",\"port\":1,\"policy\":{}}", "\"policy\"" },
    { "policy bad pair", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":"
      "\"h\",\"port\":1,\"policy\":[[\"policy\"]]}", "\"policy\"" },
    { "not a policy flag", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":"
      "\"h\",\"port\":1,\"policy\":[[\"mem\",\"1G\"]]}",
      "not a policy flag" },
    { "bad policy value", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":"
      "\"h\",\"port\":1,\"policy\":[[\"policy\",\"fast\"]]}", "" },
    { "cc not string", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":"
      "\"h\",\"port\":1,\"cc\":5}", "\"cc\"" },
    { "cc bad name", "{\"cmd\":\"migrate\",\"name\":\"x\",\"host\":"
      "\"h\",\"port\":1,\"cc\":\"../bbr\"}", "\"cc\"" },
    { "migrate unknown", "{\"cmd\":\"migrate\",\"name\":\"nope\",\"host\":"
      "\"h\",\"port\":1}", "no guest nope" },
};

static struct th_host bad_host;

static void bad_setup(void)
{
    host_up(&bad_host, "A", 1ULL << 30);
}

static void bad_teardown(void)
{
    host_down(&bad_host);
}

START_TEST(test_bad_lines)
{
    struct json_object *o = req(bad_host.h, bad_lines[_i].line, NULL);
    char state[32];

    ck_assert_msg(!reply_ok(o), "case %d %s accepted", _i,
                  bad_lines[_i].name);
    ck_assert_msg(!strcmp(reply_str(o, "kind"), "input"),
                  "case %d %s: kind %s", _i, bad_lines[_i].name,
                  reply_str(o, "kind"));
    ck_assert_msg(strstr(reply_str(o, "error"), bad_lines[_i].msg),
                  "case %d %s: '%s'", _i, bad_lines[_i].name,
                  reply_str(o, "error"));
    json_object_put(o);
    ck_assert_int_eq(list_guests(bad_host.h, "x", state, sizeof(state)), 0);
}
END_TEST

/* Over the real control socket: a line longer than the limit. */
START_TEST(test_long_line)
{
    struct th_host a;
    char *big = malloc(MIG_HOST_LINE_MAX + 16), buf[512];
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd;
    ssize_t n, got = 0;

    host_up(&a, "A", 1ULL << 30);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", a.path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&un, sizeof(un)), 0);
    memset(big, 'x', MIG_HOST_LINE_MAX + 16);
    ck_assert_int_eq(send(fd, big, MIG_HOST_LINE_MAX + 16, MSG_NOSIGNAL),
                     MIG_HOST_LINE_MAX + 16);
    while ((n = recv(fd, buf + got, sizeof(buf) - 1 - (size_t)got, 0)) > 0)
        got += n;
    buf[got] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "request line too long"));
    close(fd);
    free(big);
    host_down(&a);
}
END_TEST

/* ---- heartbeat ----------------------------------------------------------- */

START_TEST(test_heartbeat_pauses_with_guest)
{
    struct mig_guest_emu_cfg cfg = { .mem_bytes = 1U << 20, .vcpus = 2,
                                     .workload = "uniform:rate=1MB/s" };
    struct mig_hb_reply r = { 0 };
    struct mig_guest *g;
    struct mig_hb *hb;
    char err[200];
    uint16_t port;

    ck_assert_int_eq(mig_guest_emu_new(&cfg, &g, err, sizeof(err)), 0);
    ck_assert_int_eq(g->ops->start(g), 0);
    ck_assert_int_eq(mig_hb_start(g, "127.0.0.1", 0, &hb), 0);
    port = mig_hb_port(hb);
    ck_assert_uint_gt(port, 0);
    ck_assert_int_eq(mig_hb_probe("127.0.0.1", port, 1, 10000, &r), 0);
    ck_assert_uint_eq(r.seq, 1);
    ck_assert_uint_gt(r.guest_ns, 0);
    /* Paused with the vCPUs: no answer while suspended... */
    ck_assert_int_eq(g->ops->suspend(g), 0);
    ck_assert_int_eq(mig_hb_probe("127.0.0.1", port, 2, 300, &r), -ETIMEDOUT);
    /* ...and answers again once resumed (the held probe 2 is skipped). */
    ck_assert_int_eq(g->ops->resume(g), 0);
    ck_assert_int_eq(mig_hb_probe("127.0.0.1", port, 3, 10000, &r), 0);
    ck_assert_uint_eq(r.seq, 3);
    mig_hb_stop(hb);
    mig_guest_free(g);
    ck_assert_int_eq(mig_hb_start(NULL, "not-an-ip", 0, &hb), MIG_EINVAL);
    ck_assert_ptr_null(hb);
}
END_TEST

START_TEST(test_garp_frame)
{
    static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };
    static const uint8_t want[MIG_GARP_FRAME_LEN] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* broadcast */
        0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,     /* source */
        0x08, 0x06,                             /* ARP */
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
        0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 10, 1, 2, 3,
        0, 0, 0, 0, 0, 0, 10, 1, 2, 3,
    };
    uint8_t f[MIG_GARP_FRAME_LEN];
    struct in_addr a;

    ck_assert_int_eq(inet_pton(AF_INET, "10.1.2.3", &a), 1);
    mig_garp_frame(f, mac, a.s_addr);
    ck_assert_mem_eq(f, want, sizeof(want));
}
END_TEST

/* A guest's heartbeat follows it from host to host (loopback form: a new
 * port on the new host, the address itself stays). */
START_TEST(test_heartbeat_moves)
{
    struct th_host a, b;
    struct json_object *o, *arr, *g, *v;
    struct mig_hb_reply r;
    char line[256];
    unsigned port;

    host_up(&a, "A", 1ULL << 30);
    host_up(&b, "B", 1ULL << 30);
    snprintf(line, sizeof(line), "{\"cmd\":\"create\",\"name\":\"vm1\","
             "\"mem\":%s,\"ip\":\"10.9.8.7\"}", test_mem());
    expect_ok(a.h, line);
    for (int side = 0; side < 2; side++) {
        struct mig_host *h = side ? b.h : a.h;

        o = req(h, "{\"cmd\":\"list\"}", NULL);
        ck_assert(json_object_object_get_ex(o, "guests", &arr));
        g = json_object_array_get_idx(arr, 0);
        ck_assert_str_eq(reply_str(g, "ip"), "10.9.8.7");
        ck_assert(json_object_object_get_ex(g, "heartbeat", &v));
        ck_assert_int_eq(sscanf(json_object_get_string(v), "127.0.0.1:%u",
                                &port), 1);
        json_object_put(o);
        ck_assert_int_eq(mig_hb_probe("127.0.0.1", (uint16_t)port, 7, 10000,
                                      &r), 0);
        if (side)
            break;
        snprintf(line, sizeof(line), "{\"cmd\":\"migrate\",\"name\":"
                 "\"vm1\",\"host\":\"127.0.0.1\",\"port\":%u,"
                 "\"live\":true}", (unsigned)mig_host_port(b.h));
        expect_ok(a.h, line);
    }
    o = req(b.h, "{\"cmd\":\"console\",\"name\":\"vm1\"}", NULL);
    ck_assert_msg(strstr(json_object_to_json_string(o),
                         "heartbeats: 1 probes answered on host B"), "%s",
                  json_object_to_json_string(o));
    json_object_put(o);
    host_down(&a);
    host_down(&b);
}
END_TEST

static Suite *host_suite(void)
{
    Suite *s = suite_create("host");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");
    TCase *auth = tcase_create("auth");

    tcase_set_timeout(core, 300);
    tcase_set_timeout(limits, 300);
    tcase_set_timeout(corrupt, 300);
    tcase_set_timeout(auth, 300);
    tcase_add_test(auth, test_auth_keys);
    tcase_add_test(auth, test_auth_refuses_by_default);
    tcase_add_test(auth, test_auth_raw_xl_header);
    tcase_add_test(auth, test_auth_cfg);
    suite_add_tcase(s, auth);
    tcase_add_test(core, test_guest_table);
    tcase_add_test(core, test_migrate_between_hosts);
    tcase_add_test(core, test_heartbeat_pauses_with_guest);
    tcase_add_test(core, test_heartbeat_moves);
    tcase_add_test(core, test_garp_frame);
    tcase_add_loop_test(limits, test_admit_check, 0,
                        sizeof(admit_cases) / sizeof(admit_cases[0]));
    tcase_add_test(limits, test_admission_before_pages);
    tcase_add_test(limits, test_refused_by_host);
    tcase_add_checked_fixture(corrupt, bad_setup, bad_teardown);
    tcase_add_loop_test(corrupt, test_bad_lines, 0,
                        sizeof(bad_lines) / sizeof(bad_lines[0]));
    tcase_add_test(corrupt, test_long_line);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(host_suite());
}
