/* SPDX-License-Identifier: MIT */
/*
 * units.h - parsing and printing of quantities with explicit units.
 *
 * Every boundary of miglab (flags, scenario files, trace files) takes values
 * with units; this module is the one place that reads and writes them.
 *
 *   sizes      "4G" "512M" "64K" "4GiB" = binary (1024-based);
 *              "4GB" "500MB" "1kB"      = decimal (1000-based); bare = bytes.
 *   bit rates  "1Gbit" "100Mbit" "10Gbps" "2.5G" (bits, decimal prefixes);
 *              "125MB/s" "1GiB/s" (bytes per second, converted to bits);
 *              bare number = bits per second.
 *   byte rates "200MB/s" "1GiB/s" (bytes/s); "800Mbit" "800Mbit/s" (bits,
 *              converted to bytes); "50000pages/s" (4 KiB pages);
 *              bare number = bytes per second.
 *   times      "5ms" "0.5ms" "100us" "250ns" "2s" "1.5min" "1h"; bare = seconds.
 *   fractions  "1e-4" "0.01" "1%"; must lie in [0, 1].
 *
 * All parsers accept surrounding blanks, reject trailing garbage, negative
 * values, NaN and infinity, and return 0 or MIG_EINVAL (unparseable) /
 * MIG_ERANGE (parsed but out of range).  On failure *out is left at 0.
 */
#ifndef SIM_UNITS_H
#define SIM_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define SIM_PAGE_SIZE 4096u
#define SIM_PAGE_SHIFT 12u

int sim_parse_size(const char *s, uint64_t *bytes);
int sim_parse_bitrate(const char *s, double *bits_per_s);
int sim_parse_byterate(const char *s, double *bytes_per_s);
int sim_parse_time(const char *s, double *seconds);
int sim_parse_fraction(const char *s, double *p);
/* Decimal integer in [min, max]. */
int sim_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Finite decimal/scientific number in [min, max]. */
int sim_parse_double(const char *s, double min, double max, double *out);

/* Strip leading and trailing blanks (isspace) from s in place; returns the
 * first non-blank character, inside s.  For the spec parsers built on these
 * quantities (workloads, distributions, inventories). */
char *sim_str_trim(char *s);

/*
 * Human-readable forms, always NUL-terminated in buf (truncated if small):
 * "4.00 GiB", "1.23 ms" / "2.50 s", "1.00 Gbit/s", "119.2 MB/s".
 * Return buf, so calls can be used as printf arguments.
 */
char *sim_format_size(char *buf, size_t len, double bytes);
char *sim_format_time(char *buf, size_t len, double seconds);
char *sim_format_bitrate(char *buf, size_t len, double bits_per_s);
char *sim_format_byterate(char *buf, size_t len, double bytes_per_s);

#endif
