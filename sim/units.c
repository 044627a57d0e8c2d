/* SPDX-License-Identifier: MIT */
/*
 * units.c - parsing and printing of quantities with explicit units
 * (see units.h, which is the contract; this comment is the unit table).
 *
 * Syntax of every quantity:  [blanks] NUMBER [blanks] [UNIT] [blanks]
 *   NUMBER  digits [ "." digits ] [ ("e"|"E") ["+"|"-"] digits ], with at
 *           least one digit before or after the point ("0.5", ".5", "5.");
 *           no sign for quantities with units ("-1" is MIG_ERANGE, "+1" is
 *           MIG_EINVAL); no hex, "nan" or "inf".  Blanks are isspace().
 *   Results that overflow (a double becoming infinite, a size past
 *   2^64 - 1) are MIG_ERANGE; anything not matching the grammar is
 *   MIG_EINVAL.
 *
 * Prefixes P (case-insensitive): k K m M g G t T p P = 10^3, 10^6, 10^9,
 * 10^12, 10^15, or with a following "i" (also case-insensitive: "Ki", "MI")
 * 2^10, 2^20, 2^30, 2^40, 2^50.  "m" is never milli outside of times.
 * The letter "B" means bytes and "b" means bits: those two letters are
 * case-sensitive; the words "bit(s)", "byte(s)" and "page(s)" are not.
 *
 *   sizes        ""  "B"                  bytes
 *                P  Pi  PiB                binary  ("4G" "4Gi" "4GiB")
 *                PB                        decimal ("4GB" "500MB" "1kB")
 *                A fractional result is rounded to the nearest byte
 *                ("1.5K" = 1536, "0.3K" = 307); "b"/"bit" are refused.
 *   bit rates    UNIT = [P[i]] [BASE] ["/s" | "ps"], BASE being
 *                "b" "bit" "bits" (bits), "B" "byte" "bytes" (bytes, x8);
 *                "ps" only right after "b"/"B": "bps" "Bps".
 *                No BASE means bits: "2.5G" "100M" "10000" are bits/s.
 *                Prefixes are decimal unless followed by "i" ("1Gibit").
 *                Pages are refused in a bit rate.
 *   byte rates   the same grammar, plus BASE "page" "pages" (4096 bytes).
 *                No BASE means bytes: "200M" = "200MB/s" = 2e8 bytes/s;
 *                bits are divided by 8 ("800Mbit" = 1e8 bytes/s);
 *                "50000pages/s" = "50kpages/s" = 50000 * 4096 bytes/s.
 *   times        ""  "s"  seconds; "ms" "us" "\u00b5s" "ns"; "min"; "h"
 *                (case-insensitive; a bare "m" is refused as ambiguous).
 *   fractions    ""  or "%" (divided by 100); the value must be in [0, 1].
 *
 * Parsing does not depend on the C locale's decimal point.
 */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mig_err.h"
#include "units.h"

/* Longest number text accepted; longer ones are not worth a double. */
#define NUM_MAX 80

struct num {
    double v;       /* value, always set */
    uint64_t u;     /* exact value when is_int */
    bool is_int;    /* plain digit string that fits in 64 bits */
    bool neg;       /* a '-' sign was present */
    bool pos;       /* a '+' sign was present */
};

static const char *skip_blanks(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

/*
 * Convert the already-validated number text [s, s + n) with strtod,
 * substituting the locale's decimal point for '.' so that a program that
 * called setlocale() still reads "0.5" as one half.
 */
static double to_double(const char *s, size_t n)
{
    char tmp[NUM_MAX + 8];
    const char *dp = localeconv()->decimal_point;
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && dp && dp[0] && strcmp(dp, ".") != 0) {
            size_t dl = strlen(dp);

            if (o + dl >= sizeof(tmp) - 1)
                return NAN;
            memcpy(tmp + o, dp, dl);
            o += dl;
        } else {
            tmp[o++] = s[i];
        }
    }
    tmp[o] = '\0';
    return strtod(tmp, NULL);
}

/*
 * Scan NUMBER (with an optional sign) at p.  Sets *end past it.  Returns 0,
 * MIG_EINVAL (no number there, or absurdly long) or MIG_ERANGE (overflow).
 */
static int scan_number(const char *p, struct num *n, const char **end)
{
    const char *start, *q;
    size_t ndig = 0;
    bool plain = true;

    memset(n, 0, sizeof(*n));
    if (*p == '-' || *p == '+') {
        n->neg = *p == '-';
        n->pos = *p == '+';
        p++;
    }
    start = p;
    q = p;
    while (isdigit((unsigned char)*q)) {
        q++;
        ndig++;
    }
    if (*q == '.') {
        plain = false;
        q++;
        while (isdigit((unsigned char)*q)) {
            q++;
            ndig++;
        }
    }
    if (ndig == 0)
        return MIG_EINVAL;
    if (*q == 'e' || *q == 'E') {
        const char *e = q + 1;

        if (*e == '+' || *e == '-')
            e++;
        if (isdigit((unsigned char)*e)) {
            plain = false;
            while (isdigit((unsigned char)*e))
                e++;
            q = e;
        }
    }
    if ((size_t)(q - start) > NUM_MAX)
        return MIG_EINVAL;
    *end = q;

    if (plain) {
        uint64_t u = 0;

        n->is_int = true;
        for (const char *d = start; d < q; d++) {
            unsigned dig = (unsigned)(*d - '0');

            if (u > (UINT64_MAX - dig) / 10) {
                n->is_int = false;
                break;
            }
            u = u * 10 + dig;
        }
        n->u = u;
    }
    n->v = to_double(start, (size_t)(q - start));
    if (isnan(n->v))
        return MIG_EINVAL;
    if (isinf(n->v))
        return MIG_ERANGE;
    if (n->neg)
        n->v = -n->v;
    return 0;
}

/*
 * Split "  NUMBER  UNIT  " into the number and the unit text.  The unit is
 * copied without surrounding blanks into unit (which has room for ulen
 * bytes); a unit that does not fit is refused.  Signs are refused: a '-' is
 * MIG_ERANGE (a negative quantity), a '+' MIG_EINVAL.
 */
static int split_quantity(const char *s, struct num *n, char *unit,
                          size_t ulen)
{
    const char *p, *u, *ue;
    int rc;

    if (!s)
        return MIG_EINVAL;
    p = skip_blanks(s);
    rc = scan_number(p, n, &u);
    if (rc)
        return rc;
    if (n->pos)
        return MIG_EINVAL;
    u = skip_blanks(u);
    ue = u + strlen(u);
    while (ue > u && isspace((unsigned char)ue[-1]))
        ue--;
    if ((size_t)(ue - u) >= ulen)
        return MIG_EINVAL;
    memcpy(unit, u, (size_t)(ue - u));
    unit[ue - u] = '\0';
    /* Checked after the unit so "-1x" is still a syntax error. */
    for (const char *c = unit; *c; c++)
        if (isspace((unsigned char)*c))
            return MIG_EINVAL;
    if (n->neg)
        return MIG_ERANGE;
    return 0;
}

/* Power of a prefix letter (k=1 .. p=5), or 0 if c is not one. */
static int prefix_power(char c)
{
    switch (tolower((unsigned char)c)) {
    case 'k': return 1;
    case 'm': return 2;
    case 'g': return 3;
    case 't': return 4;
    case 'p': return 5;
    default: return 0;
    }
}

static double prefix_mult(int power, bool binary)
{
    double m = 1.0;

    for (int i = 0; i < power; i++)
        m *= binary ? 1024.0 : 1000.0;
    return m;
}

int sim_parse_size(const char *s, uint64_t *bytes)
{
    struct num n;
    char unit[8];
    const char *u = unit;
    uint64_t mult = 1;
    double x;
    int rc;

    if (!bytes)
        return MIG_EINVAL;
    *bytes = 0;
    rc = split_quantity(s, &n, unit, sizeof(unit));
    if (rc)
        return rc;
    if (*u && prefix_power(*u)) {
        int pw = prefix_power(*u++);
        bool binary = true;     /* "4G" alone is binary */

        if (*u == 'i' || *u == 'I') {
            u++;
            if (*u == 'B')
                u++;
        } else if (*u == 'B') {
            binary = false;
            u++;
        }
        mult = (uint64_t)prefix_mult(pw, binary);
    } else if (*u == 'B') {
        u++;
    }
    if (*u)
        return MIG_EINVAL;

    if (n.is_int) {
        if (n.u > UINT64_MAX / mult)
            return MIG_ERANGE;
        *bytes = n.u * mult;
        return 0;
    }
    x = n.v * (double)mult;
    if (!(x < 18446744073709551616.0))
        return MIG_ERANGE;
    *bytes = (uint64_t)(x + 0.5);
    return 0;
}

enum rate_base {
    RATE_NONE,
    RATE_BITS,
    RATE_BYTES,
    RATE_PAGES,
};

/* Match BASE ["/s" | "ps"] at u; the whole rest of u must match. */
static bool match_base(const char *u, enum rate_base *base)
{
    static const struct {
        const char *word;
        enum rate_base base;
    } words[] = {
        { "bits", RATE_BITS }, { "bit", RATE_BITS },
        { "bytes", RATE_BYTES }, { "byte", RATE_BYTES },
        { "pages", RATE_PAGES }, { "page", RATE_PAGES },
    };
    bool letter = false;

    *base = RATE_NONE;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t l = strlen(words[i].word);

        if (strncasecmp(u, words[i].word, l) == 0) {
            *base = words[i].base;
            u += l;
            break;
        }
    }
    if (*base == RATE_NONE && (*u == 'b' || *u == 'B')) {
        *base = *u == 'b' ? RATE_BITS : RATE_BYTES;
        letter = true;
        u++;
    }
    if (*u == '\0')
        return true;
    if (u[0] == '/' && (u[1] == 's' || u[1] == 'S') && u[2] == '\0')
        return true;
    return letter && strcasecmp(u, "ps") == 0;
}

/* Parse a rate quantity: value times prefix, and which base it named. */
static int parse_rate(const char *s, double *val, enum rate_base *base)
{
    struct num n;
    char unit[16];
    const char *u = unit;
    double mult = 1.0;
    int rc;

    rc = split_quantity(s, &n, unit, sizeof(unit));
    if (rc)
        return rc;
    /* Try without a prefix first, so "pages" is not peta-"ages". */
    if (!match_base(u, base)) {
        int pw = prefix_power(*u);
        bool binary = false;

        if (!pw)
            return MIG_EINVAL;
        u++;
        if (*u == 'i' || *u == 'I') {
            binary = true;
            u++;
        }
        if (!match_base(u, base))
            return MIG_EINVAL;
        mult = prefix_mult(pw, binary);
    }
    *val = n.v * mult;
    if (!isfinite(*val))
        return MIG_ERANGE;
    return 0;
}

int sim_parse_bitrate(const char *s, double *bits_per_s)
{
    enum rate_base base;
    double v;
    int rc;

    if (!bits_per_s)
        return MIG_EINVAL;
    *bits_per_s = 0;
    rc = parse_rate(s, &v, &base);
    if (rc)
        return rc;
    switch (base) {
    case RATE_NONE:
    case RATE_BITS:
        break;
    case RATE_BYTES:
        v *= 8.0;
        break;
    case RATE_PAGES:
        return MIG_EINVAL;
    }
    if (!isfinite(v))
        return MIG_ERANGE;
    *bits_per_s = v;
    return 0;
}

int sim_parse_byterate(const char *s, double *bytes_per_s)
{
    enum rate_base base;
    double v;
    int rc;

    if (!bytes_per_s)
        return MIG_EINVAL;
    *bytes_per_s = 0;
    rc = parse_rate(s, &v, &base);
    if (rc)
        return rc;
    switch (base) {
    case RATE_NONE:
    case RATE_BYTES:
        break;
    case RATE_BITS:
        v /= 8.0;
        break;
    case RATE_PAGES:
        v *= SIM_PAGE_SIZE;
        break;
    }
    if (!isfinite(v))
        return MIG_ERANGE;
    *bytes_per_s = v;
    return 0;
}

int sim_parse_time(const char *s, double *seconds)
{
    static const struct {
        const char *name;
        double mult;
    } units[] = {
        { "", 1.0 }, { "s", 1.0 }, { "ms", 1e-3 }, { "us", 1e-6 },
        { "\xc2\xb5s", 1e-6 }, { "ns", 1e-9 }, { "min", 60.0 },
        { "h", 3600.0 },
    };
    struct num n;
    char unit[8];
    int rc;

    if (!seconds)
        return MIG_EINVAL;
    *seconds = 0;
    rc = split_quantity(s, &n, unit, sizeof(unit));
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(unit, units[i].name) == 0) {
            double v = n.v * units[i].mult;

            if (!isfinite(v))
                return MIG_ERANGE;
            *seconds = v;
            return 0;
        }
    }
    return MIG_EINVAL;
}

int sim_parse_fraction(const char *s, double *p)
{
    struct num n;
    char unit[4];
    double v;
    int rc;

    if (!p)
        return MIG_EINVAL;
    *p = 0;
    rc = split_quantity(s, &n, unit, sizeof(unit));
    if (rc)
        return rc;
    if (strcmp(unit, "%") == 0)
        v = n.v / 100.0;
    else if (unit[0] == '\0')
        v = n.v;
    else
        return MIG_EINVAL;
    if (!(v >= 0.0 && v <= 1.0))
        return MIG_ERANGE;
    *p = v;
    return 0;
}

int sim_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *p;
    uint64_t u = 0;
    bool overflow = false;

    if (!out)
        return MIG_EINVAL;
    *out = 0;
    if (!s)
        return MIG_EINVAL;
    p = skip_blanks(s);
    if (*p == '-' && isdigit((unsigned char)p[1])) {
        /* A negative integer: well-formed, never in range. */
        const char *q = p + 1;

        while (isdigit((unsigned char)*q))
            q++;
        return *skip_blanks(q) ? MIG_EINVAL : MIG_ERANGE;
    }
    if (!isdigit((unsigned char)*p))
        return MIG_EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned dig = (unsigned)(*p - '0');

        if (u > (UINT64_MAX - dig) / 10)
            overflow = true;
        else
            u = u * 10 + dig;
    }
    if (*skip_blanks(p))
        return MIG_EINVAL;
    if (overflow || u < min || u > max)
        return MIG_ERANGE;
    *out = u;
    return 0;
}

int sim_parse_double(const char *s, double min, double max, double *out)
{
    struct num n;
    const char *end;
    int rc;

    if (!out)
        return MIG_EINVAL;
    *out = 0;
    if (!s)
        return MIG_EINVAL;
    rc = scan_number(skip_blanks(s), &n, &end);
    if (rc == MIG_ERANGE && *skip_blanks(end))
        return MIG_EINVAL;
    if (rc)
        return rc;
    if (*skip_blanks(end))
        return MIG_EINVAL;
    if (!(n.v >= min && n.v <= max))
        return MIG_ERANGE;
    *out = n.v;
    return 0;
}

struct unit_step {
    const char *name;
    double mult;
};

/*
 * Print v in the largest unit (of the ascending table) in which it shows as
 * at least 1 after rounding to prec decimals, so 999.999 ms reads "1.00 s".
 * The first unit's values print with int_first decimals if set.
 */
static char *format_units(char *buf, size_t len, double v,
                          const struct unit_step *u, size_t nu, int prec,
                          bool int_first)
{
    double a = fabs(v);
    double half = 0.5 * pow(10.0, -prec);
    size_t i = 0;

    if (!buf || len == 0)
        return buf;
    if (!isfinite(v)) {
        snprintf(buf, len, "%s %s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf",
                 u[0].name);
        return buf;
    }
    for (size_t j = 0; j < nu; j++)
        if (a / u[j].mult >= 1.0 - half)
            i = j;
    if (i == 0 && int_first)
        snprintf(buf, len, "%.0f %s", v / u[0].mult, u[0].name);
    else
        snprintf(buf, len, "%.*f %s", prec, v / u[i].mult, u[i].name);
    return buf;
}

char *sim_format_size(char *buf, size_t len, double bytes)
{
    static const struct unit_step u[] = {
        { "B", 1.0 }, { "KiB", 0x1p10 }, { "MiB", 0x1p20 },
        { "GiB", 0x1p30 }, { "TiB", 0x1p40 }, { "PiB", 0x1p50 },
        { "EiB", 0x1p60 },
    };

    return format_units(buf, len, bytes, u, sizeof(u) / sizeof(u[0]), 2,
                        true);
}

char *sim_format_time(char *buf, size_t len, double seconds)
{
    static const struct unit_step u[] = {
        { "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 }, { "s", 1.0 },
    };

    if (seconds == 0.0) {
        if (buf && len)
            snprintf(buf, len, "0 s");
        return buf;
    }
    return format_units(buf, len, seconds, u, sizeof(u) / sizeof(u[0]), 2,
                        false);
}

char *sim_format_bitrate(char *buf, size_t len, double bits_per_s)
{
    static const struct unit_step u[] = {
        { "bit/s", 1.0 }, { "kbit/s", 1e3 }, { "Mbit/s", 1e6 },
        { "Gbit/s", 1e9 }, { "Tbit/s", 1e12 },
    };

    return format_units(buf, len, bits_per_s, u, sizeof(u) / sizeof(u[0]),
                        2, false);
}

char *sim_format_byterate(char *buf, size_t len, double bytes_per_s)
{
    static const struct unit_step u[] = {
        { "B/s", 1.0 }, { "kB/s", 1e3 }, { "MB/s", 1e6 }, { "GB/s", 1e9 },
        { "TB/s", 1e12 },
    };

    return format_units(buf, len, bytes_per_s, u, sizeof(u) / sizeof(u[0]),
                        1, false);
}

char *sim_str_trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}
