/* SPDX-License-Identifier: MIT */
/*
 * runner_measure.c - what the runner makes of a repeat's raw material
 * (docs/runner.md): the capture decoded into the wire timeline and the
 * wire downtime, the heartbeat file into the network downtime, the
 * prediction set beside the measured run, the testbed's settings.  Every
 * function adds keys to the result document and never fails: what is
 * missing is said in a note.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pcap_flow.h"
#include "pcap_timeline.h"
#include "runner.h"
#include "runner_int.h"
#include "testbed.h"

/* Up to max - 1 bytes of a file, NUL-terminated; caller frees.  NULL when
 * it cannot be read. */
char *runner__slurp(const char *path, size_t max)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;

    if (!f)
        return NULL;
    buf = malloc(max);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, max - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void jset(struct json_object *o, const char *k, struct json_object *v)
{
    json_object_object_add(o, k, v);
}

static struct json_object *jnum_or_null(double v)
{
    return isfinite(v) ? json_object_new_double(v) : NULL;
}

static double jget(struct json_object *o, const char *k)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, k, &v) && v
               ? json_object_get_double(v) : NAN;
}

/*
 * Wire timeline from the capture (docs/runner.md "Wire downtime").  t0_ns
 * is the wall time of t = 0 of the measured run; it is set here from the
 * first stream byte when the capture has one.
 */
void runner__wire(const char *pcap, const char *caplog,
                         struct json_object *meas, int64_t *t0_ns,
                         struct json_object *rep, struct json_object *down)
{
    struct mig_pcap_src src = { .path = pcap };
    struct mig_pcap_opts po = { .port = RUN_MIG_PORT };
    struct mig_pcap_flow *flow = NULL;
    struct mig_pcap_timeline tl;
    struct json_object *w = json_object_new_object(), *arr;
    const struct mig_pcap_pass *fin = NULL;
    char err[256] = "";
    char *cl = runner__slurp(caplog, 4096);
    unsigned recv = 0, drop = 0, ifdrop = 0;
    const char *st = cl ? strstr(cl, "stats received") : NULL;
    int64_t t0, wstart = -1, wend = -1;
    int rc;

    memset(&tl, 0, sizeof(tl));
    jset(rep, "wire", w);
    if (st && sscanf(st, "stats received %u dropped %u ifdropped %u", &recv,
                     &drop, &ifdrop) == 3) {
        struct json_object *c = json_object_new_object();

        jset(c, "received", json_object_new_int64(recv));
        jset(c, "dropped", json_object_new_int64(drop));
        jset(c, "ifdropped", json_object_new_int64(ifdrop));
        jset(w, "capture", c);
    }
    free(cl);
    rc = mig_pcap_flow_read(&src, &po, &flow, err, sizeof(err));
    if (rc) {
        jset(w, "error", json_object_new_string(err));
        jset(down, "wire_note", json_object_new_string(err));
        return;
    }
    rc = mig_pcap_timeline_build(flow, &tl);
    if (rc) {
        jset(w, "error", json_object_new_string("out of memory"));
        goto out;
    }
    /* t = 0 of the measured run is the sender's connect; its first stream
     * byte left setup_s later and reached h2 (the capture) right after. */
    t0 = tl.start_ts_ns - (int64_t)(jget(meas, "setup_s") * 1e9);
    if (tl.start_ts_ns > 0 && isfinite(jget(meas, "setup_s")))
        *t0_ns = t0;
    jset(w, "stream_bytes", json_object_new_int64((int64_t)tl.stream_bytes));
    jset(w, "page_bytes", json_object_new_int64((int64_t)tl.page_bytes));
    jset(w, "retransmits", json_object_new_int64((int64_t)tl.retransmits));
    jset(w, "decode", json_object_new_string(tl.decode_rc ? tl.decode_msg
                                                          : "complete"));
    arr = json_object_new_array();
    for (size_t i = 0; i < tl.npasses; i++) {
        const struct mig_pcap_pass *p = &tl.passes[i];
        struct json_object *jp = json_object_new_object();

        jset(jp, "index", json_object_new_int64(p->index));
        jset(jp, "live", json_object_new_boolean(p->live));
        jset(jp, "pages", json_object_new_int64((int64_t)p->pages));
        jset(jp, "bytes", json_object_new_int64((int64_t)p->bytes));
        jset(jp, "start_s", json_object_new_double(
                                (double)(p->first_ts_ns - *t0_ns) * 1e-9));
        jset(jp, "end_s", json_object_new_double(
                              (double)(p->last_ts_ns - *t0_ns) * 1e-9));
        jset(jp, "retransmits",
             json_object_new_int64((int64_t)p->retransmits));
        json_object_array_add(arr, jp);
        if (!p->live)
            fin = p;
    }
    jset(w, "passes", arr);
#define MSG(name, m)                                                        \
    jset(w, name, (m).seen ? json_object_new_double(                        \
                                 (double)((m).ts_ns - *t0_ns) * 1e-9)       \
                           : NULL)
    MSG("ready_s", tl.ready);
    MSG("go_s", tl.go);
    MSG("report_s", tl.report);
#undef MSG
    jset(w, "stream_end_s", json_object_new_double(
                                (double)(tl.end_ts_ns - *t0_ns) * 1e-9));
    if (fin)
        wstart = fin->first_ts_ns;
    else if (tl.npasses && tl.decode_rc == 0)
        wstart = tl.passes[tl.npasses - 1].last_ts_ns;
    wend = tl.report.seen ? tl.report.ts_ns : -1;
    if (wstart > 0 && wend > wstart) {
        struct json_object *parts = json_object_new_object();

        jset(down, "wire_s",
             json_object_new_double((double)(wend - wstart) * 1e-9));
        jset(down, "wire_note", json_object_new_string(
                 fin ? "first stop-and-copy page byte at h2 -> destination "
                       "report (guest running) leaving h2"
                     : "last page byte at h2 -> destination report leaving "
                       "h2 (no stop-and-copy pages on the wire)"));
        if (fin)
            jset(parts, "final_pages_s", json_object_new_double(
                     (double)(fin->last_ts_ns - fin->first_ts_ns) * 1e-9));
        if (fin)
            jset(parts, "state_and_end_s", json_object_new_double(
                     (double)(tl.end_ts_ns - fin->last_ts_ns) * 1e-9));
        if (tl.ready.seen)
            jset(parts, "end_to_ready_s", json_object_new_double(
                     (double)(tl.ready.ts_ns - tl.end_ts_ns) * 1e-9));
        if (tl.ready.seen && tl.go.seen)
            jset(parts, "ready_to_go_s", json_object_new_double(
                     (double)(tl.go.ts_ns - tl.ready.ts_ns) * 1e-9));
        if (tl.go.seen)
            jset(parts, "go_to_report_s", json_object_new_double(
                     (double)(wend - tl.go.ts_ns) * 1e-9));
        jset(down, "wire_parts", parts);
    } else {
        jset(down, "wire_note", json_object_new_string(
                 tl.decode_rc ? tl.decode_msg
                              : "no stop-and-copy pass or no report in the "
                                "capture"));
    }
out:
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(flow);
}

void runner__heartbeat(const char *path, int64_t t0_ns,
                              int64_t win_end_ns, struct json_object *rep,
                              struct json_object *down)
{
    struct json_object *hb = json_object_from_file(path), *gaps, *out;
    int64_t s, e;

    if (!hb) {
        jset(down, "network_note", json_object_new_string(
                 "the heartbeat prober wrote no result"));
        return;
    }
    out = json_object_new_object();
    jset(out, "interval_s", json_object_new_double(jget(hb, "interval_s")));
    jset(out, "sent", json_object_new_int64((int64_t)jget(hb, "sent")));
    jset(out, "received",
         json_object_new_int64((int64_t)jget(hb, "received")));
    if (jget(hb, "received") < 1) {
        jset(down, "network_note", json_object_new_string(
                 "no heartbeat reply at all: the guest did not answer "
                 "heartbeat probes on " RUN_GUEST_IP ":7007"));
        goto out;
    }
    /* The largest gap that overlaps the migration, [t0, t0 + total]. */
    s = e = 0;
    if (json_object_object_get_ex(hb, "gaps_ns", &gaps)) {
        for (size_t i = 0; i < json_object_array_length(gaps); i++) {
            struct json_object *g = json_object_array_get_idx(gaps, i);
            int64_t gs = json_object_get_int64(json_object_array_get_idx(g, 0));
            int64_t ge = json_object_get_int64(json_object_array_get_idx(g, 1));

            if (ge < t0_ns || gs > win_end_ns)
                continue;
            if (ge - gs > e - s) {
                s = gs;
                e = ge;
            }
        }
    }
    if (e > s) {
        jset(down, "network_s", json_object_new_double((double)(e - s) * 1e-9));
        jset(down, "network_note", json_object_new_string(
                 "largest gap between consecutive heartbeat replies at the "
                 "client during the migration (1 ms probes)"));
    } else {
        jset(down, "network_s", json_object_new_double(0));
        jset(down, "network_note", json_object_new_string(
                 "no reply gap longer than 3 probe intervals during the "
                 "migration"));
    }
    gaps = NULL;
    if (json_object_object_get_ex(hb, "gaps_ns", &gaps)) {
        struct json_object *arr = json_object_new_array();

        for (size_t i = 0; i < json_object_array_length(gaps); i++) {
            struct json_object *g = json_object_array_get_idx(gaps, i), *jg;

            jg = json_object_new_array();
            json_object_array_add(jg, json_object_new_double(
                (double)(json_object_get_int64(json_object_array_get_idx(
                             g, 0)) - t0_ns) * 1e-9));
            json_object_array_add(jg, json_object_new_double(
                (double)(json_object_get_int64(json_object_array_get_idx(
                             g, 1)) - t0_ns) * 1e-9));
            json_object_array_add(arr, jg);
        }
        jset(out, "gaps", arr);
    }
out:
    jset(rep, "heartbeat", out);
    json_object_put(hb);
}

/* Compare one measured run with the prediction, key by key. */
struct json_object *runner__compare(const struct sim_result *p,
                                   const struct sim_result *m)
{
    static const char *const keys[] = { "total_time_s", "downtime_s",
                                        "bytes_sent" };
    double pv[3] = { p->total_time_s, p->downtime_s, (double)p->bytes_sent };
    double mv[3] = { m->total_time_s, m->downtime_s, (double)m->bytes_sent };
    struct json_object *c = json_object_new_object();

    for (int i = 0; i < 3; i++) {
        struct json_object *o = json_object_new_object();

        jset(o, "predicted", json_object_new_double(pv[i]));
        jset(o, "measured", json_object_new_double(mv[i]));
        jset(o, "error", jnum_or_null(runner_rel_error(pv[i], mv[i])));
        jset(c, keys[i], o);
    }
    return c;
}

struct json_object *runner__testbed_json(const struct tb_config *c)
{
    struct json_object *o = json_object_new_object(), *d = json_object_new_array();

    jset(o, "id", json_object_new_string(c->id));
    jset(o, "emulator", json_object_new_string(c->emulator_name));
    for (int i = 0; i < 2; i++) {
        struct json_object *x = json_object_new_object();

        jset(x, "direction", json_object_new_string(i ? "h2->h1" : "h1->h2"));
        jset(x, "rate_bps", json_object_new_double(c->dir[i].rate_bps));
        jset(x, "delay_s", json_object_new_double(c->dir[i].delay_s));
        jset(x, "jitter_s", json_object_new_double(c->dir[i].jitter_s));
        jset(x, "loss", json_object_new_double(c->dir[i].loss));
        jset(x, "queue_bytes", json_object_new_double(c->dir[i].queue_bytes));
        json_object_array_add(d, x);
    }
    jset(o, "directions", d);
    return o;
}

