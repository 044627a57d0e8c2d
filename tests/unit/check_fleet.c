/* SPDX-License-Identifier: MIT */
/*
 * check_fleet.c - unit tests of inventories and evacuation plans
 * (sim/fleet.c): VMs on independent links take exactly their individual
 * predictions (makespan = max in parallel, sum one at a time); a shared
 * link is never beaten by its bandwidth bound; capacity is respected;
 * orderings; bad inventory lines rejected with NAME:LINE messages.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fleet.h"
#include "mig_err.h"
#include "units.h"
#include "check_main.h"

static bool under_valgrind(void)
{
    return getenv("MIGLAB_UNDER_VALGRIND") != NULL;
}

static struct sim_fleet *read_inv(const char *text)
{
    FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
    struct sim_fleet *fl = NULL;
    char err[400] = "";

    ck_assert_ptr_nonnull(f);
    ck_assert_msg(sim_fleet_read(f, "inv", NULL, &fl, err, sizeof(err)) == 0,
                  "%s", err);
    fclose(f);
    return fl;
}

/* The single prediction of VM v of f on link l, alone. */
static void alone(const struct sim_fleet *f, size_t v, size_t l,
                  struct sim_result *r)
{
    struct sim_config cfg;

    sim_config_defaults(&cfg);
    cfg.mem_bytes = f->vms[v].mem_bytes;
    cfg.vcpus = f->vms[v].vcpus;
    cfg.workload = f->vms[v].workload;
    cfg.link = f->links[l].link;
    cfg.policy = f->policy;
    cfg.costs = f->costs;
    ck_assert_int_eq(sim_run(&cfg, r), 0);
}

static const char independent[] =
    "# three sources, one destination, one link each\n"
    "host s1 capacity=64G\nhost s2 capacity=64G\nhost s3 capacity=64G\n"
    "host d capacity=1T\n"
    "link s1 d bandwidth=10Gbit rtt=0.2ms\n"
    "link s2 d bandwidth=1Gbit rtt=1ms\n"
    "link s3 d bandwidth=2.5Gbit rtt=0.5ms loss=1e-5\n"
    "vm a host=s1 memory=8G workload=uniform:rate=100MB/s\n"
    "vm b host=s2 memory=2G workload=hotcold:wss=256M,hot=0.9,rate=40MB/s\n"
    "vm c host=s3 memory=4G vcpus=4 workload=seq:rate=30MB/s\n";

/* In parallel on independent links: each VM is its own prediction. */
START_TEST(test_independent_parallel)
{
    struct sim_fleet *f = read_inv(independent);
    static const char *const drain[] = { "s1", "s2", "s3" };
    struct sim_evac_opts o = { 3, (enum sim_fleet_order)_i };
    struct sim_evac_plan p;
    struct sim_result r;
    char err[400];
    double mx = 0;

    sim_evac_plan_init(&p);
    sim_result_init(&r);
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 3, &o, &p, err,
                                        sizeof(err)), 0);
    ck_assert_uint_eq(p.n, 3);
    for (size_t i = 0; i < p.n; i++) {
        const struct sim_evac_vm *v = &p.vms[i];

        ck_assert_uint_eq(v->link, v->vm);
        alone(f, v->vm, v->link, &r);
        ck_assert(v->start_s == 0);
        ck_assert_msg(fabs(v->end_s - r.total_time_s) <=
                          1e-12 * r.total_time_s,
                      "vm %zu: %.17g vs %.17g", v->vm, v->end_s,
                      r.total_time_s);
        ck_assert(v->downtime_s == r.downtime_s);
        ck_assert(fabs(v->bytes - (double)r.bytes_sent) <=
                  1e-9 * (double)r.bytes_sent);
        ck_assert(p.link_bytes[v->link] == v->bytes);
        ck_assert_uint_eq(v->predictions, 1);
        mx = fmax(mx, r.total_time_s);
    }
    ck_assert(p.makespan_s == mx);
    sim_result_clear(&r);
    sim_evac_plan_clear(&p);
    sim_fleet_free(f);
}
END_TEST

/* One at a time: the makespan is the sum of the predictions. */
START_TEST(test_independent_serial)
{
    struct sim_fleet *f = read_inv(independent);
    static const char *const drain[] = { "s1", "s2", "s3" };
    struct sim_evac_opts o = { 1, SIM_ORDER_LARGEST_FIRST };
    struct sim_evac_plan p;
    struct sim_result r;
    char err[400];
    double sum = 0;

    sim_evac_plan_init(&p);
    sim_result_init(&r);
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 3, &o, &p, err,
                                        sizeof(err)), 0);
    for (size_t i = 0; i < p.n; i++) {
        alone(f, p.vms[i].vm, p.vms[i].link, &r);
        ck_assert(fabs(p.vms[i].start_s - sum) <= 1e-9 * (sum + 1));
        sum += r.total_time_s;
    }
    ck_assert(fabs(p.makespan_s - sum) <= 1e-9 * sum);
    /* Largest first: a (8G), c (4G), b (2G). */
    ck_assert_str_eq(f->vms[p.vms[0].vm].name, "a");
    ck_assert_str_eq(f->vms[p.vms[1].vm].name, "c");
    ck_assert_str_eq(f->vms[p.vms[2].vm].name, "b");
    sim_result_clear(&r);
    sim_evac_plan_clear(&p);
    sim_fleet_free(f);
}
END_TEST

static const char shared[] =
    "host a capacity=512G\nhost b capacity=512G\n"
    "link a b bandwidth=1Gbit rtt=0.5ms window=0\n"
    "vm v1 host=a memory=2G workload=uniform:rate=10MB/s\n"
    "vm v2 host=a memory=1G workload=hotcold:wss=64M,hot=0.9,rate=20MB/s\n"
    "vm v3 host=a memory=4G\n"
    "vm v4 host=a memory=512M workload=uniform:rate=5MB/s\n"
    "vm v5 host=a memory=1G workload=seq:rate=1MB/s\n";

/* A shared link is never faster than its bandwidth bound, and sharing
 * it never beats running alone. */
START_TEST(test_shared_link_bound)
{
    struct sim_fleet *f = read_inv(shared);
    static const char *const drain[] = { "a" };
    struct sim_evac_opts o = { (unsigned)_i + 1, SIM_ORDER_SMALLEST_DIRTY };
    struct sim_evac_plan p;
    struct sim_goodput g;
    struct sim_result r;
    char err[400];
    double total = 0;

    sim_evac_plan_init(&p);
    sim_result_init(&r);
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 1, &o, &p, err,
                                        sizeof(err)), 0);
    sim_link_goodput(&f->links[0].link, &g);
    for (size_t i = 0; i < p.n; i++) {
        total += p.vms[i].bytes;
        alone(f, p.vms[i].vm, 0, &r);
        ck_assert(p.vms[i].end_s - p.vms[i].start_s >=
                  r.total_time_s * (1 - 1e-9));
        ck_assert(p.vms[i].outcome == SIM_OUTCOME_COMPLETED);
        ck_assert_uint_eq(p.vms[i].dst, 1);
    }
    ck_assert(fabs(p.link_bytes[0] - total) <= 1e-9 * total);
    ck_assert_msg(p.makespan_s >= total / g.link_Bps,
                  "concurrency %u: makespan %g < bytes/bandwidth %g",
                  o.concurrency, p.makespan_s, total / g.link_Bps);
    /* Smallest dirty rate first: v3 (idle) starts first. */
    ck_assert_str_eq(f->vms[p.vms[0].vm].name, "v3");
    ck_assert_str_eq(f->vms[p.vms[1].vm].name, "v5");
    /* All at once: every finish re-shares the link. */
    if (o.concurrency == p.n)
        ck_assert_uint_gt(p.vms[0].predictions, 1);
    sim_result_clear(&r);
    sim_evac_plan_clear(&p);
    sim_fleet_free(f);
}
END_TEST

/* Destinations never overflow; the fastest link wins, then free room. */
START_TEST(test_capacity_respected)
{
    static const char inv[] =
        "host src capacity=1T\nhost d1 capacity=10G\nhost d2 capacity=20G\n"
        "host d3 capacity=100G\n"
        "link src d1 bandwidth=10Gbit\nlink src d2 bandwidth=10Gbit\n"
        "link src d3 bandwidth=1Gbit\n"
        "vm old host=d2 memory=6G\n"
        "vm v1 host=src memory=8G\nvm v2 host=src memory=8G\n"
        "vm v3 host=src memory=8G\nvm v4 host=src memory=8G\n"
        "vm v5 host=src memory=4G\n";
    struct sim_fleet *f = read_inv(inv);
    static const char *const drain[] = { "src" };
    struct sim_evac_opts o = { 2, SIM_ORDER_LARGEST_FIRST };
    struct sim_evac_plan p;
    double used[4] = { 0, 0, 6.0 * (1 << 30), 0 };
    char err[400];

    sim_evac_plan_init(&p);
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 1, &o, &p, err,
                                        sizeof(err)), 0);
    for (size_t i = 0; i < p.n; i++)
        used[p.vms[i].dst] += (double)f->vms[p.vms[i].vm].mem_bytes;
    for (size_t h = 1; h < 4; h++)
        ck_assert_msg(used[h] <= (double)f->hosts[h].capacity,
                      "host %s overfull", f->hosts[h].name);
    /* d2 (14G free) takes v1, d1 (10G) v2, d3 (slow) the rest but v5. */
    ck_assert_str_eq(f->hosts[p.vms[0].dst].name, "d2");
    ck_assert_str_eq(f->hosts[p.vms[1].dst].name, "d1");
    ck_assert_str_eq(f->hosts[p.vms[2].dst].name, "d3");
    ck_assert_str_eq(f->hosts[p.vms[4].dst].name, "d2");
    sim_evac_plan_clear(&p);
    sim_fleet_free(f);

    /* No room anywhere: an error naming the VM, and no plan. */
    f = read_inv("host a capacity=64G\nhost b capacity=4G\n"
                 "link a b bandwidth=1Gbit\nvm big host=a memory=8G\n");
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 0, &o, &p, err,
                                        sizeof(err)), MIG_EINVAL);
    {
        static const char *const da[] = { "a" };

        ck_assert_int_eq(sim_fleet_evacuate(f, da, 1, &o, &p, err,
                                            sizeof(err)), MIG_EINVAL);
        ck_assert_msg(strstr(err, "vm 'big'") != NULL, "%s", err);
        ck_assert_uint_eq(p.n, 0);
        ck_assert_ptr_null(p.vms);
    }
    sim_evac_plan_clear(&p);
    sim_fleet_free(f);
}
END_TEST

/* ---- limits ------------------------------------------------------------- */

/* Many VMs over a few shared links; the plan is deterministic. */
START_TEST(test_many_vms)
{
    size_t nvm = under_valgrind() ? 60 : 400, cap = 128 + nvm * 96;
    char *text = malloc(cap), *q = text;
    struct sim_fleet *f;
    static const char *const drain[] = { "h0", "h1" };
    struct sim_evac_opts o = { 8, SIM_ORDER_SMALLEST_DIRTY };
    struct sim_evac_plan p1, p2;
    char err[400];

    ck_assert_ptr_nonnull(text);
    q += sprintf(q, "host h0 capacity=100T\nhost h1 capacity=100T\n"
                    "host h2 capacity=100T\nhost h3 capacity=100T\n"
                    "link h0 h2 bandwidth=10Gbit\nlink h1 h3 bandwidth=10Gbit\n"
                    "link h0 h3 bandwidth=1Gbit\n");
    for (size_t i = 0; i < nvm; i++)
        q += sprintf(q, "vm v%zu host=h%zu memory=%zuM "
                        "workload=uniform:rate=%zuMB/s\n",
                     i, i % 2, 256 + (i % 7) * 256, 1 + i % 13);
    f = read_inv(text);
    free(text);
    sim_evac_plan_init(&p1);
    sim_evac_plan_init(&p2);
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 2, &o, &p1, err,
                                        sizeof(err)), 0);
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 2, &o, &p2, err,
                                        sizeof(err)), 0);
    ck_assert_uint_eq(p1.n, nvm);
    ck_assert(!memcmp(p1.vms, p2.vms, nvm * sizeof(*p1.vms)));
    for (size_t i = 0; i < nvm; i++) {
        ck_assert(p1.vms[i].end_s > p1.vms[i].start_s);
        ck_assert(p1.vms[i].end_s <= p1.makespan_s);
        /* At most 8 at once: the 9th starts when one has ended. */
        if (i >= 8)
            ck_assert(p1.vms[i].start_s >= p1.vms[i - 8].start_s);
    }
    sim_evac_plan_clear(&p1);
    sim_evac_plan_clear(&p2);
    sim_fleet_free(f);
}
END_TEST

/* ---- corrupt ------------------------------------------------------------ */

static const struct {
    const char *text;
    int line;
    const char *want;
} bad_inv[] = {
    { "host a capacity=1G\nrack r1\n", 2, "unknown line type 'rack'" },
    { "host a\n", 1, "missing capacity=" },
    { "host a capacity=lots\n", 1, "bad capacity 'lots'" },
    { "host a capacity=1G\nhost a capacity=2G\n", 2, "defined twice" },
    { "host a capacity=1G size=2\n", 1, "unknown key 'size'" },
    { "host a capacity\n", 1, "expected key=value" },
    { "host a/b capacity=1G\n", 1, "expected a name" },
    { "host a capacity=1G\nlink a b bandwidth=1Gbit\n", 2,
      "unknown host 'b'" },
    { "host a capacity=1G\nhost b capacity=1G\nlink a b rtt=1ms\n", 3,
      "missing bandwidth" },
    { "host a capacity=1G\nhost b capacity=1G\n\n"
      "link a b bandwidth=1Gbit rtt=soon\n", 4, "bad time 'soon'" },
    { "host a capacity=1G\nhost b capacity=1G\n"
      "link a b bandwidth=1Gbit colour=red\n", 3, "unknown key 'colour'" },
    { "host a capacity=1G\nhost b capacity=1G\nlink a b bandwidth=1Gbit\n"
      "link b a bandwidth=1Gbit\n", 4, "defined twice" },
    { "host a capacity=1G\nlink a a bandwidth=1Gbit\n", 2, "both ends" },
    { "host a capacity=1G\nvm v host=z memory=1G\n", 2, "unknown host 'z'" },
    { "host a capacity=1G\nvm v host=a memory=1000\n", 2, "bad memory" },
    { "host a capacity=1G\nvm v host=a\n", 2, "missing memory=" },
    { "host a capacity=1G\nvm v memory=1G\n", 2, "missing host=" },
    { "host a capacity=1G\nvm v host=a memory=1G workload=bogus:x=1\n", 2,
      "vm: workload:" },
    { "host a capacity=1G\n"
      "vm v host=a memory=1G workload=hotcold:wss=2G,hot=0.5,rate=1MB/s\n",
      2, "vm 'v':" },
    { "host a capacity=1G\nvm v host=a memory=1G\nvm v host=a memory=1G\n",
      3, "vm 'v' defined twice" },
    { "host a capacity=1G\nvm v host=a memory=1G vcpus=0\n", 2,
      "bad vcpus" },
    { "policy kvm\n", 1, "policy: expected" },
    { "policy xen\npolicy qemu\n", 2, "policy given twice" },
};

START_TEST(test_bad_inventory)
{
    FILE *f = fmemopen((void *)(uintptr_t)bad_inv[_i].text,
                       strlen(bad_inv[_i].text), "r");
    struct sim_fleet *fl = (struct sim_fleet *)1;
    char err[400] = "", want[32];

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(sim_fleet_read(f, "inv", NULL, &fl, err, sizeof(err)),
                     MIG_EINVAL);
    fclose(f);
    ck_assert_ptr_null(fl);
    snprintf(want, sizeof(want), "inv:%d: ", bad_inv[_i].line);
    ck_assert_msg(!strncmp(err, want, strlen(want)),
                  "case %d: '%s' does not start with '%s'", _i, err, want);
    ck_assert_msg(strstr(err, bad_inv[_i].want) != NULL,
                  "case %d: '%s' lacks '%s'", _i, err, bad_inv[_i].want);
}
END_TEST

START_TEST(test_bad_drain)
{
    struct sim_fleet *f = read_inv(independent);
    static const char *const drain[] = { "s1", "nosuch" };
    struct sim_evac_opts o = { 2, SIM_ORDER_INVENTORY };
    struct sim_evac_plan p;
    char err[400] = "";

    sim_evac_plan_init(&p);
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 2, &o, &p, err,
                                        sizeof(err)), MIG_EINVAL);
    ck_assert_msg(strstr(err, "unknown host 'nosuch'") != NULL, "%s", err);
    o.concurrency = 0;
    ck_assert_int_eq(sim_fleet_evacuate(f, drain, 1, &o, &p, err,
                                        sizeof(err)), MIG_EINVAL);
    /* No inventory at all. */
    {
        struct sim_fleet *e = NULL;
        FILE *in = fmemopen((void *)(uintptr_t)"# empty\n", 8, "r");

        ck_assert_int_eq(sim_fleet_read(in, "inv", NULL, &e, err,
                                        sizeof(err)), MIG_EINVAL);
        ck_assert_msg(strstr(err, "no hosts") != NULL, "%s", err);
        fclose(in);
    }
    sim_fleet_free(f);
    ck_assert_int_lt(sim_fleet_load("/nonexistent/inv", &f, err,
                                    sizeof(err)), 0);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err, "/nonexistent/inv: ") == err, "%s", err);
    sim_evac_plan_clear(&p);
}
END_TEST

static Suite *fleet_suite(void)
{
    Suite *s = suite_create("fleet");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_set_timeout(core, under_valgrind() ? 600 : 60);
    tcase_set_timeout(limits, under_valgrind() ? 600 : 60);
    tcase_add_loop_test(core, test_independent_parallel, 0, 3);
    tcase_add_test(core, test_independent_serial);
    tcase_add_loop_test(core, test_shared_link_bound, 0, 5);
    tcase_add_test(core, test_capacity_respected);
    tcase_add_test(limits, test_many_vms);
    tcase_add_loop_test(corrupt, test_bad_inventory, 0,
                        sizeof(bad_inv) / sizeof(bad_inv[0]));
    tcase_add_test(corrupt, test_bad_drain);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(fleet_suite());
}
