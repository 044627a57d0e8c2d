/* SPDX-License-Identifier: MIT */
/*
 * result_json.h - the JSON shape of a migration run.
 *
 * `miglab predict --json` prints it for a prediction; the reference
 * implementation prints the same keys for a measured run, so the two can be
 * compared field by field.  Keys (seconds, bytes, pages; never other units):
 *   mode, policy, engine, outcome, stop_reason, converged,
 *   total_time_s, downtime_s, setup_s, downtime_parts{suspend_s,
 *   final_copy_s, propagation_s, restore_s, handshake_s, unpause_s},
 *   bytes_sent, pages_sent, live_passes, mem_pages, transfer_Bps,
 *   link{goodput_Bps, limit, link_Bps, window_Bps, loss_Bps, mathis_Bps,
 *        padhye_Bps, cubic_Bps, mss, rto_s}   (infinite terms are null),
 *   passes[{index, live, pages, bytes, start_s, duration_s, dirty_after,
 *           throttle}]
 */
#ifndef SIM_RESULT_JSON_H
#define SIM_RESULT_JSON_H

#include <json-c/json.h>
#include <stdint.h>

#include "engine.h"
#include "scenario.h"

/*
 * Add key = v to object o: numbers with nine significant digits (an
 * infinite or NaN value becomes null: JSON has no infinity), unsigned
 * integers, strings (NULL becomes null) and booleans.  For every JSON
 * miglab prints, so all of it reads alike.
 */
void sim_json_put_num(struct json_object *o, const char *key, double v);
void sim_json_put_u64(struct json_object *o, const char *key, uint64_t v);
void sim_json_put_str(struct json_object *o, const char *key, const char *v);
void sim_json_put_bool(struct json_object *o, const char *key, int v);

/* New JSON object for r; caller releases it with json_object_put().
 * NULL on ENOMEM. */
struct json_object *sim_result_to_json(const struct sim_result *r);

/* The inputs of a scenario (guest, network, migration, costs), same units
 * as the result.  NULL on ENOMEM. */
struct json_object *sim_scenario_to_json(const struct sim_scenario *sc);

#endif
