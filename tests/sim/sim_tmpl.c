/* Templates of the profiles (README "Templates"): JSON whose strings may hold {expressions},
 * plus a few directives — $use (a named template), $let (local variables), $spread (copy an
 * object's members first), $drop (remove members after) and, inside arrays, $each (one element
 * per item of the page or per number).
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_rows.h"
#include "sim_run.h"

static int render(struct sim_run *run, const cJSON *t, cJSON **out);

/* Bind each member of lets in order, so later ones see earlier ones. */
static int bind_all(struct sim_run *run, const cJSON *lets)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, lets)
    {
        if (sim_bind_json(&run->cx, it->string, it) != 0) {
            return -1;
        }
    }
    return 0;
}

/* One page item: a member of the window's segment, or a record (synthetic past the data). */
static int bind_item(struct sim_run *run, long long pos)
{
    const struct sim_window *w = &run->win;
    struct sim_val id;

    if (w->members) {
        return sim_bind(&run->cx, "k", sim_v_int(pos)) != 0 ||
                       sim_rows_bind_member(&run->cx, w->seg, (int)pos) != 0
                   ? -1
                   : 0;
    }
    if (pos < w->nidx) {
        return sim_run_bind_record(run, w->idx[pos]);
    }
    /* Past the real records: copies of record pos % n under ids of the profile's "extend". */
    if (sim_bind(&run->cx, "pos", sim_v_int(pos)) != 0 ||
        sim_run_bind_record(run, (int)(pos % sim_rows_count(run->p->set))) != 0 ||
        sim_eval_text(&run->cx, w->extend_id, &id) != 0) {
        return -1;
    }
    return sim_bind(&run->cx, "id", id);
}

static int add_item(cJSON *arr, cJSON *item)
{
    if (item && !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

/* {"$each": "page" | "{count}", "item": T}: append the rendered items to arr. */
static int each(struct sim_run *run, const cJSON *spec, cJSON *arr)
{
    const cJSON *what = cJSON_GetObjectItemCaseSensitive(spec, "$each");
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(spec, "item");
    int page = cJSON_IsString(what) && !strcmp(what->valuestring, "page");
    long long from = page ? run->win.start : 0;
    long long to = page ? run->win.end : 0;
    long long pos;

    if (page && !run->win.active) {
        snprintf(run->cx.err, sizeof(run->cx.err), "$each page without a page step");
        return -1;
    }
    if (!page && sim_run_num(run, what, 0, &to) != 0) {
        return -1;
    }
    for (pos = from; pos < to; pos++) {
        size_t scope = run->cx.nbinds;
        struct sim_arena_mark m = sim_arena_mark(&run->cx.arena);
        cJSON *one = NULL;
        int rc = page ? bind_item(run, pos) : sim_bind(&run->cx, "k", sim_v_int(pos));

        if (rc == 0) {
            rc = render(run, item, &one);
        }
        run->cx.nbinds = scope;
        sim_arena_release(&run->cx.arena, m); /* items are copied out: keep memory flat */
        if (rc != 0 || add_item(arr, one) != 0) {
            return -1;
        }
    }
    return 0;
}

static int render_array(struct sim_run *run, const cJSON *t, cJSON **out)
{
    const cJSON *el;
    cJSON *arr = cJSON_CreateArray();

    if (!arr) {
        return -1;
    }
    cJSON_ArrayForEach(el, t)
    {
        cJSON *one = NULL;

        if (cJSON_GetObjectItemCaseSensitive(el, "$each")) {
            if (each(run, el, arr) != 0) {
                goto fail;
            }
            continue;
        }
        if (render(run, el, &one) != 0 || add_item(arr, one) != 0) {
            goto fail;
        }
    }
    *out = arr;
    return 0;
fail:
    cJSON_Delete(arr);
    return -1;
}

/* Members of the value of "$spread" go first, as they are. */
static int spread(struct sim_run *run, const cJSON *src, cJSON *obj)
{
    struct sim_val v;
    const cJSON *from;
    const cJSON *it;

    if (!cJSON_IsString(src) || sim_eval_text(&run->cx, src->valuestring, &v) != 0) {
        return -1;
    }
    from = v.t == SIM_V_JSON && cJSON_IsObject(v.j) ? v.j : NULL;
    cJSON_ArrayForEach(it, from)
    {
        cJSON *dup = cJSON_Duplicate(it, 1);

        if (!dup || !cJSON_AddItemToObject(obj, it->string, dup)) {
            cJSON_Delete(dup);
            return -1;
        }
    }
    return 0;
}

/* "$drop": a list of member names to remove from the rendered object. */
static int drop(struct sim_run *run, const cJSON *what, cJSON *obj)
{
    struct sim_val v;
    const cJSON *names;
    const cJSON *it;

    if (!cJSON_IsString(what) || sim_eval_text(&run->cx, what->valuestring, &v) != 0) {
        return -1;
    }
    names = v.t == SIM_V_JSON ? v.j : NULL;
    cJSON_ArrayForEach(it, names)
    {
        if (cJSON_IsString(it)) {
            cJSON_DeleteItemFromObjectCaseSensitive(obj, it->valuestring);
        }
    }
    return 0;
}

/* "$if": when false the object is none (or its "$else"); with "$value" the object stands for
 * that value. */
static int condition(struct sim_run *run, const cJSON *t, int *yes)
{
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(t, "$if");
    struct sim_val v;

    *yes = 1;
    if (!cond) {
        return 0;
    }
    if (!cJSON_IsString(cond) || sim_eval_text(&run->cx, cond->valuestring, &v) != 0) {
        return -1;
    }
    *yes = sim_val_truthy(v);
    return 0;
}

static int render_object(struct sim_run *run, const cJSON *t, cJSON **out)
{
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(t, "$use");
    const cJSON *it;
    cJSON *obj = NULL;
    int yes;

    if (bind_all(run, cJSON_GetObjectItemCaseSensitive(t, "$let")) != 0 ||
        condition(run, t, &yes) != 0) {
        return -1;
    }
    if (!yes) {
        const cJSON *other = cJSON_GetObjectItemCaseSensitive(t, "$else");

        return other ? render(run, other, out) : 0; /* none without an $else */
    }
    if (cJSON_GetObjectItemCaseSensitive(t, "$value")) {
        return render(run, cJSON_GetObjectItemCaseSensitive(t, "$value"), out);
    }
    if (use) {
        struct sim_val name;
        const cJSON *named;

        if (!cJSON_IsString(use) || sim_eval_text(&run->cx, use->valuestring, &name) != 0) {
            return -1;
        }
        named = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(run->p->doc, "templates"),
            sim_val_text(&run->cx, name));
        if (!named) {
            snprintf(run->cx.err, sizeof(run->cx.err), "no template %.64s", use->valuestring);
            return -1;
        }
        if (render(run, named, &obj) != 0) {
            return -1;
        }
    } else {
        obj = cJSON_CreateObject();
        if (!obj) {
            return -1;
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(t, "$spread") &&
        spread(run, cJSON_GetObjectItemCaseSensitive(t, "$spread"), obj) != 0) {
        goto fail;
    }
    cJSON_ArrayForEach(it, t)
    {
        cJSON *one = NULL;

        if (it->string[0] == '$') {
            continue;
        }
        if (render(run, it, &one) != 0) {
            goto fail;
        }
        if (one && !cJSON_AddItemToObject(obj, it->string, one)) {
            cJSON_Delete(one);
            goto fail;
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(t, "$drop") &&
        drop(run, cJSON_GetObjectItemCaseSensitive(t, "$drop"), obj) != 0) {
        goto fail;
    }
    *out = obj;
    return 0;
fail:
    cJSON_Delete(obj);
    return -1;
}

static int render(struct sim_run *run, const cJSON *t, cJSON **out)
{
    size_t scope = run->cx.nbinds;
    struct sim_val v;
    int rc = 0;

    *out = NULL;
    if (cJSON_IsString(t)) {
        rc = sim_eval_text(&run->cx, t->valuestring, &v);
        if (rc == 0 && v.t != SIM_V_NONE) {
            *out = sim_val_to_json(v);
            rc = *out ? 0 : -1;
        }
    } else if (cJSON_IsArray(t)) {
        rc = render_array(run, t, out);
    } else if (cJSON_IsObject(t)) {
        rc = render_object(run, t, out);
    } else {
        *out = cJSON_Duplicate(t, 1);
        rc = *out ? 0 : -1;
    }
    run->cx.nbinds = scope; /* $let and $use bindings end with their object */
    return rc;
}

int sim_tmpl_render(struct sim_run *run, const cJSON *t, cJSON **out)
{
    return render(run, t, out);
}
