// SPDX-License-Identifier: MIT
/*
 * tsline.c - copy stdin to stdout, each line prefixed with the time it was
 * read (CLOCK_REALTIME, "%.6f "), so that ci-init can place xl's -vvv
 * messages (suspend request, end of stream, ...) on dom0's clock.  "\r"
 * ends a line too (libxc progress lines).  Static, so it costs one exec.
 * Build: gcc -static -O2 -o tsline tsline.c
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>

int main(void)
{
    int c, start = 1;

    while ((c = getchar()) != EOF) {
        if (start) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            printf("%lld.%06ld ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
            start = 0;
        }
        if (c == '\r')
            c = '\n';
        putchar(c);
        if (c == '\n') {
            fflush(stdout);
            start = 1;
        }
    }
    if (!start)
        putchar('\n');
    return 0;
}
