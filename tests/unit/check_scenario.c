/* SPDX-License-Identifier: MIT */
/*
 * check_scenario.c - unit tests of scenario files and flags
 * (sim/scenario.c): every key reaches its field with its unit, errors name
 * file and line, flags and keys are one setting, [expect] is checked.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig_err.h"
#include "scenario.h"
#include "check_main.h"

static char tmpdir[] = "/tmp/check_scenario.XXXXXX";
static char path[512];

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof(path), "%s/s.ini", tmpdir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(tmpdir);
    memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_full_file)
{
    struct sim_scenario sc;
    char err[400] = "";

    write_file("# comment\n"
               "[scenario]\nname = demo\n"
               "[guest]\nmemory = 4G\nvcpus = 4\n"
               "workload = hotcold:wss=512M,hot=0.9,rate=1GB/s\n"
               "[network]\nbandwidth = 10Gbit\nrtt = 0.5ms\njitter = 100us\n"
               "loss = 1e-4\nmtu = 9000\ncc = bbr\nwindow = 2M\n"
               "[migration]\nmode = live\n"
               "downtime_limit = 100ms ; set before the policy\n"
               "policy = qemu\nauto_converge = yes\nmax_bandwidth = 1Gbit\n"
               "[costs]\nsuspend = 3ms\nvcpu_state = 8K\n"
               "[expect]\ndowntime_max = 300ms\nconverged = true\n"
               "[run]\nseed = 99\nengine = exact\nrepeats = 3\n");
    sim_scenario_init(&sc);
    ck_assert_msg(sim_scenario_load(&sc, path, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_str_eq(sc.name, "demo");
    ck_assert_uint_eq(sc.cfg.mem_bytes, 4ULL << 30);
    ck_assert_uint_eq(sc.cfg.vcpus, 4);
    ck_assert_ptr_nonnull(sc.cfg.workload);
    ck_assert_int_eq(sc.cfg.workload->kind, SIM_WL_HOTCOLD);
    ck_assert_double_eq_tol(sc.cfg.link.bandwidth_bps, 10e9, 1);
    ck_assert_double_eq_tol(sc.cfg.link.rtt_s, 0.0005, 1e-12);
    ck_assert_double_eq_tol(sc.cfg.link.jitter_s, 0.0001, 1e-12);
    ck_assert_double_eq_tol(sc.cfg.link.loss, 1e-4, 1e-15);
    ck_assert_uint_eq(sc.cfg.link.mtu, 9000);
    ck_assert_int_eq(sc.cfg.link.cc, SIM_CC_BBR);
    ck_assert_uint_eq(sc.cfg.link.window_bytes, 2ULL << 20);
    ck_assert_int_eq(sc.cfg.policy.kind, MIG_POLICY_QEMU);
    /* Set before `policy =` and kept. */
    ck_assert_double_eq_tol(sc.cfg.policy.downtime_limit_s, 0.1, 1e-12);
    ck_assert(sc.cfg.policy.auto_converge);
    ck_assert_double_eq_tol(sc.cfg.policy.max_bandwidth_Bps, 125e6, 1);
    ck_assert_double_eq_tol(sc.cfg.costs.suspend_s, 0.003, 1e-12);
    ck_assert_uint_eq(sc.cfg.costs.vcpu_state_bytes, 8192);
    ck_assert_double_eq_tol(sc.expect.downtime_max_s, 0.3, 1e-12);
    ck_assert_int_eq(sc.expect.converged, 1);
    ck_assert_uint_eq(sc.cfg.seed, 99);
    ck_assert_int_eq(sc.cfg.engine, SIM_ENGINE_EXACT);
    ck_assert_uint_eq(sc.repeats, 3);
    ck_assert_int_eq(sim_scenario_validate(&sc, err, sizeof(err)), 0);
    sim_scenario_free(&sc);
}
END_TEST

/* [network] queue: a time at the bandwidth or a size; the last one set
 * wins; unset, the default of sim_queue_default_bytes. */
START_TEST(test_queue_key)
{
    struct sim_scenario sc;
    char err[400];

    sim_scenario_init(&sc);
    sc.cfg.link.bandwidth_bps = 1e9;
    sc.cfg.link.rtt_s = 0.5e-3;
    /* 10 ms at 1 Gbit/s beats the BDP (62.5 KB) and 64 KiB. */
    ck_assert_uint_eq(sim_link_queue_bytes(&sc.cfg.link), 1250000);
    ck_assert(!sim_scenario_is_set(&sc, "network", "queue"));
    ck_assert_int_eq(sim_scenario_set(&sc, "network", "queue", "4ms", err,
                                      sizeof(err)), 0);
    ck_assert_uint_eq(sim_link_queue_bytes(&sc.cfg.link), 500000);
    ck_assert(sim_scenario_is_set(&sc, "network", "queue"));
    ck_assert_int_eq(sim_scenario_set_flag(&sc, "--queue", "256K", err,
                                           sizeof(err)), 0);
    ck_assert_uint_eq(sim_link_queue_bytes(&sc.cfg.link), 256 * 1024);
    ck_assert_double_eq(sc.cfg.link.queue_s, 0);
    /* A bare number is bytes, not seconds. */
    ck_assert_int_eq(sim_scenario_set(&sc, "network", "queue", "100000",
                                      err, sizeof(err)), 0);
    ck_assert_uint_eq(sim_link_queue_bytes(&sc.cfg.link), 100000);
    /* A time follows the bandwidth, whenever that is set. */
    ck_assert_int_eq(sim_scenario_set(&sc, "network", "queue", "20ms", err,
                                      sizeof(err)), 0);
    sc.cfg.link.bandwidth_bps = 100e6;
    ck_assert_uint_eq(sim_link_queue_bytes(&sc.cfg.link), 250000);
    ck_assert_int_eq(sim_scenario_set_flag(&sc, "queue", "0", err,
                                           sizeof(err)), MIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--queue: bad queue '0'"));
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_flags_are_keys)
{
    struct sim_scenario a, b;
    char err[400];

    sim_scenario_init(&a);
    sim_scenario_init(&b);
    ck_assert_int_eq(sim_scenario_set_flag(&a, "--loss", "1%", err,
                                           sizeof(err)), 0);
    ck_assert_int_eq(sim_scenario_set(&b, "network", "loss", "0.01", err,
                                      sizeof(err)), 0);
    ck_assert_double_eq(a.cfg.link.loss, b.cfg.link.loss);
    ck_assert_int_eq(sim_scenario_set_flag(&a, "auto-converge", NULL, err,
                                           sizeof(err)), 0);
    ck_assert(a.cfg.policy.auto_converge);
    ck_assert_int_eq(sim_scenario_set_flag(&a, "--nope", "1", err,
                                           sizeof(err)), MIG_ENOTSUP);
    /* Every key with a flag is reachable by it. */
    for (size_t i = 0; i < sim_scenario_nkeys(); i++) {
        const struct sim_scenario_key *k = sim_scenario_key_at(i);

        ck_assert_ptr_nonnull(k);
        ck_assert_ptr_nonnull(k->help);
        if (k->flag)
            ck_assert_int_ne(sim_scenario_set_flag(&a, k->flag, "?", err,
                                                   sizeof(err)),
                             MIG_ENOTSUP);
    }
    ck_assert_ptr_null(sim_scenario_key_at(sim_scenario_nkeys()));
    sim_scenario_free(&a);
    sim_scenario_free(&b);
}
END_TEST

START_TEST(test_expect_check)
{
    struct sim_expect e;
    struct sim_scenario sc;
    struct sim_result r = { 0 };
    struct sim_expect_line lines[8];
    size_t n = 0;

    sim_scenario_init(&sc);
    e = sc.expect;
    ck_assert_uint_eq(sim_expect_check(&e, &r, lines, 8, &n), 0);
    ck_assert_uint_eq(n, 0);
    e.downtime_max_s = 0.3;
    e.converged = 1;
    r.outcome = SIM_OUTCOME_COMPLETED;
    r.downtime_s = 0.25;
    r.converged = true;
    ck_assert_uint_eq(sim_expect_check(&e, &r, lines, 8, &n), 0);
    ck_assert_uint_eq(n, 2);
    r.downtime_s = 0.31;
    ck_assert_uint_eq(sim_expect_check(&e, &r, lines, 8, &n), 1);
    ck_assert(!lines[1].pass);
    ck_assert_ptr_nonnull(strstr(lines[1].text, "downtime"));
    /* An unfinished run has no downtime to meet a bound with. */
    r.outcome = SIM_OUTCOME_UNFINISHED;
    r.downtime_s = 0;
    r.converged = false;
    ck_assert_uint_eq(sim_expect_check(&e, &r, NULL, 0, &n), 2);
    sim_scenario_free(&sc);
}
END_TEST

/* Bad files: (text, expected "s.ini:LINE:" and a word of the message). */
static const struct {
    const char *text;
    int line;
    const char *word;
} bad_files[] = {
    { "[guest]\nmemory = 1G\nmemroy = 2G\n", 3, "unknown key 'memroy'" },
    { "[gust]\nmemory = 1G\n", 2, "unknown section [gust]" },
    { "[guest]\nmemory = 4X\n", 2, "bad size '4X'" },
    { "[network]\n\n\nloss = 2\n", 4, "[network] loss" },
    { "[network]\nrtt = fast\n", 2, "bad time" },
    { "[network]\ncc = vegas\n", 2, "vegas" },
    { "[network]\nmtu = 100\n", 2, "576..65535" },
    { "[migration]\npolicy = kvm\n", 2, "unknown policy 'kvm'" },
    { "[migration]\nmode = warm\n", 2, "live or cold" },
    { "[migration]\nauto_converge = maybe\n", 2, "bad boolean" },
    { "[guest]\nworkload = uniform:rate=-5MB/s\n", 2, "[guest] workload" },
    { "[guest]\nworkload = hotcold:hot=0.9\n", 2, "[guest] workload" },
    { "memory = 1G\n", 1, "outside any [section]" },
    { "[guest]\nmemory 1G\n", 2, "syntax error" },
    { "[guest\nmemory = 1G\n", 1, "syntax error" },
    { "[run]\nrepeats = 0\n", 2, "1..1000000" },
    { "[expect]\noutcome = fine\n", 2, "bad outcome" },
    { "[network]\nqueue = 10 parsecs\n", 2, "[network] queue: bad queue" },
    { "[network]\nqueue = 0s\n", 2, "bad queue '0s'" },
    { "[network]\nqueue = 11s\n", 2, "bad queue '11s'" },
    { "[network]\nqueue = 1000\n", 2, "at least one packet" },
    { "[network]\nqueue = -5K\n", 2, "bad queue" },
    { "[network]\nqueue = lots\n", 2, "bad queue 'lots'" },
    { "[network]\nqueu = 10ms\n", 2, "unknown key 'queu'" },
};

START_TEST(test_bad_file)
{
    struct sim_scenario sc;
    char err[400] = "", where[600];

    write_file(bad_files[_i].text);
    sim_scenario_init(&sc);
    ck_assert_int_eq(sim_scenario_load(&sc, path, err, sizeof(err)),
                     MIG_EINVAL);
    snprintf(where, sizeof(where), "%s:%d: ", path, bad_files[_i].line);
    ck_assert_msg(strncmp(err, where, strlen(where)) == 0,
                  "case %d: '%s' does not start with '%s'", _i, err, where);
    ck_assert_msg(strstr(err, bad_files[_i].word) != NULL,
                  "case %d: '%s' does not say '%s'", _i, err,
                  bad_files[_i].word);
    ck_assert_ptr_null(strchr(err, '\n'));
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_missing_file)
{
    struct sim_scenario sc;
    char err[400] = "";

    sim_scenario_init(&sc);
    ck_assert_int_lt(sim_scenario_load(&sc, "/nonexistent/x.ini", err,
                                       sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.ini"));
    sim_scenario_free(&sc);
    sim_scenario_free(NULL);
}
END_TEST

START_TEST(test_validate_whole)
{
    struct sim_scenario sc;
    char err[400] = "";

    write_file("[guest]\nmemory = 1G\n"
               "workload = hotcold:wss=2G,hot=0.5,rate=1MB/s\n");
    sim_scenario_init(&sc);
    ck_assert_int_eq(sim_scenario_load(&sc, path, err, sizeof(err)), 0);
    ck_assert_int_eq(sim_scenario_validate(&sc, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert(strlen(err) > 0);
    sim_scenario_free(&sc);
}
END_TEST

/* The stream entry point (fuzzers read from memory): same keys, same
 * messages, named by the path it is given. */
START_TEST(test_load_stream)
{
    static const char good[] = "[scenario]\nname = mem\n[guest]\n"
                               "memory = 2G\nworkload = uniform:rate=1MB/s\n";
    static const char bad[] = "[guest]\nmemory = 2G\n\nmemory = 4X\n";
    struct sim_scenario sc;
    char err[400] = "";
    FILE *f;

    f = fmemopen((void *)good, strlen(good), "r");
    ck_assert_ptr_nonnull(f);
    sim_scenario_init(&sc);
    ck_assert_int_eq(sim_scenario_load_stream(&sc, f, "/virtual/dir/m.ini",
                                              err, sizeof(err)), 0);
    fclose(f);
    ck_assert_str_eq(sc.name, "mem");
    ck_assert_str_eq(sc.basedir, "/virtual/dir");
    ck_assert_uint_eq(sc.cfg.mem_bytes, 2ULL << 30);
    ck_assert_ptr_nonnull(sc.workload);
    sim_scenario_free(&sc);

    f = fmemopen((void *)bad, strlen(bad), "r");
    ck_assert_ptr_nonnull(f);
    sim_scenario_init(&sc);
    ck_assert_int_eq(sim_scenario_load_stream(&sc, f, "m.ini", err,
                                              sizeof(err)), MIG_EINVAL);
    fclose(f);
    ck_assert_msg(strncmp(err, "m.ini:4: ", 9) == 0, "%s", err);
    ck_assert_str_eq(sc.name, "m");
    ck_assert_str_eq(sc.basedir, ".");
    sim_scenario_free(&sc);
}
END_TEST

static Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_checked_fixture(corrupt, setup, teardown);
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_add_test(core, test_full_file);
    tcase_add_test(core, test_flags_are_keys);
    tcase_add_test(core, test_queue_key);
    tcase_add_test(core, test_expect_check);
    tcase_add_test(core, test_load_stream);
    tcase_add_test(limits, test_missing_file);
    tcase_add_test(limits, test_validate_whole);
    tcase_add_loop_test(corrupt, test_bad_file, 0,
                        sizeof(bad_files) / sizeof(bad_files[0]));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(scenario_suite());
}
