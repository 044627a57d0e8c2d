/* SPDX-License-Identifier: MIT */
/*
 * auth.h - who may push a guest into a host: a pre-shared-key
 * challenge-response (HMAC-SHA256, libsodium) run on the channel before any
 * migration byte, and an allow-list of peer addresses.
 *
 * Wire (a miglab extension, spoken before xl's receiver banner, so an
 * unauthenticated peer never gets to send a byte of guest data; xl peers do
 * not speak it and are reached with authentication off):
 *
 *   R -> S  magic "MLAUTH01" (8) | nonce_r (32)
 *   S -> R  magic (8) | nonce_s (32) | HMAC(K, "miglab-auth-v1 sender"   | nonce_r | nonce_s) (32)
 *   R -> S  magic (8) | verdict (1: 0 accepted, 1 refused)
 *                     | HMAC(K, "miglab-auth-v1 receiver" | nonce_s | nonce_r) (32; zeros when refused)
 *
 * Both sides authenticate each other.  The receiver's nonce is fresh for
 * every session (randombytes), so a recorded sender reply answers a
 * challenge that will never be asked again: replays are refused.  MACs are
 * compared in constant time.  K is SHA-256 of the key file's bytes.
 *
 * The allow-list is safe by default: an empty list allows nobody.
 */
#ifndef MIG_AUTH_H
#define MIG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "transport.h"

#define MIG_AUTH_MAGIC "MLAUTH01"
#define MIG_AUTH_MAGIC_LEN 8u
#define MIG_AUTH_NONCE_LEN 32u
#define MIG_AUTH_MAC_LEN 32u
#define MIG_PSK_MIN_BYTES 16u       /* shortest key file accepted */
#define MIG_PSK_MAX_BYTES 4096u
#define MIG_ALLOW_MAX 64u

struct mig_psk {
    uint8_t key[32];
};

/*
 * Key from a file: at least MIG_PSK_MIN_BYTES bytes (e.g. `head -c 32
 * /dev/urandom`), at most MIG_PSK_MAX_BYTES, readable by its owner only
 * (no group/other permission bits).  Returns 0, MIG_EINVAL (with the reason
 * in err) or -errno.
 */
int mig_psk_load(const char *path, struct mig_psk *out, char *err,
                 size_t errlen);
/* Key from secret bytes (len >= MIG_PSK_MIN_BYTES).  0 or MIG_EINVAL. */
int mig_psk_from_bytes(const void *secret, size_t len, struct mig_psk *out);

/*
 * Run the receiver's side on ch.  0: the sender proved the key and has been
 * told so.  MIG_EAUTH: wrong MAC, bad magic or a malformed reply (the
 * sender is told it was refused when the channel still works); err says
 * what.  -ETIMEDOUT / -errno / MIG_EINCOMPLETE from the channel.
 */
int mig_auth_receiver(struct mig_chan *ch, const struct mig_psk *key,
                      char *err, size_t errlen);

/*
 * Run the sender's side on ch.  0: the receiver accepted us and proved it
 * holds the key too.  MIG_EAUTH when refused or when the receiver's proof
 * is wrong (err says which).  Channel errors as above.
 */
int mig_auth_sender(struct mig_chan *ch, const struct mig_psk *key,
                    char *err, size_t errlen);

/* Peer address allow-list. */
struct mig_allow_entry {
    int family;                 /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix;            /* bits */
};

struct mig_allow {
    size_t n;
    struct mig_allow_entry e[MIG_ALLOW_MAX];
};

/* Add "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6; an IPv4-mapped IPv6 peer
 * matches IPv4 entries).  0, MIG_EINVAL (bad text) or MIG_ERANGE (full). */
int mig_allow_add(struct mig_allow *a, const char *cidr);

/* Whether sa is allowed.  An empty list allows nothing. */
bool mig_allow_match(const struct mig_allow *a, const struct sockaddr *sa);

/*
 * Check the peer of a connected socket.  0 when allowed; MIG_EREFUSED when
 * not (peer, if not NULL, gets its address as text either way); -errno when
 * the peer cannot be read.
 */
int mig_allow_check_fd(const struct mig_allow *a, int fd, char *peer,
                       size_t peerlen);

#endif
