/* SPDX-License-Identifier: MIT */
/*
 * mig_err.h - the one error space of miglab (ref/ and sim/).
 *
 * Functions return 0 on success or a negative MIG_E* code.  System errors are
 * returned as -errno, which never collides with these codes (they start far
 * below any errno value).  mig_strerror() turns either kind into text.
 */
#ifndef MIG_ERR_H
#define MIG_ERR_H

/* X(name, value, message) */
#define MIG_ERR_MAP(X)                                                  \
    X(MIG_EINVAL,     -10001, "invalid argument")                       \
    X(MIG_ECORRUPT,   -10002, "corrupt or malformed input")             \
    X(MIG_ENOMEM,     -10003, "out of memory")                          \
    X(MIG_ERANGE,     -10004, "value out of range")                     \
    X(MIG_ENOTSUP,    -10005, "not supported")                          \
    X(MIG_EINCOMPLETE,-10006, "input ends early")                       \
    X(MIG_EIO,        -10007, "input/output error")                     \
    X(MIG_EPROTO,     -10008, "protocol violation")                     \
    X(MIG_EABORTED,   -10009, "migration aborted by policy")            \
    X(MIG_EREFUSED,   -10010, "refused by the peer")                    \
    X(MIG_EAUTH,      -10011, "peer authentication failed")

enum mig_err {
#define MIG__ERR_ENUM(name, value, msg) name = (value),
    MIG_ERR_MAP(MIG__ERR_ENUM)
#undef MIG__ERR_ENUM
};

/* Text for a MIG_E* code or a negative errno.  Never NULL; static storage. */
const char *mig_strerror(int err);

#endif
