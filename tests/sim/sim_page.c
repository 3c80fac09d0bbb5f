/* The "page" step of a route (README "Paging"): which items of a collection a list answer holds.
 * It reads the paging parameters (offset, cursor or page number, and a size) from the query or
 * the body, keeps the records a "where" expression or a JSON:API filter selects, sorts them, and
 * binds the window (n, limit, offset, page, start, end) for the reply's templates.
 * SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "sim_jsonapi.h"
#include "sim_rows.h"
#include "sim_run.h"

#define CURSOR_MAX 1000000

struct param {
    long long value;
    int given;
};

/* Read one paging parameter: absent → default; present → whole integer (after the spec's
 * "prefix", or an opaque cursor) within [min, max]. 0 ok, 1 answered (bad value), -1 error. */
static int read_param(struct sim_run *run, const cJSON *step, const char *which, struct param *out)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(step, which);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(spec, "error");
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "arg"));
    const char *prefix = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "prefix"));
    int from_body = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(step, "from_body"));
    long long dflt, lo, hi;
    long v = 0;
    int ok = 1;

    if (sim_run_num(run, cJSON_GetObjectItemCaseSensitive(spec, "default"), 0, &dflt) != 0 ||
        sim_run_num(run, cJSON_GetObjectItemCaseSensitive(spec, "min"), LLONG_MIN, &lo) != 0 ||
        sim_run_num(run, cJSON_GetObjectItemCaseSensitive(spec, "max"), LLONG_MAX, &hi) != 0) {
        return -1;
    }
    out->value = dflt;
    out->given = 0;
    if (from_body) {
        /* A body member that is not a number counts as absent. */
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(run->body, name ? name : "");

        if (cJSON_IsNumber(m)) {
            out->value = (long long)m->valuedouble;
            out->given = 1;
        }
        ok = out->value >= lo && out->value <= hi;
    } else if (name && sim_req_arg(run->rq, name)) {
        const char *s = sim_req_arg(run->rq, name);
        size_t pl = prefix ? strlen(prefix) : 0;

        out->given = 1;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "opaque"))) {
            ok = sim_jcursor_decode(s, &v) == 0;
        } else {
            ok = strncmp(s, prefix ? prefix : "", pl) == 0 &&
                 sim_parse_long(s + pl, lo > LONG_MIN ? (long)lo : LONG_MIN,
                                hi < LONG_MAX ? (long)hi : LONG_MAX, &v) == 0;
        }
        out->value = v;
    }
    if (ok) {
        return 0;
    }
    return sim_run_error(run, err ? err : cJSON_GetObjectItemCaseSensitive(step, "error"));
}

struct keyed {
    int rec;
    struct sim_val key;
    const char *id;
};

/* Order of two records under the sort field, ties by id so pages are stable. */
static int cmp_keyed(const struct keyed *a, const struct keyed *b)
{
    int c = 0;

    if (a->key.t == SIM_V_INT && b->key.t == SIM_V_INT) {
        c = (a->key.i > b->key.i) - (a->key.i < b->key.i);
    } else if (a->key.t == SIM_V_STR && b->key.t == SIM_V_STR) {
        c = strcmp(a->key.s, b->key.s); /* byte order: UTF-8 sorts after ASCII */
    }
    return c ? c : strcmp(a->id, b->id);
}

/* Insertion sort, as small as the data sets are. */
static void sort_keyed(struct keyed *k, int n, int desc)
{
    int i, j;

    for (i = 1; i < n; i++) {
        struct keyed v = k[i];

        for (j = i - 1; j >= 0; j--) {
            int c = cmp_keyed(&k[j], &v);

            if (desc ? c >= 0 : c <= 0) {
                break;
            }
            k[j + 1] = k[j];
        }
        k[j + 1] = v;
    }
}

struct select {
    const cJSON *where;
    struct sim_jfilter *filter;
    const char *sort; /* field, or NULL */
    int desc;
};

/* The records of the data set that pass where and the filter, in answer order. */
static int select_records(struct sim_run *run, const struct select *sel)
{
    int n = sim_rows_count(run->p->set);
    struct keyed *k = sim_arena_alloc(&run->cx.arena, (size_t)n * sizeof(*k));
    int *idx = sim_arena_alloc(&run->cx.arena, (size_t)n * sizeof(*idx));
    int kept = 0;
    int i;

    if (!k || !idx) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        size_t scope = run->cx.nbinds;
        const struct sim_val *id;
        struct sim_val w = sim_v_bool(1);

        if (sim_run_bind_record(run, i) != 0 ||
            (sel->where && sim_eval_text(&run->cx, sel->where->valuestring, &w) != 0)) {
            return -1;
        }
        if (sim_val_truthy(w) && (!sel->filter || sim_jfilter_match(sel->filter, &run->cx))) {
            id = sim_lookup(&run->cx, "id");
            k[kept].rec = i;
            k[kept].key = sel->sort && sim_lookup(&run->cx, sel->sort)
                              ? sim_val_plain(*sim_lookup(&run->cx, sel->sort))
                              : sim_v_null();
            k[kept++].id = id ? sim_val_text(&run->cx, *id) : "";
        }
        run->cx.nbinds = scope;
    }
    if (sel->sort) {
        sort_keyed(k, kept, sel->desc);
    }
    for (i = 0; i < kept; i++) {
        idx[i] = k[i].rec;
    }
    run->win.idx = idx;
    run->win.nidx = kept;
    return 0;
}

/* The JSON:API filter and sort parameters the step declares. 0, 1 answered, -1 error. */
static int read_query(struct sim_run *run, const cJSON *step, struct select *sel)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(step, "filter");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(step, "sort");
    const char *fname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "arg"));
    const char *sname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "arg"));
    const char *ftext = fname ? sim_req_arg(run->rq, fname) : NULL;
    const char *stext = sname ? sim_req_arg(run->rq, sname) : NULL;
    char reason[128];

    if (f && ftext) {
        sel->filter = sim_arena_alloc(&run->cx.arena, sizeof(*sel->filter));
        if (!sel->filter) {
            return -1;
        }
        if (sim_jfilter_parse(ftext, cJSON_GetObjectItemCaseSensitive(f, "fields"), sel->filter,
                              reason, sizeof(reason)) != 0) {
            const char *kept = sim_arena_strndup(&run->cx.arena, reason, strlen(reason));

            return kept && sim_bind(&run->cx, "reason", sim_v_str(kept)) == 0
                       ? sim_run_error(run, cJSON_GetObjectItemCaseSensitive(f, "error"))
                       : -1;
        }
    }
    if (s && stext) {
        sel->desc = stext[0] == '-';
        sel->sort = stext + sel->desc;
        if (!sim_list_has(cJSON_GetObjectItemCaseSensitive(s, "fields"), sel->sort)) {
            return sim_run_error(run, cJSON_GetObjectItemCaseSensitive(s, "error"));
        }
    }
    return 0;
}

static int bind_window(struct sim_run *run, const struct param *limit, const struct param *off,
                       const struct param *page)
{
    struct sim_ctx *c = &run->cx;
    int bad = 0;

    bad |= sim_bind(c, "n", sim_v_int(run->win.total));
    bad |= sim_bind(c, "limit", sim_v_int(limit->value));
    bad |= sim_bind(c, "limit_given", sim_v_bool(limit->given));
    bad |= sim_bind(c, "offset", sim_v_int(off->value));
    bad |= sim_bind(c, "offset_given", sim_v_bool(off->given));
    bad |= sim_bind(c, "page", sim_v_int(page->value));
    bad |= sim_bind(c, "start", sim_v_int(run->win.start));
    bad |= sim_bind(c, "end", sim_v_int(run->win.end));
    return bad ? -1 : 0;
}

int sim_page_step(struct sim_run *run, const cJSON *step)
{
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(step, "of");
    const cJSON *extend = cJSON_GetObjectItemCaseSensitive(step, "extend");
    struct select sel = {cJSON_GetObjectItemCaseSensitive(step, "where"), NULL, NULL, 0};
    struct param limit = {LLONG_MAX, 0};
    struct param off = {0, 0};
    struct param page = {1, 0};
    struct sim_window *w = &run->win;
    struct sim_val ofv = sim_v_str("records");
    long long seg = 0;
    int rc;

    memset(w, 0, sizeof(*w));
    rc = cJSON_GetObjectItemCaseSensitive(step, "limit") ? read_param(run, step, "limit", &limit)
                                                         : 0;
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(step, "offset")) {
        rc = read_param(run, step, "offset", &off);
    }
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(step, "page")) {
        rc = read_param(run, step, "page", &page);
        off.value = limit.value < LLONG_MAX ? (page.value - 1) * limit.value : 0;
    }
    if (rc == 0) {
        rc = read_query(run, step, &sel);
    }
    if (rc != 0) {
        return rc;
    }
    if (cJSON_IsString(of) && sim_eval_text(&run->cx, of->valuestring, &ofv) != 0) {
        return -1;
    }
    ofv = sim_val_plain(ofv);
    w->members = ofv.t == SIM_V_STR && !strcmp(ofv.s, "members");
    if (w->members) {
        if (sim_run_num(run, cJSON_GetObjectItemCaseSensitive(step, "segment"), 0, &seg) != 0) {
            return -1;
        }
        w->seg = (int)seg;
        w->nidx = sim_rows_member_count(w->seg);
    } else if (select_records(run, &sel) != 0) {
        return -1;
    }
    w->total = w->nidx;
    if (extend && !sel.filter && !sel.sort) {
        long long to;

        if (sim_run_num(run, cJSON_GetObjectItemCaseSensitive(extend, "to"), 0, &to) != 0) {
            return -1;
        }
        w->total = to > w->total ? to : w->total;
        w->extend_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(extend, "id"));
    }
    /* "strict": a cursor past the end (or at the end of a non-empty list) is invalid. */
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(step, "strict")) &&
        (off.value > w->total || (off.value == w->total && w->total > 0))) {
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(step, "offset");

        return sim_run_error(run, cJSON_GetObjectItemCaseSensitive(spec, "error"));
    }
    w->start = off.value < w->total ? off.value : w->total;
    w->end = limit.value < w->total - w->start ? w->start + limit.value : w->total;
    w->active = 1;
    return bind_window(run, &limit, &off, &page);
}
