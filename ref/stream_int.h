/* SPDX-License-Identifier: MIT */
/*
 * stream_int.h - internals shared by the stream codec's files
 * (stream_enc.c, stream_rec.c, stream_dec.c).  Not part of the API.
 */
#ifndef MIG_STREAM_INT_H
#define MIG_STREAM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Append one record (libxc or libxl: the framing is the same) whose body is
 * a followed by b; either may be empty (NULL with length 0).  Pads the body
 * to 8 bytes relative to the record start.  0, MIG_ENOMEM, or MIG_EINVAL
 * when the body exceeds MIG_REC_LENGTH_MAX; on failure wb is unchanged.
 */
int mig__stream_put_record2(struct mig_wbuf *wb, uint32_t type,
                            const void *a, size_t alen, const void *b,
                            size_t blen);

#endif
