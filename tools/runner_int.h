/* SPDX-License-Identifier: MIT */
/*
 * runner_int.h - internals shared by tools/runner.c and
 * tools/runner_measure.c.  Result document keys: docs/runner.md.
 */
#ifndef MIGLAB_RUNNER_INT_H
#define MIGLAB_RUNNER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "engine.h"
#include "testbed.h"

/* Up to max - 1 bytes of a file, NUL-terminated; caller frees.  NULL when
 * it cannot be read or on ENOMEM. */
char *runner__slurp(const char *path, size_t max);

/*
 * Decode the capture pcap (its child's log caplog has libpcap's counters)
 * and add "wire" to rep and wire_s / wire_note / wire_parts to down.
 * *t0_ns (wall time of t = 0, from the launch of `miglab migrate`) is
 * replaced by the capture's estimate (first stream byte - setup_s of the
 * measured run meas) when the capture has a stream.
 */
void runner__wire(const char *pcap, const char *caplog,
                  struct json_object *meas, int64_t *t0_ns,
                  struct json_object *rep, struct json_object *down);

/* Read the prober's file: "heartbeat" into rep (gaps in run seconds),
 * network_s / network_note into down, from the gaps that overlap
 * [t0_ns, win_end_ns]. */
void runner__heartbeat(const char *path, int64_t t0_ns, int64_t win_end_ns,
                       struct json_object *rep, struct json_object *down);

/* {total_time_s, downtime_s, bytes_sent: {predicted, measured, error}};
 * caller owns it. */
struct json_object *runner__compare(const struct sim_result *p,
                                    const struct sim_result *m);

/* The testbed's id, emulator and per-direction settings; caller owns. */
struct json_object *runner__testbed_json(const struct tb_config *c);

#endif
