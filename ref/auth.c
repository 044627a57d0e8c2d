/* SPDX-License-Identifier: MIT */
/*
 * auth.c - pre-shared-key challenge-response and the peer allow-list (see
 * auth.h for the wire format and the guarantees).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "mig_err.h"

#define LABEL_SENDER "miglab-auth-v1 sender"
#define LABEL_RECEIVER "miglab-auth-v1 receiver"

#define CHALLENGE_LEN (MIG_AUTH_MAGIC_LEN + MIG_AUTH_NONCE_LEN)
#define REPLY_LEN (MIG_AUTH_MAGIC_LEN + MIG_AUTH_NONCE_LEN + MIG_AUTH_MAC_LEN)
#define VERDICT_LEN (MIG_AUTH_MAGIC_LEN + 1 + MIG_AUTH_MAC_LEN)

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return rc;
}

/* libsodium must be initialised once; sodium_init() is idempotent and
 * thread-safe, so calling it before every use costs nothing. */
static int crypto_ready(void)
{
    return sodium_init() < 0 ? MIG_ENOTSUP : 0;
}

int mig_psk_from_bytes(const void *secret, size_t len, struct mig_psk *out)
{
    memset(out, 0, sizeof(*out));
    if (len < MIG_PSK_MIN_BYTES || crypto_ready())
        return MIG_EINVAL;
    crypto_hash_sha256(out->key, secret, len);
    return 0;
}

int mig_psk_load(const char *path, struct mig_psk *out, char *err,
                 size_t errlen)
{
    uint8_t buf[MIG_PSK_MAX_BYTES + 1];
    struct stat st;
    ssize_t n;
    size_t len = 0;
    int fd, rc = 0;

    memset(out, 0, sizeof(*out));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out_close;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: key file is accessible by others "
                     "(mode %03o); chmod 600 it", path,
                     (unsigned)(st.st_mode & 0777));
        rc = MIG_EINVAL;
        goto out_close;
    }
    while (len < sizeof(buf) &&
           (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out_wipe;
        }
        len += (size_t)n;
    }
    if (len < MIG_PSK_MIN_BYTES || len > MIG_PSK_MAX_BYTES) {
        if (err && errlen)
            snprintf(err, errlen, "%s: key must be %u..%u bytes, file has %zu",
                     path, MIG_PSK_MIN_BYTES, MIG_PSK_MAX_BYTES, len);
        rc = MIG_EINVAL;
        goto out_wipe;
    }
    rc = mig_psk_from_bytes(buf, len, out);
out_wipe:
    sodium_memzero(buf, sizeof(buf));
out_close:
    close(fd);
    return rc;
}

/* HMAC-SHA256(K, label | a | b). */
static void mac(const struct mig_psk *k, const char *label, const uint8_t *a,
                const uint8_t *b, uint8_t out[MIG_AUTH_MAC_LEN])
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, k->key, sizeof(k->key));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, strlen(label));
    crypto_auth_hmacsha256_update(&st, a, MIG_AUTH_NONCE_LEN);
    crypto_auth_hmacsha256_update(&st, b, MIG_AUTH_NONCE_LEN);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

int mig_auth_receiver(struct mig_chan *ch, const struct mig_psk *key,
                      char *err, size_t errlen)
{
    uint8_t challenge[CHALLENGE_LEN], reply[REPLY_LEN], verdict[VERDICT_LEN];
    uint8_t expect[MIG_AUTH_MAC_LEN];
    const uint8_t *nonce_r = challenge + MIG_AUTH_MAGIC_LEN;
    const uint8_t *nonce_s = reply + MIG_AUTH_MAGIC_LEN;
    bool ok;
    int rc = crypto_ready();

    if (rc)
        return fail(err, errlen, rc, "libsodium cannot be initialised");
    memcpy(challenge, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    randombytes_buf(challenge + MIG_AUTH_MAGIC_LEN, MIG_AUTH_NONCE_LEN);
    rc = mig_chan_send(ch, challenge, sizeof(challenge));
    if (!rc)
        rc = mig_chan_recv_full(ch, reply, sizeof(reply));
    if (rc)
        return fail(err, errlen, rc, "no answer to the authentication "
                    "challenge");

    mac(key, LABEL_SENDER, nonce_r, nonce_s, expect);
    ok = memcmp(reply, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN) == 0 &&
         sodium_memcmp(reply + MIG_AUTH_MAGIC_LEN + MIG_AUTH_NONCE_LEN,
                       expect, MIG_AUTH_MAC_LEN) == 0;

    memset(verdict, 0, sizeof(verdict));
    memcpy(verdict, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    verdict[MIG_AUTH_MAGIC_LEN] = ok ? 0 : 1;
    if (ok)
        mac(key, LABEL_RECEIVER, nonce_s, nonce_r,
            verdict + MIG_AUTH_MAGIC_LEN + 1);
    /* Tell a refused peer so; if that fails too it learns from the close. */
    rc = mig_chan_send(ch, verdict, sizeof(verdict));
    if (!ok)
        return fail(err, errlen, MIG_EAUTH,
                    memcmp(reply, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN)
                        ? "peer does not speak miglab authentication"
                        : "peer's key proof is wrong (wrong key or "
                          "replayed session)");
    if (rc)
        return fail(err, errlen, rc, "cannot send the authentication "
                    "verdict");
    return 0;
}

int mig_auth_sender(struct mig_chan *ch, const struct mig_psk *key,
                    char *err, size_t errlen)
{
    uint8_t challenge[CHALLENGE_LEN], reply[REPLY_LEN], verdict[VERDICT_LEN];
    uint8_t expect[MIG_AUTH_MAC_LEN];
    const uint8_t *nonce_r = challenge + MIG_AUTH_MAGIC_LEN;
    uint8_t *nonce_s = reply + MIG_AUTH_MAGIC_LEN;
    int rc = crypto_ready();

    if (rc)
        return fail(err, errlen, rc, "libsodium cannot be initialised");
    rc = mig_chan_recv_full(ch, challenge, sizeof(challenge));
    if (rc)
        return fail(err, errlen, rc, "no authentication challenge from the "
                    "receiver");
    if (memcmp(challenge, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN) != 0)
        return fail(err, errlen, MIG_EAUTH, "receiver does not speak miglab "
                    "authentication (an xl receiver? use authentication off)");
    memcpy(reply, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    randombytes_buf(nonce_s, MIG_AUTH_NONCE_LEN);
    mac(key, LABEL_SENDER, nonce_r, nonce_s,
        reply + MIG_AUTH_MAGIC_LEN + MIG_AUTH_NONCE_LEN);
    rc = mig_chan_send(ch, reply, sizeof(reply));
    if (!rc)
        rc = mig_chan_recv_full(ch, verdict, sizeof(verdict));
    if (rc)
        return fail(err, errlen, rc, "no authentication verdict from the "
                    "receiver");
    if (memcmp(verdict, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN) != 0)
        return fail(err, errlen, MIG_EAUTH, "malformed authentication "
                    "verdict");
    if (verdict[MIG_AUTH_MAGIC_LEN] != 0)
        return fail(err, errlen, MIG_EAUTH, "receiver refused our key");
    mac(key, LABEL_RECEIVER, nonce_s, nonce_r, expect);
    if (sodium_memcmp(verdict + MIG_AUTH_MAGIC_LEN + 1, expect,
                      MIG_AUTH_MAC_LEN) != 0)
        return fail(err, errlen, MIG_EAUTH, "receiver's key proof is wrong: "
                    "it does not hold our key");
    return 0;
}

/* ---- allow-list ---------------------------------------------------------- */

int mig_allow_add(struct mig_allow *a, const char *cidr)
{
    struct mig_allow_entry e = { 0 };
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(cidr, '/');
    size_t hl = slash ? (size_t)(slash - cidr) : strlen(cidr);
    unsigned maxbits;

    if (hl == 0 || hl >= sizeof(host))
        return MIG_EINVAL;
    memcpy(host, cidr, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, e.addr) == 1) {
        e.family = AF_INET;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, host, e.addr) == 1) {
        e.family = AF_INET6;
        maxbits = 128;
    } else {
        return MIG_EINVAL;
    }
    e.prefix = maxbits;
    if (slash) {
        char *end;
        unsigned long p;

        if (!slash[1] || slash[1] < '0' || slash[1] > '9')
            return MIG_EINVAL;
        errno = 0;
        p = strtoul(slash + 1, &end, 10);
        if (errno || *end || p > maxbits)
            return MIG_EINVAL;
        e.prefix = (unsigned)p;
    }
    if (a->n >= MIG_ALLOW_MAX)
        return MIG_ERANGE;
    a->e[a->n++] = e;
    return 0;
}

static bool prefix_match(const uint8_t *x, const uint8_t *y, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;

    if (memcmp(x, y, bytes) != 0)
        return false;
    if (!rest)
        return true;
    return ((x[bytes] ^ y[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool mig_allow_match(const struct mig_allow *a, const struct sockaddr *sa)
{
    static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                          0, 0, 0xff, 0xff };
    uint8_t addr[16];
    int family;

    if (sa->sa_family == AF_INET) {
        family = AF_INET;
        memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)
                          ->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const uint8_t *a6 = ((const struct sockaddr_in6 *)(const void *)sa)
                                ->sin6_addr.s6_addr;

        if (memcmp(a6, v4mapped, sizeof(v4mapped)) == 0) {
            family = AF_INET;
            memcpy(addr, a6 + 12, 4);
        } else {
            family = AF_INET6;
            memcpy(addr, a6, 16);
        }
    } else {
        return false;
    }
    for (size_t i = 0; i < a->n; i++)
        if (a->e[i].family == family &&
            prefix_match(addr, a->e[i].addr, a->e[i].prefix))
            return true;
    return false;
}

int mig_allow_check_fd(const struct mig_allow *a, int fd, char *peer,
                       size_t peerlen)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char text[INET6_ADDRSTRLEN] = "?";

    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text,
                  sizeof(text));
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text,
                  sizeof(text));
    if (peer && peerlen)
        snprintf(peer, peerlen, "%s", text);
    return mig_allow_match(a, (struct sockaddr *)&ss) ? 0 : MIG_EREFUSED;
}
