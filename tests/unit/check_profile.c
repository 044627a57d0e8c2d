/* SPDX-License-Identifier: MIT */
/*
 * check_profile.c - unit tests of host profiles (sim/profile.c): the
 * writer and the reader round-trip, bad keys and values name FILE:LINE,
 * points match on the network only, and the precedence explicit (file or
 * flag) > profile point > profile [costs] > defaults.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig_err.h"
#include "profile.h"
#include "check_main.h"

static char tmpdir[] = "/tmp/check_profile.XXXXXX";
static char path[512], scen[512];

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof(path), "%s/p.ini", tmpdir);
    snprintf(scen, sizeof(scen), "%s/s.ini", tmpdir);
}

static void teardown(void)
{
    unlink(path);
    unlink(scen);
    rmdir(tmpdir);
    memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static const char lan_profile[] =
    "[profile]\ncreated = 2026-11-27T07:00:00Z\nemulator = netem\n"
    "[costs]\nsuspend = 1ms\nunpause = 0.5ms\nrestore = 30ms\n"
    "[link lan]\nbandwidth = 1Gbit\nrtt = 0.5ms\njitter = 0\nloss = 0\n"
    "cc = cubic\nwindow = 4M\ngoodput = 110MB/s\nrestore = 100ms\n"
    "restore_cold = 40ms\nsetup_rtts = 6\nrepeats = 3\n"
    "spread_goodput = 0.02\n"
    "[link wan]\nbandwidth = 1Gbit\nrtt = 50ms\nloss = 0.1%\ncc = bbr\n"
    "window = 8M\ngoodput = 40MB/s\nrestore = 250ms\n";

START_TEST(test_round_trip)
{
    struct sim_profile p, q;
    const struct sim_profile_point *a, *b;
    char err[400] = "";
    FILE *f;

    write_file(path, lan_profile);
    sim_profile_init(&p);
    ck_assert_int_eq(sim_profile_load(&p, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(p.npoints, 2);
    ck_assert_str_eq(sim_profile_kv_get(&p.info, "emulator"), "netem");
    ck_assert_str_eq(sim_profile_kv_get(&p.costs, "restore"), "30ms");
    a = &p.points[0];
    ck_assert_str_eq(a->name, "lan");
    ck_assert_double_eq_tol(a->link.goodput_Bps, 110e6, 1e-3);
    ck_assert_double_eq_tol(a->link.rtt_s, 0.5e-3, 1e-12);
    ck_assert_uint_eq(a->link.window_bytes, 4u << 20);
    ck_assert_str_eq(sim_profile_kv_get(&a->costs, "restore_cold"), "40ms");
    ck_assert_str_eq(sim_profile_kv_get(&a->info, "repeats"), "3");
    ck_assert_ptr_null(sim_profile_kv_get(&a->costs, "repeats"));
    ck_assert_int_eq(p.points[1].link.cc, SIM_CC_BBR);
    ck_assert_double_eq_tol(p.points[1].link.loss, 1e-3, 1e-15);

    /* Write, read back: the same points, links and keys. */
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(sim_profile_write(f, &p), 0);
    fclose(f);
    sim_profile_init(&q);
    ck_assert_int_eq(sim_profile_load(&q, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(q.npoints, p.npoints);
    ck_assert_uint_eq(q.costs.n, p.costs.n);
    ck_assert_uint_eq(q.info.n, p.info.n);
    for (size_t i = 0; i < p.npoints; i++) {
        a = &p.points[i];
        b = &q.points[i];
        ck_assert_str_eq(a->name, b->name);
        ck_assert_double_eq_tol(a->link.bandwidth_bps, b->link.bandwidth_bps,
                                1e-3);
        ck_assert_double_eq_tol(a->link.rtt_s, b->link.rtt_s, 1e-15);
        ck_assert_double_eq_tol(a->link.loss, b->link.loss, 1e-15);
        ck_assert_double_eq_tol(a->link.goodput_Bps, b->link.goodput_Bps,
                                1e-3);
        ck_assert_int_eq(a->link.cc, b->link.cc);
        ck_assert_uint_eq(a->link.window_bytes, b->link.window_bytes);
        ck_assert_uint_eq(a->costs.n, b->costs.n);
        for (size_t k = 0; k < a->costs.n; k++)
            ck_assert_str_eq(sim_profile_kv_get(&b->costs,
                                                a->costs.v[k].key),
                             a->costs.v[k].value);
        /* Each point still matches its own link after the trip. */
        ck_assert_ptr_eq(sim_profile_match(&q, &a->link), b);
    }
    sim_profile_free(&q);
    sim_profile_free(&p);
}
END_TEST

static const struct bad_case {
    const char *name;
    const char *text;
    const char *want;           /* substring of the error */
} bad_cases[] = {
    { "unknown section", "[costs]\nsuspend = 1ms\n[gust]\nx = 1\n",
      "p.ini:4: unknown section [gust]" },
    { "unknown cost key", "[costs]\nsuspnd = 1ms\n",
      "p.ini:2: unknown key 'suspnd' in [costs]" },
    { "bad cost value", "[profile]\nemulator = x\n[costs]\nrestore = 5x\n",
      "p.ini:4: [costs] restore: bad time '5x'" },
    { "bad link rtt", "[link a]\nrtt = fast\n",
      "p.ini:2: [link a] rtt: bad time 'fast'" },
    { "bad goodput", "[link a]\ngoodput = lots\n",
      "p.ini:2: [link a] goodput: bad rate 'lots'" },
    { "bad cc", "[link a]\n\ncc = vegas\n",
      "p.ini:3: [link a] cc: unknown congestion control 'vegas'" },
    { "unknown point key", "[link a]\nbandwith = 1Gbit\n",
      "p.ini:2: unknown key 'bandwith' in [link a]" },
    { "bad restore_cold", "[link a]\nrestore_cold = -1ms\n",
      "p.ini:2: [link a] restore_cold: bad time '-1ms'" },
    { "unknown profile key", "[profile]\nowner = me\n",
      "p.ini:2: unknown key 'owner' in [profile]" },
    { "nameless link", "[link ]\nrtt = 1ms\n", "unknown section" },
    { "syntax", "[costs]\nsuspend\n", "p.ini:2: syntax error" },
};

/* Provenance longer than a line inih can read is cut, and the file still
 * reads back (a calibrate command line with many scenarios once made a
 * profile unreadable). */
START_TEST(test_long_value_cut)
{
    struct sim_profile p, q;
    char err[400] = "", longv[600];
    const char *got;
    FILE *f;

    memset(longv, 'x', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    sim_profile_init(&p);
    ck_assert_int_eq(sim_profile_kv_set(&p.info, "command", longv), 0);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(sim_profile_write(f, &p), 0);
    fclose(f);
    sim_profile_init(&q);
    ck_assert_msg(sim_profile_load(&q, path, err, sizeof(err)) == 0, "%s",
                  err);
    got = sim_profile_kv_get(&q.info, "command");
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_lt(strlen(got), 200);
    ck_assert_str_eq(got + strlen(got) - 3, "...");
    sim_profile_free(&q);
    sim_profile_free(&p);
}
END_TEST

START_TEST(test_bad_files)
{
    const struct bad_case *c = &bad_cases[_i];
    struct sim_profile p;
    char err[400] = "";

    write_file(path, c->text);
    sim_profile_init(&p);
    ck_assert_msg(sim_profile_load(&p, path, err, sizeof(err)) ==
                      MIG_EINVAL, "case %d (%s): accepted", _i, c->name);
    ck_assert_msg(strstr(err, c->want), "case %d (%s): error '%s'", _i,
                  c->name, err);
    sim_profile_free(&p);
}
END_TEST

START_TEST(test_missing_file)
{
    struct sim_profile p;
    char err[400] = "";

    sim_profile_init(&p);
    ck_assert_int_lt(sim_profile_load(&p, "/nonexistent/p.ini", err,
                                      sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/p.ini: "));
    sim_profile_free(&p);
}
END_TEST

/* Load the scenario text, then apply the profile. */
static void load_and_apply(const char *scenario, struct sim_scenario *sc,
                           struct sim_profile *p,
                           const struct sim_profile_point **pt)
{
    char err[400] = "";

    write_file(path, lan_profile);
    write_file(scen, scenario);
    sim_scenario_init(sc);
    sim_profile_init(p);
    ck_assert_int_eq(sim_scenario_load(sc, scen, err, sizeof(err)), 0);
    ck_assert_int_eq(sim_profile_load(p, path, err, sizeof(err)), 0);
    ck_assert_int_eq(sim_profile_apply(p, sc, pt, err, sizeof(err)), 0);
}

START_TEST(test_precedence_point)
{
    struct sim_scenario sc;
    struct sim_profile p;
    const struct sim_profile_point *pt;

    /* The file sets suspend: it wins; restore comes from the point (over
     * [costs]), unpause from [costs], vcpu_state from the defaults. */
    load_and_apply("[network]\nbandwidth = 1Gbit\nrtt = 0.5ms\n"
                   "[costs]\nsuspend = 7ms\n", &sc, &p, &pt);
    ck_assert_ptr_nonnull(pt);
    ck_assert_str_eq(pt->name, "lan");
    ck_assert_double_eq_tol(sc.cfg.costs.suspend_s, 7e-3, 1e-12);
    ck_assert_double_eq_tol(sc.cfg.costs.restore_s, 100e-3, 1e-12);
    ck_assert_double_eq_tol(sc.cfg.costs.unpause_s, 0.5e-3, 1e-12);
    ck_assert_double_eq_tol(sc.cfg.costs.setup_rtts, 6, 1e-12);
    ck_assert_uint_eq(sc.cfg.costs.vcpu_state_bytes, 16 * 1024);
    ck_assert_double_eq_tol(sc.cfg.link.goodput_Bps, 110e6, 1e-3);
    /* The profile's values do not count as set: a flag still wins. */
    ck_assert(!sim_scenario_is_set(&sc, "costs", "restore"));
    ck_assert(sim_scenario_is_set(&sc, "costs", "suspend"));
    sim_profile_free(&p);
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_precedence_flag_and_cold)
{
    struct sim_scenario sc;
    struct sim_profile p;
    const struct sim_profile_point *pt;
    char err[400] = "";

    write_file(path, lan_profile);
    write_file(scen, "[network]\nrtt = 0.5ms\n[migration]\nmode = cold\n");
    sim_scenario_init(&sc);
    sim_profile_init(&p);
    ck_assert_int_eq(sim_scenario_load(&sc, scen, err, sizeof(err)), 0);
    ck_assert_int_eq(sim_scenario_set_flag(&sc, "--goodput", "50MB/s", err,
                                           sizeof(err)), 0);
    ck_assert_int_eq(sim_profile_load(&p, path, err, sizeof(err)), 0);
    ck_assert_int_eq(sim_profile_apply(&p, &sc, &pt, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(pt);
    /* Cold: restore_cold replaces restore; the flag's goodput stays. */
    ck_assert_double_eq_tol(sc.cfg.costs.restore_s, 40e-3, 1e-12);
    ck_assert_double_eq_tol(sc.cfg.link.goodput_Bps, 50e6, 1e-3);
    sim_profile_free(&p);
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_no_matching_point)
{
    struct sim_scenario sc;
    struct sim_profile p;
    const struct sim_profile_point *pt = (void *)&sc;

    /* cc differs from both points: only [costs] applies. */
    load_and_apply("[network]\nrtt = 0.5ms\ncc = reno\n", &sc, &p, &pt);
    ck_assert_ptr_null(pt);
    ck_assert_double_eq_tol(sc.cfg.costs.restore_s, 30e-3, 1e-12);
    ck_assert_double_eq_tol(sc.cfg.costs.setup_rtts, 2, 1e-12);
    ck_assert_double_eq(sc.cfg.link.goodput_Bps, 0);
    sim_profile_free(&p);
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_measured_goodput_limits)
{
    struct sim_link l;
    struct sim_goodput g;

    sim_link_defaults(&l);
    sim_link_goodput(&l, &g);
    ck_assert_int_eq(g.limit, SIM_LIMIT_LINK);
    l.goodput_Bps = 90e6;
    sim_link_goodput(&l, &g);
    ck_assert_double_eq(g.goodput_Bps, 90e6);
    ck_assert_int_eq(g.limit, SIM_LIMIT_MEASURED);
    ck_assert_str_eq(sim_link_limit_name(g.limit), "measured");
    /* The model's terms stay beside the measurement. */
    ck_assert_double_gt(g.link_Bps, 119e6);
    l.goodput_Bps = -1;
    ck_assert_int_eq(sim_link_validate(&l), MIG_EINVAL);
}
END_TEST

START_TEST(test_run_profile_key_relative)
{
    struct sim_scenario sc;
    char err[400] = "", want[600];

    write_file(scen, "[run]\nprofile = p.ini\n");
    sim_scenario_init(&sc);
    ck_assert_int_eq(sim_scenario_load(&sc, scen, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/p.ini", tmpdir);
    ck_assert_str_eq(sc.profile, want);
    /* A flag is taken as given (relative to the working directory). */
    ck_assert_int_eq(sim_scenario_set_flag(&sc, "profile", "q.ini", err,
                                           sizeof(err)), 0);
    ck_assert_str_eq(sc.profile, "q.ini");
    sim_scenario_free(&sc);
}
END_TEST

static Suite *profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_round_trip);
    tcase_add_test(core, test_precedence_point);
    tcase_add_test(core, test_precedence_flag_and_cold);
    tcase_add_test(core, test_run_profile_key_relative);
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_add_test(limits, test_no_matching_point);
    tcase_add_test(limits, test_measured_goodput_limits);
    tcase_add_test(limits, test_long_value_cut);
    tcase_add_checked_fixture(corrupt, setup, teardown);
    tcase_add_loop_test(corrupt, test_bad_files, 0,
                        (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(corrupt, test_missing_file);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(profile_suite());
}
