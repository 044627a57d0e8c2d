/* SPDX-License-Identifier: MIT */
/*
 * check_policy.c - unit tests of the pre-copy stop policies (ref/policy.c):
 * each policy's documented rule at and around its thresholds.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "mig_err.h"
#include "policy.h"
#include "check_main.h"

#define PAGE_BYTES 4104u

static struct mig_precopy_stats stats(unsigned iteration, uint64_t dirty)
{
    return (struct mig_precopy_stats){
        .iteration = iteration, .mem_pages = 262144, .dirty_count = dirty,
        .page_bytes = PAGE_BYTES,
    };
}

static struct mig_policy_decision decide(enum mig_policy_kind k,
                                         struct mig_precopy_stats s)
{
    struct mig_policy p;
    struct mig_policy_state st = { 0 };

    mig_policy_defaults(&p, k);
    return mig_policy_decide(&p, &st, s);
}

/* Xen: (iteration, dirty) -> action, reason. */
static const struct {
    unsigned iteration;
    uint64_t dirty;
    enum mig_policy_action action;
    enum mig_stop_reason reason;
} xen_cases[] = {
    { 0, 262144, MIG_ACT_CONTINUE, MIG_STOP_NONE },
    { 1, 50, MIG_ACT_CONTINUE, MIG_STOP_NONE },
    { 1, 49, MIG_ACT_LAST_LIVE_PASS, MIG_STOP_DIRTY_THRESHOLD },
    { 1, 0, MIG_ACT_LAST_LIVE_PASS, MIG_STOP_DIRTY_THRESHOLD },
    { 4, 100000, MIG_ACT_CONTINUE, MIG_STOP_NONE },
    { 4, 49, MIG_ACT_LAST_LIVE_PASS, MIG_STOP_DIRTY_THRESHOLD },
    { 5, 100000, MIG_ACT_STOP_AND_COPY, MIG_STOP_PASS_CAP },
    /* At the cap Xen breaks before CLEAN: the small set is not sent live. */
    { 5, 10, MIG_ACT_STOP_AND_COPY, MIG_STOP_PASS_CAP },
    { 9, 10, MIG_ACT_STOP_AND_COPY, MIG_STOP_PASS_CAP },
};

START_TEST(test_xen_rule)
{
    struct mig_policy_decision d =
        decide(MIG_POLICY_XEN, stats(xen_cases[_i].iteration,
                                     xen_cases[_i].dirty));

    ck_assert_msg(d.action == xen_cases[_i].action &&
                      d.reason == xen_cases[_i].reason,
                  "case %d: iteration %u dirty %llu -> %s/%s", _i,
                  xen_cases[_i].iteration,
                  (unsigned long long)xen_cases[_i].dirty,
                  mig_policy_action_name(d.action),
                  mig_stop_reason_name(d.reason));
}
END_TEST

START_TEST(test_xen_legacy_rule)
{
    struct mig_precopy_stats s = stats(3, 100000);

    s.last_pass_pages = 50;
    s.total_written = 3 * s.mem_pages;
    ck_assert_int_eq(decide(MIG_POLICY_XEN_LEGACY, s).action,
                     MIG_ACT_CONTINUE);
    s.last_pass_pages = 49;
    ck_assert_int_eq(decide(MIG_POLICY_XEN_LEGACY, s).reason,
                     MIG_STOP_DIRTY_THRESHOLD);
    s.last_pass_pages = 5000;
    s.total_written = 3 * s.mem_pages + 1;
    ck_assert_int_eq(decide(MIG_POLICY_XEN_LEGACY, s).reason,
                     MIG_STOP_SENT_CAP);
    s.total_written = 0;
    s.iteration = 29;
    ck_assert_int_eq(decide(MIG_POLICY_XEN_LEGACY, s).action,
                     MIG_ACT_CONTINUE);
    s.iteration = 30;
    ck_assert_int_eq(decide(MIG_POLICY_XEN_LEGACY, s).reason,
                     MIG_STOP_PASS_CAP);
    /* Nothing sent yet: the first pass always runs. */
    s.iteration = 0;
    s.last_pass_pages = 0;
    ck_assert_int_eq(decide(MIG_POLICY_XEN_LEGACY, s).action,
                     MIG_ACT_CONTINUE);
}
END_TEST

/*
 * QEMU converges exactly when the pending bytes fit in bandwidth x limit:
 * with 100 MB/s measured and 300 ms, the threshold is 30 MB.
 */
START_TEST(test_qemu_threshold)
{
    struct mig_precopy_stats s = stats(2, 0);
    double threshold = 100e6 * 0.300;
    uint64_t at = (uint64_t)floor(threshold / PAGE_BYTES);

    s.last_pass_bytes = 100000000;
    s.last_pass_s = 1.0;
    s.dirty_count = at;
    ck_assert_int_eq(decide(MIG_POLICY_QEMU, s).action,
                     MIG_ACT_STOP_AND_COPY);
    ck_assert_int_eq(decide(MIG_POLICY_QEMU, s).reason,
                     MIG_STOP_DOWNTIME_MET);
    s.dirty_count = at + 1;
    ck_assert_int_eq(decide(MIG_POLICY_QEMU, s).action, MIG_ACT_CONTINUE);
    /* No pass cap: still continuing after ten thousand passes. */
    s.iteration = 10000;
    ck_assert_int_eq(decide(MIG_POLICY_QEMU, s).action, MIG_ACT_CONTINUE);
    /* The bulk pass runs before any bandwidth is known. */
    s = stats(0, 1);
    ck_assert_int_eq(decide(MIG_POLICY_QEMU, s).action, MIG_ACT_CONTINUE);
}
END_TEST

START_TEST(test_qemu_auto_converge_steps)
{
    struct mig_policy p;
    struct mig_policy_state st = { 0 };
    struct mig_precopy_stats s = stats(1, 200000);
    static const double expect[] = { 0, 0.2, 0.2, 0.3, 0.3, 0.4 };

    mig_policy_defaults(&p, MIG_POLICY_QEMU);
    p.auto_converge = true;
    s.last_pass_bytes = 100000000;  /* dirtied 820 MB > 50% of 100 MB */
    s.last_pass_s = 1;
    for (unsigned i = 0; i < 6; i++) {
        s.iteration = i + 1;
        ck_assert_int_eq(mig_policy_decide(&p, &st, s).action,
                         MIG_ACT_CONTINUE);
        ck_assert_msg(fabs(st.throttle - expect[i]) < 1e-9,
                      "sync %u: throttle %g, expected %g", i, st.throttle,
                      expect[i]);
    }
    for (unsigned i = 0; i < 400; i++)
        mig_policy_decide(&p, &st, s);
    ck_assert_double_eq_tol(st.throttle, 0.99, 1e-9);

    /* Without auto-converge the throttle never moves. */
    p.auto_converge = false;
    st = (struct mig_policy_state){ 0 };
    for (unsigned i = 0; i < 10; i++)
        mig_policy_decide(&p, &st, s);
    ck_assert_double_eq(st.throttle, 0);
}
END_TEST

START_TEST(test_miglab_target_and_budgets)
{
    struct mig_policy p;
    struct mig_policy_state st = { 0 };
    struct mig_precopy_stats s = stats(2, 0);
    struct mig_policy_decision d;

    mig_policy_defaults(&p, MIG_POLICY_MIGLAB);
    p.fixed_downtime_s = 0.100;
    s.last_pass_bytes = 100000000;
    s.last_pass_s = 1.0;
    /* 0.1 s fixed + copy must fit 0.3 s: 20 MB of pending pages. */
    s.dirty_count = (uint64_t)floor(20e6 / PAGE_BYTES);
    ck_assert_int_eq(mig_policy_decide(&p, &st, s).reason,
                     MIG_STOP_DOWNTIME_MET);
    s.dirty_count += 100;
    st.prev_dirty = s.dirty_count * 2;
    ck_assert_int_eq(mig_policy_decide(&p, &st, s).action, MIG_ACT_CONTINUE);

    p.time_budget_s = 10;
    s.elapsed_s = 10;
    d = mig_policy_decide(&p, &st, s);
    ck_assert_int_eq(d.action, MIG_ACT_ABORT);
    ck_assert_int_eq(d.reason, MIG_STOP_TIME_BUDGET);
    p.time_budget_s = 0;
    p.byte_budget = 1000;
    s.bytes_sent = 1000;
    d = mig_policy_decide(&p, &st, s);
    ck_assert_int_eq(d.action, MIG_ACT_ABORT);
    ck_assert_int_eq(d.reason, MIG_STOP_BYTE_BUDGET);
}
END_TEST

START_TEST(test_miglab_stall)
{
    struct mig_policy p;
    struct mig_policy_state st = { 0 };
    struct mig_precopy_stats s = stats(0, 262144);
    struct mig_policy_decision d = { 0 };

    mig_policy_defaults(&p, MIG_POLICY_MIGLAB);
    p.fixed_downtime_s = 0.1;
    ck_assert_int_eq(mig_policy_decide(&p, &st, s).action, MIG_ACT_CONTINUE);
    s.last_pass_bytes = 10000000;
    s.last_pass_s = 1.0;
    /* Pending stays at 100000 pages (400 MB at 10 MB/s: never fits). */
    for (unsigned i = 1; i <= 4; i++) {
        s.iteration = i;
        s.dirty_count = 100000;
        d = mig_policy_decide(&p, &st, s);
        if (d.action != MIG_ACT_CONTINUE)
            break;
    }
    ck_assert_int_eq(d.action, MIG_ACT_STOP_AND_COPY);
    ck_assert_int_eq(d.reason, MIG_STOP_NO_PROGRESS);
    /* Pass 1 shrank from all memory; then 3 passes without progress. */
    ck_assert_uint_eq(s.iteration, 1 + p.stall_passes);

    p.abort_on_stall = true;
    st = (struct mig_policy_state){ .prev_dirty = 100000, .stalled = 2 };
    d = mig_policy_decide(&p, &st, s);
    ck_assert_int_eq(d.action, MIG_ACT_ABORT);
}
END_TEST

START_TEST(test_pure)
{
    /* Same inputs, same decision and same state, for every policy. */
    for (int k = MIG_POLICY_XEN; k <= MIG_POLICY_MIGLAB; k++) {
        struct mig_policy p;
        struct mig_policy_state a = { 0 }, b = { 0 };
        struct mig_precopy_stats s = stats(3, 5000);
        struct mig_policy_decision da, db;

        s.last_pass_bytes = 1 << 20;
        s.last_pass_s = 0.5;
        mig_policy_defaults(&p, (enum mig_policy_kind)k);
        p.auto_converge = true;
        da = mig_policy_decide(&p, &a, s);
        db = mig_policy_decide(&p, &b, s);
        ck_assert_int_eq(da.action, db.action);
        ck_assert_int_eq(da.reason, db.reason);
        ck_assert_double_eq(a.throttle, b.throttle);
    }
}
END_TEST

START_TEST(test_names)
{
    for (int k = MIG_POLICY_XEN; k <= MIG_POLICY_MIGLAB; k++) {
        enum mig_policy_kind out;

        ck_assert_int_eq(mig_policy_parse(mig_policy_name(
                                              (enum mig_policy_kind)k),
                                          &out), 0);
        ck_assert_int_eq(out, k);
    }
}
END_TEST

START_TEST(test_defaults_documented)
{
    struct mig_policy p;

    mig_policy_defaults(&p, MIG_POLICY_XEN);
    ck_assert_uint_eq(p.max_passes, 5);
    ck_assert_uint_eq(p.dirty_threshold, 50);
    mig_policy_defaults(&p, MIG_POLICY_XEN_LEGACY);
    ck_assert_uint_eq(p.max_passes, 30);
    ck_assert_double_eq(p.max_sent_factor, 3.0);
    mig_policy_defaults(&p, MIG_POLICY_QEMU);
    ck_assert_uint_eq(p.max_passes, 0);
    ck_assert_double_eq(p.downtime_limit_s, 0.3);
    ck_assert_double_eq(p.max_bandwidth_Bps, 128.0 * 1024 * 1024);
    ck_assert(!p.auto_converge);
}
END_TEST

static const char *const bad_names[] = { "", "XEN ", "xen_legacy", "kvm" };

START_TEST(test_bad_names)
{
    enum mig_policy_kind out = MIG_POLICY_QEMU;

    ck_assert_int_eq(mig_policy_parse(bad_names[_i], &out), MIG_EINVAL);
    ck_assert_int_eq(out, MIG_POLICY_QEMU);
}
END_TEST

START_TEST(test_validate_rejects)
{
    struct mig_policy p;

    mig_policy_defaults(&p, MIG_POLICY_QEMU);
    ck_assert_int_eq(mig_policy_validate(&p), 0);
    p.downtime_limit_s = -1;
    ck_assert_int_eq(mig_policy_validate(&p), MIG_EINVAL);
    mig_policy_defaults(&p, MIG_POLICY_QEMU);
    p.throttle_max = 1.5;
    ck_assert_int_eq(mig_policy_validate(&p), MIG_EINVAL);
    mig_policy_defaults(&p, MIG_POLICY_QEMU);
    p.max_bandwidth_Bps = NAN;
    ck_assert_int_eq(mig_policy_validate(&p), MIG_EINVAL);
    mig_policy_defaults(&p, MIG_POLICY_MIGLAB);
    p.stall_passes = 0;
    ck_assert_int_eq(mig_policy_validate(&p), MIG_EINVAL);
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_add_loop_test(core, test_xen_rule, 0,
                        sizeof(xen_cases) / sizeof(xen_cases[0]));
    tcase_add_test(core, test_xen_legacy_rule);
    tcase_add_test(core, test_qemu_threshold);
    tcase_add_test(core, test_qemu_auto_converge_steps);
    tcase_add_test(core, test_miglab_target_and_budgets);
    tcase_add_test(core, test_miglab_stall);
    tcase_add_test(core, test_pure);
    tcase_add_test(core, test_names);
    tcase_add_test(limits, test_defaults_documented);
    tcase_add_loop_test(corrupt, test_bad_names, 0,
                        sizeof(bad_names) / sizeof(bad_names[0]));
    tcase_add_test(corrupt, test_validate_rejects);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(policy_suite());
}
