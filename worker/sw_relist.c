/* A list that goes on where a failed one stopped (see sw_resume.h): the resume a failed list's
 * last message carries, and params.resume checked and applied before the first request of the
 * job that hands it back. A resumed next link may only lead to the list's own path, so a job
 * cannot use it to reach another endpoint of the account.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_run.h"
#include "sw_url.h"

#include <stdio.h>
#include <string.h>

/* A list that fails after it delivered something says where a new job can go on (params.resume)
 * and how much it delivered; NULL when there is nothing to resume (or it cannot be told). */
cJSON *sw_relist_resume(struct sw_run *r, struct sw_status *st)
{
    struct sw_resume rs;
    size_t n = strlen(st->msg);

    sw_parts_settle(r);
    rs = r->emitted_at;
    if (r->no_resume ||
        !(rs.cursor || rs.skip_items || r->part_index > 0 || r->published_items > 0)) {
        return NULL;
    }
    rs.part_index = r->part_index;
    rs.items_delivered = r->published_items;
    snprintf(st->msg + n, sizeof(st->msg) - n,
             " (%lld item(s) in %d part(s) were delivered; the result's resume, passed back as "
             "params.resume, continues from there)",
             r->published_items, r->part_index);
    return sw_resume_encode(&rs);
}

/* The path of a URL without one trailing slash: where a request goes on its origin. */
static void url_path(const char *url, const char **p, size_t *n)
{
    size_t olen = 0;

    *p = "";
    *n = 0;
    if (url && sw_url_split(url, &olen, p) == 0) {
        *n = strcspn(*p, "?#");
        if (*n && (*p)[*n - 1] == '/') {
            (*n)--;
        }
    }
}

/* A next link handed back by a job may only continue this list: it must lead to the path of the
 * list's first page (the job cannot pick another endpoint of the account). */
static int check_resume_link(struct sw_run *r, const char *cursor, struct sw_status *st)
{
    struct sw_http_req first;
    struct sw_http_req next;
    const char *a, *b;
    size_t na, nb;
    int rc = -1;

    sw_http_req_init(&first);
    sw_http_req_init(&next);
    if (r->prov->ad->build(r->prov, r->op, r->acct, r->job, NULL, &first, st) != SW_E_OK) {
        goto out;
    }
    if (r->prov->ad->build(r->prov, r->op, r->acct, r->job, cursor, &next, st) != SW_E_OK) {
        /* What is wrong with a provider's link is the job's mistake here. */
        st->code = SW_E_INVALID_PARAMS;
        st->cls = SW_CLASS_TERMINAL;
        goto out;
    }
    url_path(first.url, &a, &na);
    url_path(next.url, &b, &nb);
    if (na != nb || strncmp(a, b, na)) {
        sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                      "params.resume.cursor leads to another path than this list's (%.*s)",
                      (int)(na < 200 ? na : 200), a);
        goto out;
    }
    rc = 0;
out:
    sw_http_req_free(&first);
    sw_http_req_free(&next);
    return rc;
}

/* params.resume: a list that goes on where a failed one stopped. 0, or -1 with st. */
int sw_relist_begin(struct sw_run *r, struct sw_status *st)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->job->params, "resume");
    struct sw_resume rs;
    int rc = -1;

    if (!v) {
        return 0;
    }
    if (r->op->kind != SW_RESULT_ITEMS) {
        sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                      "params.resume continues a list; %s %s is not one", r->job->provider,
                      r->job->operation);
        return -1;
    }
    if (sw_resume_decode(v, &rs, st) != 0) {
        goto out;
    }
    if (rs.skip_items && r->job->format == SW_FMT_RAW) {
        sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                      "params.resume.skip_items: a raw list goes on at a page, not inside one");
        goto out;
    }
    if (rs.items_delivered > r->eng->lim.max_list_items) {
        sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                      "params.resume.items_delivered is over limits.max_list_items (%lld)",
                      r->eng->lim.max_list_items);
        goto out;
    }
    if (rs.cursor && r->op->paging == SW_PAGING_NONE) {
        sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                      "params.resume.cursor: %s %s answers in one page (the cursor must be null)",
                      r->job->provider, r->job->operation);
        goto out;
    }
    if (rs.cursor && r->op->paging == SW_PAGING_NEXT_URL &&
        check_resume_link(r, rs.cursor, st) != 0) {
        goto out;
    }
    r->part_index = (int)rs.part_index;
    r->total_items = r->published_items = rs.items_delivered;
    r->skip = rs.skip_items;
    sw_parts_mark(r, &r->emitted_at, rs.cursor, rs.skip_items);
    sw_parts_mark(r, &r->taken_at, rs.cursor, rs.skip_items);
    r->cursor = rs.cursor; /* NULL: the first page */
    rs.cursor = NULL;
    rc = 0;
out:
    sw_resume_free(&rs);
    return rc;
}
