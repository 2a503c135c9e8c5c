/*
 * op.c - allocation and release of write ops (see op.h).
 */
#include <stdlib.h>

#include "conn.h"
#include "op.h"

struct op *
op_new(const struct op_class *cls, struct conn *conn, uint8_t opcode,
       uint32_t request_id)
{
    struct op *op = calloc(1, sizeof(*op));

    if (op == NULL)
        return NULL;
    op->cls = cls;
    op->conn = conn;
    op->opcode = opcode;
    op->request_id = request_id;
    if (conn != NULL) {
        conn_ref(conn);
        conn->inflight++;
    }
    return op;
}

void
op_done(struct op *op)
{
    struct conn *c = op->conn;

    if (op->cls->clear)
        op->cls->clear(op);
    free(op);
    if (c != NULL) {
        conn_request_done(c);
        conn_unref(c);
    }
}
