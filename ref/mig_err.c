/* SPDX-License-Identifier: MIT */
/*
 * mig_err.c - text for miglab's error codes (see mig_err.h).
 */
#include <string.h>

#include "mig_err.h"

const char *mig_strerror(int err)
{
    switch (err) {
#define MIG__ERR_CASE(name, value, msg) case name: return msg;
        MIG_ERR_MAP(MIG__ERR_CASE)
#undef MIG__ERR_CASE
    case 0:
        return "success";
    default:
        break;
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}
