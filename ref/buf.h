/* SPDX-License-Identifier: MIT */
/*
 * buf.h - bounded byte cursor, endian helpers and a growable output buffer.
 *
 * Everything in ref/ that reads bytes from a peer or a file reads them through
 * struct mig_buf (STYLE.md §5): every get/peek checks the remaining length
 * before it touches memory, and a short read is reported in one of two ways:
 *
 *   MIG_EINCOMPLETE  the cursor covers a prefix of a stream and more bytes
 *                    may still arrive (mig_buf_init);
 *   MIG_ECORRUPT     the cursor covers a complete unit, e.g. one record body,
 *                    so running out means the unit itself is malformed
 *                    (mig_buf_init_whole).
 *
 * A failed get leaves the cursor where it was and zeroes its output.
 *
 * struct mig_wbuf is the encoder's side: put_* append in a given byte order
 * and grow the buffer through a struct mig_allocator (so tests can inject
 * allocation failures).  A failed put appends nothing.
 *
 * The wire formats themselves are in stream_format.h and
 * docs/stream-format.md.
 */
#ifndef MIG_BUF_H
#define MIG_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "mig_err.h"

/* ---- allocator --------------------------------------------------------- */

/*
 * Allocation hooks.  realloc_fn(opaque, NULL, n) allocates, realloc_fn(opaque,
 * p, n) resizes (n > 0 always); free_fn(opaque, p) frees, p may be NULL.
 * A NULL struct mig_allocator pointer means the C library's realloc/free.
 */
struct mig_allocator {
    void *(*realloc_fn)(void *opaque, void *ptr, size_t size);
    void (*free_fn)(void *opaque, void *ptr);
    void *opaque;
};

/* Resize ptr (NULL: allocate) to size bytes, size > 0.  NULL on ENOMEM, in
 * which case ptr is untouched.  Caller frees with mig_mem_free(). */
void *mig_mem_realloc(const struct mig_allocator *a, void *ptr, size_t size);
/* Free memory from mig_mem_realloc(); NULL is a no-op. */
void mig_mem_free(const struct mig_allocator *a, void *ptr);

/* ---- endian helpers (byte-wise: no alignment or aliasing assumptions) --- */

static inline uint16_t mig_le16dec(const void *pp)
{
    const uint8_t *p = pp;
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t mig_le32dec(const void *pp)
{
    const uint8_t *p = pp;
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t mig_le64dec(const void *pp)
{
    const uint8_t *p = pp;
    return (uint64_t)mig_le32dec(p) | ((uint64_t)mig_le32dec(p + 4) << 32);
}

static inline uint16_t mig_be16dec(const void *pp)
{
    const uint8_t *p = pp;
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t mig_be32dec(const void *pp)
{
    const uint8_t *p = pp;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint64_t mig_be64dec(const void *pp)
{
    const uint8_t *p = pp;
    return ((uint64_t)mig_be32dec(p) << 32) | (uint64_t)mig_be32dec(p + 4);
}

static inline void mig_le16enc(void *pp, uint16_t v)
{
    uint8_t *p = pp;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void mig_le32enc(void *pp, uint32_t v)
{
    uint8_t *p = pp;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void mig_le64enc(void *pp, uint64_t v)
{
    uint8_t *p = pp;
    mig_le32enc(p, (uint32_t)v);
    mig_le32enc(p + 4, (uint32_t)(v >> 32));
}

static inline void mig_be16enc(void *pp, uint16_t v)
{
    uint8_t *p = pp;
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void mig_be32enc(void *pp, uint32_t v)
{
    uint8_t *p = pp;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void mig_be64enc(void *pp, uint64_t v)
{
    uint8_t *p = pp;
    mig_be32enc(p, (uint32_t)(v >> 32));
    mig_be32enc(p + 4, (uint32_t)v);
}

/* ---- bounded read cursor ------------------------------------------------ */

struct mig_buf {
    const uint8_t *data;    /* not owned; must outlive the cursor */
    size_t len;
    size_t off;             /* invariant: off <= len */
    int short_err;          /* MIG_EINCOMPLETE or MIG_ECORRUPT */
};

/* Cursor over a stream prefix: short reads give MIG_EINCOMPLETE.
 * data may be NULL only when len is 0. */
void mig_buf_init(struct mig_buf *b, const void *data, size_t len);
/* Cursor over a complete unit: short reads give MIG_ECORRUPT. */
void mig_buf_init_whole(struct mig_buf *b, const void *data, size_t len);

static inline size_t mig_buf_remaining(const struct mig_buf *b)
{
    return b->len - b->off;
}

/* Bytes consumed so far. */
static inline size_t mig_buf_offset(const struct mig_buf *b)
{
    return b->off;
}

/* Each returns 0, or the cursor's short-read error (see above). */
int mig_buf_get_u8(struct mig_buf *b, uint8_t *v);
int mig_buf_get_le16(struct mig_buf *b, uint16_t *v);
int mig_buf_get_le32(struct mig_buf *b, uint32_t *v);
int mig_buf_get_le64(struct mig_buf *b, uint64_t *v);
int mig_buf_get_be16(struct mig_buf *b, uint16_t *v);
int mig_buf_get_be32(struct mig_buf *b, uint32_t *v);
int mig_buf_get_be64(struct mig_buf *b, uint64_t *v);
/* Copy n bytes into dst (dst may be NULL only when n is 0). */
int mig_buf_get_bytes(struct mig_buf *b, void *dst, size_t n);
/* Point *p at the next n bytes and consume them: zero copy.  *p points into
 * the cursor's data; do not free.  *p is NULL on failure. */
int mig_buf_get_ptr(struct mig_buf *b, const uint8_t **p, size_t n);
int mig_buf_skip(struct mig_buf *b, size_t n);

/* Like the gets, without consuming. */
int mig_buf_peek_u8(const struct mig_buf *b, uint8_t *v);
int mig_buf_peek_le32(const struct mig_buf *b, uint32_t *v);
int mig_buf_peek_be32(const struct mig_buf *b, uint32_t *v);
int mig_buf_peek_bytes(const struct mig_buf *b, void *dst, size_t n);

/*
 * Consume n bytes that must equal want[0..n).  0 on a match; the short-read
 * error if fewer than n bytes remain and they match so far; MIG_ECORRUPT on
 * a mismatch (the cursor does not move on any failure).
 */
int mig_buf_expect(struct mig_buf *b, const void *want, size_t n);

/* ---- growable output buffer -------------------------------------------- */

struct mig_wbuf {
    uint8_t *data;          /* owned; NULL until the first put */
    size_t len;
    size_t cap;
    const struct mig_allocator *alloc;  /* not owned; NULL = libc */
};

/* Start empty.  alloc may be NULL.  Nothing is allocated yet. */
void mig_wbuf_init(struct mig_wbuf *wb, const struct mig_allocator *alloc);
/* Free the data and return to the empty state; safe to call twice. */
void mig_wbuf_fini(struct mig_wbuf *wb);
/* Forget the contents, keep the memory. */
void mig_wbuf_reset(struct mig_wbuf *wb);
/* Ensure room for n more bytes.  0 or MIG_ENOMEM (also when len + n would
 * overflow size_t). */
int mig_wbuf_reserve(struct mig_wbuf *wb, size_t n);
/* Drop everything after the first len bytes (len <= wb->len). */
void mig_wbuf_truncate(struct mig_wbuf *wb, size_t len);

/* Append; 0 or MIG_ENOMEM.  A failed put appends nothing. */
int mig_wbuf_put_u8(struct mig_wbuf *wb, uint8_t v);
int mig_wbuf_put_le16(struct mig_wbuf *wb, uint16_t v);
int mig_wbuf_put_le32(struct mig_wbuf *wb, uint32_t v);
int mig_wbuf_put_le64(struct mig_wbuf *wb, uint64_t v);
int mig_wbuf_put_be16(struct mig_wbuf *wb, uint16_t v);
int mig_wbuf_put_be32(struct mig_wbuf *wb, uint32_t v);
int mig_wbuf_put_be64(struct mig_wbuf *wb, uint64_t v);
/* src may be NULL only when n is 0. */
int mig_wbuf_put_bytes(struct mig_wbuf *wb, const void *src, size_t n);
int mig_wbuf_put_zeros(struct mig_wbuf *wb, size_t n);
/* Append zeros up to the next multiple of align (a power of two). */
int mig_wbuf_pad(struct mig_wbuf *wb, size_t align);
/* Overwrite 4 bytes at offset off (off + 4 <= len), little-endian. */
void mig_wbuf_patch_le32(struct mig_wbuf *wb, size_t off, uint32_t v);

#endif
