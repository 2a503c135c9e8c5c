/*
 * cmd_admin.c - hot reload of the policy and its models: the RELOAD
 * request and SIGHUP both come to server_reload.
 *
 * The new set is loaded and fully validated on the loop thread first
 * (models parsed, feature mappings bound, schemas checked); a bad file
 * leaves the old set in force and the reason goes back to the caller (and
 * to the log).  Model identity is the model file's digest: a set whose
 * model file differs from the one registered under the same id@version
 * (in the set in force or in the audit log) is refused, naming both
 * digests.  A good set travels through the commit pipeline as an op:
 * its apply (commit thread, inside the batch transaction) switches the
 * audit log to it and appends MODEL_REGISTERED / POLICY_CHANGE entries;
 * its finish (loop thread, after the durable commit) swaps srv->scoring
 * and frees the old set.  Submits triaged before the swap carry copies of
 * everything they need (model id, action, queue, the prepared audit
 * record), so nothing in flight points into a freed set; connections are
 * never touched.  One reload at a time.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "cmd_audit_policy.h"
#include "cmd.h"
#include "commit.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "op.h"
#include "score.h"
#include "server.h"
#include "wire.h"

static int
reload_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn, uint64_t now_ms,
             struct queue_fx *fx)
{
    (void)fx;
    if (srv->audit == NULL)
        return HITLQ_ST_OK;
    return cmd_audit_reload(srv->audit, txn, op->u.reload.sc, now_ms);
}

static void
reload_reply(struct op *op, struct hitlq_server *srv, const char *old_id)
{
    msgpack_packer *pk = &srv->pk;
    size_t off;

    if (op->conn == NULL || !conn_is_open(op->conn))
        return;
    off = wire_frame_begin(&srv->out);
    msgpack_pack_map(pk, 3);
    wire_pack_kv_str(pk, "policy", scoring_policy_id(srv->scoring));
    wire_pack_kv_str(pk, "previous", old_id);
    wire_pack_cstr(pk, "types");
    msgpack_pack_array(pk, scoring_n_types(srv->scoring));
    for (size_t i = 0; i < scoring_n_types(srv->scoring); i++) {
        const struct type_policy *tp = scoring_type_at(srv->scoring, i);
        msgpack_pack_map(pk, 3);
        wire_pack_kv_str(pk, "type", tp->type);
        wire_pack_kv_str(pk, "model", tp->model->id);
        wire_pack_kv_str(pk, "kind", tp->model->ops->kind);
    }
    reply_finish(op->conn, off, op->opcode, HITLQ_ST_OK, op->request_id);
}

/* The "reload" event of a policy set now in force (docs/OPERATIONS-LOG.md). */
static void
reload_log_ok(struct hitlq_server *srv, const char *old_id)
{
    char hex[65], msg[2 * HITLQ_MAX_NAME + 40];

    sodium_bin2hex(hex, sizeof(hex), scoring_policy_digest(srv->scoring), 32);
    snprintf(msg, sizeof(msg), "policy %s in force (was %s)", scoring_policy_id(srv->scoring),
             old_id);
    log_event(LOG_LVL_INFO, "reload", msg, LOG_STR("result", "ok"),
              LOG_STR("policy", scoring_policy_id(srv->scoring)), LOG_STR("previous", old_id),
              LOG_STR("policy_digest", hex));
}

static void
reload_finish(struct op *op, struct hitlq_server *srv)
{
    char old_id[HITLQ_MAX_NAME + 1];
    struct scoring *old = srv->scoring;

    srv->reloading = false;
    if (op->status != HITLQ_ST_OK) {
        log_event(LOG_LVL_ERROR, "reload", "reload not installed, the policy in force stays",
                  LOG_STR("result", "refused"), LOG_STR("reason", hitlq_status_str(op->status)),
                  LOG_STR("policy", scoring_policy_id(old)));
        if (op->conn != NULL)
            reply_op_error(op);
        op_done(op);
        return;
    }
    snprintf(old_id, sizeof(old_id), "%s", scoring_policy_id(old));
    srv->scoring = op->u.reload.sc;
    op->u.reload.sc = NULL;
    scoring_free(old);
    reload_log_ok(srv, old_id);
    reload_reply(op, srv, old_id);
    op_done(op);
}

static void
reload_clear(struct op *op)
{
    scoring_free(op->u.reload.sc);
    op->u.reload.sc = NULL;
}

static const struct op_class reload_class = { "reload", reload_apply, reload_finish,
                                              reload_clear };

/* The digest registered under model id `id` before this reload: in the
 * policy in force, else in the audit log (read txn).  False when none. */
static bool
reload_known_digest(struct hitlq_server *srv, const char *id, uint8_t out[32],
                    const char **where)
{
    MDB_txn *txn;
    int st;

    for (size_t i = 0; i < scoring_n_types(srv->scoring); i++) {
        const struct model *m = scoring_type_at(srv->scoring, i)->model;

        if (strcmp(m->id, id) == 0) {
            memcpy(out, m->digest, 32);
            *where = "by the policy in force";
            return true;
        }
    }
    if (srv->audit == NULL || (txn = server_read_begin(srv)) == NULL)
        return false;
    st = audit_model_digest(srv->audit, txn, id, out);
    server_read_end(srv);
    *where = "in the audit log";
    return st == HITLQ_ST_OK;
}

/* Model identity is the model file's digest: refuses a set in which a
 * model's file differs from the one already registered under its
 * id@version.  0, or -1 with the message in err. */
static int
reload_check_models(struct hitlq_server *srv, const struct scoring *sc, char *err,
                    size_t errlen)
{
    char h_old[65], h_new[65];
    uint8_t known[32];
    const char *where;

    for (size_t i = 0; i < scoring_n_types(sc); i++) {
        const struct model *m = scoring_type_at(sc, i)->model;

        if (!reload_known_digest(srv, m->id, known, &where) ||
            memcmp(known, m->digest, 32) == 0)
            continue;
        sodium_bin2hex(h_old, sizeof(h_old), known, 32);
        sodium_bin2hex(h_new, sizeof(h_new), m->digest, 32);
        snprintf(err, errlen, "model %s (type %s): the model file's SHA-256 %s differs "
                 "from %s, registered under %s %s; a changed model needs a new "
                 "model_version", m->id, scoring_type_at(sc, i)->type, h_new, h_old,
                 m->id, where);
        return -1;
    }
    return 0;
}

int
server_reload(struct hitlq_server *srv, struct conn *c, uint32_t request_id,
              char *err, size_t errlen)
{
    const char *path = srv->cfg->policy[0] ? srv->cfg->policy : NULL;
    struct scoring *sc = NULL;
    struct op *op;

    if (srv->stopping || srv->reloading) {
        snprintf(err, errlen, "%s", srv->stopping ? "the server is stopping"
                                                  : "a reload is already in progress");
        log_event(LOG_LVL_WARN, "reload", "reload refused", LOG_STR("result", "refused"),
                  LOG_STR("reason", err), LOG_STR("policy", scoring_policy_id(srv->scoring)));
        return -1;
    }
    if (scoring_load(&sc, path, err, errlen) != 0 ||
        reload_check_models(srv, sc, err, errlen) != 0) {
        log_event(LOG_LVL_ERROR, "reload", "reload refused, the policy in force stays",
                  LOG_STR("result", "refused"), LOG_STR("reason", err),
                  LOG_STR("policy", scoring_policy_id(srv->scoring)));
        scoring_free(sc);
        return -1;
    }
    if ((op = op_new(&reload_class, c, HITLQ_OP_RELOAD, request_id)) == NULL) {
        scoring_free(sc);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    op->u.reload.sc = sc;
    srv->reloading = true;
    commit_submit(srv->commit, op);
    return 0;
}

static void
reload_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    char err[512];

    (void)args;
    if (server_reload(c->srv, c, h->request_id, err, sizeof(err)) != 0)
        conn_send_error(c, h->opcode, h->request_id,
                        c->srv->stopping ? HITLQ_ST_SHUTTING_DOWN
                        : c->srv->reloading ? HITLQ_ST_INVALID_STATE : HITLQ_ST_INVALID_POLICY,
                        err);
}

const struct cmd cmd_reload = { "RELOAD", HITLQ_OP_RELOAD, NULL, 0, reload_proceed };
