/* SPDX-License-Identifier: MIT */
/*
 * check_main.h - what every Check suite binary's main() does: run the
 * suite, print Check's summary line, exit non-zero on any failure.
 * CK_FORK=no (set by the Valgrind phase of make check) runs it unforked.
 */
#ifndef MIGLAB_CHECK_MAIN_H
#define MIGLAB_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static int check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
