/* SPDX-License-Identifier: MIT */
/*
 * heartbeat.h - an emulated guest's presence on the network: a UDP
 * responder that pauses with the guest's vCPUs (so downtime is visible
 * from outside), and the moves of its IP address between hosts (`ip addr
 * add/del` and a gratuitous ARP sent from an AF_PACKET socket, as a Xen
 * guest's netfront announces itself after migration).
 *
 * Probe and reply (UDP, little-endian; docs/host-protocol.md "Heartbeat"):
 *
 *   off size  probe                     reply
 *     0    4  magic "MLHB"              magic "MLHB"
 *     4    4  0                         1 (reply)
 *     8    8  sequence number           the probe's sequence number
 *    16    8  prober's timestamp        the probe's timestamp, echoed
 *    24    8  -                         guest's send time, CLOCK_REALTIME ns
 *    32    8  -                         guest page writes so far
 *
 * A probe shorter than 24 bytes or with another magic is dropped.
 */
#ifndef MIG_HEARTBEAT_H
#define MIG_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#include "guest.h"

#define MIG_HB_PORT        7007U    /* on a guest's own address */
#define MIG_HB_PROBE_LEN   24U
#define MIG_HB_REPLY_LEN   40U
#define MIG_GARP_FRAME_LEN 42U      /* Ethernet header + ARP, no padding */

struct mig_hb;

struct mig_hb_reply {
    uint64_t seq;
    uint64_t probe_ts;
    uint64_t guest_ns;
    uint64_t writes;
};

/*
 * Answer probes for emulated guest g on ip:port (port 0 = ephemeral) from
 * a thread of its own that waits while g is suspended.  g must outlive the
 * responder.  On success *out is owned by the caller (mig_hb_stop()).
 * -errno from socket/bind, MIG_EINVAL for a bad address, MIG_ENOMEM.
 */
int mig_hb_start(struct mig_guest *g, const char *ip, uint16_t port,
                 struct mig_hb **out);
/* Stop the thread and close the socket; NULL is a no-op. */
void mig_hb_stop(struct mig_hb *hb);
uint16_t mig_hb_port(const struct mig_hb *hb);
/* Probes answered so far. */
uint64_t mig_hb_count(const struct mig_hb *hb);

/*
 * Send one probe to ip:port and wait up to timeout_ms for its reply.  0 with
 * *r filled, -ETIMEDOUT, -errno.  Replies to other sequence numbers are
 * skipped.
 */
int mig_hb_probe(const char *ip, uint16_t port, uint64_t seq,
                 int timeout_ms, struct mig_hb_reply *r);

/*
 * Gratuitous ARP for ip_be (network order) from mac into
 * out[MIG_GARP_FRAME_LEN]: broadcast Ethernet, ARP request with sender and
 * target protocol address both ip.
 */
void mig_garp_frame(uint8_t *out, const uint8_t mac[6], uint32_t ip_be);

/* Send mig_garp_frame() for ip on dev (its MAC) over AF_PACKET.  0,
 * MIG_EINVAL (bad ip), -errno; a line in err. */
int mig_garp_send(const char *dev, const char *ip, char *err, size_t errlen);

/* `ip addr add|del IP/32 dev DEV`.  0, or MIG_EIO with a line in err. */
int mig_ip_addr(const char *dev, const char *ip, int add, char *err,
                size_t errlen);

#endif
