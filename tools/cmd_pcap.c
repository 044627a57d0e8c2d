/* SPDX-License-Identifier: MIT */
/*
 * cmd_pcap.c - `miglab pcap FILE`: decode a capture of a migration stream
 * (miglab's, or `xl migrate` over plain TCP) and print its wire timeline:
 * passes with their bytes, times and retransmissions, and the handshake
 * that brackets the pause.  The work is in pcap_flow.c (reassembly) and
 * pcap_timeline.c (decode and passes); docs/pcap.md describes both.
 *
 * Exit status: 0 when the stream decoded to its END, 1 when the capture was
 * read but the stream is incomplete or corrupt (the timeline up to there is
 * still printed), 2 for bad flags or a file that is not a usable capture.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "result_json.h"
#include "mig_err.h"
#include "pcap_flow.h"
#include "pcap_timeline.h"
#include "stream_format.h"
#include "units.h"

#define CMD "pcap"
#define TABLE_HEAD 12       /* passes shown before eliding the middle */
#define TABLE_TAIL 6

struct pcap_cmd_opts {
    const char *file;
    uint16_t port;
    bool json;
    bool help;
};

static void help(void)
{
    printf("usage: miglab pcap FILE [--port N] [--json]\n"
           "\n"
           "Decode a libpcap capture of a migration (miglab's or xl "
           "migrate over TCP):\n"
           "reassemble the TCP stream, decode the libxl/libxc records and "
           "print when each\n"
           "pass crossed the wire, its bytes and retransmissions, and the "
           "handshake times.\n"
           "\n"
           "  --port N     the migration connection uses TCP port N "
           "(default: find it by\n"
           "               the stream magic or xl banner, else the largest "
           "connection)\n"
           "  --json       print the result as JSON\n"
           "  --help       this text\n"
           "\n"
           "Exit status: 0 stream complete, 1 stream incomplete or "
           "corrupt, 2 bad input.\n"
           "See docs/pcap.md for the pass rule and the limits.\n");
}

static int parse_args(int argc, char **argv, struct pcap_cmd_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            o->help = true;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--port") || !strncmp(a, "--port=", 7)) {
            const char *v = a[6] == '=' ? a + 7 : NULL;
            uint64_t port;

            if (!v) {
                if (i + 1 >= argc) {
                    cli_error(CMD, "--port needs a value");
                    return CLI_USAGE;
                }
                v = argv[++i];
            }
            if (sim_parse_uint(v, 1, 65535, &port)) {
                cli_error(CMD, "--port: '%s' is not a port (1-65535)", v);
                return CLI_USAGE;
            }
            o->port = (uint16_t)port;
        } else if (a[0] == '-' && a[1]) {
            cli_error(CMD, "unknown option '%s' (see miglab pcap --help)", a);
            return CLI_USAGE;
        } else if (o->file) {
            cli_error(CMD, "unexpected argument '%s' (see --help)", a);
            return CLI_USAGE;
        } else {
            o->file = a;
        }
    }
    if (!o->help && !o->file) {
        cli_error(CMD, "no capture file given (see --help)");
        return CLI_USAGE;
    }
    return 0;
}

/* Seconds from t0 to t, NAN when either is unknown. */
static double rel_s(int64_t t, int64_t t0)
{
    if (t < 0 || t0 < 0)
        return NAN;
    return (double)(t - t0) / 1e9;
}

static const char *dtype_name(uint32_t t)
{
    switch (t) {
    case MIG_DHDR_TYPE_X86_PV: return "x86 PV";
    case MIG_DHDR_TYPE_X86_HVM: return "x86 HVM";
    case MIG_DHDR_TYPE_X86_PVH: return "x86 PVH";
    case MIG_DHDR_TYPE_ARM: return "ARM";
    default: return "unknown";
    }
}

static const char *link_name(int dlt)
{
    switch (dlt) {
    case 1: return "Ethernet";
    case 113: return "Linux cooked";
    case 276: return "Linux cooked v2";
    case 0: case 108: return "loopback";
    default: return "raw IP";
    }
}

static double pass_rate(const struct mig_pcap_pass *p)
{
    double d = rel_s(p->last_ts_ns, p->first_ts_ns);

    return d > 0 ? (double)p->bytes / d : NAN;
}

static double total_time(const struct mig_pcap_timeline *tl)
{
    int64_t end = tl->go.seen && tl->go.ts_ns >= 0 ? tl->go.ts_ns
                                                   : tl->end_ts_ns;

    return rel_s(end, tl->start_ts_ns);
}

/* Seconds from the first byte of the stop-and-copy pass to the GO, and
 * from the last byte of the pass before it to the GO: the pause as the
 * wire shows it (docs/pcap.md).  NAN when a part is missing. */
static double final_to_go(const struct mig_pcap_timeline *tl)
{
    const struct mig_pcap_pass *last;

    if (!tl->npasses || !tl->go.seen)
        return NAN;
    last = &tl->passes[tl->npasses - 1];
    return last->live ? NAN : rel_s(tl->go.ts_ns, last->first_ts_ns);
}

static double live_end_to_go(const struct mig_pcap_timeline *tl)
{
    if (tl->npasses < 2 || isnan(final_to_go(tl)))
        return NAN;
    return rel_s(tl->go.ts_ns, tl->passes[tl->npasses - 2].last_ts_ns);
}

static unsigned live_passes(const struct mig_pcap_timeline *tl)
{
    unsigned n = 0;

    for (size_t i = 0; i < tl->npasses; i++)
        n += tl->passes[i].live;
    return n;
}

static void print_msg_time(const char *name, const struct mig_pcap_msg *m,
                           int64_t ref)
{
    char a[32];

    if (!m->seen) {
        printf("  %-13s not seen\n", name);
        return;
    }
    printf("  %-13s %s after the last stream byte\n", name,
           sim_format_time(a, sizeof(a), rel_s(m->ts_ns, ref)));
}

static void print_text(const char *file, const struct mig_pcap_flow *f,
                       const struct mig_pcap_timeline *tl)
{
    const struct mig_pcap_stats *st = &f->stats;
    const struct mig_pcap_dir *d = &f->dir[0];
    char a[32], b[32];

    printf("capture   %s: %llu packets, %s, %llu TCP connection%s%s\n", file,
           (unsigned long long)st->packets, link_name(st->link_type),
           (unsigned long long)st->flows, st->flows == 1 ? "" : "s",
           st->truncated_file ? " (file ends early)" : "");
    printf("flow      %s:%u -> %s:%u (found by %s)\n", d->src.addr,
           d->src.port, d->dst.addr, d->dst.port, f->why);
    if (tl->domain_type)
        printf("stream    %s%s, Xen %u.%u", tl->xl_header ? "xl header, " : "",
               dtype_name(tl->domain_type), tl->xen_major, tl->xen_minor);
    else
        printf("stream    no libxc domain header decoded");
    if (tl->guest_pages)
        printf(", guest %llu pages", (unsigned long long)tl->guest_pages);
    printf("\n\n");

    printf("  %5s  %10s  %10s  %10s  %11s  %9s  %6s\n", "pass", "start",
           "duration", "pages", "bytes", "MB/s", "retx");
    for (size_t i = 0; i < tl->npasses; i++) {
        const struct mig_pcap_pass *p = &tl->passes[i];
        double rate = pass_rate(p);
        char r[32], c[32];

        if (tl->npasses > TABLE_HEAD + TABLE_TAIL && i == TABLE_HEAD) {
            size_t skip = tl->npasses - TABLE_HEAD - TABLE_TAIL;

            printf("  ... %zu passes omitted (--json lists them all)\n",
                   skip);
            i += skip - 1;
            continue;
        }
        if (isnan(rate))
            snprintf(r, sizeof(r), "-");
        else
            snprintf(r, sizeof(r), "%.1f", rate / 1e6);
        printf("  %5u%s %10s  %10s  %10llu  %11s  %9s  %6llu\n", p->index,
               p->live ? " " : "*",
               sim_format_time(a, sizeof(a),
                               rel_s(p->first_ts_ns, tl->start_ts_ns)),
               sim_format_time(b, sizeof(b),
                               rel_s(p->last_ts_ns, p->first_ts_ns)),
               (unsigned long long)p->pages,
               sim_format_size(c, sizeof(c), (double)p->bytes), r,
               (unsigned long long)p->retransmits);
    }
    if (tl->npasses && !tl->passes[tl->npasses - 1].live)
        printf("  (* = stop-and-copy, guest paused)\n");
    printf("\n");

    if (tl->decode_rc == 0)
        printf("  decode       complete (%s stream, %llu records)\n",
               sim_format_size(a, sizeof(a), (double)tl->stream_bytes),
               (unsigned long long)tl->records);
    else
        printf("  decode       %s after %s: %s\n",
               tl->decode_rc == MIG_EINCOMPLETE ? "incomplete" : "failed",
               sim_format_size(a, sizeof(a), (double)tl->stream_bytes),
               tl->decode_msg);
    printf("  bytes sent   %s (%llu pages in %s of page data)\n",
           sim_format_size(a, sizeof(a), (double)tl->stream_bytes),
           (unsigned long long)tl->pages,
           sim_format_size(b, sizeof(b), (double)tl->page_bytes));
    printf("  passes       %zu (%u live%s)\n", tl->npasses, live_passes(tl),
           live_passes(tl) < tl->npasses ? " + stop-and-copy" : "");
    printf("  total time   %s (first stream byte to %s)\n",
           sim_format_time(a, sizeof(a), total_time(tl)),
           tl->go.seen ? "GO" : "last stream byte");
    printf("  retransmits  %llu sender->receiver, %llu receiver->sender, "
           "%s duplicated\n",
           (unsigned long long)tl->retransmits,
           (unsigned long long)tl->retransmits_rev,
           sim_format_size(a, sizeof(a), (double)(f->dir[0].dup_bytes +
                                                  f->dir[1].dup_bytes)));
    for (int i = 0; i < 2; i++) {
        const struct mig_pcap_dir *g = &f->dir[i];

        if (g->gap)
            printf("  gap          %s: %llu bytes missing at offset %llu\n",
                   i == 0 ? "sender->receiver" : "receiver->sender",
                   (unsigned long long)g->gap_len,
                   (unsigned long long)g->gap_off);
    }
    if (st->malformed || st->fragments || st->snapped)
        printf("  skipped      %llu malformed, %llu fragments, %llu cut "
               "by the snap length\n",
               (unsigned long long)st->malformed,
               (unsigned long long)st->fragments,
               (unsigned long long)st->snapped);
    printf("\n  pause window on the wire\n");
    if (tl->end_ts_ns < 0 || tl->decode_rc) {
        printf("  (stream incomplete)\n");
        return;
    }
    print_msg_time("ready", &tl->ready, tl->end_ts_ns);
    print_msg_time("GO", &tl->go, tl->end_ts_ns);
    print_msg_time("report", &tl->report, tl->end_ts_ns);
    if (!isnan(final_to_go(tl)))
        printf("  %-13s %s from the first byte of the stop-and-copy pass\n",
               "GO", sim_format_time(a, sizeof(a), final_to_go(tl)));
    if (!isnan(live_end_to_go(tl)))
        printf("  %-13s %s from the last byte of the last live pass\n",
               "GO", sim_format_time(a, sizeof(a), live_end_to_go(tl)));
    if (tl->report_status >= 0)
        printf("  %-13s %d (%s)\n", "status", tl->report_status,
               tl->report_status == 0 ? "running at the receiver"
                                      : "failed at the receiver");
}

/* ---- JSON ---------------------------------------------------------------- */

static struct json_object *msg_json(const struct mig_pcap_msg *m, int64_t t0,
                                    int64_t end)
{
    struct json_object *o;

    if (!m->seen)
        return NULL;
    o = json_object_new_object();
    sim_json_put_num(o, "time_s", rel_s(m->ts_ns, t0));
    sim_json_put_num(o, "after_stream_s", rel_s(m->ts_ns, end));
    return o;
}

static struct json_object *to_json(const char *file,
                                   const struct mig_pcap_flow *f,
                                   const struct mig_pcap_timeline *tl)
{
    const struct mig_pcap_stats *st = &f->stats;
    struct json_object *o = json_object_new_object();
    struct json_object *cap = json_object_new_object();
    struct json_object *flow = json_object_new_object();
    struct json_object *dec = json_object_new_object();
    struct json_object *passes = json_object_new_array();
    struct json_object *retx = json_object_new_object();
    struct json_object *gaps = json_object_new_array();
    struct json_object *hs = json_object_new_object();
    char ep[80];

    sim_json_put_str(cap, "file", file);
    sim_json_put_u64(cap, "packets", st->packets);
    sim_json_put_u64(cap, "link_type", (uint64_t)st->link_type);
    sim_json_put_u64(cap, "tcp_connections", st->flows);
    sim_json_put_u64(cap, "not_ip", st->not_ip);
    sim_json_put_u64(cap, "not_tcp", st->not_tcp);
    sim_json_put_u64(cap, "malformed", st->malformed);
    sim_json_put_u64(cap, "fragments", st->fragments);
    sim_json_put_u64(cap, "snapped", st->snapped);
    sim_json_put_bool(cap, "truncated_file", st->truncated_file);
    {
        /* Epoch seconds need all their digits (nanoseconds). */
        char text[40];
        double v = (double)st->first_ts_ns / 1e9;

        snprintf(text, sizeof(text), "%lld.%09lld",
                 (long long)(st->first_ts_ns / 1000000000LL),
                 (long long)(st->first_ts_ns % 1000000000LL));
        json_object_object_add(cap, "first_packet_epoch_s",
                               st->first_ts_ns >= 0
                                   ? json_object_new_double_s(v, text)
                                   : NULL);
    }
    json_object_object_add(o, "capture", cap);

    snprintf(ep, sizeof(ep), "%s:%u", f->dir[0].src.addr, f->dir[0].src.port);
    sim_json_put_str(flow, "sender", ep);
    snprintf(ep, sizeof(ep), "%s:%u", f->dir[0].dst.addr, f->dir[0].dst.port);
    sim_json_put_str(flow, "receiver", ep);
    sim_json_put_str(flow, "found_by", f->why);
    json_object_object_add(o, "flow", flow);

    sim_json_put_bool(dec, "complete", tl->decode_rc == 0);
    sim_json_put_str(dec, "status", tl->decode_rc == 0 ? "complete"
                           : tl->decode_rc == MIG_EINCOMPLETE ? "incomplete"
                                                              : "corrupt");
    sim_json_put_str(dec, "message", tl->decode_msg);
    sim_json_put_u64(dec, "records", tl->records);
    sim_json_put_u64(dec, "domain_type", tl->domain_type);
    sim_json_put_u64(dec, "guest_pages", tl->guest_pages);
    json_object_object_add(o, "decode", dec);

    /* The keys result_json.h defines, where they mean the same thing. */
    sim_json_put_str(o, "mode", tl->npasses > 1 ? "live" : "cold");
    sim_json_put_num(o, "total_time_s", total_time(tl));
    sim_json_put_u64(o, "bytes_sent", tl->stream_bytes);
    sim_json_put_u64(o, "pages_sent", tl->pages);
    sim_json_put_u64(o, "live_passes", live_passes(tl));
    sim_json_put_u64(o, "page_bytes", tl->page_bytes);
    for (size_t i = 0; i < tl->npasses; i++) {
        const struct mig_pcap_pass *p = &tl->passes[i];
        struct json_object *po = json_object_new_object();

        sim_json_put_u64(po, "index", p->index);
        sim_json_put_bool(po, "live", p->live);
        sim_json_put_u64(po, "pages", p->pages);
        sim_json_put_u64(po, "bytes", p->bytes);
        sim_json_put_num(po, "start_s", rel_s(p->first_ts_ns, tl->start_ts_ns));
        sim_json_put_num(po, "duration_s", rel_s(p->last_ts_ns, p->first_ts_ns));
        sim_json_put_u64(po, "batches", p->batches);
        sim_json_put_u64(po, "retransmits", p->retransmits);
        sim_json_put_u64(po, "stream_offset", p->first_off);
        json_object_array_add(passes, po);
    }
    json_object_object_add(o, "passes", passes);

    sim_json_put_u64(retx, "sender_to_receiver", tl->retransmits);
    sim_json_put_u64(retx, "receiver_to_sender", tl->retransmits_rev);
    sim_json_put_u64(retx, "duplicate_bytes", f->dir[0].dup_bytes + f->dir[1].dup_bytes);
    json_object_object_add(o, "retransmissions", retx);
    for (int i = 0; i < 2; i++) {
        const struct mig_pcap_dir *g = &f->dir[i];
        struct json_object *go;

        if (!g->gap)
            continue;
        go = json_object_new_object();
        sim_json_put_str(go, "direction", i == 0 ? "sender_to_receiver"
                                        : "receiver_to_sender");
        sim_json_put_u64(go, "offset", g->gap_off);
        sim_json_put_u64(go, "bytes", g->gap_len);
        sim_json_put_num(go, "time_s", rel_s(g->gap_ts_ns, tl->start_ts_ns));
        json_object_array_add(gaps, go);
    }
    json_object_object_add(o, "gaps", gaps);

    sim_json_put_num(hs, "stream_end_s", rel_s(tl->end_ts_ns, tl->start_ts_ns));
    sim_json_put_num(hs, "final_pass_to_go_s", final_to_go(tl));
    sim_json_put_num(hs, "live_end_to_go_s", live_end_to_go(tl));
    json_object_object_add(hs, "banner",
                           msg_json(&tl->banner, tl->start_ts_ns,
                                    tl->end_ts_ns));
    json_object_object_add(hs, "ready",
                           msg_json(&tl->ready, tl->start_ts_ns,
                                    tl->end_ts_ns));
    json_object_object_add(hs, "go",
                           msg_json(&tl->go, tl->start_ts_ns, tl->end_ts_ns));
    json_object_object_add(hs, "report",
                           msg_json(&tl->report, tl->start_ts_ns,
                                    tl->end_ts_ns));
    if (tl->report_status >= 0)
        sim_json_put_u64(hs, "report_status", (uint64_t)tl->report_status);
    json_object_object_add(o, "handshake", hs);
    return o;
}

int cmd_pcap(int argc, char **argv)
{
    struct pcap_cmd_opts o = { 0 };
    struct mig_pcap_opts po = { 0 };
    struct mig_pcap_src src = { 0 };
    struct mig_pcap_flow *flow = NULL;
    struct mig_pcap_timeline tl;
    char err[512];
    int rc;

    rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    if (o.help) {
        help();
        return CLI_OK;
    }
    src.path = o.file;
    po.port = o.port;
    rc = mig_pcap_flow_read(&src, &po, &flow, err, sizeof(err));
    if (rc) {
        cli_error(CMD, "%s", err);
        return rc == MIG_ENOMEM ? CLI_FAILED : CLI_USAGE;
    }
    rc = mig_pcap_timeline_build(flow, &tl);
    if (rc) {
        cli_error(CMD, "%s", mig_strerror(rc));
        mig_pcap_flow_free(flow);
        return CLI_FAILED;
    }
    if (o.json) {
        struct json_object *jo = to_json(o.file, flow, &tl);

        puts(json_object_to_json_string_ext(
            jo, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                    JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(jo);
    } else {
        print_text(o.file, flow, &tl);
    }
    rc = tl.decode_rc ? CLI_FAILED : CLI_OK;
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(flow);
    return rc;
}
