/* SPDX-License-Identifier: MIT */
/*
 * stream.h - encoder and incremental decoder of the Xen migration stream.
 *
 * The encoder (stream_enc.c, record bodies in stream_rec.c) appends headers
 * and records to a struct mig_wbuf, byte-exact to what xl/libxl/libxc
 * write.  The decoder (stream_dec.c) takes the stream in chunks of any
 * size, down to one byte, and reports what it decodes through a table of
 * callbacks.  It decodes the
 * whole layered stream:
 *
 *   [xl save header] -> libxl v2 header -> libxl records, where
 *   LIBXC_CONTEXT switches to the inline libxc v3 image (image header,
 *   domain header, records) until the libxc END, then back to libxl records
 *   until the libxl END.
 *
 * The first byte tells which layer the stream starts with: 'X' an xl save
 * header, 'L' a libxl header, 0xFF a bare libxc image (which then ends at
 * its own END).  Neither side does I/O: the caller moves bytes, so the same
 * code serves sockets, pipes, files and tests in memory.
 *
 * Layouts: stream_format.h.  Normative description: docs/stream-format.md.
 */
#ifndef MIG_STREAM_H
#define MIG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mig_err.h"
#include "stream_format.h"

/* ====================================================================== *
 * Decoded header values
 * ====================================================================== */

/* xl save header.  config points into decoder memory, valid only during the
 * callback; do not free.  config_len counts every byte including the NUL
 * that JSON configs carry (and that the decoder has checked is the only
 * NUL, at the end); config is NULL when config_len is 0. */
struct mig_xl_header {
    uint32_t mandatory_flags;
    uint32_t optional_flags;
    uint32_t optional_data_len;
    const char *config;
    uint32_t config_len;
};

struct mig_libxl_header {
    uint32_t version;
    uint32_t options;           /* MIG_LIBXL_OPT_* (never big-endian) */
};

struct mig_image_header {
    uint32_t version;           /* 2 or 3 */
    uint16_t options;           /* never big-endian */
};

struct mig_domain_header {
    uint32_t type;              /* MIG_DHDR_TYPE_* */
    uint16_t page_shift;        /* MIG_PAGE_SHIFT */
    uint32_t xen_major;
    uint32_t xen_minor;
};

/* Body of MIG_REC_MIGLAB_GUEST_INFO. */
struct mig_guest_info {
    uint32_t vcpus;
    uint64_t nr_pages;
    uint64_t stamp_generation;
    uint32_t flags;
};

struct mig_tsc_info {
    uint32_t mode;
    uint32_t khz;
    uint64_t nsec;
    uint32_t incarnation;
};

struct mig_hvm_param {
    uint64_t index;
    uint64_t value;
};

enum mig_stream_layer {
    MIG_LAYER_XL,
    MIG_LAYER_LIBXL,
    MIG_LAYER_LIBXC,
};

/* ====================================================================== *
 * Names and page types
 * ====================================================================== */

/* "PAGE_DATA", "MIGLAB_GUEST_INFO", "optional" or "reserved".  Static. */
const char *mig_stream_rec_name(uint32_t type);
/* "LIBXC_CONTEXT", ..., "optional" or "reserved".  Static. */
const char *mig_stream_libxl_rec_name(uint32_t type);
/* Page type (bits 63-60 of a pfn word) is one the format defines. */
bool mig_page_type_known(unsigned type);
/* Page type carries 4096 bytes of page data in PAGE_DATA. */
bool mig_page_type_has_data(unsigned type);

/* ====================================================================== *
 * Encoder.  Every function appends to wb and returns 0, MIG_ENOMEM, or
 * MIG_EINVAL for arguments the format cannot carry (then nothing is
 * appended: a failed call leaves wb as it was).
 * ====================================================================== */

/* xl save header with the config text.  json may be NULL (no config: the
 * optional data is then a single zero config_len, and the JSON flag is
 * clear); otherwise it is written with its NUL, config_len = strlen + 1,
 * flags STREAMv2 | JSON.  EINVAL if longer than MIG_XL_CONFIG_MAX. */
int mig_stream_put_xl_header(struct mig_wbuf *wb, const char *json);

/* libxl v2 header (little-endian stream, options 0). */
int mig_stream_put_libxl_header(struct mig_wbuf *wb);
/* Any libxl record, padded to 8.  len <= MIG_REC_LENGTH_MAX. */
int mig_stream_put_libxl_record(struct mig_wbuf *wb, uint32_t type,
                                const void *body, size_t len);
/* EMULATOR_XENSTORE_DATA or EMULATOR_CONTEXT: emulator header + data. */
int mig_stream_put_libxl_emulator(struct mig_wbuf *wb, uint32_t type,
                                  uint32_t emulator_id, uint32_t index,
                                  const void *data, size_t len);
/* libxl END and LIBXC_CONTEXT (both empty). */
int mig_stream_put_libxl_end(struct mig_wbuf *wb);
int mig_stream_put_libxc_context(struct mig_wbuf *wb);

/* libxc image header: version 3, little-endian. */
int mig_stream_put_image_header(struct mig_wbuf *wb);
/* libxc domain header.  EINVAL for a reserved type or page_shift != 12. */
int mig_stream_put_domain_header(struct mig_wbuf *wb,
                                 const struct mig_domain_header *dh);
/* Any libxc record, padded to 8.  len <= MIG_REC_LENGTH_MAX. */
int mig_stream_put_record(struct mig_wbuf *wb, uint32_t type,
                          const void *body, size_t len);
/*
 * PAGE_DATA for count pfn words (MIG_PFN_WORD(type, pfn)).  pages[i] is the
 * 4096-byte page of pfns[i]; it is read only for types that carry data and
 * must be non-NULL for those (it may be NULL for the others).
 * EINVAL: count 0 or > MIG_MAX_BATCH, unknown type, reserved bits set,
 * missing page.
 */
int mig_stream_put_page_data(struct mig_wbuf *wb, const uint64_t *pfns,
                             const void *const *pages, uint32_t count);
/*
 * The same PAGE_DATA record without its page bytes, for a zero-copy send:
 * the caller sends, right after wb's bytes, the 4096-byte page of every pfn
 * whose type carries data, in order (*page_bytes in all), which makes the
 * bytes of mig_stream_put_page_data().  Same EINVAL cases.
 */
int mig_stream_put_page_data_head(struct mig_wbuf *wb, const uint64_t *pfns,
                                  uint32_t count, size_t *page_bytes);
/* libxc END and STATIC_DATA_END (both empty). */
int mig_stream_put_end(struct mig_wbuf *wb);
int mig_stream_put_static_data_end(struct mig_wbuf *wb);
int mig_stream_put_tsc_info(struct mig_wbuf *wb, const struct mig_tsc_info *t);
int mig_stream_put_hvm_params(struct mig_wbuf *wb,
                              const struct mig_hvm_param *p, uint32_t count);

/* miglab optional records.  EINVAL: vcpus or nr_pages 0, nr_pages beyond
 * MIG_PFN_MASK + 1; spec empty, over MIG_WORKLOAD_SPEC_MAX or containing a
 * NUL; state over MIG_GEN_STATE_MAX. */
int mig_stream_put_guest_info(struct mig_wbuf *wb,
                              const struct mig_guest_info *gi);
int mig_stream_put_workload(struct mig_wbuf *wb, const char *spec,
                            size_t len);
int mig_stream_put_gen_state(struct mig_wbuf *wb, uint32_t format,
                             const void *state, size_t len);

/* Record bodies back to values.  0 or MIG_ECORRUPT (out left zeroed). */
int mig_stream_parse_guest_info(const void *body, size_t len,
                                struct mig_guest_info *out);
int mig_stream_parse_tsc_info(const void *body, size_t len,
                              struct mig_tsc_info *out);
/* *state points into body; do not free. */
int mig_stream_parse_gen_state(const void *body, size_t len,
                               uint32_t *format, const uint8_t **state,
                               size_t *state_len);

/* ---- xl migrate handshake --------------------------------------------- */

enum mig_handshake {
    MIG_HS_BANNER,      /* R->S, 54 bytes, no NUL */
    MIG_HS_READY,       /* R->S, 34 bytes with NUL */
    MIG_HS_GO,          /* S->R (or R->S after a failed start), 44 bytes */
    MIG_HS_REPORT,      /* R->S, 39 bytes with NUL, then 1 status byte */
};

/* The exact bytes of a message (static) and their count via *len. */
const char *mig_handshake_bytes(enum mig_handshake which, size_t *len);
/* Append a message; for MIG_HS_REPORT use mig_stream_put_report(). */
int mig_stream_put_handshake(struct mig_wbuf *wb, enum mig_handshake which);
/* The report message and its status byte (0 = domain running). */
int mig_stream_put_report(struct mig_wbuf *wb, uint8_t status);
/*
 * Check received bytes against a message (for REPORT, the 39 bytes without
 * the status byte).  0 when buf holds exactly the message; MIG_EINCOMPLETE
 * when it is a proper prefix of it; MIG_EPROTO on any difference or when
 * len is longer than the message.
 */
int mig_handshake_match(enum mig_handshake which, const void *buf,
                        size_t len);

/* ====================================================================== *
 * Incremental decoder
 * ====================================================================== */

/*
 * Bounds on what the decoder accepts.  Zero fields take the default; values
 * above a format maximum are clamped to it.  All are checked before any
 * allocation they would size.
 */
struct mig_stream_limits {
    uint64_t max_pfn;        /* pfns must be < max_pfn (guest pages);
                                default and maximum MIG_PFN_MASK + 1 */
    uint32_t max_rec_len;    /* body_length bound; default and maximum
                                MIG_REC_LENGTH_MAX */
    uint32_t max_batch;      /* pfns per PAGE_DATA; default MIG_MAX_BATCH,
                                maximum what fits in max_rec_len */
    uint32_t max_config_len; /* xl config bytes; default MIG_XL_CONFIG_MAX */
    const struct mig_allocator *alloc;  /* NULL: libc; not owned */
};

/* Fill *lim with the defaults (all zero, alloc NULL). */
void mig_stream_limits_default(struct mig_stream_limits *lim);

/*
 * Callbacks.  Any may be NULL (the item is then dropped).  Pointers passed in
 * are valid only during the call; do not free them.  A callback returns 0 to
 * go on or a negative MIG_E* / -errno to stop: the decoder then enters its
 * error state with that code.
 */
typedef int mig_stream_xl_header_fn(void *opaque,
                                    const struct mig_xl_header *hdr);
typedef int mig_stream_libxl_header_fn(void *opaque,
                                       const struct mig_libxl_header *hdr);
typedef int mig_stream_image_header_fn(void *opaque,
                                       const struct mig_image_header *hdr);
typedef int mig_stream_domain_header_fn(void *opaque,
                                        const struct mig_domain_header *hdr);
/* pfns: count words, host order, reserved bits cleared; every pfn below
 * max_pfn and every type known.  pages: the 4096-byte pages of the pfns
 * whose type carries data, in order, packed (not aligned). */
typedef int mig_stream_page_batch_fn(void *opaque, const uint64_t *pfns,
                                     const uint8_t *pages, uint32_t count);
/* Any other record of the layer, already length-checked (see
 * stream_format.h).  Padding is not included in len. */
typedef int mig_stream_record_fn(void *opaque, uint32_t type,
                                 const uint8_t *body, uint32_t len);
/* END of a layer: MIG_LAYER_LIBXC for the libxc END, MIG_LAYER_LIBXL for
 * the libxl END.  The stream is complete after the END of the outermost
 * binary layer (libxl, or libxc for a bare image). */
typedef int mig_stream_end_fn(void *opaque, enum mig_stream_layer layer);

struct mig_stream_dec_ops {
    mig_stream_xl_header_fn *on_xl_header;
    mig_stream_libxl_header_fn *on_libxl_header;
    mig_stream_record_fn *on_libxl_record;  /* EMULATOR_*, optional ones */
    mig_stream_image_header_fn *on_image_header;
    mig_stream_domain_header_fn *on_domain_header;
    mig_stream_page_batch_fn *on_page_batch;
    mig_stream_record_fn *on_record;        /* libxc records but PAGE_DATA
                                               and END, incl. optional */
    mig_stream_end_fn *on_end;
    /* When set, replaces on_page_batch: a PAGE_DATA record's pages are
     * passed on as they arrive, straight from the fed buffer, in one or
     * more calls (count >= 1 each) that together give its pfns and pages
     * in order; each call's pages are those of its pfns that carry data.
     * Every pfn and the record length are checked before the first call;
     * a stream cut short or failing later may leave a record's first
     * pages passed on.  For a consumer that stores pages (the receiver):
     * no record is buffered whole. */
    mig_stream_page_batch_fn *on_page_part;
};

struct mig_stream_dec;

/* New decoder with the given limits (NULL: defaults; copied).  Caller frees
 * with mig_stream_dec_free().  NULL only on ENOMEM. */
struct mig_stream_dec *mig_stream_dec_new(const struct mig_stream_limits *lim);
/* Free; NULL is a no-op. */
void mig_stream_dec_free(struct mig_stream_dec *dec);
/* Set the callbacks (ops is not copied and must outlive the decoder;
 * NULL: none).  Call before the first feed. */
void mig_stream_dec_set_ops(struct mig_stream_dec *dec,
                            const struct mig_stream_dec_ops *ops,
                            void *opaque);

/* Count offsets from off instead of 0: the stream starts off bytes into
 * its channel (after a miglab authentication exchange, ref/auth.h).  Call
 * before the first feed. */
void mig_stream_dec_set_offset(struct mig_stream_dec *dec, uint64_t off);

/*
 * Decode len bytes (data may be NULL when len is 0).  Returns 0 when all of
 * them were consumed, else a negative code; after an error every later call
 * returns the same code.  Bytes after the end of the stream are an error
 * (MIG_ECORRUPT "trailing data"); use mig_stream_dec_feed_some() when more
 * data may follow the stream on the same channel (the xl handshake does).
 */
int mig_stream_dec_feed(struct mig_stream_dec *dec, const void *data,
                        size_t len);
/* Like feed, but stops right after the end of the stream and reports in
 * *used how many bytes it consumed (all of them unless the stream ended). */
int mig_stream_dec_feed_some(struct mig_stream_dec *dec, const void *data,
                             size_t len, size_t *used);
/* 0 if the stream is complete, MIG_EINCOMPLETE if more is needed (the input
 * was cut short), or the stored error. */
int mig_stream_dec_finish(const struct mig_stream_dec *dec);
bool mig_stream_dec_done(const struct mig_stream_dec *dec);
/* The stored error code (0 if none) and its one-line message ("" if none).
 * The message is owned by the decoder. */
int mig_stream_dec_errcode(const struct mig_stream_dec *dec);
const char *mig_stream_dec_error(const struct mig_stream_dec *dec);
/* Total bytes consumed so far. */
uint64_t mig_stream_dec_offset(const struct mig_stream_dec *dec);
/* Largest allocation the decoder holds, in bytes (for tests and stats). */
size_t mig_stream_dec_footprint(const struct mig_stream_dec *dec);

#endif
