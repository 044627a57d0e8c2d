/* SPDX-License-Identifier: MIT */
/*
 * check_units.c - unit tests of sim/units.c: tables of good and bad inputs
 * for every parser (the unit table is in the comment of sim/units.c), and
 * the human-readable formatters, which must parse back.
 */
#include <check.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mig_err.h"
#include "units.h"
#include "check_main.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)
#define PiB (1024ULL * TiB)

/* ---- sizes ------------------------------------------------------------- */

static const struct {
    const char *s;
    uint64_t v;
} good_sizes[] = {
    { "0", 0 }, { "4096", 4096 }, { "4B", 4 }, { "4096 B", 4096 },
    { "4G", 4 * GiB }, { "4Gi", 4 * GiB }, { "4GiB", 4 * GiB },
    { "4gIB", 4 * GiB }, { " 4 GiB ", 4 * GiB }, { "512M", 512 * MiB },
    { "512m", 512 * MiB }, { "64K", 64 * KiB }, { "64k", 64 * KiB },
    { "1T", TiB }, { "1P", PiB }, { "4GB", 4000000000ULL },
    { "500MB", 500000000ULL }, { "1kB", 1000 }, { "1KB", 1000 },
    { "2TB", 2000000000000ULL }, { "1.5K", 1536 }, { "0.3K", 307 },
    { ".5K", 512 }, { "5.K", 5120 }, { "1e3", 1000 }, { "1e3K", 1024000 },
    { "1E1M", 10 * MiB }, { "16383P", 16383 * PiB },
    { "18446744073709551615", UINT64_MAX }, { "007", 7 },
    { "\t8\n", 8 },
};

START_TEST(test_size_good)
{
    uint64_t v = 12345;
    int rc = sim_parse_size(good_sizes[_i].s, &v);

    ck_assert_msg(rc == 0 && v == good_sizes[_i].v,
                  "case %d '%s': rc %d, %llu, expected %llu", _i,
                  good_sizes[_i].s, rc, (unsigned long long)v,
                  (unsigned long long)good_sizes[_i].v);
}
END_TEST

static const struct {
    const char *s;
    int rc;
} bad_sizes[] = {
    { "", MIG_EINVAL }, { "   ", MIG_EINVAL }, { "abc", MIG_EINVAL },
    { "4X", MIG_EINVAL }, { "-1", MIG_ERANGE }, { "-1G", MIG_ERANGE },
    { "nan", MIG_EINVAL }, { "inf", MIG_EINVAL }, { "NaN", MIG_EINVAL },
    { "1e400", MIG_ERANGE }, { "4G garbage", MIG_EINVAL },
    { "4Gb", MIG_EINVAL }, { "4gib", MIG_EINVAL }, { "4 G B", MIG_EINVAL },
    { "4bit", MIG_EINVAL }, { "16384P", MIG_ERANGE },
    { "18446744073709551616", MIG_ERANGE }, { "1e20", MIG_ERANGE },
    { "+4", MIG_EINVAL }, { "0x10", MIG_EINVAL }, { "4i", MIG_EINVAL },
    { "4iB", MIG_EINVAL }, { ".", MIG_EINVAL }, { "1e", MIG_EINVAL },
    { "1e+", MIG_EINVAL }, { "--1", MIG_EINVAL }, { "4KK", MIG_EINVAL },
    { "1,5G", MIG_EINVAL }, { "4 GiB x", MIG_EINVAL }, { "4GiBB", MIG_EINVAL },
    { "4 pages", MIG_EINVAL }, { "G", MIG_EINVAL }, { "4GiB/s", MIG_EINVAL },
};

START_TEST(test_size_bad)
{
    uint64_t v = 12345;
    int rc = sim_parse_size(bad_sizes[_i].s, &v);

    ck_assert_msg(rc == bad_sizes[_i].rc, "case %d '%s': rc %d, expected %d",
                  _i, bad_sizes[_i].s, rc, bad_sizes[_i].rc);
    ck_assert_uint_eq(v, 0);
}
END_TEST

/* ---- rates ------------------------------------------------------------- */

struct dcase {
    const char *s;
    double v;
};

struct rcase {
    const char *s;
    int rc;
};

static void check_good(int i, int (*fn)(const char *, double *),
                       const struct dcase *c)
{
    double v = 12345;
    int rc = fn(c->s, &v);

    ck_assert_msg(rc == 0 && fabs(v - c->v) <= 1e-12 * fabs(c->v),
                  "case %d '%s': rc %d, %.17g, expected %.17g", i, c->s, rc,
                  v, c->v);
}

static void check_bad(int i, int (*fn)(const char *, double *),
                      const struct rcase *c)
{
    double v = 12345;
    int rc = fn(c->s, &v);

    ck_assert_msg(rc == c->rc, "case %d '%s': rc %d, expected %d", i, c->s,
                  rc, c->rc);
    ck_assert(v == 0);
}

static const struct dcase good_bitrates[] = {
    { "1Gbit", 1e9 }, { "100Mbit", 1e8 }, { "10Gbps", 1e10 },
    { "2.5G", 2.5e9 }, { "100M", 1e8 }, { "1000", 1000 }, { "0", 0 },
    { "125MB/s", 1e9 }, { "1GiB/s", 8.0 * GiB }, { "1Gbit/s", 1e9 },
    { "1gbit", 1e9 }, { "1GBIT", 1e9 }, { "1Mibit", MiB }, { "8bps", 8 },
    { "1Bps", 8 }, { "1kbit/s", 1000 }, { "1 Gbit/s", 1e9 }, { "1b/s", 1 },
    { "3bits/s", 3 }, { "2bytes", 16 }, { "2 byte/s", 16 },
    { "1Tbit", 1e12 }, { "1k", 1000 }, { "1Ki", 1024 }, { "5/s", 5 },
    { " 1.5e3 kbit ", 1.5e6 },
};

static const struct rcase bad_bitrates[] = {
    { "", MIG_EINVAL }, { "abc", MIG_EINVAL }, { "4X", MIG_EINVAL },
    { "-1", MIG_ERANGE }, { "-1Gbit", MIG_ERANGE }, { "nan", MIG_EINVAL },
    { "inf", MIG_EINVAL }, { "1e400", MIG_ERANGE },
    { "1e308GB/s", MIG_ERANGE }, { "1pages/s", MIG_EINVAL },
    { "1Gbit/s/s", MIG_EINVAL }, { "1Gbitps", MIG_EINVAL },
    { "1G/ss", MIG_EINVAL }, { "1Gbit x", MIG_EINVAL }, { "1iG", MIG_EINVAL },
    { "1 Gbit / s", MIG_EINVAL }, { "Gbit", MIG_EINVAL },
    { "1GG", MIG_EINVAL }, { "1ps", MIG_EINVAL }, { "1bitss", MIG_EINVAL },
};

START_TEST(test_bitrate_good)
{
    check_good(_i, sim_parse_bitrate, &good_bitrates[_i]);
}
END_TEST

START_TEST(test_bitrate_bad)
{
    check_bad(_i, sim_parse_bitrate, &bad_bitrates[_i]);
}
END_TEST

static const struct dcase good_byterates[] = {
    { "200MB/s", 2e8 }, { "1GiB/s", (double)GiB }, { "800Mbit", 1e8 },
    { "800Mbit/s", 1e8 }, { "50000pages/s", 50000.0 * 4096 },
    { "50kpages/s", 50000.0 * 4096 }, { "1page/s", 4096 },
    { "1PAGES", 4096 }, { "200M", 2e8 }, { "123", 123 },
    { "1.5GB/s", 1.5e9 }, { "8b/s", 1 }, { "1Bps", 1 }, { "100 MB/s", 1e8 },
    { "1KiB", 1024 }, { "0B/s", 0 }, { "1e-3", 1e-3 },
};

static const struct rcase bad_byterates[] = {
    { "", MIG_EINVAL }, { "4X", MIG_EINVAL }, { "-1MB/s", MIG_ERANGE },
    { "1e400", MIG_ERANGE }, { "MB/s", MIG_EINVAL }, { "1 MB / s", MIG_EINVAL },
    { "1pagesps", MIG_EINVAL }, { "nan", MIG_EINVAL }, { "inf", MIG_EINVAL },
    { "1MB/s garbage", MIG_EINVAL }, { "+1", MIG_EINVAL },
    { "1MB/h", MIG_EINVAL },
};

START_TEST(test_byterate_good)
{
    check_good(_i, sim_parse_byterate, &good_byterates[_i]);
}
END_TEST

START_TEST(test_byterate_bad)
{
    check_bad(_i, sim_parse_byterate, &bad_byterates[_i]);
}
END_TEST

/* ---- times and fractions ----------------------------------------------- */

static const struct dcase good_times[] = {
    { "5ms", 5e-3 }, { "0.5ms", 5e-4 }, { "100us", 1e-4 },
    { "250ns", 2.5e-7 }, { "2s", 2 }, { "1.5min", 90 }, { "1h", 3600 },
    { "3", 3 }, { "1MS", 1e-3 }, { "7 s", 7 }, { "2\xc2\xb5s", 2e-6 },
    { "0", 0 }, { " 1e3 ms ", 1 }, { "2MIN", 120 },
};

static const struct rcase bad_times[] = {
    { "", MIG_EINVAL }, { "abc", MIG_EINVAL }, { "5m", MIG_EINVAL },
    { "-1s", MIG_ERANGE }, { "1e400s", MIG_ERANGE },
    { "1e308h", MIG_ERANGE }, { "5 ms x", MIG_EINVAL }, { "nan", MIG_EINVAL },
    { "inf", MIG_EINVAL }, { "1d", MIG_EINVAL }, { "1sec", MIG_EINVAL },
    { "s", MIG_EINVAL }, { "1 m s", MIG_EINVAL },
};

START_TEST(test_time_good)
{
    check_good(_i, sim_parse_time, &good_times[_i]);
}
END_TEST

START_TEST(test_time_bad)
{
    check_bad(_i, sim_parse_time, &bad_times[_i]);
}
END_TEST

static const struct dcase good_fractions[] = {
    { "1e-4", 1e-4 }, { "0.01", 0.01 }, { "1%", 0.01 }, { "0", 0 },
    { "1", 1 }, { "100%", 1 }, { "50 %", 0.5 }, { "0.0%", 0 },
    { "1e-400", 0 },
};

static const struct rcase bad_fractions[] = {
    { "1.5", MIG_ERANGE }, { "101%", MIG_ERANGE }, { "-0.1", MIG_ERANGE },
    { "abc", MIG_EINVAL }, { "1%%", MIG_EINVAL }, { "", MIG_EINVAL },
    { "nan", MIG_EINVAL }, { "1e400", MIG_ERANGE }, { "0.5x", MIG_EINVAL },
};

START_TEST(test_fraction_good)
{
    check_good(_i, sim_parse_fraction, &good_fractions[_i]);
}
END_TEST

START_TEST(test_fraction_bad)
{
    check_bad(_i, sim_parse_fraction, &bad_fractions[_i]);
}
END_TEST

/* ---- plain numbers ----------------------------------------------------- */

static const struct {
    const char *s;
    uint64_t min, max;
    int rc;
    uint64_t v;
} uint_cases[] = {
    { "0", 0, 10, 0, 0 }, { "10", 0, 10, 0, 10 }, { " 42 ", 0, 100, 0, 42 },
    { "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
    { "11", 0, 10, MIG_ERANGE, 0 }, { "4", 5, 10, MIG_ERANGE, 0 },
    { "-1", 0, 10, MIG_ERANGE, 0 }, { "+1", 0, 10, MIG_EINVAL, 0 },
    { "1.0", 0, 10, MIG_EINVAL, 0 }, { "1e3", 0, 10000, MIG_EINVAL, 0 },
    { "", 0, 10, MIG_EINVAL, 0 }, { "0x1", 0, 10, MIG_EINVAL, 0 },
    { "18446744073709551616", 0, UINT64_MAX, MIG_ERANGE, 0 },
    { "- 1", 0, 10, MIG_EINVAL, 0 }, { "1 2", 0, 10, MIG_EINVAL, 0 },
    { "-1x", 0, 10, MIG_EINVAL, 0 }, { "5K", 0, 10, MIG_EINVAL, 0 },
};

START_TEST(test_uint)
{
    uint64_t v = 99;
    int rc = sim_parse_uint(uint_cases[_i].s, uint_cases[_i].min,
                            uint_cases[_i].max, &v);

    ck_assert_msg(rc == uint_cases[_i].rc && v == uint_cases[_i].v,
                  "case %d '%s': rc %d, %llu", _i, uint_cases[_i].s, rc,
                  (unsigned long long)v);
}
END_TEST

static const struct {
    const char *s;
    double min, max;
    int rc;
    double v;
} double_cases[] = {
    { "-1.5", -10, 10, 0, -1.5 }, { "+2", -10, 10, 0, 2 },
    { "1e-3", 0, 1, 0, 1e-3 }, { " 3 ", 0, 10, 0, 3 },
    { "1E2", 0, 1000, 0, 100 }, { "nan", -1e300, 1e300, MIG_EINVAL, 0 },
    { "inf", -1e300, 1e300, MIG_EINVAL, 0 },
    { "-inf", -1e300, 1e300, MIG_EINVAL, 0 },
    { "1e400", -1e300, 1e300, MIG_ERANGE, 0 },
    { "11", -10, 10, MIG_ERANGE, 0 }, { "-11", -10, 10, MIG_ERANGE, 0 },
    { "1x", -10, 10, MIG_EINVAL, 0 }, { "", -10, 10, MIG_EINVAL, 0 },
    { "1e400x", -10, 10, MIG_EINVAL, 0 }, { "0x10", 0, 100, MIG_EINVAL, 0 },
};

START_TEST(test_double)
{
    double v = 99;
    int rc = sim_parse_double(double_cases[_i].s, double_cases[_i].min,
                              double_cases[_i].max, &v);

    ck_assert_msg(rc == double_cases[_i].rc && v == double_cases[_i].v,
                  "case %d '%s': rc %d, %g", _i, double_cases[_i].s, rc, v);
}
END_TEST

START_TEST(test_null_args)
{
    uint64_t u = 5;
    double d = 5;

    ck_assert_int_eq(sim_parse_size(NULL, &u), MIG_EINVAL);
    ck_assert_uint_eq(u, 0);
    ck_assert_int_eq(sim_parse_size("1", NULL), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_bitrate(NULL, &d), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_byterate("1", NULL), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_time(NULL, &d), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_fraction(NULL, &d), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_uint(NULL, 0, 1, &u), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_uint("1", 0, 1, NULL), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_double(NULL, 0, 1, &d), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_double("1", 0, 1, NULL), MIG_EINVAL);
}
END_TEST

/* A long run of digits is refused rather than overflowing a buffer. */
START_TEST(test_long_number)
{
    char s[300];
    double d;
    uint64_t u;

    memset(s, '1', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    ck_assert_int_eq(sim_parse_time(s, &d), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_size(s, &u), MIG_EINVAL);
    ck_assert_int_eq(sim_parse_uint(s, 0, UINT64_MAX, &u), MIG_ERANGE);
}
END_TEST

/* A program that switched LC_NUMERIC still reads "0.5" as a half. */
START_TEST(test_locale)
{
    static const char *const locales[] = {
        "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
    };
    double d;
    char buf[32];

    for (size_t i = 0; i < sizeof(locales) / sizeof(locales[0]); i++) {
        if (!setlocale(LC_NUMERIC, locales[i]))
            continue;
        ck_assert_int_eq(sim_parse_time("0.5ms", &d), 0);
        ck_assert(d == 0.5e-3);
        sim_format_time(buf, sizeof(buf), 0.5e-3);
        ck_assert_int_eq(sim_parse_double("2.5", 0, 10, &d), 0);
        ck_assert(d == 2.5);
        break;
    }
    setlocale(LC_NUMERIC, "C");
}
END_TEST

/* ---- formatting -------------------------------------------------------- */

enum fmt_kind { F_SIZE, F_TIME, F_BITS, F_BYTES };

static const struct {
    enum fmt_kind kind;
    double v;
    const char *want;
} fmt_cases[] = {
    { F_SIZE, 4.0 * GiB, "4.00 GiB" }, { F_SIZE, 512, "512 B" },
    { F_SIZE, 0, "0 B" }, { F_SIZE, 1536, "1.50 KiB" },
    { F_SIZE, 1023.999, "1.00 KiB" }, { F_SIZE, 3.0 * PiB, "3.00 PiB" },
    { F_TIME, 1.234e-3, "1.23 ms" }, { F_TIME, 2.5, "2.50 s" },
    { F_TIME, 0, "0 s" }, { F_TIME, 0.999999, "1.00 s" },
    { F_TIME, 250e-9, "250.00 ns" }, { F_TIME, 12e-6, "12.00 us" },
    { F_TIME, 3600, "3600.00 s" }, { F_TIME, -0.002, "-2.00 ms" },
    { F_BITS, 1e9, "1.00 Gbit/s" }, { F_BITS, 100e6, "100.00 Mbit/s" },
    { F_BITS, 5, "5.00 bit/s" }, { F_BYTES, 119.2e6, "119.2 MB/s" },
    { F_BYTES, 125e6, "125.0 MB/s" }, { F_BYTES, 999.96e3, "1.0 MB/s" },
    { F_BYTES, NAN, "nan B/s" }, { F_TIME, INFINITY, "inf ns" },
};

static char *format(enum fmt_kind k, char *buf, size_t len, double v)
{
    switch (k) {
    case F_SIZE: return sim_format_size(buf, len, v);
    case F_TIME: return sim_format_time(buf, len, v);
    case F_BITS: return sim_format_bitrate(buf, len, v);
    default: return sim_format_byterate(buf, len, v);
    }
}

START_TEST(test_format)
{
    char buf[64];

    ck_assert_ptr_eq(format(fmt_cases[_i].kind, buf, sizeof(buf),
                            fmt_cases[_i].v), buf);
    ck_assert_msg(strcmp(buf, fmt_cases[_i].want) == 0,
                  "case %d: '%s', expected '%s'", _i, buf, fmt_cases[_i].want);
}
END_TEST

/* What the formatters print, the parsers read back (to its precision). */
START_TEST(test_format_parses)
{
    static const double vals[] = {
        1, 999, 1024, 1.5e3, 4.2e6, 7.7e9, 3.3e12, 1e-8, 2.5e-5, 0.75,
    };
    char buf[64];

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        double v = vals[i], d;
        uint64_t u;

        sim_format_size(buf, sizeof(buf), v * 1e3);
        ck_assert_msg(sim_parse_size(buf, &u) == 0 &&
                      fabs((double)u - v * 1e3) <= 0.005 * v * 1e3 + 0.5,
                      "'%s'", buf);
        sim_format_time(buf, sizeof(buf), v);
        ck_assert_msg(sim_parse_time(buf, &d) == 0 &&
                      fabs(d - v) <= 0.005 * v, "'%s'", buf);
        if (v < 1)
            continue;   /* rates print 2 decimals of bit/s at most */
        sim_format_bitrate(buf, sizeof(buf), v);
        ck_assert_msg(sim_parse_bitrate(buf, &d) == 0 &&
                      fabs(d - v) <= 0.005 * v, "'%s'", buf);
        sim_format_byterate(buf, sizeof(buf), v * 1e3);
        ck_assert_msg(sim_parse_byterate(buf, &d) == 0 &&
                      fabs(d - v * 1e3) <= 0.05 * v * 1e3, "'%s'", buf);
    }
}
END_TEST

START_TEST(test_format_truncates)
{
    char buf[5];

    memset(buf, 'x', sizeof(buf));
    ck_assert_str_eq(sim_format_size(buf, sizeof(buf), 4.0 * GiB), "4.00");
    ck_assert_str_eq(sim_format_bitrate(buf, 1, 1e9), "");
    ck_assert_ptr_eq(sim_format_time(buf, 0, 1), buf);
    ck_assert_ptr_null(sim_format_byterate(NULL, 10, 1));
}
END_TEST

static Suite *units_suite(void)
{
    Suite *s = suite_create("units");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

#define LOOP(tc, fn, table) \
    tcase_add_loop_test(tc, fn, 0, (int)(sizeof(table) / sizeof(table[0])))
    LOOP(core, test_size_good, good_sizes);
    LOOP(core, test_bitrate_good, good_bitrates);
    LOOP(core, test_byterate_good, good_byterates);
    LOOP(core, test_time_good, good_times);
    LOOP(core, test_fraction_good, good_fractions);
    LOOP(core, test_format, fmt_cases);
    tcase_add_test(core, test_format_parses);
    tcase_add_test(core, test_locale);
    suite_add_tcase(s, core);

    LOOP(limits, test_uint, uint_cases);
    LOOP(limits, test_double, double_cases);
    tcase_add_test(limits, test_long_number);
    tcase_add_test(limits, test_format_truncates);
    suite_add_tcase(s, limits);

    LOOP(corrupt, test_size_bad, bad_sizes);
    LOOP(corrupt, test_bitrate_bad, bad_bitrates);
    LOOP(corrupt, test_byterate_bad, bad_byterates);
    LOOP(corrupt, test_time_bad, bad_times);
    LOOP(corrupt, test_fraction_bad, bad_fractions);
    tcase_add_test(corrupt, test_null_args);
    suite_add_tcase(s, corrupt);
#undef LOOP
    return s;
}

int main(void)
{
    return check_run(units_suite());
}
