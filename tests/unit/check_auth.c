/* SPDX-License-Identifier: MIT */
/*
 * check_auth.c - unit tests of peer authentication (ref/auth.c): the PSK
 * handshake accepts a peer with the key and refuses a wrong key, a replayed
 * session, an impostor receiver and a peer that does not speak it; key
 * files are checked; the allow-list refuses by default and matches CIDRs.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "mig_err.h"
#include "transport.h"
#include "check_main.h"

struct side {
    struct mig_chan *ch;
    const struct mig_psk *key;
    int rc;
    char err[200];
};

static void *run_receiver(void *arg)
{
    struct side *s = arg;

    s->rc = mig_auth_receiver(s->ch, s->key, s->err, sizeof(s->err));
    return NULL;
}

static void key_of(const char *text, struct mig_psk *k)
{
    ck_assert_int_eq(mig_psk_from_bytes(text, strlen(text), k), 0);
}

static void pair(struct mig_chan **a, struct mig_chan **b)
{
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *a = mig_chan_fd_new(sv[0], sv[0], 1);
    *b = mig_chan_fd_new(sv[1], sv[1], 1);
    ck_assert_ptr_nonnull(*a);
    ck_assert_ptr_nonnull(*b);
    mig_chan_set_timeout(*a, 5000);
    mig_chan_set_timeout(*b, 5000);
}

/* Receiver in a thread, sender here with sender_key. */
static void handshake(const char *recv_key, const char *send_key,
                      int *recv_rc, int *send_rc, char *send_err)
{
    struct mig_psk kr, ks;
    struct mig_chan *r, *s;
    struct side side;
    pthread_t t;

    key_of(recv_key, &kr);
    key_of(send_key, &ks);
    pair(&r, &s);
    side = (struct side){ .ch = r, .key = &kr };
    ck_assert_int_eq(pthread_create(&t, NULL, run_receiver, &side), 0);
    *send_rc = mig_auth_sender(s, &ks, send_err, 200);
    pthread_join(t, NULL);
    *recv_rc = side.rc;
    mig_chan_free(r);
    mig_chan_free(s);
}

START_TEST(test_same_key_accepted)
{
    int rr, sr;
    char err[200] = "";

    handshake("correct horse battery staple", "correct horse battery staple",
              &rr, &sr, err);
    ck_assert_int_eq(rr, 0);
    ck_assert_msg(sr == 0, "sender: %s", err);
}
END_TEST

START_TEST(test_wrong_key_refused)
{
    int rr, sr;
    char err[200] = "";

    handshake("correct horse battery staple", "correct horse battery stapler",
              &rr, &sr, err);
    ck_assert_int_eq(rr, MIG_EAUTH);
    ck_assert_int_eq(sr, MIG_EAUTH);
    ck_assert_ptr_nonnull(strstr(err, "refused"));
}
END_TEST

/* A reply recorded from one session does not open another. */
START_TEST(test_replay_refused)
{
    struct mig_psk k;
    struct mig_chan *a, *b;
    uint8_t challenge[40], recorded[72], verdict[41];
    struct side side;
    pthread_t t;
    char err[200];

    key_of("a shared secret of some length", &k);
    memcpy(challenge, MIG_AUTH_MAGIC, 8);
    memset(challenge + 8, 0x5a, 32);

    /* Session 1: a genuine sender answers challenge 0x5a... from a
     * scripted receiver that records the reply. */
    pair(&a, &b);
    ck_assert_int_eq(mig_chan_send(a, challenge, sizeof(challenge)), 0);
    memset(verdict, 0, sizeof(verdict));
    memcpy(verdict, MIG_AUTH_MAGIC, 8);
    verdict[8] = 1;                     /* refuse, we only want the reply */
    ck_assert_int_eq(mig_chan_send(a, verdict, sizeof(verdict)), 0);
    ck_assert_int_eq(mig_auth_sender(b, &k, err, sizeof(err)), MIG_EAUTH);
    ck_assert_int_eq(mig_chan_recv_full(a, recorded, sizeof(recorded)), 0);
    mig_chan_free(a);
    mig_chan_free(b);

    /* Session 2: the real receiver, the recorded reply replayed. */
    pair(&a, &b);
    side = (struct side){ .ch = a, .key = &k };
    ck_assert_int_eq(pthread_create(&t, NULL, run_receiver, &side), 0);
    ck_assert_int_eq(mig_chan_recv_full(b, challenge, sizeof(challenge)), 0);
    ck_assert_int_eq(mig_chan_send(b, recorded, sizeof(recorded)), 0);
    ck_assert_int_eq(mig_chan_recv_full(b, verdict, sizeof(verdict)), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(side.rc, MIG_EAUTH);
    ck_assert_int_eq(verdict[8], 1);
    ck_assert_ptr_nonnull(strstr(side.err, "replayed"));
    mig_chan_free(a);
    mig_chan_free(b);
}
END_TEST

/* A receiver without the key cannot fake its proof. */
START_TEST(test_impostor_receiver)
{
    struct mig_psk k;
    struct mig_chan *a, *b;
    uint8_t challenge[40], verdict[41];
    char err[200] = "";

    key_of("the real key, long enough", &k);
    pair(&a, &b);
    memcpy(challenge, MIG_AUTH_MAGIC, 8);
    memset(challenge + 8, 7, 32);
    memset(verdict, 0xee, sizeof(verdict));
    memcpy(verdict, MIG_AUTH_MAGIC, 8);
    verdict[8] = 0;                     /* "accepted", with a made-up MAC */
    ck_assert_int_eq(mig_chan_send(a, challenge, sizeof(challenge)), 0);
    ck_assert_int_eq(mig_chan_send(a, verdict, sizeof(verdict)), 0);
    ck_assert_int_eq(mig_auth_sender(b, &k, err, sizeof(err)), MIG_EAUTH);
    ck_assert_ptr_nonnull(strstr(err, "proof is wrong"));
    mig_chan_free(a);
    mig_chan_free(b);
}
END_TEST

/* An xl-style peer: the receiver banner instead of a challenge. */
START_TEST(test_not_speaking_it)
{
    struct mig_psk k;
    struct mig_chan *a, *b;
    static const char banner[] =
        "xl migration receiver ready, send binary domain data.\n";
    char err[200] = "";

    key_of("the real key, long enough", &k);
    pair(&a, &b);
    ck_assert_int_eq(mig_chan_send(a, banner, sizeof(banner) - 1), 0);
    ck_assert_int_eq(mig_auth_sender(b, &k, err, sizeof(err)), MIG_EAUTH);
    ck_assert_ptr_nonnull(strstr(err, "does not speak"));
    mig_chan_free(a);
    mig_chan_free(b);
}
END_TEST

START_TEST(test_peer_closes)
{
    struct mig_psk k;
    struct mig_chan *a, *b;
    char err[200] = "";

    key_of("the real key, long enough", &k);
    pair(&a, &b);
    mig_chan_free(a);
    ck_assert_int_ne(mig_auth_sender(b, &k, err, sizeof(err)), 0);
    mig_chan_free(b);
}
END_TEST

static char dir[] = "/tmp/check_auth.XXXXXX";

static const char *write_key(const char *name, const char *text, mode_t mode)
{
    static char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

START_TEST(test_key_files)
{
    struct mig_psk a, b, c;
    char err[200] = "";
    const char *p;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    p = write_key("good", "0123456789abcdef0123456789abcdef", 0600);
    ck_assert_int_eq(mig_psk_load(p, &a, err, sizeof(err)), 0);
    ck_assert_int_eq(mig_psk_from_bytes("0123456789abcdef0123456789abcdef",
                                        32, &b), 0);
    ck_assert_mem_eq(a.key, b.key, sizeof(a.key));
    unlink(p);

    p = write_key("open", "0123456789abcdef0123456789abcdef", 0644);
    ck_assert_int_eq(mig_psk_load(p, &c, err, sizeof(err)), MIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
    unlink(p);

    p = write_key("short", "too short", 0600);
    ck_assert_int_eq(mig_psk_load(p, &c, err, sizeof(err)), MIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "bytes"));
    unlink(p);

    ck_assert_int_lt(mig_psk_load("/nonexistent/key", &c, err, sizeof(err)),
                     0);
    ck_assert_int_eq(mig_psk_from_bytes("short", 5, &c), MIG_EINVAL);
    rmdir(dir);
}
END_TEST

static struct sockaddr_storage sa(const char *text)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1);
    }
    return ss;
}

static const struct {
    const char *peer;
    bool allowed;
} allow_cases[] = {
    { "127.0.0.1", true },   { "127.0.0.2", false },
    { "10.1.2.3", true },    { "11.0.0.1", false },
    { "192.168.5.200", true }, { "192.168.5.100", false },
    { "::1", true },         { "::2", false },
    { "fe80::1234", true },  { "fec0::1", false },
    { "::ffff:10.9.9.9", true }, { "::ffff:9.9.9.9", false },
};

START_TEST(test_allow_match)
{
    struct mig_allow a = { 0 };
    struct sockaddr_storage ss = sa(allow_cases[_i].peer);

    ck_assert(!mig_allow_match(&a, (struct sockaddr *)&ss));
    ck_assert_int_eq(mig_allow_add(&a, "127.0.0.1"), 0);
    ck_assert_int_eq(mig_allow_add(&a, "10.0.0.0/8"), 0);
    ck_assert_int_eq(mig_allow_add(&a, "192.168.5.128/25"), 0);
    ck_assert_int_eq(mig_allow_add(&a, "::1"), 0);
    ck_assert_int_eq(mig_allow_add(&a, "fe80::/10"), 0);
    ck_assert_msg(mig_allow_match(&a, (struct sockaddr *)&ss) ==
                      allow_cases[_i].allowed,
                  "%s", allow_cases[_i].peer);
}
END_TEST

static const char *const bad_cidrs[] = {
    "", "/8", "10.0.0.0/", "10.0.0.0/33", "::1/129", "abc", "10.0.0.0/8x",
    "10.0.0.0/-1", "1.2.3.4.5", "10.0.0.0 /8",
};

START_TEST(test_allow_bad)
{
    struct mig_allow a = { 0 };

    ck_assert_int_eq(mig_allow_add(&a, bad_cidrs[_i]), MIG_EINVAL);
    ck_assert_uint_eq(a.n, 0);
}
END_TEST

START_TEST(test_allow_full_and_fd)
{
    struct mig_allow a = { 0 }, none = { 0 };
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    int l, c, s;
    char peer[64] = "";

    for (unsigned i = 0; i < MIG_ALLOW_MAX; i++)
        ck_assert_int_eq(mig_allow_add(&a, "127.0.0.1"), 0);
    ck_assert_int_eq(mig_allow_add(&a, "127.0.0.1"), MIG_ERANGE);

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(l, 0);
    ck_assert_int_eq(bind(l, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(listen(l, 1), 0);
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&addr, &len), 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&addr, sizeof(addr)), 0);
    s = accept(l, NULL, NULL);
    ck_assert_int_ge(s, 0);
    ck_assert_int_eq(mig_allow_check_fd(&a, s, peer, sizeof(peer)), 0);
    ck_assert_str_eq(peer, "127.0.0.1");
    ck_assert_int_eq(mig_allow_check_fd(&none, s, NULL, 0), MIG_EREFUSED);
    close(s);
    close(c);
    close(l);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_add_test(core, test_same_key_accepted);
    tcase_add_test(core, test_key_files);
    tcase_add_loop_test(core, test_allow_match, 0,
                        sizeof(allow_cases) / sizeof(allow_cases[0]));
    tcase_add_test(limits, test_allow_full_and_fd);
    tcase_add_test(limits, test_peer_closes);
    tcase_add_test(corrupt, test_wrong_key_refused);
    tcase_add_test(corrupt, test_replay_refused);
    tcase_add_test(corrupt, test_impostor_receiver);
    tcase_add_test(corrupt, test_not_speaking_it);
    tcase_add_loop_test(corrupt, test_allow_bad, 0,
                        sizeof(bad_cidrs) / sizeof(bad_cidrs[0]));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(auth_suite());
}
