/*
 * test_lease_errors.c - what a lease holder hears when a lease operation
 * is refused (PROTOCOL.md "Lease rules"): lease_expired, lease_held
 * (naming the holder and its expiry, never its token), already_resolved,
 * stale_lease; ESCALATE to a queue the policy does not know
 * (unknown_queue, nothing written); and the lease token accepted as a
 * decimal string by every request that takes one.  A real hitlqd on the
 * example scorecard policy (queue credit_review, escalate_to
 * credit_senior) with max_attempts = 2.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"
#include "hitlq.h"
#include "hitlq_msgpack.h"

/* The server's message of the last reply on c. */
static const char *
last_msg(hitlq *c)
{
    return hitlq_errstr(c);
}

static void
test_held_expired_resolved(void **st)
{
    (void)st;
    hitlq *alice = e2e_cli("alice"), *bob = e2e_cli("bob");
    uint64_t id = e2e_must_queue(alice, "le-1", 300), exp = 0, seq = 0;
    struct hitlq_claim a = e2e_must_claim(alice, e2e_review, 1, 1000, 0), b;
    char tok[24], want[128];

    assert_int_equal(a.id, id);
    /* another token while alice holds it: lease_held, naming her and the expiry */
    assert_int_equal(hitlq_resolve(bob, id, a.lease ^ 1, "approve", NULL, NULL, NULL),
                     HITLQ_ST_LEASE_HELD);
    snprintf(want, sizeof want, "leased by \"alice\" until %" PRIu64, a.expires_ms);
    assert_non_null(strstr(last_msg(bob), want));
    snprintf(tok, sizeof tok, "%" PRIu64, a.lease);
    assert_null(strstr(last_msg(bob), tok));
    /* her lease runs out and the expiry puts the item back on its queue */
    harness_sleep_ms(1400);
    assert_int_equal(hitlq_extend(alice, id, a.lease, 5000, &exp), HITLQ_ST_LEASE_EXPIRED);
    assert_non_null(strstr(last_msg(alice), "expired"));
    assert_int_equal(hitlq_release(alice, id, a.lease ^ 1, 0), HITLQ_ST_STALE_LEASE);
    /* bob claims it: alice's expired token now meets bob's lease */
    b = e2e_must_claim(bob, e2e_review, 1, 60000, 0);
    assert_int_equal(b.id, id);
    assert_int_equal(hitlq_resolve(alice, id, a.lease, "approve", NULL, NULL, NULL),
                     HITLQ_ST_LEASE_HELD);
    assert_non_null(strstr(last_msg(alice), "leased by \"bob\""));
    assert_int_equal(hitlq_resolve(bob, id, b.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    /* resolved: whatever the token */
    assert_int_equal(hitlq_resolve(alice, id, a.lease, "approve", NULL, NULL, NULL),
                     HITLQ_ST_ALREADY_RESOLVED);
    assert_int_equal(hitlq_extend(bob, id, b.lease, 5000, &exp), HITLQ_ST_ALREADY_RESOLVED);
    assert_int_equal(hitlq_escalate(bob, id, 99, "credit_senior", NULL),
                     HITLQ_ST_ALREADY_RESOLVED);
    assert_int_equal(hitlq_extend(bob, 999999, b.lease, 5000, &exp), HITLQ_ST_NOT_FOUND);
    /* the codes have their names in the client's table */
    assert_string_equal(hitlq_strerror(HITLQ_ST_LEASE_EXPIRED), "lease_expired");
    assert_string_equal(hitlq_strerror(HITLQ_ST_ALREADY_RESOLVED), "already_resolved");
    assert_string_equal(hitlq_strerror(HITLQ_ST_LEASE_HELD), "lease_held");
    hitlq_claim_clear(&a);
    hitlq_claim_clear(&b);
    hitlq_free(alice);
    hitlq_free(bob);
}

/* A released item forgets the lease: the old token is stale. */
static void
test_released_is_stale(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("carol");
    uint64_t id = e2e_must_queue(c, "le-2", 300);
    struct hitlq_claim a = e2e_must_claim(c, e2e_review, 1, 60000, 0);

    assert_int_equal(hitlq_release(c, id, a.lease, 0), HITLQ_OK);
    assert_int_equal(hitlq_resolve(c, id, a.lease, "approve", NULL, NULL, NULL),
                     HITLQ_ST_STALE_LEASE);
    assert_non_null(strstr(last_msg(c), "not leased with this token"));
    hitlq_claim_clear(&a);
    hitlq_free(c);
}

/* One raw lease request: {id, lease: <str>, extra...}; returns the status. */
static int
raw_lease(hitlq *c, uint8_t op, uint64_t id, const char *lease, const char *k3,
          const char *v3)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    hitlq_reply *r = NULL;
    int rc;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, k3 != NULL ? 3 : 2);
    hpk_kv_u64(&pk, "id", id);
    hpk_kv_str(&pk, "lease", lease);
    if (k3 != NULL)
        hpk_kv_str(&pk, k3, v3);
    rc = hitlq_call(c, op, sb.data, sb.size, &r);
    hitlq_reply_free(r);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* The CLAIM reply's lease_str is the token's decimal digits. */
static void
claim_tok(const struct hitlq_claim *cl, char *tok, size_t n)
{
    char want[24];

    snprintf(want, sizeof want, "%" PRIu64, cl->lease);
    assert_int_equal(e2e_find_str(hitlq_reply_body(cl->reply), "lease_str", tok, n), 0);
    assert_string_equal(tok, want);
}

static void
test_lease_str_everywhere(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("dave");
    uint64_t id = e2e_must_queue(c, "le-3", 300);
    const char *senior[] = { "credit_senior" };
    struct hitlq_claim a = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    char tok[24];

    claim_tok(&a, tok, sizeof tok);
    assert_int_equal(raw_lease(c, HITLQ_OP_EXTEND, id, tok, NULL, NULL), HITLQ_OK);
    assert_int_equal(raw_lease(c, HITLQ_OP_RELEASE, id, tok, NULL, NULL), HITLQ_OK);
    hitlq_claim_clear(&a);
    a = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    claim_tok(&a, tok, sizeof tok);
    /* not digits, leading zero, over 2^64 - 1, zero: refused before the lease check */
    assert_int_equal(raw_lease(c, HITLQ_OP_EXTEND, id, "12ab", NULL, NULL), HITLQ_ST_BAD_REQUEST);
    assert_int_equal(raw_lease(c, HITLQ_OP_EXTEND, id, "0123", NULL, NULL), HITLQ_ST_BAD_REQUEST);
    assert_int_equal(raw_lease(c, HITLQ_OP_EXTEND, id, "18446744073709551616", NULL, NULL),
                     HITLQ_ST_BAD_REQUEST);
    assert_int_equal(raw_lease(c, HITLQ_OP_EXTEND, id, "0", NULL, NULL), HITLQ_ST_BAD_REQUEST);
    assert_int_equal(raw_lease(c, HITLQ_OP_EXTEND, id, "", NULL, NULL), HITLQ_ST_BAD_REQUEST);
    assert_int_equal(raw_lease(c, HITLQ_OP_ESCALATE, id, tok, "queue", "credit_senior"),
                     HITLQ_OK);
    hitlq_claim_clear(&a);
    a = e2e_must_claim(c, senior, 1, 60000, 0);
    assert_int_equal(a.id, id);
    claim_tok(&a, tok, sizeof tok);
    assert_int_equal(raw_lease(c, HITLQ_OP_RESOLVE, id, tok, "outcome", "approve"), HITLQ_OK);
    hitlq_reply *r = e2e_check_history(c, id, (const char *const[]){ "submitted", "scored",
        "queued", "claimed", "extended", "released", "claimed", "escalated", "claimed",
        "resolved" }, 10);
    hitlq_reply_free(r);
    hitlq_claim_clear(&a);
    hitlq_free(c);
}

static void
test_unknown_queue(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("erin");
    uint64_t id = e2e_must_queue(c, "le-4", 300), exp = 0;
    struct hitlq_claim a = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    const char *dl[] = { "dead_letter" };

    assert_int_equal(hitlq_escalate(c, id, a.lease, "credit_seniro", "typo"),
                     HITLQ_ST_UNKNOWN_QUEUE);
    /* the queues of the example policy, its escalate_to and the dead-letter queue */
    assert_non_null(strstr(last_msg(c), "\"credit_seniro\""));
    assert_non_null(strstr(last_msg(c), "known: credit_review, credit_senior, dead_letter)"));
    /* nothing written: still leased by this token */
    assert_int_equal(hitlq_extend(c, id, a.lease, 60000, &exp), HITLQ_OK);
    hitlq_reply *r = e2e_check_history(c, id, (const char *const[]){ "submitted", "scored",
        "queued", "claimed", "extended" }, 5);
    hitlq_reply_free(r);
    /* the dead-letter queue is known */
    assert_int_equal(hitlq_escalate(c, id, a.lease, "dead_letter", NULL), HITLQ_OK);
    hitlq_claim_clear(&a);
    a = e2e_must_claim(c, dl, 1, 60000, 0);
    assert_int_equal(a.id, id);
    hitlq_claim_clear(&a);
    hitlq_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_held_expired_resolved),
        E2E_TEST(test_released_is_stale),
        E2E_TEST(test_lease_str_everywhere),
        E2E_TEST(test_unknown_queue),
    };
    return e2e_run("lease_errors", tests, sizeof tests / sizeof tests[0]);
}
