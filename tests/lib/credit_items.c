/*
 * credit_items.c - reads the German Credit CSV into packed
 * `credit_application` fields maps for tests and benchmarks.  Mapping (as
 * scripts/train_scorecard.py): 7 numerics under snake_case names, booleans
 * telephone (CSV Telephone == 0: caret codes 1 as "none") and
 * foreign_worker, and each one-hot group collapsed to one string field
 * whose value is the column name after "<Group>.".  Self-contained:
 * msgpack-c and libc only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "credit_items.h"

#define CI_MAX_COLS 128
#define CI_LINE     8192

enum ci_role { CI_IGNORE, CI_NUMERIC, CI_BOOLEAN, CI_CATEGORY, CI_CLASS };

struct ci_map { const char *field, *csv; int true_value; };

static const struct ci_map ci_numeric[] = {
    { "duration_months", "Duration", 0 },
    { "amount", "Amount", 0 },
    { "installment_rate", "InstallmentRatePercentage", 0 },
    { "residence_years", "ResidenceDuration", 0 },
    { "age", "Age", 0 },
    { "existing_credits", "NumberExistingCredits", 0 },
    { "dependents", "NumberPeopleMaintenance", 0 },
};
static const struct ci_map ci_boolean[] = {
    { "telephone", "Telephone", 0 },
    { "foreign_worker", "ForeignWorker", 1 },
};
/* csv = group prefix; the third column is unused (dropped levels below) */
static const struct ci_map ci_category[] = {
    { "checking_account", "CheckingAccountStatus", 0 },
    { "credit_history", "CreditHistory", 0 },
    { "purpose", "Purpose", 0 },
    { "savings", "SavingsAccountBonds", 0 },
    { "employment", "EmploymentDuration", 0 },
    { "personal", "Personal", 0 },
    { "other_debtors", "OtherDebtorsGuarantors", 0 },
    { "property", "Property", 0 },
    { "other_installment_plans", "OtherInstallmentPlans", 0 },
    { "housing", "Housing", 0 },
    { "job", "Job", 0 },
};
/* value used when a group is all zero, as DROPPED_LEVEL in the script */
static const char *const ci_dropped[] = {
    "none", "Critical", "Other", "Unknown", "Unemployed", "Female.Single",
    "Guarantor", "Unknown", "None", "ForFree", "Management.SelfEmp.HighlyQualified",
};

#define CI_N(a) (sizeof(a) / sizeof((a)[0]))
#define CI_N_NUM CI_N(ci_numeric)
#define CI_N_BOOL CI_N(ci_boolean)
#define CI_N_CAT CI_N(ci_category)

struct ci_col {
    enum ci_role role;
    size_t       index;           /* into the table of its role */
    char         level[64];       /* CI_CATEGORY: name after "<Group>." */
};

/* Splits a CSV line in place on commas, removing surrounding quotes. */
size_t credit_csv_split(char *line, char **cells, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max;) {
        char *end = strchr(p, ',');
        if (end)
            *end = '\0';
        size_t len = strlen(p);
        if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
            p[len - 1] = '\0';
            p++;
        }
        cells[n++] = p;
        if (!end)
            break;
        p = end + 1;
    }
    return n;
}

static void ci_classify(const char *name, struct ci_col *c)
{
    c->role = CI_IGNORE;
    if (strcmp(name, "Class") == 0)
        c->role = CI_CLASS;
    for (size_t i = 0; i < CI_N_NUM; i++)
        if (strcmp(name, ci_numeric[i].csv) == 0)
            *c = (struct ci_col){ .role = CI_NUMERIC, .index = i };
    for (size_t i = 0; i < CI_N_BOOL; i++)
        if (strcmp(name, ci_boolean[i].csv) == 0)
            *c = (struct ci_col){ .role = CI_BOOLEAN, .index = i };
    for (size_t i = 0; i < CI_N_CAT; i++) {
        size_t gl = strlen(ci_category[i].csv);
        if (strncmp(name, ci_category[i].csv, gl) == 0 && name[gl] == '.' &&
            strlen(name + gl + 1) < sizeof c->level) {
            *c = (struct ci_col){ .role = CI_CATEGORY, .index = i };
            memcpy(c->level, name + gl + 1, strlen(name + gl + 1) + 1);
        }
    }
}

static void ci_pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* Packs one row; returns 0 or -1 (bad cell). */
static int ci_pack_row(char **cells, size_t n, const struct ci_col *cols,
                       struct credit_item *it, msgpack_sbuffer *sb)
{
    double num[CI_N_NUM], flag[CI_N_BOOL];
    const char *cat[CI_N_CAT] = { 0 };
    size_t seen_num = 0, seen_bool = 0;
    int seen_class = 0;
    for (size_t i = 0; i < n; i++) {
        char *end;
        double v = cols[i].role == CI_CLASS || cols[i].role == CI_IGNORE
                   ? 0 : strtod(cells[i], &end);
        if (cols[i].role != CI_CLASS && cols[i].role != CI_IGNORE && *end)
            return -1;
        if (cols[i].role == CI_NUMERIC) {
            num[cols[i].index] = v;
            seen_num++;
        } else if (cols[i].role == CI_BOOLEAN) {
            flag[cols[i].index] = v;
            seen_bool++;
        } else if (cols[i].role == CI_CATEGORY && v == 1) {
            if (cat[cols[i].index])
                return -1;
            cat[cols[i].index] = cols[i].level;
        } else if (cols[i].role == CI_CLASS) {
            it->good = strcmp(cells[i], "Good") == 0;
            seen_class = it->good || strcmp(cells[i], "Bad") == 0;
        }
    }
    if (seen_num != CI_N_NUM || seen_bool != CI_N_BOOL || !seen_class)
        return -1;
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, CI_N_NUM + CI_N_BOOL + CI_N_CAT);
    for (size_t i = 0; i < CI_N_NUM; i++) {
        ci_pack_str(&pk, ci_numeric[i].field);
        if (num[i] == (double)(long long)num[i])
            msgpack_pack_int64(&pk, (int64_t)num[i]);
        else
            msgpack_pack_double(&pk, num[i]);
    }
    for (size_t i = 0; i < CI_N_BOOL; i++) {
        ci_pack_str(&pk, ci_boolean[i].field);
        if ((int)flag[i] == ci_boolean[i].true_value)
            msgpack_pack_true(&pk);
        else
            msgpack_pack_false(&pk);
    }
    for (size_t i = 0; i < CI_N_CAT; i++) {
        ci_pack_str(&pk, ci_category[i].field);
        ci_pack_str(&pk, cat[i] ? cat[i] : ci_dropped[i]);
    }
    return 0;
}

static int ci_read_header(FILE *f, char *line, struct ci_col *cols, size_t *ncols)
{
    char *cells[CI_MAX_COLS];
    if (!fgets(line, CI_LINE, f))
        return -1;
    *ncols = credit_csv_split(line, cells, CI_MAX_COLS);
    for (size_t i = 0; i < *ncols; i++)
        ci_classify(cells[i], &cols[i]);
    return 0;
}

int credit_items_load(const char *csv_path, struct credit_item **out, size_t *n)
{
    struct ci_col cols[CI_MAX_COLS];
    char *line = malloc(CI_LINE), *cells[CI_MAX_COLS];   /* owned */
    struct credit_item *items = NULL;                    /* owned until returned */
    size_t count = 0, cap = 0, ncols = 0;
    msgpack_sbuffer sb;
    FILE *f = fopen(csv_path, "r");

    *out = NULL;
    *n = 0;
    if (!f || !line) {
        free(line);
        if (f)
            fclose(f);
        return -1;
    }
    msgpack_sbuffer_init(&sb);
    int rc = ci_read_header(f, line, cols, &ncols);
    while (rc == 0 && fgets(line, CI_LINE, f)) {
        if (line[0] == '\n' || line[0] == '\r' || line[0] == '\0')
            continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            struct credit_item *ni = realloc(items, ncap * sizeof *ni);
            if (!ni) {
                rc = -1;
                break;
            }
            items = ni;
            cap = ncap;
        }
        struct credit_item *it = &items[count];
        memset(it, 0, sizeof *it);
        msgpack_sbuffer_clear(&sb);
        if (credit_csv_split(line, cells, CI_MAX_COLS) != ncols ||
            ci_pack_row(cells, ncols, cols, it, &sb) < 0 ||
            !(it->fields = malloc(sb.size))) {
            fprintf(stderr, "%s: bad row %zu\n", csv_path, count + 2);
            rc = -1;
            break;
        }
        memcpy(it->fields, sb.data, sb.size);
        it->fields_len = sb.size;
        snprintf(it->key, sizeof it->key, "gc-%04zu", count + 1);
        count++;
    }
    msgpack_sbuffer_destroy(&sb);
    fclose(f);
    free(line);
    if (rc < 0 || count == 0) {
        credit_items_free(items, count);
        return -1;
    }
    *out = items;
    *n = count;
    return 0;
}

void credit_items_free(struct credit_item *items, size_t n)
{
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        free(items[i].fields);
    free(items);
}
