/* SPDX-License-Identifier: MIT */
/*
 * stream_format.h - wire layout of the Xen migration stream as miglab writes
 * and reads it.  Constants and layout documentation only: no code.
 *
 * Four layers, outermost first (docs/stream-format.md is normative):
 *
 *   xl save header      tools/xl/xl.h (struct save_file_header) + optional data
 *   libxl stream v2     docs/specs/libxl-migration-stream.pandoc
 *   libxc stream v3     docs/specs/libxc-migration-stream.pandoc,
 *                       tools/libs/guest/xg_sr_stream_format.h
 *   miglab records      optional libxc records (bit 31 set), defined here
 *
 * plus the fixed xl migrate handshake messages (tools/xl/xl.h, xl_migrate.c).
 *
 * The structs below document byte layouts and are checked with static_assert;
 * never cast them onto input bytes (STYLE.md §5): decode with mig_le32dec()
 * and friends.  "native" in Xen's specs means little-endian here: miglab
 * writes only little-endian streams and rejects big-endian ones, as Xen does.
 */
#ifndef MIG_STREAM_FORMAT_H
#define MIG_STREAM_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* ======================================================================
 * Guest pages
 * ====================================================================== */

#define MIG_PAGE_SHIFT          12U
#define MIG_PAGE_SIZE           4096U

/* ======================================================================
 * xl save header (precedes the libxl stream on `xl save` files and on the
 * `xl migrate` data channel).  All integers little-endian ("domain's byte
 * order" in xl.h; x86 only).
 *
 *   off size field              value / meaning
 *     0   32 magic              "Xen saved domain, xl format\n \0 \r"
 *    32    4 byteorder          0x01020304 (bytes 04 03 02 01)
 *    36    4 mandatory_flags    bit 0 JSON config, bit 1 stream v2;
 *                               any other bit set: reject
 *    40    4 optional_flags     written 0; ignored on read (as xl does)
 *    44    4 optional_data_len  length of the optional data that follows
 *    48    n optional data      [u32 config_len][config_len bytes of config]
 *                               then anything else, which is skipped
 *
 * xl always writes optional data = 4 + config_len, config_len = strlen + 1
 * (the JSON text with its NUL) and sets JSON iff config_len > 0.
 * ====================================================================== */

#define MIG_XL_MAGIC            "Xen saved domain, xl format\n \0 \r"
#define MIG_XL_MAGIC_LEN        32U
#define MIG_XL_BYTEORDER        0x01020304U
#define MIG_XL_FLAG_JSON        0x00000001U
#define MIG_XL_FLAG_STREAMV2    0x00000002U
#define MIG_XL_MANDATORY_KNOWN  (MIG_XL_FLAG_JSON | MIG_XL_FLAG_STREAMV2)
#define MIG_XL_HDR_SIZE         48U
/* miglab's default bound on the config text (xl has none). */
#define MIG_XL_CONFIG_MAX       (1U << 20)

struct mig_wire_xl_hdr {
    char magic[32];
    uint32_t byteorder;
    uint32_t mandatory_flags;
    uint32_t optional_flags;
    uint32_t optional_data_len;
};
static_assert(sizeof(struct mig_wire_xl_hdr) == MIG_XL_HDR_SIZE,
              "xl save header is 48 bytes");
static_assert(offsetof(struct mig_wire_xl_hdr, optional_data_len) == 44,
              "xl optional_data_len at 44");

/* ======================================================================
 * xl migrate handshake (R = receiver, S = sender).  Exact bytes, no framing:
 *
 *   1. R->S  banner, 54 bytes, ends in '\n', NO trailing NUL
 *   2. S->R  xl save header + libxl stream (the image)
 *   3. R->S  "domain received, ready to unpause" + NUL       34 bytes
 *   4. S->R  "domain is yours, you are cleared to unpause"
 *            + NUL                                           44 bytes
 *            (the point of no return; on a failed start R sends the same
 *            message back to S to let it resume)
 *   5. R->S  "my copy unpause results are as follows" + NUL  39 bytes
 *            followed by 1 status byte: 0 = running, else -rc
 * ====================================================================== */

#define MIG_XL_BANNER \
    "xl migration receiver ready, send binary domain data.\n"
#define MIG_XL_BANNER_LEN       54U     /* no NUL */
#define MIG_XL_READY            "domain received, ready to unpause"
#define MIG_XL_READY_LEN        34U     /* including the NUL */
#define MIG_XL_GO               "domain is yours, you are cleared to unpause"
#define MIG_XL_GO_LEN           44U     /* including the NUL */
#define MIG_XL_REPORT           "my copy unpause results are as follows"
#define MIG_XL_REPORT_LEN       39U     /* including the NUL */
#define MIG_XL_REPORT_MSG_LEN   40U     /* report + 1 status byte */

static_assert(sizeof(MIG_XL_BANNER) - 1 == MIG_XL_BANNER_LEN, "banner");
static_assert(sizeof(MIG_XL_READY) == MIG_XL_READY_LEN, "ready");
static_assert(sizeof(MIG_XL_GO) == MIG_XL_GO_LEN, "go");
static_assert(sizeof(MIG_XL_REPORT) == MIG_XL_REPORT_LEN, "report");
static_assert(sizeof(MIG_XL_MAGIC) - 1 == MIG_XL_MAGIC_LEN, "xl magic");

/* ======================================================================
 * libxl stream v2 header.  Big-endian, always.
 *
 *   off size field     value / meaning
 *     0    8 ident     0x4c6962786c466d74 ("LibxlFmt")
 *     8    4 version   2
 *    12    4 options   bit 0 big-endian (rejected), bit 1 legacy-converted
 *
 * libxl records use the same framing as libxc records (below), with their
 * own type space.
 * ====================================================================== */

#define MIG_LIBXL_IDENT         0x4c6962786c466d74ULL
#define MIG_LIBXL_VERSION       0x00000002U
#define MIG_LIBXL_OPT_BIG_ENDIAN 0x00000001U
#define MIG_LIBXL_OPT_LEGACY    0x00000002U
#define MIG_LIBXL_HDR_SIZE      16U

struct mig_wire_libxl_hdr {
    uint64_t ident;
    uint32_t version;
    uint32_t options;
};
static_assert(sizeof(struct mig_wire_libxl_hdr) == MIG_LIBXL_HDR_SIZE,
              "libxl header is 16 bytes");

/* libxl record types.
 *   type  name                    body
 *   0x00  END                     empty; last record of the stream
 *   0x01  LIBXC_CONTEXT           empty; a complete libxc stream follows
 *                                 inline, up to and including its END
 *   0x02  EMULATOR_XENSTORE_DATA  emulator header + packed "key\0value\0"
 *   0x03  EMULATOR_CONTEXT        emulator header + opaque device state
 *   0x04  CHECKPOINT_END          empty; ends the libxl part of a checkpoint
 *   0x05  CHECKPOINT_STATE        u32 state id (COLO back channel only)
 */
#define MIG_LIBXL_REC_END                       0x00000000U
#define MIG_LIBXL_REC_LIBXC_CONTEXT             0x00000001U
#define MIG_LIBXL_REC_EMULATOR_XENSTORE_DATA    0x00000002U
#define MIG_LIBXL_REC_EMULATOR_CONTEXT          0x00000003U
#define MIG_LIBXL_REC_CHECKPOINT_END            0x00000004U
#define MIG_LIBXL_REC_CHECKPOINT_STATE          0x00000005U
#define MIG_LIBXL_REC_NR_KNOWN                  6U

/* Emulator sub-header of EMULATOR_* records (record byte order).
 *   off size field
 *     0    4 emulator_id   0 unknown, 1 qemu-traditional, 2 qemu-upstream
 *     4    4 index         emulator index within the domain
 */
#define MIG_LIBXL_EMU_HDR_SIZE          8U
#define MIG_LIBXL_EMU_UNKNOWN           0x00000000U
#define MIG_LIBXL_EMU_QEMU_TRADITIONAL  0x00000001U
#define MIG_LIBXL_EMU_QEMU_UPSTREAM     0x00000002U

struct mig_wire_libxl_emu_hdr {
    uint32_t id;
    uint32_t index;
};
static_assert(sizeof(struct mig_wire_libxl_emu_hdr) == MIG_LIBXL_EMU_HDR_SIZE,
              "emulator header is 8 bytes");

#define MIG_LIBXL_CHECKPOINT_STATE_SIZE 4U

/* ======================================================================
 * libxc image header.  Big-endian, always.
 *
 *   off size field     value / meaning
 *     0    8 marker    0xFFFFFFFFFFFFFFFF (legacy images have a zero bit)
 *     8    4 id        0x58454E46 ("XENF")
 *    12    4 version   3 written; 2 and 3 accepted (as Xen 4.14+)
 *    16    2 options   bit 0 big-endian (rejected); bits 1-15 reserved
 *    18    2 _res1     0
 *    20    4 _res2     0
 * ====================================================================== */

#define MIG_IHDR_MARKER         0xffffffffffffffffULL
#define MIG_IHDR_ID             0x58454E46U
#define MIG_IHDR_VERSION        3U
#define MIG_IHDR_VERSION_MIN    2U
#define MIG_IHDR_OPT_BIG_ENDIAN 0x0001U
#define MIG_IHDR_SIZE           24U

struct mig_wire_ihdr {
    uint64_t marker;
    uint32_t id;
    uint32_t version;
    uint16_t options;
    uint16_t _res1;
    uint32_t _res2;
};
static_assert(sizeof(struct mig_wire_ihdr) == MIG_IHDR_SIZE,
              "image header is 24 bytes");

/* ======================================================================
 * libxc domain header.  Little-endian (the image header's byte order).
 *
 *   off size field       value / meaning
 *     0    4 type        1 x86 PV, 2 x86 HVM, 3 x86 PVH, 4 ARM; 0 and
 *                        5.. reserved (rejected)
 *     4    2 page_shift  12 (4 KiB pages; anything else rejected)
 *     6    2 _res1       0
 *     8    4 xen_major   Xen version that saved (0: legacy converter)
 *    12    4 xen_minor
 * ====================================================================== */

#define MIG_DHDR_TYPE_X86_PV    0x00000001U
#define MIG_DHDR_TYPE_X86_HVM   0x00000002U
#define MIG_DHDR_TYPE_X86_PVH   0x00000003U
#define MIG_DHDR_TYPE_ARM       0x00000004U
#define MIG_DHDR_SIZE           16U

struct mig_wire_dhdr {
    uint32_t type;
    uint16_t page_shift;
    uint16_t _res1;
    uint32_t xen_major;
    uint32_t xen_minor;
};
static_assert(sizeof(struct mig_wire_dhdr) == MIG_DHDR_SIZE,
              "domain header is 16 bytes");

/* ======================================================================
 * Record framing (libxc and libxl alike).  Little-endian.
 *
 *   off  size     field        meaning
 *     0     4     type         bit 31 set: optional (skippable) record
 *     4     4     body_length  octets of body, excluding padding;
 *                              at most MIG_REC_LENGTH_MAX
 *     8     len   body
 *   8+len 0..7    padding      zeros up to a multiple of 8; ignored on read
 * ====================================================================== */

#define MIG_RHDR_SIZE           8U
#define MIG_REC_ALIGN           8U
#define MIG_REC_LENGTH_MAX      (128U << 20)    /* Xen's REC_LENGTH_MAX */
#define MIG_REC_TYPE_OPTIONAL   0x80000000U

struct mig_wire_rhdr {
    uint32_t type;
    uint32_t length;
};
static_assert(sizeof(struct mig_wire_rhdr) == MIG_RHDR_SIZE,
              "record header is 8 bytes");

/* libxc record types.
 *   type  name                        body (length rule enforced on read)
 *   0x00  END                         empty (== 0)
 *   0x01  PAGE_DATA                   see below (exact total)
 *   0x02  X86_PV_INFO                 u8 width, u8 levels, 6 res (== 8)
 *   0x03  X86_PV_P2M_FRAMES           u32 start, u32 end, u64[] (8 + 8n)
 *   0x04  X86_PV_VCPU_BASIC           u32 vcpu, u32 res, blob (>= 8)
 *   0x05  X86_PV_VCPU_EXTENDED        as BASIC (>= 8)
 *   0x06  X86_PV_VCPU_XSAVE           as BASIC (>= 8)
 *   0x07  SHARED_INFO                 one page (== 4096)
 *   0x08  X86_TSC_INFO                u32 mode, u32 khz, u64 nsec,
 *                                     u32 incarnation, u32 res (== 24)
 *   0x09  HVM_CONTEXT                 opaque blob from Xen (any)
 *   0x0A  HVM_PARAMS                  u32 count, u32 res,
 *                                     {u64 index, u64 value}[count]
 *                                     (== 8 + 16 count)
 *   0x0B  TOOLSTACK                   deprecated blob (any)
 *   0x0C  X86_PV_VCPU_MSRS            as BASIC (>= 8)
 *   0x0D  VERIFY                      empty (== 0)
 *   0x0E  CHECKPOINT                  empty (== 0); libxl records follow
 *                                     up to CHECKPOINT_END, then libxc
 *                                     records resume
 *   0x0F  CHECKPOINT_DIRTY_PFN_LIST   u64[] (8n); back channel only
 *   0x10  STATIC_DATA_END             empty (== 0); at most once; in a v3
 *                                     image it precedes every PAGE_DATA
 *   0x11  X86_CPUID_POLICY            24-byte leaves (24n, n >= 1)
 *   0x12  X86_MSR_POLICY              16-byte entries (16n, n >= 1)
 *   0x13 - 0x7FFFFFFF                 reserved mandatory: rejected
 *   0x80000000 - 0xFFFFFFFF           optional: passed on or skipped
 *
 * Order is not enforced beyond what Xen's restorer enforces (END last,
 * STATIC_DATA_END before PAGE_DATA in v3): Xen's saver writes HVM_CONTEXT
 * before HVM_PARAMS although the spec lists them the other way round.
 */
#define MIG_REC_END                         0x00000000U
#define MIG_REC_PAGE_DATA                   0x00000001U
#define MIG_REC_X86_PV_INFO                 0x00000002U
#define MIG_REC_X86_PV_P2M_FRAMES           0x00000003U
#define MIG_REC_X86_PV_VCPU_BASIC           0x00000004U
#define MIG_REC_X86_PV_VCPU_EXTENDED        0x00000005U
#define MIG_REC_X86_PV_VCPU_XSAVE           0x00000006U
#define MIG_REC_SHARED_INFO                 0x00000007U
#define MIG_REC_X86_TSC_INFO                0x00000008U
#define MIG_REC_HVM_CONTEXT                 0x00000009U
#define MIG_REC_HVM_PARAMS                  0x0000000AU
#define MIG_REC_TOOLSTACK                   0x0000000BU
#define MIG_REC_X86_PV_VCPU_MSRS            0x0000000CU
#define MIG_REC_VERIFY                      0x0000000DU
#define MIG_REC_CHECKPOINT                  0x0000000EU
#define MIG_REC_CHECKPOINT_DIRTY_PFN_LIST   0x0000000FU
#define MIG_REC_STATIC_DATA_END             0x00000010U
#define MIG_REC_X86_CPUID_POLICY            0x00000011U
#define MIG_REC_X86_MSR_POLICY              0x00000012U
#define MIG_REC_NR_KNOWN                    0x13U

#define MIG_TSC_INFO_SIZE           24U
#define MIG_HVM_PARAMS_HDR_SIZE     8U
#define MIG_HVM_PARAM_ENTRY_SIZE    16U
#define MIG_CPUID_LEAF_SIZE         24U
#define MIG_MSR_ENTRY_SIZE          16U
#define MIG_PV_VCPU_HDR_SIZE        8U

struct mig_wire_tsc_info {
    uint32_t mode;
    uint32_t khz;
    uint64_t nsec;
    uint32_t incarnation;
    uint32_t _res1;
};
static_assert(sizeof(struct mig_wire_tsc_info) == MIG_TSC_INFO_SIZE,
              "TSC_INFO body is 24 bytes");

struct mig_wire_hvm_param {
    uint64_t index;
    uint64_t value;
};
static_assert(sizeof(struct mig_wire_hvm_param) == MIG_HVM_PARAM_ENTRY_SIZE,
              "HVM_PARAMS entry is 16 bytes");

/* ======================================================================
 * PAGE_DATA body.  Little-endian.
 *
 *   off         size       field
 *     0            4       count C           1 <= C (miglab: <= max_batch)
 *     4            4       _res1             0
 *     8          8*C       pfn[C]            bits 63-60 page type,
 *                                            bits 59-52 reserved (ignored),
 *                                            bits 51-0  pfn
 *   8+8C    4096*N       page_data[N]        one page per pfn whose type
 *                                            carries data, in pfn order
 *
 * body_length must equal 8 + 8*C + 4096*N exactly.  Types BROKEN, XALLOC and
 * XTAB carry no data; types 5-8 are reserved and rejected.  Xen's saver
 * sends at most MIG_MAX_BATCH pfns per record.
 * ====================================================================== */

#define MIG_PAGE_DATA_HDR_SIZE  8U
#define MIG_MAX_BATCH           1024U
#define MIG_PFN_MASK            0x000fffffffffffffULL
#define MIG_PFN_RES_MASK        0x0ff0000000000000ULL
#define MIG_PFN_TYPE_MASK       0xf000000000000000ULL
#define MIG_PFN_TYPE_SHIFT      60U

/* Page types as the 4-bit value in bits 63-60 (XEN_DOMCTL_PFINFO_* >> 28). */
#define MIG_PT_NOTAB            0x0U
#define MIG_PT_L1TAB            0x1U
#define MIG_PT_L2TAB            0x2U
#define MIG_PT_L3TAB            0x3U
#define MIG_PT_L4TAB            0x4U
#define MIG_PT_L1TAB_PIN        0x9U
#define MIG_PT_L2TAB_PIN        0xAU
#define MIG_PT_L3TAB_PIN        0xBU
#define MIG_PT_L4TAB_PIN        0xCU
#define MIG_PT_BROKEN           0xDU
#define MIG_PT_XALLOC           0xEU
#define MIG_PT_XTAB             0xFU

/* Build and split a pfn word.  Reserved bits are written as zero. */
#define MIG_PFN_WORD(type, pfn)                                         \
    ((((uint64_t)(type) & 0xfULL) << MIG_PFN_TYPE_SHIFT) |              \
     ((uint64_t)(pfn) & MIG_PFN_MASK))
#define MIG_PFN_WORD_PFN(w)     ((uint64_t)(w) & MIG_PFN_MASK)
#define MIG_PFN_WORD_TYPE(w)                                            \
    ((unsigned)((uint64_t)(w) >> MIG_PFN_TYPE_SHIFT))

/* ======================================================================
 * miglab optional libxc records.  Bit 31 is set, so Xen's restorer logs
 * "Ignoring optional record" and skips them; miglab's decoder checks them.
 * Little-endian; written after the domain header, before STATIC_DATA_END.
 *
 * 0x80000001 MIGLAB_GUEST_INFO (== 32 bytes)
 *   off size field             meaning
 *     0    4 info_version      1
 *     4    4 vcpus             >= 1
 *     8    8 nr_pages          guest memory in 4 KiB pages, >= 1, and
 *                              <= the decoder's max_pfn
 *    16    8 stamp_generation  page-stamp generation the pages were
 *                              written under (integrity checks)
 *    24    4 flags             0; reserved
 *    28    4 _res1             0
 *
 * 0x80000002 MIGLAB_WORKLOAD (1 .. MIG_WORKLOAD_SPEC_MAX bytes)
 *   the workload spec text (sim/workload.h syntax), no NUL anywhere
 *
 * 0x80000003 MIGLAB_GEN_STATE (8 .. 8 + MIG_GEN_STATE_MAX bytes)
 *   off size field             meaning
 *     0    4 format            identifies the blob's layout (owner: sim/)
 *     4    4 _res1             0
 *     8    n state             opaque generator state (RNG etc.)
 * ====================================================================== */

#define MIG_REC_MIGLAB_GUEST_INFO   0x80000001U
#define MIG_REC_MIGLAB_WORKLOAD     0x80000002U
#define MIG_REC_MIGLAB_GEN_STATE    0x80000003U

#define MIG_GUEST_INFO_SIZE         32U
#define MIG_GUEST_INFO_VERSION      1U
#define MIG_WORKLOAD_SPEC_MAX       (64U << 10)
#define MIG_GEN_STATE_HDR_SIZE      8U
#define MIG_GEN_STATE_MAX           (1U << 20)

struct mig_wire_guest_info {
    uint32_t info_version;
    uint32_t vcpus;
    uint64_t nr_pages;
    uint64_t stamp_generation;
    uint32_t flags;
    uint32_t _res1;
};
static_assert(sizeof(struct mig_wire_guest_info) == MIG_GUEST_INFO_SIZE,
              "miglab guest info is 32 bytes");

struct mig_wire_gen_state_hdr {
    uint32_t format;
    uint32_t _res1;
};
static_assert(sizeof(struct mig_wire_gen_state_hdr) == MIG_GEN_STATE_HDR_SIZE,
              "miglab generator state header is 8 bytes");

#endif
