/* SPDX-License-Identifier: MIT */
/*
 * host.c - the host daemon (host.h): sockets, worker threads, the guest
 * table and incoming migrations.  The control requests themselves are in
 * host_ctl.c; docs/host-protocol.md specifies both.
 *
 * Memory accounting: a guest holds its memory size from create (or from
 * admission of an incoming migration) until it is destroyed or has left;
 * an incoming guest is listed as "incoming" while its pages arrive.
 */
#include "host_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sodium.h>
#include <unistd.h>

#include "guest_emu.h"
#include "receiver.h"

#define POLL_MS 200

/* ---------------------------------------------------------------------- *
 * Small helpers
 * ---------------------------------------------------------------------- */

char *mig_host_format_size(char *buf, size_t len, uint64_t bytes)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
                                        "EiB" };
    double v = (double)bytes;
    int u = -1;

    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, len, "%.2f %s", v, unit[u]);
    return buf;
}

bool mig__ip_valid(const char *ip)
{
    struct in_addr a;

    return ip && strlen(ip) < 16 && inet_pton(AF_INET, ip, &a) == 1;
}

int mig_host_name_valid(const char *name)
{
    size_t n = 0;

    if (!name)
        return 0;
    for (const char *c = name; *c; c++, n++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' ||
              *c == '-'))
            return 0;
    }
    return n >= 1 && n <= MIG_HOST_NAME_MAX;
}

int mig_host_admit_check(uint64_t capacity, uint64_t used, uint64_t need,
                         const char *host, const char *guest, char *err,
                         size_t errlen)
{
    uint64_t avail = used < capacity ? capacity - used : 0;
    char a[32], b[32];

    if (need <= avail)
        return 0;
    if (err && errlen)
        snprintf(err, errlen, "host %s refuses guest %s: needs %s, %s free",
                 host, guest, mig_host_format_size(a, sizeof(a), need),
                 mig_host_format_size(b, sizeof(b), avail));
    return MIG_ERANGE;
}

/* ---------------------------------------------------------------------- *
 * Guest table (callers hold h->lock)
 * ---------------------------------------------------------------------- */

struct hguest *mig__host_find(struct mig_host *h, const char *name)
{
    for (struct hguest *g = h->guests; g; g = g->next)
        if (!strcmp(g->name, name))
            return g;
    return NULL;
}

uint64_t mig__host_used(const struct mig_host *h)
{
    uint64_t used = 0;

    for (const struct hguest *g = h->guests; g; g = g->next)
        used += g->mem;
    return used;
}

void mig__host_log(struct hguest *g, const char *fmt, ...)
{
    char line[MIG_HOST_LOG_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (g->nlog == MIG_HOST_LOG_LINES) {
        memmove(g->log[0], g->log[1],
                (MIG_HOST_LOG_LINES - 1) * sizeof(g->log[0]));
        g->nlog--;
    }
    snprintf(g->log[g->nlog++], sizeof(g->log[0]), "%s", line);
}

struct hguest *mig__host_add(struct mig_host *h, const char *name,
                             uint64_t mem)
{
    struct hguest *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    snprintf(g->name, sizeof(g->name), "%s", name);
    g->mem = mem;
    g->next = h->guests;
    h->guests = g;
    return g;
}

void mig__host_net_up(struct mig_host *h, struct hguest *e)
{
    bool moved = h->guest_dev[0] && e->ip[0];
    char err[200];
    int rc;

    if (moved) {
        rc = mig_ip_addr(h->guest_dev, e->ip, 1, err, sizeof(err));
        if (rc)
            mig__host_log(e, "address %s not added on %s: %s", e->ip,
                          h->guest_dev, err);
    }
    rc = mig_hb_start(e->g, moved ? e->ip : "127.0.0.1",
                      moved ? MIG_HB_PORT : 0, &e->hb);
    if (rc)
        mig__host_log(e, "no heartbeat on host %s: %s", h->name,
                      mig_strerror(rc));
    else
        mig__host_log(e, "heartbeat on %s:%u (host %s)",
                      moved ? e->ip : "127.0.0.1",
                      (unsigned)mig_hb_port(e->hb), h->name);
    if (moved && mig_garp_send(h->guest_dev, e->ip, err, sizeof(err)))
        mig__host_log(e, "no gratuitous ARP for %s: %s", e->ip, err);
}

/* The guest leaves or dies: its heartbeat stops, its address goes. */
static void net_down(struct mig_host *h, struct hguest *e)
{
    char err[200];

    mig_hb_stop(e->hb);
    e->hb = NULL;
    if (h->guest_dev[0] && e->ip[0] && e->g)
        (void)mig_ip_addr(h->guest_dev, e->ip, 0, err, sizeof(err));
}

/* Unlink and free the entry (and its guest). */
void mig__host_remove(struct mig_host *h, struct hguest *dead)
{
    for (struct hguest **pp = &h->guests; *pp; pp = &(*pp)->next) {
        if (*pp == dead) {
            *pp = dead->next;
            net_down(h, dead);
            mig_guest_free(dead->g);
            free(dead);
            return;
        }
    }
}

/* Connections shut down on exit: control clients and migration channels. */
void mig__host_track(struct mig_host *h, int fd, bool on)
{
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < MIG_HOST_MAX_CONN; i++) {
        if (on && h->conn_fd[i] < 0) {
            h->conn_fd[i] = fd;
            break;
        }
        if (!on && h->conn_fd[i] == fd) {
            h->conn_fd[i] = -1;
            break;
        }
    }
    if (on && h->stopping)
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&h->lock);
}

/* ---------------------------------------------------------------------- *
 * Incoming migrations
 * ---------------------------------------------------------------------- */

struct incoming {
    struct mig_host *h;
    struct hguest *entry;       /* reserved at admission */
};

static void take_console(struct hguest *g, const char *config)
{
    struct json_object *root = json_tokener_parse(config);
    struct json_object *mh, *lines, *v;

    if (!root)
        return;
    if (json_object_object_get_ex(root, "miglab_host", &mh)) {
        if (json_object_object_get_ex(mh, "console", &lines) &&
            json_object_is_type(lines, json_type_array)) {
            size_t n = json_object_array_length(lines);

            for (size_t i = 0; i < n && i < MIG_HOST_LOG_LINES; i++) {
                v = json_object_array_get_idx(lines, i);
                if (json_object_is_type(v, json_type_string))
                    mig__host_log(g, "%s", json_object_get_string(v));
            }
        }
        if (json_object_object_get_ex(mh, "from", &v) &&
            json_object_is_type(v, json_type_string))
            snprintf(g->from, sizeof(g->from), "%s",
                     json_object_get_string(v));
        if (json_object_object_get_ex(mh, "ip", &v) &&
            json_object_is_type(v, json_type_string) &&
            mig__ip_valid(json_object_get_string(v)))
            snprintf(g->ip, sizeof(g->ip), "%s", json_object_get_string(v));
        if (json_object_object_get_ex(mh, "seed", &v))
            g->seed = (uint64_t)json_object_get_int64(v);
    }
    json_object_put(root);
}

static int admit(void *opaque, const struct mig_admit_req *req, char *err,
                 size_t errlen)
{
    struct incoming *in = opaque;
    struct mig_host *h = in->h;
    int rc;

    if (!mig_host_name_valid(req->name)) {
        snprintf(err, errlen, "host %s refuses the guest: bad name",
                 h->name);
        return MIG_ERANGE;
    }
    if (req->mem_bytes == 0 || req->mem_bytes % 4096) {
        snprintf(err, errlen, "host %s refuses guest %s: memory size "
                 "missing from the config", h->name, req->name);
        return MIG_ERANGE;
    }
    pthread_mutex_lock(&h->lock);
    if (mig__host_find(h, req->name)) {
        snprintf(err, errlen, "host %s refuses guest %s: a guest of that "
                 "name exists", h->name, req->name);
        rc = MIG_ERANGE;
    } else {
        rc = mig_host_admit_check(h->capacity, mig__host_used(h),
                                  req->mem_bytes, h->name, req->name, err,
                                  errlen);
    }
    if (!rc) {
        in->entry = mig__host_add(h, req->name, req->mem_bytes);
        if (!in->entry) {
            rc = MIG_ENOMEM;
        } else {
            in->entry->state = MIG_HG_INCOMING;
            in->entry->vcpus = req->vcpus;
            take_console(in->entry, req->config);
        }
    }
    pthread_mutex_unlock(&h->lock);
    return rc;
}

static int create(void *opaque, const struct mig_guest_desc *desc,
                  struct mig_guest **out, char *err, size_t errlen)
{
    struct incoming *in = opaque;
    uint64_t cap;

    *out = NULL;
    if (!in->entry) {
        /* A sender that skipped the xl header: admission is mandatory. */
        snprintf(err, errlen, "guest arrived without an xl save header");
        return MIG_ERANGE;
    }
    /* SPEC host-protocol.md: GUEST_INFO may not exceed what was admitted. */
    cap = in->entry->mem;
    return mig_guest_emu_create(&cap, desc, out, err, errlen);
}

const char *mig_host_auth_note(const struct mig_host *h, char *buf,
                               size_t len)
{
    char who[64];

    if (!h->allow.n)
        snprintf(who, sizeof(who), "nobody (no --allow)");
    else
        snprintf(who, sizeof(who), "%zu allowed network%s", h->allow.n,
                 h->allow.n == 1 ? "" : "s");
    if (h->no_auth)
        snprintf(buf, len, "incoming migrations: from %s, WITHOUT "
                 "authentication (--no-auth)", who);
    else if (h->has_psk)
        snprintf(buf, len, "incoming migrations: from %s, senders must "
                 "prove the pre-shared key", who);
    else
        snprintf(buf, len, "incoming migrations: all refused (no --psk and "
                 "no --no-auth); this host may only send");
    return buf;
}

/*
 * Who may send us a guest: the allow-list first, then (unless no_auth) the
 * key proof, all before xl's banner and within MIG_HOST_AUTH_TIMEOUT_MS.
 * 0 lets the stream start; otherwise the refusal has been logged on stderr
 * and the caller closes the connection.
 */
static int incoming_gate(struct mig_host *h, struct mig_chan *ch)
{
    char peer[64] = "?", why[320], err[200] = "";
    int saved = ch->timeout_ms;
    int rc;

    rc = mig_allow_check_fd(&h->allow, ch->rfd, peer, sizeof(peer));
    if (rc == MIG_EREFUSED) {
        snprintf(why, sizeof(why), "not allowed (%s)",
                 h->allow.n ? "address outside every --allow network"
                            : "no --allow configured");
        goto refused;
    }
    if (rc) {
        snprintf(why, sizeof(why), "peer address unreadable: %s",
                 mig_strerror(rc));
        goto refused;
    }
    if (h->no_auth)
        return 0;
    if (!h->has_psk) {
        rc = MIG_EREFUSED;
        snprintf(why, sizeof(why), "no key configured (this host takes no "
                 "incoming migrations without --psk or --no-auth)");
        goto refused;
    }
    mig_chan_set_timeout(ch, MIG_HOST_AUTH_TIMEOUT_MS);
    rc = mig_auth_receiver(ch, &h->psk, err, sizeof(err));
    mig_chan_set_timeout(ch, saved);
    if (!rc)
        return 0;
    if (rc == -ETIMEDOUT)
        snprintf(why, sizeof(why), "timeout: no authentication within "
                 "%u s", MIG_HOST_AUTH_TIMEOUT_MS / 1000U);
    else if (rc == MIG_EAUTH && strstr(err, "key proof"))
        snprintf(why, sizeof(why), "bad MAC: %s", err);
    else if (rc == MIG_EAUTH)
        snprintf(why, sizeof(why), "replay or malformed: %s", err);
    else
        snprintf(why, sizeof(why), "authentication aborted: %s (%s)", err,
                 mig_strerror(rc));
refused:
    fprintf(stderr, "miglab host %s: refused incoming migration from %s: "
            "%s\n", h->name, peer, why);
    return rc ? rc : MIG_EREFUSED;
}

static void incoming_run(struct mig_host *h, struct mig_chan *ch)
{
    struct incoming in = { .h = h };
    struct mig_recv_opts o = { .create = create, .create_opaque = &in,
                               .admit = admit, .admit_opaque = &in };
    struct mig_recv_info info;
    struct mig_guest *g = NULL;
    char wl[256];
    int rc;

    mig__host_track(h, ch->rfd, true);
    rc = incoming_gate(h, ch);
    if (!rc)
        rc = mig_receive(ch, &o, &g, &info);
    mig__host_track(h, ch->rfd, false);
    pthread_mutex_lock(&h->lock);
    if (rc) {
        if (in.entry)
            mig__host_remove(h, in.entry);
    } else {
        in.entry->g = g;
        in.entry->state = MIG_HG_RUNNING;
        in.entry->vcpus = info.desc.vcpus;
        in.entry->mem = info.desc.nr_pages * 4096;
        snprintf(in.entry->workload, sizeof(in.entry->workload), "%s",
                 mig_guest_emu_workload(g, wl, sizeof(wl)));
        if (info.downtime_s > 0)
            mig__host_log(in.entry, "resumed on host %s after %.0f ms "
                          "(migrated from %s)", h->name,
                          info.downtime_s * 1e3,
                          in.entry->from[0] ? in.entry->from : "?");
        else
            mig__host_log(in.entry, "resumed on host %s", h->name);
        mig__host_net_up(h, in.entry);
    }
    pthread_mutex_unlock(&h->lock);
}

/* ---------------------------------------------------------------------- *
 * Workers
 * ---------------------------------------------------------------------- */

static int emit_fd(void *opaque, const char *line)
{
    int fd = *(int *)opaque;
    size_t len = strlen(line);
    char *buf = malloc(len + 1);
    size_t off = 0;
    int rc = 0;

    if (!buf)
        return MIG_ENOMEM;
    memcpy(buf, line, len);
    buf[len++] = '\n';
    while (off < len) {
        ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EPIPE;
            break;
        }
        off += (size_t)w;
    }
    free(buf);
    return rc;
}

static void control_run(struct mig_host *h, int fd)
{
    char *buf = malloc(MIG_HOST_LINE_MAX + 1);
    size_t have = 0;

    if (!buf)
        return;
    mig__host_track(h, fd, true);
    for (;;) {
        char *nl;
        ssize_t r;

        nl = memchr(buf, '\n', have);
        if (nl) {
            size_t used = (size_t)(nl - buf) + 1;

            *nl = '\0';
            if (mig_host_request(h, buf, emit_fd, &fd))
                break;
            memmove(buf, buf + used, have - used);
            have -= used;
            continue;
        }
        if (have == MIG_HOST_LINE_MAX) {
            (void)emit_fd(&fd, "{\"ok\": false, \"kind\": \"input\", "
                          "\"error\": \"request line too long\"}");
            break;
        }
        r = recv(fd, buf + have, MIG_HOST_LINE_MAX - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    mig__host_track(h, fd, false);
    free(buf);
}

static void *worker_main(void *arg)
{
    struct hworker *w = arg;

    if (w->ch)
        incoming_run(w->h, w->ch);
    else
        control_run(w->h, w->fd);
    atomic_store(&w->done, true);
    return NULL;
}

static void reap(struct mig_host *h, bool all)
{
    struct hworker **pp = &h->workers;

    while (*pp) {
        struct hworker *w = *pp;

        if (!all && !atomic_load(&w->done)) {
            pp = &w->next;
            continue;
        }
        pthread_join(w->th, NULL);
        *pp = w->next;
        mig_chan_free(w->ch);
        if (w->fd >= 0)
            close(w->fd);
        free(w);
    }
}

static void spawn(struct mig_host *h, int fd, struct mig_chan *ch)
{
    struct hworker *w = calloc(1, sizeof(*w));

    if (!w)
        goto out_close;
    w->h = h;
    w->fd = fd;
    w->ch = ch;
    atomic_init(&w->done, false);
    if (pthread_create(&w->th, NULL, worker_main, w)) {
        free(w);
        goto out_close;
    }
    w->next = h->workers;
    h->workers = w;
    return;

out_close:
    if (fd >= 0)
        close(fd);
    mig_chan_free(ch);
}

/* ---------------------------------------------------------------------- *
 * Life cycle
 * ---------------------------------------------------------------------- */

static int bind_control(struct mig_host *h, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char dir[sizeof(sa.sun_path)];
    char *slash;
    mode_t old;
    int fd, rc;

    if (strlen(h->control) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "control path too long: %s", h->control);
        return MIG_EINVAL;
    }
    memcpy(sa.sun_path, h->control, strlen(h->control) + 1);
    snprintf(dir, sizeof(dir), "%s", h->control);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0700) && errno != EEXIST) {
            rc = -errno;
            snprintf(err, errlen, "cannot create %s: %s", dir,
                     strerror(errno));
            return rc;
        }
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        close(fd);
        snprintf(err, errlen, "another host daemon serves %s", h->control);
        return -EADDRINUSE;
    }
    /* Nobody answers: a stale socket from a crashed daemon, or nothing. */
    (void)unlink(h->control);
    old = umask(0177);
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc || listen(fd, 16)) {
        rc = -errno;
        snprintf(err, errlen, "cannot listen on %s: %s", h->control,
                 strerror(errno));
        close(fd);
        return rc;
    }
    (void)chmod(h->control, 0600);
    h->ctl_fd = fd;
    return 0;
}

int mig_host_new(const struct mig_host_cfg *cfg, struct mig_host **out,
                 char *err, size_t errlen)
{
    struct mig_host *h;
    int rc;

    *out = NULL;
    if (!cfg->mem_capacity) {
        snprintf(err, errlen, "memory capacity must be positive");
        return MIG_EINVAL;
    }
    if (cfg->name && !mig_host_name_valid(cfg->name)) {
        snprintf(err, errlen, "bad host name '%s' (1-63 of A-Z a-z 0-9 _ . -)",
                 cfg->name);
        return MIG_EINVAL;
    }
    if (cfg->guest_dev && (!cfg->guest_dev[0] ||
                           strlen(cfg->guest_dev) >= sizeof(h->guest_dev))) {
        snprintf(err, errlen, "bad guest device '%s'", cfg->guest_dev);
        return MIG_EINVAL;
    }
    if (cfg->psk && cfg->no_auth) {
        snprintf(err, errlen, "a key and no authentication exclude each "
                 "other (--psk or --no-auth)");
        return MIG_EINVAL;
    }
    h = calloc(1, sizeof(*h));
    if (!h)
        return MIG_ENOMEM;
    if (cfg->psk) {
        h->psk = *cfg->psk;
        h->has_psk = true;
    }
    h->no_auth = cfg->no_auth;
    if (cfg->allow)
        h->allow = *cfg->allow;
    pthread_mutex_init(&h->lock, NULL);
    h->tcp_fd = h->ctl_fd = -1;
    for (size_t i = 0; i < MIG_HOST_MAX_CONN; i++)
        h->conn_fd[i] = -1;
    h->capacity = cfg->mem_capacity;
    snprintf(h->name, sizeof(h->name), "%s", cfg->name ? cfg->name : "host");
    snprintf(h->guest_dev, sizeof(h->guest_dev), "%s",
             cfg->guest_dev ? cfg->guest_dev : "");
    snprintf(h->control, sizeof(h->control), "%s",
             cfg->control_path ? cfg->control_path
                               : MIG_HOST_CONTROL_DEFAULT);
    rc = mig_tcp_listen(cfg->listen_host, cfg->listen_port, 16, &h->tcp_fd,
                        &h->port);
    if (rc) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s",
                 cfg->listen_host ? cfg->listen_host : "*",
                 (unsigned)cfg->listen_port, mig_strerror(rc));
        h->tcp_fd = -1;
        goto out_free;
    }
    rc = bind_control(h, err, errlen);
    if (rc)
        goto out_free;
    h->bound = true;
    *out = h;
    return 0;

out_free:
    mig_host_free(h);
    return rc;
}

uint16_t mig_host_port(const struct mig_host *h)
{
    return h->port;
}

int mig_host_run(struct mig_host *h, int stop_fd)
{
    for (;;) {
        struct pollfd p[3] = { { .fd = stop_fd, .events = POLLIN },
                               { .fd = h->tcp_fd, .events = POLLIN },
                               { .fd = h->ctl_fd, .events = POLLIN } };
        int n = poll(p, 3, POLL_MS);

        if (n < 0 && errno != EINTR)
            return -errno;
        reap(h, false);
        if (n <= 0)
            continue;
        if (p[0].revents)
            return 0;
        if (p[1].revents & POLLIN) {
            struct mig_chan *ch;

            if (!mig_chan_tcp_accept(h->tcp_fd, 0, NULL, &ch))
                spawn(h, -1, ch);
        }
        if (p[2].revents & POLLIN) {
            int fd = accept(h->ctl_fd, NULL, NULL);

            if (fd >= 0) {
                (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
                spawn(h, fd, NULL);
            }
        }
    }
}

void mig_host_free(struct mig_host *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    for (size_t i = 0; i < MIG_HOST_MAX_CONN; i++)
        if (h->conn_fd[i] >= 0)
            shutdown(h->conn_fd[i], SHUT_RDWR);
    pthread_mutex_unlock(&h->lock);
    reap(h, true);
    while (h->guests)
        mig__host_remove(h, h->guests);
    if (h->tcp_fd >= 0)
        close(h->tcp_fd);
    if (h->ctl_fd >= 0)
        close(h->ctl_fd);
    if (h->bound)
        (void)unlink(h->control);
    pthread_mutex_destroy(&h->lock);
    sodium_memzero(&h->psk, sizeof(h->psk));
    free(h);
}
