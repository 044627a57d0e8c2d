/* SPDX-License-Identifier: MIT */
/*
 * host_state.c - guest state files of a host daemon's --state-dir
 * (host_state.h), and the daemon's recovery of its guests at start-up
 * (mig__host_recover(), host_int.h).  docs/faults.md describes both.
 */
#include "host_int.h"
#include "host_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_emu.h"

static const char *const gphase_name[MIG_GPHASE_COUNT] = {
    [MIG_GPHASE_RUNNING] = "running", [MIG_GPHASE_MIGRATING] = "migrating",
    [MIG_GPHASE_SUSPENDED] = "suspended", [MIG_GPHASE_GO_SENT] = "go-sent",
    [MIG_GPHASE_INCOMING] = "incoming", [MIG_GPHASE_STARTED] = "started",
};

const char *mig_gphase_name(enum mig_gphase p)
{
    return (unsigned)p < MIG_GPHASE_COUNT ? gphase_name[p] : "?";
}

enum mig_recover mig_hstate_decide(enum mig_gphase p)
{
    switch (p) {
    case MIG_GPHASE_GO_SENT:
        return MIG_RECOVER_UNDEFINED;
    case MIG_GPHASE_INCOMING:
        return MIG_RECOVER_DISCARD;
    default:
        return MIG_RECOVER_RESUME;
    }
}

int mig_hstate_path(const char *dir, const char *name, const char *ext,
                    char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s.%s", dir, name, ext);

    return n < 0 || (size_t)n >= len ? MIG_ERANGE : 0;
}

int mig_hstate_write(const char *dir, const struct mig_hstate *st)
{
    struct json_object *o = json_object_new_object();
    char path[512], tmp[520];
    const char *text;
    size_t len, off = 0;
    int fd, rc;

    if (!o)
        return MIG_ENOMEM;
    rc = mig_hstate_path(dir, st->name, "json", path, sizeof(path));
    if (rc)
        goto out_put;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    json_object_object_add(o, "name", json_object_new_string(st->name));
    json_object_object_add(o, "mem", json_object_new_int64((int64_t)st->mem));
    json_object_object_add(o, "vcpus", json_object_new_int((int)st->vcpus));
    json_object_object_add(o, "workload",
                           json_object_new_string(st->workload));
    json_object_object_add(o, "seed",
                           json_object_new_int64((int64_t)st->seed));
    json_object_object_add(o, "ip", json_object_new_string(st->ip));
    json_object_object_add(o, "from", json_object_new_string(st->from));
    json_object_object_add(o, "phase", json_object_new_string(
                                           mig_gphase_name(st->phase)));
    text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    len = strlen(text);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        goto out_put;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        off += (size_t)w;
    }
    if (close(fd) && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (rc)
        (void)unlink(tmp);
out_put:
    json_object_put(o);
    return rc;
}

/* Copy string key k of o into buf; false when absent, mistyped or long. */
static bool get_str(struct json_object *o, const char *k, char *buf,
                    size_t len)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, k, &v) ||
        !json_object_is_type(v, json_type_string) ||
        strlen(json_object_get_string(v)) >= len)
        return false;
    snprintf(buf, len, "%s", json_object_get_string(v));
    return true;
}

static bool get_u64(struct json_object *o, const char *k, uint64_t *out)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, k, &v) ||
        !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 0)
        return false;
    *out = (uint64_t)json_object_get_int64(v);
    return true;
}

int mig_hstate_read(const char *path, struct mig_hstate *st)
{
    struct json_object *o = json_object_from_file(path);
    char phase[16];
    uint64_t vcpus = 0;
    bool good;

    memset(st, 0, sizeof(*st));
    if (!o)
        return access(path, R_OK) ? -errno : MIG_ECORRUPT;
    good = json_object_is_type(o, json_type_object) &&
           get_str(o, "name", st->name, sizeof(st->name)) &&
           mig_host_name_valid(st->name) && get_u64(o, "mem", &st->mem) &&
           st->mem >= 4096 && st->mem % 4096 == 0 &&
           get_u64(o, "vcpus", &vcpus) && vcpus >= 1 &&
           vcpus <= MIG_EMU_MAX_VCPUS &&
           get_str(o, "workload", st->workload, sizeof(st->workload)) &&
           get_u64(o, "seed", &st->seed) &&
           get_str(o, "ip", st->ip, sizeof(st->ip)) &&
           get_str(o, "from", st->from, sizeof(st->from)) &&
           get_str(o, "phase", phase, sizeof(phase));
    json_object_put(o);
    if (!good)
        return MIG_ECORRUPT;
    st->vcpus = (unsigned)vcpus;
    for (int p = 0; p < MIG_GPHASE_COUNT; p++) {
        if (!strcmp(phase, gphase_name[p])) {
            st->phase = (enum mig_gphase)p;
            return 0;
        }
    }
    return MIG_ECORRUPT;
}

void mig_hstate_remove(const char *dir, const char *name)
{
    char path[512];

    if (!mig_hstate_path(dir, name, "json", path, sizeof(path)))
        (void)unlink(path);
    if (!mig_hstate_path(dir, name, "mem", path, sizeof(path)))
        (void)unlink(path);
}

/* ---------------------------------------------------------------------- *
 * The daemon's side (host_int.h)
 * ---------------------------------------------------------------------- */

int mig__host_persist(struct mig_host *h, struct hguest *e,
                      enum mig_gphase p)
{
    struct mig_hstate st = { .mem = e->mem, .vcpus = e->vcpus,
                             .seed = e->seed, .phase = p };
    int rc;

    if (!h->state_dir[0])
        return 0;
    snprintf(st.name, sizeof(st.name), "%s", e->name);
    snprintf(st.workload, sizeof(st.workload), "%s", e->workload);
    snprintf(st.ip, sizeof(st.ip), "%s", e->ip);
    snprintf(st.from, sizeof(st.from), "%s", e->from);
    rc = mig_hstate_write(h->state_dir, &st);
    if (rc)
        mig__host_log(e, "cannot record phase %s in %s: %s",
                      mig_gphase_name(p), h->state_dir, mig_strerror(rc));
    return rc;
}

int mig__host_mem_path(struct mig_host *h, const char *name, char *buf,
                       size_t len)
{
    if (!h->state_dir[0]) {
        buf[0] = '\0';
        return 0;
    }
    return mig_hstate_path(h->state_dir, name, "mem", buf, len);
}

/* Bring one guest back from its files: paused (undefined) or running. */
static int recover_one(struct mig_host *h, const struct mig_hstate *st,
                       enum mig_recover what, char *err, size_t errlen)
{
    struct mig_guest_emu_cfg cfg = { .mem_bytes = st->mem,
                                     .vcpus = st->vcpus,
                                     .workload = st->workload,
                                     .seed = st->seed, .mem_keep = true };
    struct mig_guest *g = NULL;
    char path[512];
    struct hguest *e;
    uint64_t torn;
    int rc;

    rc = mig__host_mem_path(h, st->name, path, sizeof(path));
    if (rc)
        return rc;
    cfg.mem_path = path;
    rc = mig_guest_emu_new(&cfg, &g, err, errlen);
    if (rc)
        return rc;
    torn = mig_guest_emu_repair_stamps(g);
    if (what == MIG_RECOVER_RESUME) {
        rc = g->ops->start(g);
        if (rc) {
            snprintf(err, errlen, "cannot start the guest");
            mig_guest_free(g);
            return rc;
        }
    }
    e = mig__host_add(h, st->name, st->mem);
    if (!e) {
        mig_guest_free(g);
        return MIG_ENOMEM;
    }
    e->g = g;
    e->vcpus = st->vcpus;
    e->seed = st->seed;
    snprintf(e->workload, sizeof(e->workload), "%s", st->workload);
    snprintf(e->ip, sizeof(e->ip), "%s", st->ip);
    snprintf(e->from, sizeof(e->from), "%s", st->from);
    if (what == MIG_RECOVER_RESUME) {
        e->state = MIG_HG_RUNNING;
        mig__host_log(e, "recovered on host %s after a daemon restart "
                      "(phase %s): running, workload restarted from its "
                      "seed, %llu torn stamps finished", h->name,
                      mig_gphase_name(st->phase), (unsigned long long)torn);
        (void)mig__host_persist(h, e, MIG_GPHASE_RUNNING);
        mig__host_net_up(h, e);
    } else {
        e->state = MIG_HG_PAUSED;
        e->stopped = true;
        mig__host_log(e, "recovered on host %s after a daemon restart "
                      "(phase go-sent): state undefined, left paused",
                      h->name);
    }
    return 0;
}

int mig__host_recover(struct mig_host *h, char *err, size_t errlen)
{
    struct dirent *de;
    DIR *d;
    int rc = 0;

    /* Like the control socket's directory: made 0700 when missing. */
    if (mkdir(h->state_dir, 0700) && errno != EEXIST) {
        rc = -errno;
        snprintf(err, errlen, "cannot create state directory %s: %s",
                 h->state_dir, strerror(errno));
        return rc;
    }
    d = opendir(h->state_dir);
    if (!d) {
        rc = -errno;
        snprintf(err, errlen, "cannot open state directory %s: %s",
                 h->state_dir, strerror(errno));
        return rc;
    }
    while (!rc && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        struct mig_hstate st;
        char path[512];
        enum mig_recover what;

        if (n < 6 || strcmp(de->d_name + n - 5, ".json") ||
            snprintf(path, sizeof(path), "%s/%s", h->state_dir,
                     de->d_name) >= (int)sizeof(path))
            continue;
        rc = mig_hstate_read(path, &st);
        if (rc) {
            snprintf(err, errlen, "bad guest state file %s: %s", path,
                     mig_strerror(rc));
            break;
        }
        what = mig_hstate_decide(st.phase);
        if (what == MIG_RECOVER_DISCARD) {
            mig_hstate_remove(h->state_dir, st.name);
            continue;
        }
        rc = recover_one(h, &st, what, err, errlen);
        if (rc && !err[0])
            snprintf(err, errlen, "cannot recover guest %s: %s", st.name,
                     mig_strerror(rc));
    }
    closedir(d);
    return rc;
}
