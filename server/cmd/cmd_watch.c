/*
 * cmd_watch.c - WATCH: a connection subscribes to the durable result
 * stream from a cursor.  Results are read from LMDB (committed only) and
 * pushed as RESULT frames whose bodies are the stored bytes, without
 * re-encoding, while the connection's output stays under half its cap.
 * A bot sees only the results of items it submitted (the others are
 * skipped, the cursor still moves past them).  A watching connection is a
 * parked request of kind watch_parking (park.h): pushed to after every
 * batch that appended results and whenever its output drains, dropped
 * when it closes.
 */
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "auth.h"
#include "cmd.h"
#include "conn.h"
#include "dispatch.h"
#include "frame.h"
#include "park.h"
#include "server.h"
#include "wire.h"

#define WATCH_CHUNK 256   /* results per read transaction */

/* One watching connection. */
struct watch {
    struct park_entry park;    /* in watch_parking's list; holds a ref on park.conn */
    uint32_t          req;     /* the WATCH's request id: RESULT frames carry it */
    uint64_t          next;    /* next seq to push */
};

extern const struct park_kind watch_parking;

struct watch_ctx {
    struct conn *c;
    uint32_t     req;
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
        .status = HITLQ_ST_OK, .request_id = w->req,
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

/* Pushes committed results to w's connection until its output buffer is
 * half full or the stream is caught up. */
static void
watch_pump(struct hitlq_server *srv, struct watch *w)
{
    struct conn *c = w->park.conn;
    struct watch_ctx x = { c, w->req, 0, NULL };

    while (conn_is_open(c) &&
           evbuffer_get_length(bufferevent_get_output(c->bev)) < HITLQ_MAX_OUTBUF / 2) {
        MDB_txn *txn = server_read_begin(srv);
        size_t n;

        if (txn == NULL)
            return;
        x.txn = txn;
        n = queue_results_read(srv->store, txn, w->next, WATCH_CHUNK, watch_push_one, &x);
        server_read_end(srv);
        if (n == 0)
            return;
        w->next = x.last + 1;
        if (n < WATCH_CHUNK)
            return;
    }
}

/* After the batch's replies: results were appended, every watcher gets
 * them. */
static void
watch_wake(struct hitlq_server *srv, struct park_list *l, const struct park_news *news)
{
    if (!news->fx->results)
        return;
    for (struct park_entry *e = l->head; e != NULL; e = e->next)
        watch_pump(srv, PARK_ENTRY_OF(e, struct watch, park));
}

static void
watch_drain(struct hitlq_server *srv, struct park_entry *e)
{
    watch_pump(srv, PARK_ENTRY_OF(e, struct watch, park));
}

/* The connection closed, or shutdown: the stream ends. */
static void
watch_drop(struct park_entry *e)
{
    struct conn *c = e->conn;

    free(PARK_ENTRY_OF(e, struct watch, park));
    conn_unref(c);
}

static void
watch_cancel(struct hitlq_server *srv, struct park_entry *e)
{
    (void)srv;
    watch_drop(e);
}

const struct park_kind watch_parking = {
    .name = "watch", .phase = PARK_AFTER_REPLIES, .wake = watch_wake,
    .cancel = watch_cancel, .drain = watch_drain, .drop = watch_drop,
};

static void
watch_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    struct park_list *l = park_list(srv->park, &watch_parking);
    uint64_t cursor = wire_u64(args[0]);
    struct watch *w;
    size_t off;

    if (park_find(l, c) != NULL) {
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
    if ((w = calloc(1, sizeof(*w))) == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return;
    }
    w->req = h->request_id;
    w->next = cursor;
    conn_ref(c);
    park_append(l, &w->park, c);
    off = wire_frame_begin(&srv->out);
    msgpack_pack_map(&srv->pk, 1);
    wire_pack_kv_u64(&srv->pk, "cursor", cursor);
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
    watch_pump(srv, w);
}

static const struct wire_field watch_schema[] = {
    { "cursor", WIRE_UINT, true, 0, UINT64_MAX },
};

const struct cmd cmd_watch = { "WATCH", HITLQ_OP_WATCH, watch_schema, 1, watch_proceed };
