/*
 * cmd_watch.c - WATCH: a connection subscribes to the durable result
 * stream from a cursor.  Results are read from LMDB (committed only) and
 * pushed as RESULT frames whose bodies are the stored bytes, without
 * re-encoding, while the connection's output stays under half its cap.
 * A bot sees only the results of items it submitted (the others are
 * skipped, the cursor still moves past them).
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "auth.h"
#include "cmd.h"
#include "conn.h"
#include "dispatch.h"
#include "frame.h"
#include "server.h"
#include "wire.h"

#define WATCH_CHUNK 256   /* results per read transaction */

struct watch_ctx {
    struct conn *c;
    uint64_t     last;
    MDB_txn     *txn;          /* borrowed: the read txn of this chunk */
};

/* The "id" of a stored result (a map packed by journal.c); 0 if none. */
static uint64_t
watch_result_id(const uint8_t *body, size_t len)
{
    const uint8_t *v;
    size_t vl;
    uint64_t id = 0;

    if (!wire_body_raw(body, len, "id", &v, &vl) || vl == 0)
        return 0;
    if (v[0] < 0x80)
        return v[0];
    if (v[0] < 0xcc || v[0] > 0xcf || vl != 1u + (1u << (v[0] - 0xcc)))
        return 0;
    for (size_t i = 1; i < vl; i++)
        id = id << 8 | v[i];
    return id;
}

static int
watch_push_one(void *arg, uint64_t seq, const uint8_t *body, size_t len)
{
    struct watch_ctx *w = arg;
    struct frame_hdr h = {
        .body_len = (uint32_t)len, .opcode = HITLQ_OP_RESULT,
        .status = HITLQ_ST_OK, .request_id = w->c->watch_req,
    };
    uint8_t hb[HITLQ_FRAME_HDR_LEN];
    struct evbuffer *out = bufferevent_get_output(w->c->bev);

    w->last = seq;
    if (w->c->auth.role == AUTH_ROLE_BOT) {
        uint64_t id = watch_result_id(body, len);
        if (id == 0 || !auth_item_owned(w->c->srv->store, w->txn, id, w->c->name))
            return 0;                  /* another bot's item */
    }
    frame_hdr_encode(hb, &h);
    evbuffer_add(out, hb, sizeof(hb));
    evbuffer_add(out, body, len);
    return evbuffer_get_length(out) >= HITLQ_MAX_OUTBUF / 2;
}

void
watch_pump(struct hitlq_server *srv, struct conn *c)
{
    struct watch_ctx w = { c, 0, NULL };

    while (c->watching && conn_is_open(c) &&
           evbuffer_get_length(bufferevent_get_output(c->bev)) < HITLQ_MAX_OUTBUF / 2) {
        MDB_txn *txn = server_read_begin(srv);
        size_t n;

        if (txn == NULL)
            return;
        w.txn = txn;
        n = queue_results_read(srv->store, txn, c->watch_next, WATCH_CHUNK,
                               watch_push_one, &w);
        server_read_end(srv);
        if (n == 0)
            return;
        c->watch_next = w.last + 1;
        if (n < WATCH_CHUNK)
            return;
    }
}

void
watch_pump_all(struct hitlq_server *srv)
{
    for (struct conn *c = srv->conns; c; c = c->next)
        if (c->watching)
            watch_pump(srv, c);
}

static void
watch_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    uint64_t cursor = wire_u64(args[0]);
    size_t off;

    if (c->watching) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "this connection is already watching");
        return;
    }
    if (cursor == 0) {
        MDB_txn *txn = server_read_begin(srv);
        if (txn == NULL) {
            conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "read failed");
            return;
        }
        cursor = queue_results_next(srv->store, txn);
        server_read_end(srv);
    }
    c->watching = true;
    c->watch_req = h->request_id;
    c->watch_next = cursor;
    off = wire_frame_begin(&srv->out);
    msgpack_pack_map(&srv->pk, 1);
    wire_pack_kv_u64(&srv->pk, "cursor", cursor);
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
    watch_pump(srv, c);
}

static const struct wire_field watch_schema[] = {
    { "cursor", WIRE_UINT, true, 0, UINT64_MAX },
};

const struct cmd cmd_watch = { "WATCH", HITLQ_OP_WATCH, watch_schema, 1, watch_proceed };
