/* SPDX-License-Identifier: MIT */
/*
 * host_ctl.c - the host daemon's control requests (host.h,
 * docs/host-protocol.md): create, list, console, destroy, migrate, and
 * for the undefined state after a failed commit resume and verify
 * (docs/faults.md).  A
 * request is one JSON object; every reply ends with one object carrying
 * "ok".  Input from the control socket is checked like any other input:
 * wrong types, missing keys and bad values get {"ok": false, "kind":
 * "input"}; failures of a valid request get "kind": "failed".
 */
#include "host_int.h"

#include <inttypes.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "guest_emu.h"
#include "migrate.h"
#include "scenario.h"
#include "sender.h"
#include "xxhash.h"

struct ctl {
    struct mig_host *h;
    struct json_object *req;
    mig_host_emit_fn *emit;
    void *opaque;
};

static const char *const state_name[] = {
    [MIG_HG_RUNNING] = "running",
    [MIG_HG_INCOMING] = "incoming",
    [MIG_HG_MIGRATING] = "migrating",
    [MIG_HG_PAUSED] = "undefined",
};

static int send_obj(struct ctl *c, struct json_object *o)
{
    int rc;

    if (!o)
        return c->emit(c->opaque, "{\"ok\": false, \"kind\": \"failed\", "
                       "\"error\": \"out of memory\"}");
    rc = c->emit(c->opaque, json_object_to_json_string_ext(
                                o, JSON_C_TO_STRING_PLAIN |
                                       JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return rc;
}

static int reply_err(struct ctl *c, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reply_err(struct ctl *c, const char *kind, const char *fmt, ...)
{
    struct json_object *o = json_object_new_object();
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (o) {
        json_object_object_add(o, "ok", json_object_new_boolean(0));
        json_object_object_add(o, "kind", json_object_new_string(kind));
        json_object_object_add(o, "error", json_object_new_string(msg));
    }
    return send_obj(c, o);
}

/*
 * The reply when a guest operation could not run.  rc: 2 = no such guest,
 * 1 = the guest is in state st (read under the lock by the caller; the
 * entry may be gone since), anything else the operation's own error.
 * wanted names what the operation needs ("running"), verb what it is
 * ("resume").
 */
static int reply_guest_failed(struct ctl *c, int rc, const char *name,
                              enum mig_hg_state st, const char *wanted,
                              const char *verb)
{
    if (rc == 2)
        return reply_err(c, "input", "no guest %s on host %s", name,
                         c->h->name);
    if (rc == 1)
        return reply_err(c, "failed", "cannot %s guest %s: it is %s, not "
                         "%s", verb, name, state_name[st], wanted);
    return reply_err(c, "failed", "cannot %s guest %s: %s", verb, name,
                     mig_strerror(rc));
}

/* A state set for find_in_state(). */
#define HG(state) (1u << (state))

/*
 * Under h->lock: the guest `name` when its state is in `ok` (HG() bits),
 * with *rc = 0; otherwise NULL with *rc = 2 (no such guest) or 1 (*st its
 * state): what reply_guest_failed() takes.
 */
static struct hguest *find_in_state(struct mig_host *h, const char *name,
                                    unsigned ok, int *rc,
                                    enum mig_hg_state *st)
{
    struct hguest *e = mig__host_find(h, name);

    *rc = !e ? 2 : (ok & HG(e->state)) ? 0 : 1;
    if (*rc != 1)
        return e;
    *st = e->state;
    return NULL;
}

static struct json_object *ok_obj(void)
{
    struct json_object *o = json_object_new_object();

    if (o)
        json_object_object_add(o, "ok", json_object_new_boolean(1));
    return o;
}

/* Typed getters: 0 found, 1 absent, -1 present with the wrong type. */
static int get_str(struct ctl *c, const char *key, const char **out)
{
    struct json_object *v;

    if (!json_object_object_get_ex(c->req, key, &v))
        return 1;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    *out = json_object_get_string(v);
    return 0;
}

static int get_u64(struct ctl *c, const char *key, uint64_t max,
                   uint64_t *out)
{
    struct json_object *v;
    int64_t x;

    if (!json_object_object_get_ex(c->req, key, &v))
        return 1;
    if (!json_object_is_type(v, json_type_int))
        return -1;
    x = json_object_get_int64(v);
    if (x < 0 || (uint64_t)x > max)
        return -1;
    *out = (uint64_t)x;
    return 0;
}

static int get_bool(struct ctl *c, const char *key, bool *out)
{
    struct json_object *v;

    if (!json_object_object_get_ex(c->req, key, &v))
        return 1;
    if (!json_object_is_type(v, json_type_boolean))
        return -1;
    *out = json_object_get_boolean(v);
    return 0;
}

/* A TCP congestion control name as the kernel spells them. */
static bool cc_name_valid(const char *cc)
{
    size_t n = strlen(cc);

    if (n < 1 || n > 15)
        return false;
    for (const char *p = cc; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* The "name" of a guest request, validated; NULL after replying. */
static const char *guest_name(struct ctl *c, int *rc)
{
    const char *name = NULL;

    if (get_str(c, "name", &name) || !mig_host_name_valid(name)) {
        *rc = reply_err(c, "input", "\"name\" must be a guest name "
                        "(1-63 of A-Z a-z 0-9 _ . -)");
        return NULL;
    }
    return name;
}

static int do_create(struct ctl *c)
{
    struct mig_host *h = c->h;
    struct mig_guest_emu_cfg cfg = { .vcpus = 1, .workload = "idle",
                                     .seed = 1 };
    uint64_t mem = 0, vcpus = 1;
    struct mig_guest *g = NULL;
    struct hguest *e;
    const char *name, *ip = NULL;
    char err[320], sz[32], path[512];
    int rc = 0;

    name = guest_name(c, &rc);
    if (!name)
        return rc;
    if (get_u64(c, "mem", UINT64_MAX, &mem) || mem < 4096 || mem % 4096)
        return reply_err(c, "input", "\"mem\" must be a positive multiple "
                         "of 4096 bytes");
    if (get_u64(c, "vcpus", MIG_EMU_MAX_VCPUS, &vcpus) < 0 || vcpus < 1)
        return reply_err(c, "input", "\"vcpus\" must be 1..%u",
                         MIG_EMU_MAX_VCPUS);
    if (get_str(c, "workload", &cfg.workload) < 0 ||
        get_u64(c, "seed", UINT64_MAX, &cfg.seed) < 0)
        return reply_err(c, "input", "\"workload\" must be a string and "
                         "\"seed\" an integer");
    if (get_str(c, "ip", &ip) < 0 || (ip && !mig__ip_valid(ip)))
        return reply_err(c, "input", "\"ip\" must be an IPv4 address");
    cfg.mem_bytes = mem;
    cfg.vcpus = (unsigned)vcpus;
    pthread_mutex_lock(&h->lock);
    if (mig__host_find(h, name)) {
        pthread_mutex_unlock(&h->lock);
        return reply_err(c, "input", "guest %s exists on host %s", name,
                         h->name);
    }
    rc = mig_host_admit_check(h->capacity, mig__host_used(h), mem, h->name,
                              name, err, sizeof(err));
    e = rc ? NULL : mig__host_add(h, name, mem);
    if (e)
        e->state = MIG_HG_INCOMING;     /* reserved while it is built */
    pthread_mutex_unlock(&h->lock);
    if (rc)
        return reply_err(c, "failed", "%s", err);
    if (!e)
        return reply_err(c, "failed", "out of memory");
    err[0] = '\0';
    rc = mig__host_mem_path(h, name, path, sizeof(path));
    cfg.mem_path = path[0] ? path : NULL;
    if (!rc)
        rc = mig_guest_emu_new(&cfg, &g, err, sizeof(err));
    if (!rc) {
        rc = g->ops->start(g);
        if (rc)
            snprintf(err, sizeof(err), "cannot start the guest");
    }
    pthread_mutex_lock(&h->lock);
    if (rc) {
        mig_guest_free(g);
        mig__host_remove(h, e);
    } else {
        e->g = g;
        e->vcpus = cfg.vcpus;
        e->seed = cfg.seed;
        e->state = MIG_HG_RUNNING;
        mig_guest_emu_workload(g, e->workload, sizeof(e->workload));
        snprintf(e->ip, sizeof(e->ip), "%s", ip ? ip : "");
        mig__host_log(e, "created on host %s: %s, %u vCPU%s, workload %s",
                      h->name, mig_host_format_size(sz, sizeof(sz), mem),
                      e->vcpus, e->vcpus == 1 ? "" : "s", e->workload);
        (void)mig__host_persist(h, e, MIG_GPHASE_RUNNING);
        mig__host_net_up(h, e);
    }
    pthread_mutex_unlock(&h->lock);
    if (rc == MIG_EINVAL)
        return reply_err(c, "input", "%s", err[0] ? err : "bad guest");
    if (rc)
        return reply_err(c, "failed", "cannot create guest %s: %s", name,
                         err[0] ? err : mig_strerror(rc));
    return send_obj(c, ok_obj());
}

static int do_list(struct ctl *c)
{
    struct mig_host *h = c->h;
    struct json_object *o = ok_obj(), *arr = json_object_new_array();

    if (!o || !arr) {
        json_object_put(arr);
        json_object_put(o);
        return send_obj(c, NULL);
    }
    pthread_mutex_lock(&h->lock);
    json_object_object_add(o, "host", json_object_new_string(h->name));
    json_object_object_add(o, "capacity",
                           json_object_new_int64((int64_t)h->capacity));
    json_object_object_add(o, "used",
                           json_object_new_int64((int64_t)mig__host_used(h)));
    for (struct hguest *e = h->guests; e; e = e->next) {
        struct json_object *g = json_object_new_object();

        if (!g)
            break;
        json_object_object_add(g, "name", json_object_new_string(e->name));
        json_object_object_add(g, "mem", json_object_new_int64(
                                             (int64_t)e->mem));
        json_object_object_add(g, "vcpus", json_object_new_int(
                                               (int)e->vcpus));
        json_object_object_add(g, "state", json_object_new_string(
                                               state_name[e->state]));
        if (e->state == MIG_HG_PAUSED)
            json_object_object_add(g, "hint", json_object_new_string(
                                                  MIG_HOST_UNDEFINED_HINT));
        json_object_object_add(g, "workload",
                               json_object_new_string(e->workload));
        json_object_object_add(g, "writes", json_object_new_int64(
            e->g ? (int64_t)mig_guest_emu_writes(e->g) : 0));
        if (e->ip[0])
            json_object_object_add(g, "ip", json_object_new_string(e->ip));
        if (e->hb) {
            char hb[64];

            snprintf(hb, sizeof(hb), "%s:%u",
                     h->guest_dev[0] && e->ip[0] ? e->ip : "127.0.0.1",
                     (unsigned)mig_hb_port(e->hb));
            json_object_object_add(g, "heartbeat",
                                   json_object_new_string(hb));
        }
        json_object_array_add(arr, g);
    }
    pthread_mutex_unlock(&h->lock);
    json_object_object_add(o, "guests", arr);
    return send_obj(c, o);
}

static int do_console(struct ctl *c)
{
    struct mig_host *h = c->h;
    struct json_object *o, *arr;
    struct hguest *e;
    const char *name;
    int rc = 0;

    name = guest_name(c, &rc);
    if (!name)
        return rc;
    o = ok_obj();
    arr = json_object_new_array();
    if (!o || !arr) {
        json_object_put(arr);
        json_object_put(o);
        return send_obj(c, NULL);
    }
    pthread_mutex_lock(&h->lock);
    e = mig__host_find(h, name);
    for (size_t i = 0; e && i < e->nlog; i++)
        json_object_array_add(arr, json_object_new_string(e->log[i]));
    if (e && e->hb) {
        char line[160];

        snprintf(line, sizeof(line), "heartbeats: %llu probes answered on "
                 "host %s", (unsigned long long)mig_hb_count(e->hb), h->name);
        json_object_array_add(arr, json_object_new_string(line));
    }
    pthread_mutex_unlock(&h->lock);
    if (!e) {
        json_object_put(arr);
        json_object_put(o);
        return reply_err(c, "input", "no guest %s on host %s", name, h->name);
    }
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "lines", arr);
    return send_obj(c, o);
}

static int do_destroy(struct ctl *c)
{
    enum mig_hg_state st = MIG_HG_RUNNING;
    struct mig_host *h = c->h;
    struct hguest *e;
    const char *name;
    int rc = 0;

    name = guest_name(c, &rc);
    if (!name)
        return rc;
    pthread_mutex_lock(&h->lock);
    e = find_in_state(h, name, HG(MIG_HG_RUNNING) | HG(MIG_HG_PAUSED), &rc,
                      &st);
    if (e)
        mig__host_remove(h, e);
    pthread_mutex_unlock(&h->lock);
    if (rc)
        return reply_guest_failed(c, rc, name, st, "running or undefined",
                                  "destroy");
    return send_obj(c, ok_obj());
}

int mig_host_policy_set(struct sim_scenario *sc, const char *flag,
                        const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < sim_scenario_nkeys(); i++) {
        const struct sim_scenario_key *k = sim_scenario_key_at(i);

        if (!k->flag || strcmp(k->flag, flag))
            continue;
        if (strcmp(k->section, "migration") || !strcmp(k->flag, "mode"))
            break;
        return sim_scenario_set_flag(sc, flag, value, err, errlen);
    }
    snprintf(err, errlen, "--%s is not a policy flag", flag);
    return MIG_ENOTSUP;
}

/* Policy from [["flag", "value"], ...]; replies and returns 1 on error. */
static int policy_from_req(struct ctl *c, struct mig_policy *pol, int *rc)
{
    struct json_object *arr, *pair, *f, *v;
    struct sim_scenario sc;
    char err[320];
    int bad = 0;

    sim_scenario_init(&sc);
    if (json_object_object_get_ex(c->req, "policy", &arr)) {
        if (!json_object_is_type(arr, json_type_array))
            bad = 1;
        for (size_t i = 0; !bad && i < json_object_array_length(arr); i++) {
            pair = json_object_array_get_idx(arr, i);
            if (!json_object_is_type(pair, json_type_array) ||
                json_object_array_length(pair) != 2 ||
                !json_object_is_type(f = json_object_array_get_idx(pair, 0),
                                     json_type_string) ||
                !json_object_is_type(v = json_object_array_get_idx(pair, 1),
                                     json_type_string)) {
                bad = 1;
                break;
            }
            if (mig_host_policy_set(&sc, json_object_get_string(f),
                                    json_object_get_string(v), err,
                                    sizeof(err))) {
                *rc = reply_err(c, "input", "%s", err);
                sim_scenario_free(&sc);
                return 1;
            }
        }
    }
    *pol = sc.cfg.policy;
    sim_scenario_free(&sc);
    if (bad)
        *rc = reply_err(c, "input", "\"policy\" must be a list of "
                        "[\"flag\", \"value\"] pairs");
    return bad;
}

static void on_pass(void *opaque, const struct sim_pass *p)
{
    struct ctl *c = opaque;
    struct json_object *o = json_object_new_object();
    struct json_object *pr = json_object_new_object();

    if (!o || !pr) {
        json_object_put(pr);
        json_object_put(o);
        return;
    }
    json_object_object_add(pr, "pass", json_object_new_int((int)p->index));
    json_object_object_add(pr, "live", json_object_new_boolean(p->live));
    json_object_object_add(pr, "pages",
                           json_object_new_int64((int64_t)p->pages));
    json_object_object_add(pr, "bytes",
                           json_object_new_int64((int64_t)p->bytes));
    json_object_object_add(pr, "duration_s",
                           json_object_new_double(p->duration_s));
    json_object_object_add(pr, "MBps", json_object_new_double(
        p->duration_s > 0 ? (double)p->bytes / p->duration_s / 1e6 : 0));
    json_object_object_add(o, "progress", pr);
    /* A client that went away does not stop the migration. */
    (void)send_obj(c, o);
}

struct outgoing {
    struct mig_host *h;
    struct hguest *e;           /* MIGRATING: stays valid */
};

/*
 * Sender phase hook: record where the commit stands before each step that
 * changes what a restarted daemon must do (suspended, GO about to go out,
 * the destination reported its copy running), then fire the test fault.
 * A failure to record "go-sent" stops short of GO.
 */
static int send_phase(void *opaque, enum mig_phase p, unsigned n,
                      struct mig_chan *ch)
{
    struct outgoing *out = opaque;
    struct mig_host *h = out->h;
    int rc = 0;

    pthread_mutex_lock(&h->lock);
    if (p == MIG_PHASE_STOP_COPY)
        rc = mig__host_persist(h, out->e, MIG_GPHASE_SUSPENDED);
    else if (p == MIG_PHASE_GO)
        rc = mig__host_persist(h, out->e, MIG_GPHASE_GO_SENT);
    else if (p == MIG_PHASE_REPORT && h->state_dir[0])
        mig_hstate_remove(h->state_dir, out->e->name);
    pthread_mutex_unlock(&h->lock);
    if (!rc && h->has_fault)
        rc = mig_fault_fire(&h->fault, MIG_FAULT_SEND, p, n, ch);
    return rc;
}

/* {"from": host, "seed": n, "console": [lines]} for the destination. */
static char *host_json(struct mig_host *h, struct hguest *e)
{
    struct json_object *o = json_object_new_object();
    struct json_object *arr = json_object_new_array();
    char *out = NULL;

    if (!o || !arr) {
        json_object_put(arr);
        json_object_put(o);
        return NULL;
    }
    json_object_object_add(o, "from", json_object_new_string(h->name));
    if (e->ip[0])
        json_object_object_add(o, "ip", json_object_new_string(e->ip));
    json_object_object_add(o, "seed", json_object_new_int64(
                                          (int64_t)e->seed));
    for (size_t i = 0; i < e->nlog; i++)
        json_object_array_add(arr, json_object_new_string(e->log[i]));
    json_object_object_add(o, "console", arr);
    out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return out;
}

/*
 * Without a key: whether the destination opens with the MLAUTH challenge
 * instead of xl's banner (peeked, not consumed).  1 yes, 0 no or unknown
 * (mig_send then reports what it finds).
 */
static int dst_wants_auth(struct mig_chan *ch)
{
    char buf[MIG_AUTH_MAGIC_LEN];
    double waited_ms = 0;

    while (waited_ms < MIG_HOST_AUTH_TIMEOUT_MS) {
        struct pollfd p = { .fd = ch->rfd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, MIG_HOST_AUTH_TIMEOUT_MS) <= 0)
            return 0;
        n = recv(ch->rfd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0 || memcmp(buf, MIG_AUTH_MAGIC, (size_t)n))
            return 0;
        if ((size_t)n == sizeof(buf))
            return 1;
        /* A prefix of the magic so far: the rest is on its way. */
        (void)poll(NULL, 0, 10);
        waited_ms += 10;
    }
    return 0;
}

/*
 * Authenticate an outgoing migration channel as the host is configured:
 * with a key, mig_auth_sender(); without, make sure the destination does
 * not expect one.  0, or an error with the reason for the migrate user in
 * msg (the guest was never paused).
 */
static int outgoing_auth(struct mig_host *h, struct mig_chan *ch,
                         const char *dst, char *msg, size_t msglen)
{
    char err[200] = "";
    int saved = ch->timeout_ms;
    int rc;

    if (!h->has_psk) {
        if (!dst_wants_auth(ch))
            return 0;
        snprintf(msg, msglen, "migration failed, guest resumed at source: "
                 "destination %s requires authentication (start this host "
                 "with --psk)", dst);
        return MIG_EAUTH;
    }
    mig_chan_set_timeout(ch, MIG_HOST_AUTH_TIMEOUT_MS);
    rc = mig_auth_sender(ch, &h->psk, err, sizeof(err));
    mig_chan_set_timeout(ch, saved);
    if (!rc)
        return 0;
    if (rc == MIG_EAUTH && strstr(err, "does not speak"))
        snprintf(msg, msglen, "migration failed, guest resumed at source: "
                 "destination %s does not authenticate (it answered with "
                 "xl's banner); use the same --psk on both hosts or "
                 "--no-auth on both", dst);
    else if (rc == MIG_EAUTH)
        snprintf(msg, msglen, "migration failed, guest resumed at source: "
                 "authentication with %s failed: %.60s (the hosts have "
                 "different --psk keys?)", dst, err);
    else if (rc == MIG_EINCOMPLETE || rc == -ECONNRESET)
        snprintf(msg, msglen, "migration failed, guest resumed at source: "
                 "authentication: %s closed the connection (it refuses us: "
                 "its --allow list, or it has no --psk; see its log)", dst);
    else
        snprintf(msg, msglen, "migration failed, guest resumed at source: "
                 "authentication with %s: %.60s (%s)", dst, err,
                 mig_strerror(rc));
    return rc;
}

/* What connecting found wrong, for the migrate user. */
static void connect_error(const char *dst, unsigned port, const char *cc,
                          int rc, char *msg, size_t msglen)
{
    if (cc && (rc == -ENOENT || rc == -EPERM))
        snprintf(msg, msglen, "migration failed, guest resumed at source: "
                 "TCP congestion control '%s' %s on this host (see "
                 "/proc/sys/net/ipv4/tcp_available_congestion_control)", cc,
                 rc == -ENOENT ? "is unknown" : "is not permitted");
    else
        snprintf(msg, msglen, "migration failed, guest resumed at source: "
                 "cannot connect to %s:%u: %s", dst, port, mig_strerror(rc));
}

static int do_migrate(struct ctl *c)
{
    enum mig_hg_state st = MIG_HG_RUNNING;
    struct mig_host *h = c->h;
    struct mig_send_opts o;
    struct mig_chan *ch = NULL;
    struct json_object *reply, *res;
    struct mig_run run;
    struct hguest *e;
    struct outgoing og = { .h = h };
    const char *name, *dst = NULL, *cc = NULL;
    struct mig_tcp_opts topts = { 0 };
    uint64_t port = 0, timeout_s = 0;
    bool live = false;
    char *hj;
    int rc = 0;

    name = guest_name(c, &rc);
    if (!name)
        return rc;
    if (get_str(c, "host", &dst) || !dst[0] ||
        get_u64(c, "port", 65535, &port) || port == 0 ||
        get_bool(c, "live", &live) < 0 ||
        get_u64(c, "timeout", 86400, &timeout_s) < 0)
        return reply_err(c, "input", "\"host\" (string), \"port\" "
                         "(1..65535), \"live\" (boolean) and \"timeout\" "
                         "(seconds, 0..86400) expected");
    if (get_str(c, "cc", &cc) < 0 || (cc && !cc_name_valid(cc)))
        return reply_err(c, "input", "\"cc\" must be a TCP congestion "
                         "control name (1-15 of a-z 0-9 _ -)");
    topts.congestion = cc;
    mig_send_opts_defaults(&o);
    if (policy_from_req(c, &o.policy, &rc))
        return rc;
    if (live && mig_policy_validate(&o.policy))
        return reply_err(c, "input", "invalid policy parameters");
    o.live = live;
    o.admission = true;
    o.progress = on_pass;
    o.progress_opaque = c;
    o.phase = send_phase;
    o.phase_opaque = &og;

    pthread_mutex_lock(&h->lock);
    e = find_in_state(h, name, HG(MIG_HG_RUNNING), &rc, &st);
    if (e)
        e->state = MIG_HG_MIGRATING;
    pthread_mutex_unlock(&h->lock);
    if (rc)
        return reply_guest_failed(c, rc, name, st, "running", "migrate");
    /* MIGRATING keeps the entry alive: destroy and other migrations refuse
     * it, so e and e->g stay valid without the lock. */
    pthread_mutex_lock(&h->lock);
    mig__host_log(e, "%s migration from host %s to %s:%u", live ? "live"
                  : "cold", h->name, dst, (unsigned)port);
    (void)mig__host_persist(h, e, MIG_GPHASE_MIGRATING);
    hj = host_json(h, e);
    pthread_mutex_unlock(&h->lock);
    og.e = e;
    o.name = e->name;
    o.host_json = hj;
    mig_run_init(&run);
    rc = mig_chan_tcp_connect(dst, (uint16_t)port,
                              timeout_s ? (int)timeout_s * 1000
                                        : h->timeout_ms, &topts, &ch);
    if (rc) {
        connect_error(dst, (unsigned)port, cc, rc, run.msg,
                      sizeof(run.msg));
        run.resumed_at_source = true;
    } else {
        mig_chan_set_timeout(ch, timeout_s ? (int)timeout_s * 1000
                                           : h->timeout_ms);
        mig__host_track(h, ch->rfd, true);
        rc = outgoing_auth(h, ch, dst, run.msg, sizeof(run.msg));
        if (rc)
            run.resumed_at_source = true;
        else
            rc = mig_send(e->g, ch, &o, &run);
        mig__host_track(h, ch->rfd, false);
        mig_chan_free(ch);
    }
    free(hj);

    pthread_mutex_lock(&h->lock);
    if (!rc) {
        mig__host_remove(h, e);
    } else if (run.committed && !run.resumed_at_source) {
        e->state = MIG_HG_PAUSED;
        mig__host_log(e, "%s", run.msg);
    } else {
        e->state = MIG_HG_RUNNING;
        mig__host_log(e, "%s", run.msg);
        (void)mig__host_persist(h, e, MIG_GPHASE_RUNNING);
    }
    pthread_mutex_unlock(&h->lock);

    res = rc && !run.result.npasses && !run.refused ? NULL
                                                    : mig_run_to_json(&run);
    if (rc) {
        reply = json_object_new_object();
        if (reply) {
            json_object_object_add(reply, "ok", json_object_new_boolean(0));
            json_object_object_add(reply, "kind",
                                   json_object_new_string("failed"));
            json_object_object_add(reply, "refused",
                                   json_object_new_boolean(run.refused));
            json_object_object_add(reply, "resumed_at_source",
                                   json_object_new_boolean(
                                       run.resumed_at_source));
            json_object_object_add(reply, "error",
                                   json_object_new_string(run.msg));
        }
    } else {
        reply = ok_obj();
    }
    if (reply && res)
        json_object_object_add(reply, "result", res);
    else
        json_object_put(res);
    mig_run_clear(&run);
    return send_obj(c, reply);
}

/*
 * Operator's way out of the undefined state: run the paused guest here.
 * Only the operator knows the destination does not run it.
 */
static int do_resume(struct ctl *c)
{
    enum mig_hg_state st = MIG_HG_RUNNING;
    struct mig_host *h = c->h;
    struct mig_guest *g;
    struct hguest *e;
    const char *name;
    int rc = 0;

    name = guest_name(c, &rc);
    if (!name)
        return rc;
    pthread_mutex_lock(&h->lock);
    e = find_in_state(h, name, HG(MIG_HG_PAUSED), &rc, &st);
    if (e) {
        g = e->g;
        (void)g->ops->set_throttle(g, 0);
        (void)g->ops->logdirty_disable(g);
        rc = e->stopped ? g->ops->start(g) : g->ops->resume(g);
        if (!rc) {
            e->stopped = false;
            e->state = MIG_HG_RUNNING;
            mig__host_log(e, "resumed on host %s by the operator", h->name);
            (void)mig__host_persist(h, e, MIG_GPHASE_RUNNING);
            /* A guest paused by a failed commit kept its responder. */
            if (!e->hb)
                mig__host_net_up(h, e);
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (rc)
        return reply_guest_failed(c, rc, name, st, "undefined", "resume");
    return send_obj(c, ok_obj());
}

/*
 * Check a guest's memory: suspend it (a running one), check every page
 * stamp, digest the memory with XXH3-64, and let it run again.
 */
static int do_verify(struct ctl *c)
{
    enum mig_hg_state st = MIG_HG_RUNNING;
    struct mig_host *h = c->h;
    struct mig_guest_desc d = { 0 };
    struct json_object *o;
    struct hguest *e;
    const char *name;
    uint64_t bad = 0, first = UINT64_MAX, digest = 0;
    char hex[20];
    int rc = 0;

    name = guest_name(c, &rc);
    if (!name)
        return rc;
    pthread_mutex_lock(&h->lock);
    e = find_in_state(h, name, HG(MIG_HG_RUNNING) | HG(MIG_HG_PAUSED), &rc,
                      &st);
    if (e) {
        struct mig_guest *g = e->g;
        bool run = e->state == MIG_HG_RUNNING;

        if (run)
            rc = g->ops->suspend(g);
        if (!rc)
            rc = g->ops->describe(g, &d);
        if (!rc) {
            bad = mig_guest_emu_check_stamps(g, &first);
            digest = XXH3_64bits(mig_guest_emu_mem(g),
                                 (size_t)d.nr_pages * 4096);
        }
        if (run)
            (void)g->ops->resume(g);
    }
    pthread_mutex_unlock(&h->lock);
    if (rc)
        return reply_guest_failed(c, rc, name, st, "running or undefined",
                                  "verify");
    o = ok_obj();
    if (o) {
        snprintf(hex, sizeof(hex), "%016" PRIx64, digest);
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "pages", json_object_new_int64(
                                               (int64_t)d.nr_pages));
        json_object_object_add(o, "bad_pages",
                               json_object_new_int64((int64_t)bad));
        if (bad)
            json_object_object_add(o, "first_bad", json_object_new_int64(
                                                       (int64_t)first));
        json_object_object_add(o, "digest", json_object_new_string(hex));
    }
    return send_obj(c, o);
}

static const struct {
    const char *cmd;
    int (*run)(struct ctl *c);
} handlers[] = {
    { "create", do_create },
    { "list", do_list },
    { "console", do_console },
    { "destroy", do_destroy },
    { "migrate", do_migrate },
    { "resume", do_resume },
    { "verify", do_verify },
};

int mig_host_request(struct mig_host *h, const char *line,
                     mig_host_emit_fn *emit, void *opaque)
{
    struct ctl c = { .h = h, .emit = emit, .opaque = opaque };
    enum json_tokener_error jerr;
    const char *cmd = NULL;
    int rc;

    c.req = json_tokener_parse_verbose(line, &jerr);
    if (!c.req || !json_object_is_type(c.req, json_type_object)) {
        json_object_put(c.req);
        c.req = NULL;
        return reply_err(&c, "input", "bad request: not a JSON object");
    }
    if (get_str(&c, "cmd", &cmd)) {
        rc = reply_err(&c, "input", "bad request: no \"cmd\" string");
        goto out_put;
    }
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        if (!strcmp(cmd, handlers[i].cmd)) {
            rc = handlers[i].run(&c);
            goto out_put;
        }
    }
    rc = reply_err(&c, "input", "unknown command \"%.64s\"", cmd);
out_put:
    json_object_put(c.req);
    return rc;
}
