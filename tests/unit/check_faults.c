/* SPDX-License-Identifier: MIT */
/*
 * check_faults.c - the pieces behind "never lose the guest" (docs/faults.md):
 * guest state files (round trip, hostile files) and the recovery decision
 * per phase (ref/host_state.h), fault specs (ref/fault.h), the phase hooks
 * of the sender and the receiver firing in protocol order during a live
 * migration over a socketpair, a failing hook before GO resuming the guest
 * at the source, timeouts firing on a silent peer, the channel's injected
 * faults, and file-backed guest memory that outlives its guest with torn
 * stamps repaired, and a daemon recovering a state directory.  No timing
 * assertions; every wait is bounded.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "check_main.h"
#include "fault.h"
#include "guest_emu.h"
#include "host.h"
#include "host_state.h"
#include "migrate.h"
#include "receiver.h"
#include "sender.h"
#include "stream.h"

static bool under_valgrind(void)
{
    const char *v = getenv("MIGLAB_UNDER_VALGRIND");

    return v && *v && strcmp(v, "0") != 0;
}

/* A fresh temp directory; the caller removes it with rm_dir(). */
static void make_dir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/check_faults.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_dir(const char *dir, const char *const *files)
{
    char path[512];

    for (; *files; files++) {
        snprintf(path, sizeof(path), "%s/%s", dir, *files);
        (void)unlink(path);
    }
    ck_assert_int_eq(rmdir(dir), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* ---- state files ------------------------------------------------------- */

START_TEST(test_hstate_round_trip)
{
    static const char *const files[] = { "vm1.json", "vm1.mem", "bad.json",
                                         NULL };
    struct mig_hstate st = { .name = "vm1", .mem = 64ULL << 20, .vcpus = 2,
                             .workload = "uniform:rate=50MB/s",
                             .seed = 12345678901ULL, .ip = "10.0.0.5",
                             .from = "hostA" }, back;
    char dir[64], path[512];

    make_dir(dir, sizeof(dir));
    for (int p = 0; p < MIG_GPHASE_COUNT; p++) {
        st.phase = (enum mig_gphase)p;
        ck_assert_int_eq(mig_hstate_write(dir, &st), 0);
        ck_assert_int_eq(mig_hstate_path(dir, "vm1", "json", path,
                                         sizeof(path)), 0);
        ck_assert_int_eq(mig_hstate_read(path, &back), 0);
        ck_assert_str_eq(back.name, st.name);
        ck_assert_uint_eq(back.mem, st.mem);
        ck_assert_uint_eq(back.vcpus, st.vcpus);
        ck_assert_str_eq(back.workload, st.workload);
        ck_assert_uint_eq(back.seed, st.seed);
        ck_assert_str_eq(back.ip, st.ip);
        ck_assert_str_eq(back.from, st.from);
        ck_assert_int_eq(back.phase, p);
    }
    /* No temp file left behind by the rename. */
    snprintf(path, sizeof(path), "%s/vm1.json.tmp", dir);
    ck_assert_int_ne(access(path, F_OK), 0);

    /* Hostile or broken files are MIG_ECORRUPT, a missing one -ENOENT. */
    snprintf(path, sizeof(path), "%s/bad.json", dir);
    write_file(path, "not json");
    ck_assert_int_eq(mig_hstate_read(path, &back), MIG_ECORRUPT);
    write_file(path, "{\"name\": \"vm1\", \"mem\": 4096, \"vcpus\": 1, "
               "\"workload\": \"idle\", \"seed\": 1, \"ip\": \"\", "
               "\"from\": \"\", \"phase\": \"teleported\"}");
    ck_assert_int_eq(mig_hstate_read(path, &back), MIG_ECORRUPT);
    write_file(path, "{\"name\": \"vm1\", \"mem\": 4097, \"vcpus\": 1, "
               "\"workload\": \"idle\", \"seed\": 1, \"ip\": \"\", "
               "\"from\": \"\", \"phase\": \"running\"}");
    ck_assert_int_eq(mig_hstate_read(path, &back), MIG_ECORRUPT);
    write_file(path, "{\"name\": \"../x\", \"mem\": 4096, \"vcpus\": 1, "
               "\"workload\": \"idle\", \"seed\": 1, \"ip\": \"\", "
               "\"from\": \"\", \"phase\": \"running\"}");
    ck_assert_int_eq(mig_hstate_read(path, &back), MIG_ECORRUPT);
    write_file(path, "{\"name\": \"vm1\", \"mem\": 4096, \"vcpus\": \"1\", "
               "\"workload\": \"idle\", \"seed\": 1, \"ip\": \"\", "
               "\"from\": \"\", \"phase\": \"running\"}");
    ck_assert_int_eq(mig_hstate_read(path, &back), MIG_ECORRUPT);
    snprintf(path, sizeof(path), "%s/none.json", dir);
    ck_assert_int_eq(mig_hstate_read(path, &back), -ENOENT);

    mig_hstate_remove(dir, "vm1");
    snprintf(path, sizeof(path), "%s/vm1.json", dir);
    ck_assert_int_ne(access(path, F_OK), 0);
    rm_dir(dir, files);
}
END_TEST

START_TEST(test_recovery_decisions)
{
    /* Before GO the destination cannot run a copy: resume at the source. */
    ck_assert_int_eq(mig_hstate_decide(MIG_GPHASE_RUNNING),
                     MIG_RECOVER_RESUME);
    ck_assert_int_eq(mig_hstate_decide(MIG_GPHASE_MIGRATING),
                     MIG_RECOVER_RESUME);
    ck_assert_int_eq(mig_hstate_decide(MIG_GPHASE_SUSPENDED),
                     MIG_RECOVER_RESUME);
    /* xl's window: neither side may decide alone. */
    ck_assert_int_eq(mig_hstate_decide(MIG_GPHASE_GO_SENT),
                     MIG_RECOVER_UNDEFINED);
    /* A copy without GO is not the guest; a started one is. */
    ck_assert_int_eq(mig_hstate_decide(MIG_GPHASE_INCOMING),
                     MIG_RECOVER_DISCARD);
    ck_assert_int_eq(mig_hstate_decide(MIG_GPHASE_STARTED),
                     MIG_RECOVER_RESUME);
    ck_assert_str_eq(mig_gphase_name(MIG_GPHASE_GO_SENT), "go-sent");
}
END_TEST

/* ---- fault specs ------------------------------------------------------- */

START_TEST(test_fault_parse)
{
    static const char *const bad[] = {
        "", "send", "send:go", "both:go:crash", "send:nowhere:crash",
        "send:go:explode", "send:go:2:crash", "send:pass:0:crash",
        "send:pass:-1:crash", "send:pass:x:crash", "send:pass:1:2:crash",
        "send:pass:1:crash:extra:more", "recv:pass:2:crash",
    };
    struct mig_fault f;
    char err[256];

    ck_assert_int_eq(mig_fault_parse("send:pass:3:stall", &f, err,
                                     sizeof(err)), 0);
    ck_assert_int_eq(f.side, MIG_FAULT_SEND);
    ck_assert_int_eq(f.phase, MIG_PHASE_PASS);
    ck_assert_uint_eq(f.n, 3);
    ck_assert_int_eq(f.action, MIG_FAULT_STALL);
    ck_assert_int_eq(mig_fault_parse("recv:go:truncate", &f, err,
                                     sizeof(err)), 0);
    ck_assert_int_eq(f.side, MIG_FAULT_RECV);
    ck_assert_int_eq(f.phase, MIG_PHASE_GO);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_int_eq(f.action, MIG_FAULT_TRUNCATE);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_msg(mig_fault_parse(bad[i], &f, err, sizeof(err)) ==
                      MIG_EINVAL, "accepted '%s'", bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "bad fault spec"));
    }
    ck_assert_int_eq(mig_fault_parse(NULL, &f, err, sizeof(err)),
                     MIG_EINVAL);
}
END_TEST

/* ---- phase hooks over a socketpair ---------------------------------- */

#define MAX_EVENTS 64

struct log {
    pthread_mutex_t lock;
    int n;
    enum mig_phase phase[MAX_EVENTS];
    unsigned num[MAX_EVENTS];
    enum mig_phase fail_at;     /* MIG_PHASE_COUNT = never */
};

static int record(void *opaque, enum mig_phase p, unsigned n,
                  struct mig_chan *ch)
{
    struct log *l = opaque;

    ck_assert_ptr_nonnull(ch);
    pthread_mutex_lock(&l->lock);
    if (l->n < MAX_EVENTS) {
        l->phase[l->n] = p;
        l->num[l->n++] = n;
    }
    pthread_mutex_unlock(&l->lock);
    return p == l->fail_at ? MIG_EINVAL : 0;
}

struct rx {
    struct mig_chan *ch;
    struct log *log;
    struct mig_guest *g;
    struct mig_recv_info info;
    int rc;
    pthread_t th;
};

static void *rx_main(void *arg)
{
    struct rx *x = arg;
    struct mig_recv_opts o = { .create = mig_guest_emu_create,
                               .phase = x->log ? record : NULL,
                               .phase_opaque = x->log };

    x->rc = mig_receive(x->ch, &o, &x->g, &x->info);
    mig_chan_free(x->ch);
    x->ch = NULL;
    return NULL;
}

static struct mig_guest *dirty_guest(void)
{
    struct mig_guest_emu_cfg cfg = {
        .mem_bytes = under_valgrind() ? 4 << 20 : 32 << 20, .vcpus = 1,
        .workload = under_valgrind() ? "uniform:rate=2M"
                                     : "uniform:rate=40M",
        .seed = 7 };
    struct mig_guest *g = NULL;
    char err[128] = "";

    ck_assert_msg(mig_guest_emu_new(&cfg, &g, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_int_eq(g->ops->start(g), 0);
    return g;
}

/* Each phase no earlier than the one before; passes count 1, 2, ... */
static void assert_in_order(const struct log *l)
{
    unsigned pass = 0;

    for (int i = 0; i < l->n; i++) {
        if (i > 0)
            ck_assert_int_ge(l->phase[i], l->phase[i - 1]);
        if (l->phase[i] == MIG_PHASE_PASS)
            ck_assert_uint_eq(l->num[i], ++pass);
    }
}

static int count(const struct log *l, enum mig_phase p)
{
    int c = 0;

    for (int i = 0; i < l->n; i++)
        c += l->phase[i] == p;
    return c;
}

static void run_pair(struct mig_guest *g, struct log *sl, struct log *rl,
                     struct rx *x, struct mig_run *run, int *rc)
{
    struct mig_send_opts o;
    struct mig_chan *snd;
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    snd = mig_chan_fd_new(sv[0], sv[0], 1);
    x->ch = mig_chan_fd_new(sv[1], sv[1], 1);
    x->log = rl;
    ck_assert_int_eq(pthread_create(&x->th, NULL, rx_main, x), 0);
    mig_send_opts_defaults(&o);
    o.phase = record;
    o.phase_opaque = sl;
    mig_run_init(run);
    *rc = mig_send(g, snd, &o, run);
    mig_chan_free(snd);
    pthread_join(x->th, NULL);
}

START_TEST(test_phase_order_live)
{
    struct log sl = { .fail_at = MIG_PHASE_COUNT };
    struct log rl = { .fail_at = MIG_PHASE_COUNT };
    struct mig_guest *g = dirty_guest();
    struct mig_run run;
    struct rx x = { 0 };
    int rc;

    pthread_mutex_init(&sl.lock, NULL);
    pthread_mutex_init(&rl.lock, NULL);
    run_pair(g, &sl, &rl, &x, &run, &rc);
    ck_assert_msg(rc == 0, "%s", run.msg);
    ck_assert_int_eq(x.rc, 0);

    /* Sender: handshake, passes 1..k, stop-and-copy, state, ready, go,
     * report, each once but the passes. */
    assert_in_order(&sl);
    ck_assert_int_eq(sl.phase[0], MIG_PHASE_HANDSHAKE);
    ck_assert_int_ge(count(&sl, MIG_PHASE_PASS), 1);
    ck_assert_int_eq(count(&sl, MIG_PHASE_PASS),
                     (int)run.result.live_passes);
    for (int p = MIG_PHASE_STOP_COPY; p < MIG_PHASE_COUNT; p++)
        ck_assert_int_eq(count(&sl, (enum mig_phase)p), 1);
    ck_assert_int_eq(count(&sl, MIG_PHASE_HANDSHAKE), 1);
    ck_assert_int_eq(sl.phase[sl.n - 1], MIG_PHASE_REPORT);

    /* Receiver: handshake, first pages, state, ready, go, report. */
    assert_in_order(&rl);
    ck_assert_int_eq(rl.n, 6);
    ck_assert_int_eq(rl.phase[0], MIG_PHASE_HANDSHAKE);
    ck_assert_int_eq(rl.phase[1], MIG_PHASE_PASS);
    ck_assert_int_eq(rl.phase[2], MIG_PHASE_STATE);
    ck_assert_int_eq(rl.phase[3], MIG_PHASE_READY);
    ck_assert_int_eq(rl.phase[4], MIG_PHASE_GO);
    ck_assert_int_eq(rl.phase[5], MIG_PHASE_REPORT);

    mig_run_clear(&run);
    mig_guest_free(x.g);
    mig_guest_free(g);
    pthread_mutex_destroy(&sl.lock);
    pthread_mutex_destroy(&rl.lock);
}
END_TEST

/* A hook that fails at GO (the daemon could not record "go-sent") stops
 * short of the commit: the guest runs on at the source, and the
 * destination, never cleared, discards its copy. */
START_TEST(test_hook_fails_before_go)
{
    struct log sl = { .fail_at = MIG_PHASE_GO };
    struct log rl = { .fail_at = MIG_PHASE_COUNT };
    struct mig_guest *g = dirty_guest();
    struct mig_run run;
    struct rx x = { 0 };
    uint64_t w, first;
    int rc;

    pthread_mutex_init(&sl.lock, NULL);
    pthread_mutex_init(&rl.lock, NULL);
    run_pair(g, &sl, &rl, &x, &run, &rc);
    ck_assert_int_eq(rc, MIG_EINVAL);
    ck_assert(!run.committed);
    ck_assert(run.resumed_at_source);
    ck_assert_int_ne(x.rc, 0);
    ck_assert_ptr_null(x.g);
    ck_assert_int_eq(count(&rl, MIG_PHASE_GO), 0);
    ck_assert_int_eq(count(&sl, MIG_PHASE_REPORT), 0);
    /* Alive and intact at the source. */
    w = mig_guest_emu_writes(g);
    for (int i = 0; i < 4000 && mig_guest_emu_writes(g) == w; i++)
        usleep(5000);
    ck_assert_uint_gt(mig_guest_emu_writes(g), w);
    ck_assert_int_eq(g->ops->suspend(g), 0);
    ck_assert_uint_eq(mig_guest_emu_check_stamps(g, &first), 0);
    mig_run_clear(&run);
    mig_guest_free(g);
    pthread_mutex_destroy(&sl.lock);
    pthread_mutex_destroy(&rl.lock);
}
END_TEST

/* ---- timeouts on a silent peer --------------------------------------- */

START_TEST(test_sender_times_out_on_silent_receiver)
{
    struct mig_guest *g = dirty_guest();
    struct mig_send_opts o;
    struct mig_chan *snd;
    struct mig_run run;
    int sv[2], rc;

    /* The peer end stays open and never says a word (no banner). */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    snd = mig_chan_fd_new(sv[0], sv[0], 1);
    mig_chan_set_timeout(snd, 200);
    mig_send_opts_defaults(&o);
    mig_run_init(&run);
    rc = mig_send(g, snd, &o, &run);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert(run.resumed_at_source);
    ck_assert(!run.committed);
    mig_run_clear(&run);
    mig_chan_free(snd);
    close(sv[1]);
    mig_guest_free(g);
}
END_TEST

START_TEST(test_receiver_times_out_on_silent_sender)
{
    struct mig_recv_opts o = { .create = mig_guest_emu_create };
    struct mig_recv_info info;
    struct mig_guest *g = NULL;
    struct mig_chan *ch;
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ch = mig_chan_fd_new(sv[1], sv[1], 1);
    mig_chan_set_timeout(ch, 200);
    ck_assert_int_eq(mig_receive(ch, &o, &g, &info), -ETIMEDOUT);
    ck_assert_ptr_null(g);
    mig_chan_free(ch);
    close(sv[0]);
}
END_TEST

/* ---- injected channel faults ----------------------------------------- */

START_TEST(test_inject_corrupt_and_truncate)
{
    static const char msg[] = "cleared to unpause";
    char buf[64];
    struct mig_chan *a, *b;
    size_t got;
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    a = mig_chan_fd_new(sv[0], sv[0], 1);
    b = mig_chan_fd_new(sv[1], sv[1], 1);
    mig_chan_set_timeout(b, 5000);

    /* Corrupt: the first byte flipped, once. */
    mig_chan_inject(a, MIG_INJECT_CORRUPT);
    ck_assert_int_eq(mig_chan_send(a, msg, sizeof(msg)), 0);
    ck_assert_int_eq(mig_chan_recv_full(b, buf, sizeof(msg)), 0);
    ck_assert_int_eq((uint8_t)buf[0], (uint8_t)(msg[0] ^ 0xff));
    ck_assert_mem_eq(buf + 1, msg + 1, sizeof(msg) - 1);
    ck_assert_int_eq(mig_chan_send(a, msg, sizeof(msg)), 0);
    ck_assert_int_eq(mig_chan_recv_full(b, buf, sizeof(msg)), 0);
    ck_assert_mem_eq(buf, msg, sizeof(msg));

    /* Truncate: half arrives, then the end of the stream. */
    mig_chan_inject(a, MIG_INJECT_TRUNCATE);
    ck_assert_int_eq(mig_chan_send(a, msg, sizeof(msg)), 0);
    ck_assert_int_eq(mig_chan_recv_full(b, buf, sizeof(msg) / 2), 0);
    ck_assert_mem_eq(buf, msg, sizeof(msg) / 2);
    ck_assert_int_eq(mig_chan_recv(b, buf, sizeof(buf), &got), 0);
    ck_assert_uint_eq(got, 0);
    mig_chan_free(a);
    mig_chan_free(b);
}
END_TEST

/* ---- file-backed memory ------------------------------------------------ */

START_TEST(test_file_memory_survives_and_repairs)
{
    static const char *const files[] = { "g.mem", NULL };
    struct mig_guest_emu_cfg cfg = { .mem_bytes = 1 << 20, .vcpus = 2,
                                     .workload = "uniform:rate=1M",
                                     .seed = 3 };
    struct mig_guest *g = NULL, *back = NULL;
    uint8_t *copy = malloc(cfg.mem_bytes);
    uint64_t busy = MIG_EMU_STAMP_BUSY, first, zero = 0, pfn;
    char dir[64], path[512], err[128] = "";
    const uint8_t *mem;

    ck_assert_ptr_nonnull(copy);
    make_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/g.mem", dir);
    cfg.mem_path = path;
    ck_assert_msg(mig_guest_emu_new(&cfg, &g, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_uint_gt(mig_guest_emu_step(g, 0.5), 0);
    memcpy(copy, mig_guest_emu_mem(g), cfg.mem_bytes);
    mig_guest_free(g);

    /* The memory outlives the guest, byte for byte. */
    cfg.mem_keep = true;
    ck_assert_msg(mig_guest_emu_new(&cfg, &back, err, sizeof(err)) == 0,
                  "%s", err);
    mem = mig_guest_emu_mem(back);
    ck_assert_mem_eq(mem, copy, cfg.mem_bytes);
    ck_assert_uint_eq(mig_guest_emu_check_stamps(back, &first), 0);

    /* A stamp cut short by a crash: busy marker over a whole stamp ... */
    for (pfn = 0; pfn < cfg.mem_bytes / 4096; pfn++)
        if (memcmp(mem + pfn * 4096 + 8, &zero, 8))
            break;
    ck_assert_uint_lt(pfn, cfg.mem_bytes / 4096);
    memcpy((uint8_t *)mem + pfn * 4096, &busy, 8);
    /* ... and over a fresh page whose generation never landed. */
    memcpy((uint8_t *)mem + 4096 * (cfg.mem_bytes / 4096 - 1), &busy, 8);
    ck_assert_uint_ge(mig_guest_emu_check_stamps(back, &first), 1);
    ck_assert_uint_eq(mig_guest_emu_repair_stamps(back), 2);
    ck_assert_uint_eq(mig_guest_emu_check_stamps(back, &first), 0);
    ck_assert_mem_eq(mem + pfn * 4096, copy + pfn * 4096, 4096);
    mig_guest_free(back);

    /* A file of the wrong size is refused, not mapped. */
    cfg.mem_bytes = 2 << 20;
    ck_assert_int_eq(mig_guest_emu_new(&cfg, &back, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_ptr_null(back);
    free(copy);
    rm_dir(dir, files);
}
END_TEST

/* A stream that carried the workload but lost the vCPU state (say, a
 * corrupted optional record type the receiver skipped) must not start. */
START_TEST(test_workload_without_state_refuses_to_start)
{
    struct mig_guest_desc d = { .nr_pages = 16, .vcpus = 1 };
    static const char wl[] = "uniform:rate=1M";
    struct mig_guest *g = NULL;
    char err[128] = "";

    ck_assert_int_eq(mig_guest_emu_create(NULL, &d, &g, err, sizeof(err)),
                     0);
    ck_assert_int_eq(g->ops->load_record(g, MIG_REC_MIGLAB_WORKLOAD,
                                         (const uint8_t *)wl,
                                         sizeof(wl) - 1), 0);
    ck_assert_int_eq(g->ops->start(g), MIG_ECORRUPT);
    mig_guest_free(g);

    /* Without a WORKLOAD record (an idle guest) nothing is missing. */
    ck_assert_int_eq(mig_guest_emu_create(NULL, &d, &g, err, sizeof(err)),
                     0);
    ck_assert_int_eq(g->ops->start(g), 0);
    mig_guest_free(g);
}
END_TEST

/* ---- a daemon recovering its state directory ------------------------ */

struct reply {
    struct json_object *last;
};

static int keep_last(void *opaque, const char *line)
{
    struct reply *r = opaque;

    json_object_put(r->last);
    r->last = json_tokener_parse(line);
    ck_assert_ptr_nonnull(r->last);
    return 0;
}

/* One request; the final reply (caller puts). */
static struct json_object *request(struct mig_host *h, const char *line)
{
    struct reply r = { NULL };

    ck_assert_int_eq(mig_host_request(h, line, keep_last, &r), 0);
    return r.last;
}

static bool ok_reply(struct json_object *o)
{
    struct json_object *v;

    return json_object_object_get_ex(o, "ok", &v) &&
           json_object_get_boolean(v);
}

/* The listed state of guest name ("" when absent); *hint set when the
 * entry carries one. */
static void listed(struct mig_host *h, const char *name, char *state,
                   size_t len, bool *hint)
{
    struct json_object *o = request(h, "{\"cmd\": \"list\"}"), *arr, *v;

    state[0] = '\0';
    *hint = false;
    ck_assert(json_object_object_get_ex(o, "guests", &arr));
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *g = json_object_array_get_idx(arr, i);

        json_object_object_get_ex(g, "name", &v);
        if (strcmp(json_object_get_string(v), name))
            continue;
        json_object_object_get_ex(g, "state", &v);
        snprintf(state, len, "%s", json_object_get_string(v));
        *hint = json_object_object_get_ex(g, "hint", &v);
    }
    json_object_put(o);
}

/* A guest's files as a crashed daemon left them in phase p. */
static void leave_guest(const char *dir, const char *name,
                        enum mig_gphase p)
{
    struct mig_hstate st = { .mem = 1 << 20, .vcpus = 1,
                             .workload = "uniform:rate=1M", .seed = 5,
                             .phase = p };
    struct mig_guest_emu_cfg cfg = { .mem_bytes = st.mem, .vcpus = 1,
                                     .workload = st.workload, .seed = 5 };
    struct mig_guest *g = NULL;
    char path[512], err[128] = "";

    snprintf(st.name, sizeof(st.name), "%s", name);
    ck_assert_int_eq(mig_hstate_write(dir, &st), 0);
    ck_assert_int_eq(mig_hstate_path(dir, name, "mem", path, sizeof(path)),
                     0);
    cfg.mem_path = path;
    ck_assert_msg(mig_guest_emu_new(&cfg, &g, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_uint_gt(mig_guest_emu_step(g, 0.2), 0);
    mig_guest_free(g);
}

static bool has_files(const char *dir, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    return access(path, F_OK) == 0;
}

START_TEST(test_host_recovers_state_dir)
{
    static const char *const names[] = { "vmR", "vmM", "vmS", "vmG", "vmI" };
    static const enum mig_gphase phases[] = {
        MIG_GPHASE_RUNNING, MIG_GPHASE_SUSPENDED, MIG_GPHASE_STARTED,
        MIG_GPHASE_GO_SENT, MIG_GPHASE_INCOMING };
    struct mig_host_cfg cfg = { .listen_host = "127.0.0.1",
                                .mem_capacity = 1ULL << 30, .name = "R" };
    char dir[64], sdir[96], sock[96], state[32], err[256] = "", path[512];
    struct json_object *o, *v;
    struct mig_host *h = NULL;
    bool hint;

    make_dir(dir, sizeof(dir));
    snprintf(sdir, sizeof(sdir), "%s/state", dir);
    snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
    ck_assert_int_eq(mkdir(sdir, 0700), 0);
    for (size_t i = 0; i < 5; i++)
        leave_guest(sdir, names[i], phases[i]);
    cfg.control_path = sock;
    cfg.state_dir = sdir;
    ck_assert_msg(mig_host_new(&cfg, &h, err, sizeof(err)) == 0, "%s", err);

    /* Before GO or after the start: running here.  Undefined: paused,
     * with the operator's hint.  A copy without GO: gone. */
    for (size_t i = 0; i < 3; i++) {
        listed(h, names[i], state, sizeof(state), &hint);
        ck_assert_str_eq(state, "running");
        ck_assert(!hint);
    }
    listed(h, "vmG", state, sizeof(state), &hint);
    ck_assert_str_eq(state, "undefined");
    ck_assert(hint);
    listed(h, "vmI", state, sizeof(state), &hint);
    ck_assert_str_eq(state, "");
    ck_assert(!has_files(sdir, "vmI"));
    snprintf(path, sizeof(path), "%s/vmI.mem", sdir);
    ck_assert_int_ne(access(path, F_OK), 0);

    /* The memory came back intact. */
    o = request(h, "{\"cmd\": \"verify\", \"name\": \"vmG\"}");
    ck_assert(ok_reply(o));
    ck_assert(json_object_object_get_ex(o, "bad_pages", &v));
    ck_assert_int_eq(json_object_get_int64(v), 0);
    json_object_put(o);

    /* resume: only for an undefined guest. */
    o = request(h, "{\"cmd\": \"resume\", \"name\": \"vmR\"}");
    ck_assert(!ok_reply(o));
    json_object_put(o);
    o = request(h, "{\"cmd\": \"resume\", \"name\": \"vmG\"}");
    ck_assert(ok_reply(o));
    json_object_put(o);
    listed(h, "vmG", state, sizeof(state), &hint);
    ck_assert_str_eq(state, "running");

    /* destroy deletes the files; a stopped daemon keeps the others. */
    o = request(h, "{\"cmd\": \"destroy\", \"name\": \"vmM\"}");
    ck_assert(ok_reply(o));
    json_object_put(o);
    ck_assert(!has_files(sdir, "vmM"));
    mig_host_free(h);
    ck_assert(has_files(sdir, "vmR"));

    /* A broken state file stops the next daemon with a line naming it. */
    snprintf(path, sizeof(path), "%s/vmR.json", sdir);
    write_file(path, "{\"name\": 1}");
    h = NULL;
    ck_assert_int_eq(mig_host_new(&cfg, &h, err, sizeof(err)), MIG_ECORRUPT);
    ck_assert_ptr_null(h);
    ck_assert_ptr_nonnull(strstr(err, "vmR.json"));

    for (size_t i = 0; i < 4; i++)
        mig_hstate_remove(sdir, names[i]);
    ck_assert_int_eq(rmdir(sdir), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *state = tcase_create("state");
    TCase *hooks = tcase_create("hooks");

    tcase_add_test(state, test_hstate_round_trip);
    tcase_add_test(state, test_recovery_decisions);
    tcase_add_test(state, test_fault_parse);
    tcase_add_test(state, test_file_memory_survives_and_repairs);
    tcase_add_test(state, test_workload_without_state_refuses_to_start);
    tcase_add_test(state, test_host_recovers_state_dir);
    tcase_set_timeout(hooks, 300);
    tcase_add_test(hooks, test_phase_order_live);
    tcase_add_test(hooks, test_hook_fails_before_go);
    tcase_add_test(hooks, test_sender_times_out_on_silent_receiver);
    tcase_add_test(hooks, test_receiver_times_out_on_silent_sender);
    tcase_add_test(hooks, test_inject_corrupt_and_truncate);
    suite_add_tcase(s, state);
    suite_add_tcase(s, hooks);
    return s;
}

int main(void)
{
    return check_run(faults_suite());
}
