/* SPDX-License-Identifier: MIT */
/*
 * testbed_measure.c - `miglab testbed measure`: what the migration link
 * really does, next to what it was set to.  Round-trip time from a ping
 * train h1 -> h2 (mean, standard deviation, lost replies); one-way loss per
 * direction from a counted iperf3 UDP burst; bulk TCP goodput h1 -> h2 with
 * a chosen congestion control, beside the simulator's link model
 * (sim/net.h) for the same link; and the emulator's own overruns (relay
 * queue drops, TUN/veth queue drops) that would otherwise pass for loss.
 * Accuracy on the development machine: docs/testbed.md.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "testbed.h"

#define IPERF_PORT "5201"
#define UDP_LEN 500                 /* datagram payload bytes */
#define UDP_MAX_BPS 40e6            /* burst rate cap: well under the relay */

struct rtt_result {
    bool ok;
    unsigned sent, received;
    double min_ms, mean_ms, max_ms, sd_ms;
};

struct loss_result {
    bool ok;
    long long packets, lost;    /* lost: dropped by the link emulator */
    long long rcvbuf;           /* lost in the receiver's socket buffer */
};

struct tcp_result {
    bool ok;
    double bps;
    long long retransmits;
    double model_bps;
    const char *limit;
};

struct overruns {
    long long relay_queue[2], relay_write[2];
    long long tx_dropped[2], rx_dropped[2];
};

static const char *const dir_names[2] = { "h1->h2", "h2->h1" };
static const char *const mig_addr[2] = { TB_MIG_H1, TB_MIG_H2 };

static void measure_rtt(const struct tb_config *c, unsigned count,
                        struct rtt_result *r)
{
    char ns[64], cnt[16], out[8192];
    char *argv[] = { "ip", "netns", "exec", ns, "ping", "-n", "-q", "-i",
                     "0.01", "-W", "1", "-c", cnt,
                     TB_MIG_H2, NULL };
    const char *p;

    memset(r, 0, sizeof(*r));
    testbed_ns_name(ns, sizeof(ns), c->id, TB_H1);
    snprintf(cnt, sizeof(cnt), "%u", count);
    testbed_run(argv, true, out, sizeof(out));
    p = strstr(out, " packets transmitted, ");
    if (!p)
        return;
    while (p > out && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (sscanf(p, "%u packets transmitted, %u received", &r->sent,
               &r->received) != 2)
        return;
    p = strstr(out, "min/avg/max/mdev = ");
    if (p && sscanf(p, "min/avg/max/mdev = %lf/%lf/%lf/%lf", &r->min_ms,
                    &r->mean_ms, &r->max_ms, &r->sd_ms) == 4)
        r->ok = true;
}

/* Parse an iperf3 JSON report; NULL when it is missing, broken or says
 * "error".  *refused tells a server that was not listening yet. */
static struct json_object *iperf_report(const char *path, bool *refused)
{
    struct json_object *jo = json_object_from_file(path), *err;

    *refused = false;
    if (jo && json_object_object_get_ex(jo, "error", &err)) {
        *refused = strstr(json_object_get_string(err), "unable to connect")
                   != NULL;
        json_object_put(jo);
        jo = NULL;
    }
    return jo;
}

/*
 * Run an iperf3 client in the sender of direction d against a one-off
 * server in the receiver; the client's JSON (caller puts) or NULL.  The
 * control connection crosses the impaired link too, so at 1% loss an
 * exchange now and then fails or hangs: each attempt has a deadline and a
 * failed one is repeated with a fresh server.
 */
static struct json_object *iperf(const struct tb_config *c, int d,
                                 double secs, char *const extra[])
{
    char tx[64], rx[64], log[256];
    char *srv[] = { "ip", "netns", "exec", rx, "iperf3", "-s", "-1", "-p",
                    IPERF_PORT, "-B", (char *)mig_addr[1 - d], NULL };
    char *cli[32];
    struct json_object *jo = NULL;
    int n = 0;

    testbed_ns_name(tx, sizeof(tx), c->id, (enum tb_host)d);
    testbed_ns_name(rx, sizeof(rx), c->id, (enum tb_host)(1 - d));
    testbed_state_path(log, sizeof(log), c->id, "iperf3.json");
    cli[n++] = "ip";
    cli[n++] = "netns";
    cli[n++] = "exec";
    cli[n++] = tx;
    cli[n++] = "iperf3";
    cli[n++] = "-c";
    cli[n++] = (char *)mig_addr[1 - d];
    cli[n++] = "-p";
    cli[n++] = IPERF_PORT;
    cli[n++] = "-J";
    for (int i = 0; extra[i] && n < 31; i++)
        cli[n++] = extra[i];
    cli[n] = NULL;

    for (int attempt = 0; attempt < 3 && !jo; attempt++) {
        pid_t spid = testbed_spawn(srv, NULL), cpid;
        bool refused = true;

        if (spid < 0)
            return NULL;
        /* The server needs a moment to listen; a refused client is
         * retried at once, anything else gets a fresh server. */
        for (int k = 0; k < 30 && refused && !jo; k++) {
            usleep(100000);
            unlink(log);
            cpid = testbed_spawn(cli, log);
            if (cpid < 0)
                break;
            if (testbed_reap(cpid, secs + 10) == 0)
                jo = iperf_report(log, &refused);
            else
                refused = false;
        }
        testbed_reap(spid, jo ? 3.0 : 0.0);
    }
    unlink(log);
    return jo;
}

static struct json_object *jpath(struct json_object *jo, const char *a,
                                 const char *b, const char *cc)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(jo, a, &v))
        return NULL;
    if (b && !json_object_object_get_ex(v, b, &v))
        return NULL;
    if (cc && !json_object_object_get_ex(v, cc, &v))
        return NULL;
    return v;
}

/* UDP RcvbufErrors of namespace ns (/proc/net/snmp), or -1. */
static long long rcvbuf_errors(const char *ns)
{
    char out[8192], *hdr, *val;
    char *argv[] = { "ip", "netns", "exec", (char *)ns, "cat",
                     "/proc/net/snmp", NULL };
    int col = -1, i = 0;

    if (testbed_run(argv, true, out, sizeof(out)) != 0)
        return -1;
    hdr = strstr(out, "\nUdp: ");
    val = hdr ? strstr(hdr + 1, "\nUdp: ") : NULL;
    if (!val)
        return -1;
    /* The header line names the columns; the next line has the values. */
    for (char *p = hdr + 6; *p && *p != '\n'; i++) {
        if (!strncmp(p, "RcvbufErrors", 12)) {
            col = i;
            break;
        }
        p += strcspn(p, " \n");
        p += *p == ' ';
    }
    if (col < 0)
        return -1;
    val += 6;
    for (i = 0; i < col; i++) {
        val += strcspn(val, " \n");
        val += *val == ' ';
    }
    return strtoll(val, NULL, 10);
}

static void measure_loss(const struct tb_config *c, int d, double secs,
                         struct loss_result *r)
{
    double bps = UDP_MAX_BPS;
    char b[32], t[16], l[16], rx[64];
    char *extra[] = { "-u", "-b", b, "-l", l, "-t", t, "-w", "4M", NULL };
    struct json_object *jo, *v;
    long long rb0, rb1;

    memset(r, 0, sizeof(*r));
    if (c->dir[d].rate_bps > 0 && c->dir[d].rate_bps * 0.4 < bps)
        bps = c->dir[d].rate_bps * 0.4;
    snprintf(b, sizeof(b), "%.0f", bps);
    snprintf(t, sizeof(t), "%.0f", secs < 1 ? 1 : secs);
    snprintf(l, sizeof(l), "%d", UDP_LEN);
    /* A receiver that is not scheduled in time overflows its socket
     * buffer (4M, rmem_max here): iperf3 counts that as lost, but it is
     * the host, not the link.  Count it apart and take it out. */
    testbed_ns_name(rx, sizeof(rx), c->id, (enum tb_host)(1 - d));
    rb0 = rcvbuf_errors(rx);
    jo = iperf(c, d, secs < 1 ? 1 : secs, extra);
    rb1 = rcvbuf_errors(rx);
    if (!jo)
        return;
    if (rb0 >= 0 && rb1 >= rb0)
        r->rcvbuf = rb1 - rb0;
    /* The client's end.sum carries the server's count of what arrived. */
    v = jpath(jo, "end", "sum", "packets");
    if (v) {
        r->packets = json_object_get_int64(v);
        v = jpath(jo, "end", "sum", "lost_packets");
        if (v) {
            r->lost = json_object_get_int64(v) - r->rcvbuf;
            r->ok = r->packets > 0 && r->lost >= 0;
        }
    }
    json_object_put(jo);
}

static void model(const struct tb_config *c, const char *cc,
                  struct tcp_result *r)
{
    struct sim_link l;
    struct sim_goodput g;

    sim_link_defaults(&l);
    l.bandwidth_bps = c->dir[0].rate_bps;
    l.rtt_s = c->dir[0].delay_s + c->dir[1].delay_s;
    l.jitter_s = c->dir[0].jitter_s;
    if (c->jitter_dist == TB_JITTER_UNIFORM)
        l.jitter_s /= sqrt(3.0);
    l.loss = c->dir[0].loss;
    l.mtu = TB_MTU;
    l.window_bytes = 32u << 20;         /* tcp_wmem max in the hosts */
    if (sim_cc_parse(cc, &l.cc) || sim_link_validate(&l))
        return;
    sim_link_goodput(&l, &g);
    r->model_bps = g.goodput_Bps * 8;
    r->limit = sim_link_limit_name(g.limit);
}

static void measure_tcp(const struct tb_config *c, const char *cc,
                        double secs, struct tcp_result *r)
{
    char t[16], ccs[32];
    char *extra[] = { "-C", ccs, "-t", t, "-O", "1", NULL };
    struct json_object *jo, *v;

    memset(r, 0, sizeof(*r));
    snprintf(t, sizeof(t), "%.0f", secs < 1 ? 1 : secs);
    snprintf(ccs, sizeof(ccs), "%s", cc);
    model(c, cc, r);
    jo = iperf(c, 0, (secs < 1 ? 1 : secs) + 1, extra);
    if (!jo)
        return;
    v = jpath(jo, "end", "sum_received", "bits_per_second");
    if (v) {
        r->bps = json_object_get_double(v);
        r->ok = true;
    }
    v = jpath(jo, "end", "sum_sent", "retransmits");
    if (v)
        r->retransmits = json_object_get_int64(v);
    json_object_put(jo);
}

static void read_overruns(const struct tb_config *c, struct overruns *o)
{
    char path[256], line[256], out[16384], ns[64];
    FILE *f;

    memset(o, 0, sizeof(*o));
    f = fopen(testbed_state_path(path, sizeof(path), c->id, "relay.stats"),
              "r");
    if (f) {
        while (fgets(line, sizeof(line), f)) {
            int d;
            unsigned long long rx, tx, qd, we, md;

            if (sscanf(line, "dir%d rx %llu tx %llu queue_drops %llu "
                       "write_errors %llu max_depth %llu", &d, &rx, &tx, &qd,
                       &we, &md) == 6 && (d == 0 || d == 1)) {
                o->relay_queue[d] = (long long)qd;
                o->relay_write[d] = (long long)we;
            }
        }
        fclose(f);
    }
    for (int h = 0; h < 2; h++) {
        char *argv[] = { "ip", "-n", ns, "-s", "-j", "link", "show", "dev",
                         TB_MIG_DEV, NULL };
        struct json_object *jo, *v;

        testbed_ns_name(ns, sizeof(ns), c->id, (enum tb_host)h);
        if (testbed_run(argv, true, out, sizeof(out)) != 0)
            continue;
        jo = json_tokener_parse(out);
        if (!jo)
            continue;
        v = json_object_is_type(jo, json_type_array) &&
            json_object_array_length(jo) > 0
                ? json_object_array_get_idx(jo, 0) : NULL;
        if (v) {
            struct json_object *x;

            if ((x = jpath(v, "stats64", "tx", "dropped")))
                o->tx_dropped[h] = json_object_get_int64(x);
            if ((x = jpath(v, "stats64", "rx", "dropped")))
                o->rx_dropped[h] = json_object_get_int64(x);
        }
        json_object_put(jo);
    }
}

static double expected_rtt_ms(const struct tb_config *c)
{
    return (c->dir[0].delay_s + c->dir[1].delay_s) * 1e3;
}

static double expected_sd_ms(const struct tb_config *c)
{
    double k = c->jitter_dist == TB_JITTER_UNIFORM ? 1.0 / 3.0 : 1.0;

    return sqrt(k * (c->dir[0].jitter_s * c->dir[0].jitter_s +
                     c->dir[1].jitter_s * c->dir[1].jitter_s)) * 1e3;
}

static struct json_object *jd(double v)
{
    return json_object_new_double(v);
}

static void print_json(const struct tb_config *c,
                       const struct tb_measure_opts *o,
                       const struct rtt_result *rtt,
                       const struct loss_result loss[2],
                       const struct tcp_result *tcp,
                       const struct overruns *ov)
{
    struct json_object *jo = json_object_new_object(), *a, *x;

    json_object_object_add(jo, "id", json_object_new_string(c->id));
    json_object_object_add(jo, "emulator",
                           json_object_new_string(c->emulator_name));
    a = json_object_new_array();
    for (int d = 0; d < 2; d++) {
        x = json_object_new_object();
        json_object_object_add(x, "dir", json_object_new_string(dir_names[d]));
        json_object_object_add(x, "rate_bps", jd(c->dir[d].rate_bps));
        json_object_object_add(x, "delay_s", jd(c->dir[d].delay_s));
        json_object_object_add(x, "jitter_s", jd(c->dir[d].jitter_s));
        json_object_object_add(x, "loss", jd(c->dir[d].loss));
        json_object_array_add(a, x);
    }
    json_object_object_add(jo, "settings", a);
    json_object_object_add(jo, "jitter_dist", json_object_new_string(
        c->jitter_dist == TB_JITTER_NORMAL ? "normal" : "uniform"));
    if (o->rtt) {
        x = json_object_new_object();
        json_object_object_add(x, "ok", json_object_new_boolean(rtt->ok));
        json_object_object_add(x, "sent", json_object_new_int(
                                   (int)rtt->sent));
        json_object_object_add(x, "received", json_object_new_int(
                                   (int)rtt->received));
        json_object_object_add(x, "min_ms", jd(rtt->min_ms));
        json_object_object_add(x, "mean_ms", jd(rtt->mean_ms));
        json_object_object_add(x, "max_ms", jd(rtt->max_ms));
        json_object_object_add(x, "sd_ms", jd(rtt->sd_ms));
        json_object_object_add(x, "expected_mean_ms", jd(expected_rtt_ms(c)));
        json_object_object_add(x, "expected_sd_ms", jd(expected_sd_ms(c)));
        json_object_object_add(jo, "rtt", x);
    }
    if (o->loss) {
        a = json_object_new_array();
        for (int d = 0; d < 2; d++) {
            x = json_object_new_object();
            json_object_object_add(x, "dir",
                                   json_object_new_string(dir_names[d]));
            json_object_object_add(x, "ok",
                                   json_object_new_boolean(loss[d].ok));
            json_object_object_add(x, "packets",
                                   json_object_new_int64(loss[d].packets));
            json_object_object_add(x, "lost",
                                   json_object_new_int64(loss[d].lost));
            json_object_object_add(x, "receiver_buffer_drops",
                                   json_object_new_int64(loss[d].rcvbuf));
            json_object_object_add(x, "fraction", jd(loss[d].packets
                ? (double)loss[d].lost / (double)loss[d].packets : 0));
            json_object_object_add(x, "expected", jd(c->dir[d].loss));
            json_object_array_add(a, x);
        }
        json_object_object_add(jo, "loss", a);
    }
    if (o->goodput) {
        x = json_object_new_object();
        json_object_object_add(x, "dir", json_object_new_string(dir_names[0]));
        json_object_object_add(x, "ok", json_object_new_boolean(tcp->ok));
        json_object_object_add(x, "cc", json_object_new_string(o->cc));
        json_object_object_add(x, "seconds", jd(o->time_s));
        json_object_object_add(x, "bits_per_second", jd(tcp->bps));
        json_object_object_add(x, "retransmits",
                               json_object_new_int64(tcp->retransmits));
        json_object_object_add(x, "full_rate_bps", jd(
            c->dir[0].rate_bps * testbed_payload_ratio(c->emulator)));
        json_object_object_add(x, "model_bps", jd(tcp->model_bps));
        json_object_object_add(x, "model_limit", json_object_new_string(
                                   tcp->limit ? tcp->limit : "?"));
        json_object_object_add(jo, "goodput", x);
    }
    x = json_object_new_object();
    for (int d = 0; d < 2; d++) {
        char k[64];

        snprintf(k, sizeof(k), "relay_queue_drops_%s", dir_names[d]);
        json_object_object_add(x, k, json_object_new_int64(
                                   ov->relay_queue[d]));
        snprintf(k, sizeof(k), "relay_write_errors_%s", dir_names[d]);
        json_object_object_add(x, k, json_object_new_int64(
                                   ov->relay_write[d]));
        snprintf(k, sizeof(k), "%s_tx_dropped", d ? "h2" : "h1");
        json_object_object_add(x, k, json_object_new_int64(
                                   ov->tx_dropped[d]));
        snprintf(k, sizeof(k), "%s_rx_dropped", d ? "h2" : "h1");
        json_object_object_add(x, k, json_object_new_int64(
                                   ov->rx_dropped[d]));
    }
    json_object_object_add(jo, "overruns", x);
    puts(json_object_to_json_string_ext(jo, JSON_C_TO_STRING_PRETTY |
                                        JSON_C_TO_STRING_SPACED |
                                        JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(jo);
}

static void print_text(const struct tb_config *c,
                       const struct tb_measure_opts *o,
                       const struct rtt_result *rtt,
                       const struct loss_result loss[2],
                       const struct tcp_result *tcp,
                       const struct overruns *ov)
{
    printf("testbed %s, emulator %s\n", c->id, c->emulator_name);
    for (int d = 0; d < 2; d++)
        printf("  set      %s: rate %.6g Mbit/s, delay %.6g ms, jitter "
               "%.6g ms (%s), loss %.6g%%\n", dir_names[d],
               c->dir[d].rate_bps / 1e6, c->dir[d].delay_s * 1e3,
               c->dir[d].jitter_s * 1e3,
               c->jitter_dist == TB_JITTER_NORMAL ? "normal sd" : "uniform +-",
               c->dir[d].loss * 100);
    if (o->rtt && rtt->ok)
        printf("  rtt      %u pings: mean %.3f ms (set %.3f), sd %.3f ms "
               "(set %.3f), min %.3f, max %.3f, %u lost\n", rtt->sent,
               rtt->mean_ms, expected_rtt_ms(c), rtt->sd_ms,
               expected_sd_ms(c), rtt->min_ms, rtt->max_ms,
               rtt->sent - rtt->received);
    else if (o->rtt)
        printf("  rtt      ping failed\n");
    for (int d = 0; o->loss && d < 2; d++) {
        if (!loss[d].ok) {
            printf("  loss     %s: UDP burst failed\n", dir_names[d]);
            continue;
        }
        printf("  loss     %s: %lld of %lld UDP packets = %.3f%% (set "
               "%.3f%%; %lld more lost in the receiver's buffer)\n",
               dir_names[d], loss[d].lost, loss[d].packets,
               100.0 * (double)loss[d].lost / (double)loss[d].packets,
               c->dir[d].loss * 100, loss[d].rcvbuf);
    }
    if (o->goodput && tcp->ok)
        printf("  goodput  %s %s %.0f s: %.2f Mbit/s, %lld retransmits "
               "(full rate %.2f, link model %.2f, %s-limited)\n",
               dir_names[0], o->cc, o->time_s, tcp->bps / 1e6,
               tcp->retransmits,
               c->dir[0].rate_bps > 0 ? c->dir[0].rate_bps *
                   testbed_payload_ratio(c->emulator) / 1e6 : INFINITY,
               tcp->model_bps / 1e6, tcp->limit ? tcp->limit : "?");
    else if (o->goodput)
        printf("  goodput  iperf3 failed\n");
    printf("  overruns relay queue %lld/%lld, relay write %lld/%lld, "
           "mig0 tx dropped h1 %lld h2 %lld, rx dropped h1 %lld h2 %lld\n",
           ov->relay_queue[0], ov->relay_queue[1], ov->relay_write[0],
           ov->relay_write[1], ov->tx_dropped[0], ov->tx_dropped[1],
           ov->rx_dropped[0], ov->rx_dropped[1]);
}

int testbed_measure(const struct tb_config *c,
                    const struct tb_measure_opts *o)
{
    struct rtt_result rtt;
    struct loss_result loss[2];
    struct tcp_result tcp;
    struct overruns ov;
    bool failed = false;

    memset(&rtt, 0, sizeof(rtt));
    memset(loss, 0, sizeof(loss));
    memset(&tcp, 0, sizeof(tcp));
    if (o->rtt) {
        measure_rtt(c, o->pings, &rtt);
        failed |= !rtt.ok;
    }
    for (int d = 0; o->loss && d < 2; d++) {
        measure_loss(c, d, o->udp_s, &loss[d]);
        failed |= !loss[d].ok;
    }
    if (o->goodput) {
        measure_tcp(c, o->cc, o->time_s, &tcp);
        failed |= !tcp.ok;
    }
    read_overruns(c, &ov);
    if (o->json)
        print_json(c, o, &rtt, loss, &tcp, &ov);
    else
        print_text(c, o, &rtt, loss, &tcp, &ov);
    return failed ? -1 : 0;
}
