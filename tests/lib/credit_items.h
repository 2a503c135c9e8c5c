/*
 * credit_items.h - test/bench helper: reads the German Credit CSV
 * (tests/vectors/german_credit.csv) into `credit_application` items, each
 * row's fields map packed as MessagePack, with the row's Good/Bad label.
 * The mapping is the one of scripts/train_scorecard.py.
 */
#ifndef HITLQ_CREDIT_ITEMS_H
#define HITLQ_CREDIT_ITEMS_H

#include <stdbool.h>
#include <stddef.h>

#define CREDIT_ITEMS_CSV "tests/vectors/german_credit.csv"

struct credit_item {
    char           key[16];       /* "gc-0001": 1-based row number */
    unsigned char *fields;        /* owned: one msgpack map */
    size_t         fields_len;
    bool           good;          /* Class == "Good" */
};

/* Reads every row of the CSV at csv_path.  On success *out (owned by the
 * caller, free with credit_items_free) holds *n items and 0 is returned;
 * -1 on error (missing file, bad header or row), with a message on stderr
 * unless the file does not exist (errno ENOENT is left for the caller). */
int  credit_items_load(const char *csv_path, struct credit_item **out, size_t *n);
void credit_items_free(struct credit_item *items, size_t n);   /* NULL is a no-op */

/* Splits one CSV line in place on commas (quotes around a cell removed);
 * cells[] gets at most max pointers into line.  Returns the count. */
size_t credit_csv_split(char *line, char **cells, size_t max);

#endif
