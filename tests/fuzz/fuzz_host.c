/* SPDX-License-Identifier: MIT */
/*
 * fuzz_host.c - libFuzzer target for the host daemon's control-request
 * parser, mig_host_request() (ref/host_ctl.c, docs/host-protocol.md),
 * with every command it dispatches to.
 *
 * One host is made for the whole run (8 MiB capacity, TCP listener and
 * control socket on 127.0.0.1 in a temp dir; its run loop is not started,
 * so nobody can reach it).  Each input is split into lines, each line one
 * request.  So that no migration ever leaves this process for another
 * address, a request that parses as an object has its "host" replaced by
 * 127.0.0.1 and a valid "port" by 1, where nothing listens: "migrate"
 * runs its checks and fails to connect.  After the input every guest left
 * on the host is destroyed, so inputs do not depend on each other.
 *
 * Invariants checked: every request yields zero or more progress lines
 * and then exactly one reply, each one JSON object on one line; the reply
 * has a boolean "ok", and a failed one a "kind" and a non-empty "error";
 * mig_host_request() returns what the last emit returned (0 here).
 * Inputs naming /dev, /proc or /sys are skipped (trace workloads).
 *
 * Run: make fuzz FUZZ_TARGETS=host (docs/fuzzing.md).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "host.h"

static struct mig_host *host;
static char host_dir[64];

/* Replies to one request. */
struct replies {
    unsigned n;
    unsigned finals;
    bool ok;
};

static int collect(void *opaque, const char *line)
{
    struct replies *r = opaque;
    struct json_object *o = json_tokener_parse(line), *v, *k, *e;

    CHECK(o && json_object_is_type(o, json_type_object));
    CHECK(strchr(line, '\n') == NULL);
    CHECK(r->finals == 0);          /* nothing after the reply */
    r->n++;
    if (!json_object_object_get_ex(o, "progress", &v)) {
        r->finals++;
        CHECK(json_object_object_get_ex(o, "ok", &v) &&
              json_object_is_type(v, json_type_boolean));
        r->ok = json_object_get_boolean(v);
        if (!r->ok) {
            CHECK(json_object_object_get_ex(o, "kind", &k) &&
                  json_object_is_type(k, json_type_string));
            CHECK(json_object_object_get_ex(o, "error", &e) &&
                  json_object_get_string_len(e) > 0);
        }
    }
    json_object_put(o);
    return 0;
}

static void cleanup_host(void)
{
    mig_host_free(host);
    host = NULL;
    rmdir(host_dir);
}

static struct mig_host *fuzz_host(void)
{
    struct mig_host_cfg cfg = { .listen_host = "127.0.0.1",
                                .mem_capacity = 8U << 20,
                                .name = "fuzz" };
    char path[96], err[256];

    if (host)
        return host;
    snprintf(host_dir, sizeof(host_dir), "/tmp/fuzz_host.XXXXXX");
    CHECK(mkdtemp(host_dir) != NULL);
    snprintf(path, sizeof(path), "%s/ctl.sock", host_dir);
    cfg.control_path = path;
    if (mig_host_new(&cfg, &host, err, sizeof(err))) {
        fprintf(stderr, "fuzz_host: %s\n", err);
        abort();
    }
    atexit(cleanup_host);
    return host;
}

/* Send line as one request and check the replies. */
static bool request(const char *line)
{
    struct replies r = { 0 };

    CHECK(mig_host_request(fuzz_host(), line, collect, &r) == 0);
    CHECK(r.finals == 1);
    return r.ok;
}

/* The line to send for text: where a migration would go, loopback port 1.
 * Returns a string to free, or NULL to send text as it is. */
static char *confine(const char *text)
{
    struct json_object *o = json_tokener_parse(text), *v;
    char *out = NULL;

    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    if (json_object_object_get_ex(o, "host", &v) &&
        json_object_is_type(v, json_type_string))
        json_object_object_add(o, "host",
                               json_object_new_string("127.0.0.1"));
    if (json_object_object_get_ex(o, "port", &v) &&
        json_object_is_type(v, json_type_int) &&
        json_object_get_int64(v) >= 1 && json_object_get_int64(v) <= 65535)
        json_object_object_add(o, "port", json_object_new_int(1));
    out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return out;
}

static int keep_reply(void *opaque, const char *line)
{
    struct json_object **last = opaque;

    json_object_put(*last);
    *last = json_tokener_parse(line);
    return 0;
}

/* Destroy every guest the input left on the host. */
static void destroy_all(void)
{
    struct json_object *o = NULL, *guests, *name;
    char line[160];

    CHECK(mig_host_request(fuzz_host(), "{\"cmd\":\"list\"}", keep_reply,
                           &o) == 0);
    CHECK(o && json_object_object_get_ex(o, "guests", &guests));
    for (size_t i = 0; i < json_object_array_length(guests); i++) {
        CHECK(json_object_object_get_ex(json_object_array_get_idx(guests, i),
                                        "name", &name));
        snprintf(line, sizeof(line), "{\"cmd\":\"destroy\",\"name\":\"%s\"}",
                 json_object_get_string(name));
        CHECK(request(line));
    }
    json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *save = NULL;

    if (size > MIG_HOST_LINE_MAX || fuzz_names_special_file(data, size))
        return 0;
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *confined = confine(line);

        request(confined ? confined : line);
        free(confined);
    }
    free(text);
    destroy_all();
    return 0;
}
