/* SPDX-License-Identifier: MIT */
/*
 * buf.c - bounded byte cursor and growable output buffer (see buf.h).
 *
 * The cursor never reads past data + len: every accessor first asks need(),
 * which compares against the remaining length without forming an
 * out-of-range pointer.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* ---- allocator --------------------------------------------------------- */

void *mig_mem_realloc(const struct mig_allocator *a, void *ptr, size_t size)
{
    assert(size > 0);
    if (a && a->realloc_fn)
        return a->realloc_fn(a->opaque, ptr, size);
    return realloc(ptr, size);
}

void mig_mem_free(const struct mig_allocator *a, void *ptr)
{
    if (!ptr)
        return;
    if (a && a->free_fn)
        a->free_fn(a->opaque, ptr);
    else
        free(ptr);
}

/* ---- read cursor -------------------------------------------------------- */

void mig_buf_init(struct mig_buf *b, const void *data, size_t len)
{
    assert(data || len == 0);
    b->data = data;
    b->len = len;
    b->off = 0;
    b->short_err = MIG_EINCOMPLETE;
}

void mig_buf_init_whole(struct mig_buf *b, const void *data, size_t len)
{
    mig_buf_init(b, data, len);
    b->short_err = MIG_ECORRUPT;
}

static int need(const struct mig_buf *b, size_t n)
{
    return mig_buf_remaining(b) < n ? b->short_err : 0;
}

int mig_buf_peek_bytes(const struct mig_buf *b, void *dst, size_t n)
{
    int rc = need(b, n);

    assert(dst || n == 0);
    if (rc) {
        if (n)
            memset(dst, 0, n);
        return rc;
    }
    if (n)
        memcpy(dst, b->data + b->off, n);
    return 0;
}

int mig_buf_get_bytes(struct mig_buf *b, void *dst, size_t n)
{
    int rc = mig_buf_peek_bytes(b, dst, n);

    if (rc == 0)
        b->off += n;
    return rc;
}

int mig_buf_get_ptr(struct mig_buf *b, const uint8_t **p, size_t n)
{
    int rc = need(b, n);

    *p = NULL;
    if (rc)
        return rc;
    *p = b->data + b->off;
    b->off += n;
    return 0;
}

int mig_buf_skip(struct mig_buf *b, size_t n)
{
    int rc = need(b, n);

    if (rc == 0)
        b->off += n;
    return rc;
}

int mig_buf_peek_u8(const struct mig_buf *b, uint8_t *v)
{
    return mig_buf_peek_bytes(b, v, 1);
}

int mig_buf_get_u8(struct mig_buf *b, uint8_t *v)
{
    return mig_buf_get_bytes(b, v, 1);
}

/* One getter per width and byte order; each decodes from a local copy. */
#define MIG__BUF_GET(name, type, width, dec)                            \
    int mig_buf_get_##name(struct mig_buf *b, type *v)                  \
    {                                                                   \
        uint8_t tmp[width];                                             \
        int rc = mig_buf_get_bytes(b, tmp, sizeof(tmp));                \
                                                                        \
        *v = rc ? 0 : dec(tmp);                                         \
        return rc;                                                      \
    }

MIG__BUF_GET(le16, uint16_t, 2, mig_le16dec)
MIG__BUF_GET(le32, uint32_t, 4, mig_le32dec)
MIG__BUF_GET(le64, uint64_t, 8, mig_le64dec)
MIG__BUF_GET(be16, uint16_t, 2, mig_be16dec)
MIG__BUF_GET(be32, uint32_t, 4, mig_be32dec)
MIG__BUF_GET(be64, uint64_t, 8, mig_be64dec)
#undef MIG__BUF_GET

int mig_buf_peek_le32(const struct mig_buf *b, uint32_t *v)
{
    uint8_t tmp[4];
    int rc = mig_buf_peek_bytes(b, tmp, sizeof(tmp));

    *v = rc ? 0 : mig_le32dec(tmp);
    return rc;
}

int mig_buf_peek_be32(const struct mig_buf *b, uint32_t *v)
{
    uint8_t tmp[4];
    int rc = mig_buf_peek_bytes(b, tmp, sizeof(tmp));

    *v = rc ? 0 : mig_be32dec(tmp);
    return rc;
}

int mig_buf_expect(struct mig_buf *b, const void *want, size_t n)
{
    size_t have = mig_buf_remaining(b);
    size_t cmp = have < n ? have : n;

    assert(want || n == 0);
    /* A mismatch within the bytes we have is final, however short. */
    if (cmp && memcmp(b->data + b->off, want, cmp) != 0)
        return MIG_ECORRUPT;
    if (have < n)
        return b->short_err;
    b->off += n;
    return 0;
}

/* ---- output buffer ------------------------------------------------------ */

void mig_wbuf_init(struct mig_wbuf *wb, const struct mig_allocator *alloc)
{
    wb->data = NULL;
    wb->len = 0;
    wb->cap = 0;
    wb->alloc = alloc;
}

void mig_wbuf_fini(struct mig_wbuf *wb)
{
    mig_mem_free(wb->alloc, wb->data);
    wb->data = NULL;
    wb->len = 0;
    wb->cap = 0;
}

void mig_wbuf_reset(struct mig_wbuf *wb)
{
    wb->len = 0;
}

void mig_wbuf_truncate(struct mig_wbuf *wb, size_t len)
{
    assert(len <= wb->len);
    wb->len = len;
}

int mig_wbuf_reserve(struct mig_wbuf *wb, size_t n)
{
    size_t want, cap;
    uint8_t *p;

    if (n <= wb->cap - wb->len)
        return 0;
    if (n > SIZE_MAX - wb->len)
        return MIG_ENOMEM;
    want = wb->len + n;
    cap = wb->cap ? wb->cap : 256;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    p = mig_mem_realloc(wb->alloc, wb->data, cap);
    if (!p)
        return MIG_ENOMEM;
    wb->data = p;
    wb->cap = cap;
    return 0;
}

int mig_wbuf_put_bytes(struct mig_wbuf *wb, const void *src, size_t n)
{
    int rc;

    assert(src || n == 0);
    if (n == 0)
        return 0;
    rc = mig_wbuf_reserve(wb, n);
    if (rc)
        return rc;
    memcpy(wb->data + wb->len, src, n);
    wb->len += n;
    return 0;
}

int mig_wbuf_put_zeros(struct mig_wbuf *wb, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    rc = mig_wbuf_reserve(wb, n);
    if (rc)
        return rc;
    memset(wb->data + wb->len, 0, n);
    wb->len += n;
    return 0;
}

int mig_wbuf_pad(struct mig_wbuf *wb, size_t align)
{
    assert(align && (align & (align - 1)) == 0);
    return mig_wbuf_put_zeros(wb, (align - (wb->len & (align - 1))) &
                                      (align - 1));
}

int mig_wbuf_put_u8(struct mig_wbuf *wb, uint8_t v)
{
    return mig_wbuf_put_bytes(wb, &v, 1);
}

#define MIG__WBUF_PUT(name, type, width, enc)                           \
    int mig_wbuf_put_##name(struct mig_wbuf *wb, type v)                \
    {                                                                   \
        uint8_t tmp[width];                                             \
                                                                        \
        enc(tmp, v);                                                    \
        return mig_wbuf_put_bytes(wb, tmp, sizeof(tmp));                \
    }

MIG__WBUF_PUT(le16, uint16_t, 2, mig_le16enc)
MIG__WBUF_PUT(le32, uint32_t, 4, mig_le32enc)
MIG__WBUF_PUT(le64, uint64_t, 8, mig_le64enc)
MIG__WBUF_PUT(be16, uint16_t, 2, mig_be16enc)
MIG__WBUF_PUT(be32, uint32_t, 4, mig_be32enc)
MIG__WBUF_PUT(be64, uint64_t, 8, mig_be64enc)
#undef MIG__WBUF_PUT

void mig_wbuf_patch_le32(struct mig_wbuf *wb, size_t off, uint32_t v)
{
    assert(off <= wb->len && wb->len - off >= 4);
    mig_le32enc(wb->data + off, v);
}
