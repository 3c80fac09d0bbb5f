/* Templates of the spec adapter (see sw_spec.h): "/lists/{params.list_id,settings.list_id}",
 * "Bearer {credentials.api_key}", "{settings.dc|us1}" parsed into literal and reference segments,
 * and rendered for a path, a header, a host or plain text.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include "sw_url.h"

#include <string.h>

static const char why_unclosed[] = " has an unclosed '{'";
static const char why_host[] = ": a host may only use settings";
static const char why_ref[] = " has a bad reference";

/* Every alternative of a host reference is an account setting. */
static int host_ref_ok(const char *ref, size_t len)
{
    const char *end = ref + len;

    while (ref < end) {
        const char *comma = memchr(ref, ',', (size_t)(end - ref));

        if ((size_t)(end - ref) < 9 || strncmp(ref, "settings.", 9)) {
            return 0;
        }
        ref = comma ? comma + 1 : end;
    }
    return 1;
}

/* The segment at *pos (not at the end): the literal text up to the next '{', or the reference
 * that '{' opens up to the first '}', with its default after a '|'. NULL, or why not. */
static sw_spec_why next_seg(struct sw_spec_arena *a, const char **pos, enum sw_render_mode mode,
                            int strict, struct sw_spec_seg *seg)
{
    const char *p = *pos;
    const char *close;
    const char *bar;
    size_t rlen;
    sw_spec_why why;

    memset(seg, 0, sizeof(*seg));
    if (*p != '{') {
        const char *open = strchr(p, '{');

        seg->text = p;
        seg->len = open ? (size_t)(open - p) : strlen(p);
        *pos = p + seg->len;
        return NULL;
    }
    close = strchr(p, '}');
    if (!close) {
        return why_unclosed;
    }
    bar = memchr(p, '|', (size_t)(close - p));
    rlen = (size_t)((bar ? bar : close) - p - 1);
    if (mode == SW_R_HOST && !host_ref_ok(p + 1, rlen)) {
        /* Hosts come from the spec and the operator's account settings, never from a job. */
        return why_host;
    }
    why = sw_spec_ref_parse(a, p + 1, rlen, strict, &seg->ref);
    if (why) {
        return why == sw_spec_why_nomem ? why : why_ref;
    }
    if (bar) {
        seg->has_default = 1;
        seg->text = bar + 1;
        seg->len = (size_t)(close - bar - 1);
    }
    *pos = close + 1;
    return NULL;
}

sw_spec_why sw_spec_tpl_parse(struct sw_spec_arena *a, const char *text, enum sw_render_mode mode,
                              struct sw_spec_tpl *out)
{
    struct sw_spec_seg *seg;
    const char *p = text;
    int n = 1;

    memset(out, 0, sizeof(*out));
    out->text = text;
    for (; *p; p++) {
        n += 2 * (*p == '{');
    }
    seg = sw_spec_arena_alloc(a, (size_t)n * sizeof(*seg));
    if (!seg) {
        return sw_spec_why_nomem;
    }
    for (p = text; *p; out->nseg++) {
        sw_spec_why why = next_seg(a, &p, mode, 1, &seg[out->nseg]);

        if (why) {
            return why;
        }
    }
    out->seg = seg;
    return NULL;
}

int sw_spec_cc_tpl(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                   const char *field, enum sw_render_mode mode, struct sw_spec_tpl *out,
                   int *present)
{
    const char *text;

    if (sw_spec_cc_str(cc, obj, key, field, &text)) {
        return -1;
    }
    if (present) {
        *present = text != NULL;
    }
    text = text ? text : "";
    return sw_spec_cc_why(cc, field, text, sw_spec_tpl_parse(&cc->spec->arena, text, mode, out));
}

/* ---- rendering ---- */

static int host_value_ok(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.')) {
            return 0;
        }
    }
    return 1;
}

static int header_value_ok(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 && *s != '\t') {
            return 0;
        }
    }
    return 1;
}

static sw_err_t too_long(const char *tpl, struct sw_status *st)
{
    return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                         "the request built from \"%s\" is too long", tpl);
}

/* A reference's value v, checked for mode and appended to out (rendering tpl). */
static sw_err_t append_value(const char *v, const char *ref, const char *tpl,
                             enum sw_render_mode mode, struct sw_buf *out, struct sw_status *st)
{
    const char *why;

    switch (mode) {
    case SW_R_PATH:
        /* Encoding alone would keep a strict server safe, but a gateway that decodes %2F or
         * %2E%2E turns the value into a traversal, and none of these can be a real id. */
        why = sw_url_segment_why(v);
        if (why) {
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                 "%s %s: a path segment cannot hold it", ref, why);
        }
        return sw_url_encode(out, v) ? too_long(tpl, st) : SW_E_OK;
    case SW_R_HOST:
        if (!host_value_ok(v)) {
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                 "%s may hold only letters, digits, '-' and '.'", ref);
        }
        break;
    case SW_R_HEADER:
        if (!header_value_ok(v)) {
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                 "%s contains control characters", ref);
        }
        break;
    case SW_R_PLAIN:
        break;
    }
    return sw_buf_appends(out, v) ? too_long(tpl, st) : SW_E_OK;
}

/* The value of a reference segment: a credential or a string as it is (the common case, without
 * a copy), another scalar or the default as text; checked for mode and appended to out. */
static sw_err_t render_ref(const struct sw_spec_seg *s, const char *tpl, enum sw_render_mode mode,
                           const struct sw_account *acct, const struct sw_job *job,
                           struct sw_buf *out, int *secret, struct sw_status *st)
{
    const char *ref = s->ref.text;
    const char *v = NULL;
    struct sw_buf val;
    struct sw_ref r;
    sw_err_t rc;
    int bad = sw_spec_ref_get(&s->ref, acct, job, &r);

    if (bad == SW_REF_CROSSES) {
        return sw_spec_ref_fail(&s->ref, bad, &r, acct, tpl, st);
    }
    if (bad) {
        return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL, "spec template \"%s\"%s", tpl,
                             why_ref);
    }
    /* Name the alternative that gave the value ("params.id", not the whole reference). */
    ref = r.alt ? r.alt->text : ref;
    sw_buf_init(&val, SW_SPEC_MAX_VALUE_BYTES);
    if (r.secret || cJSON_IsString(r.json)) {
        v = r.secret ? r.secret : r.json->valuestring;
        *secret |= r.secret != NULL;
        bad = strlen(v) > SW_SPEC_MAX_VALUE_BYTES;
    } else if (r.json && !cJSON_IsNull(r.json)) {
        bad = sw_scalar_text(r.json, &val);
        if (bad && !val.overflow) {
            sw_buf_free(&val);
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                 "%s must be a string or a number", ref);
        }
    } else if (s->has_default) {
        bad = sw_buf_append(&val, s->text, s->len);
    } else if (!strncmp(ref, "credentials.", 12)) {
        return sw_status_set(st, SW_E_AUTH_FAILED, SW_CLASS_TERMINAL,
                             "account %s has no credential \"%s\"", acct ? acct->name : "?",
                             ref + 12);
    } else {
        return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "%s is required", ref);
    }
    if (bad) {
        sw_buf_free(&val);
        return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                             "%s is longer than %d bytes", ref, SW_SPEC_MAX_VALUE_BYTES);
    }
    rc = append_value(v ? v : val.data ? val.data : "", ref, tpl, mode, out, st);
    sw_buf_free(&val);
    return rc;
}

static sw_err_t render_seg(const struct sw_spec_seg *s, const char *tpl, enum sw_render_mode mode,
                           const struct sw_account *acct, const struct sw_job *job,
                           struct sw_buf *out, int *secret, struct sw_status *st)
{
    if (s->ref.nalt) {
        return render_ref(s, tpl, mode, acct, job, out, secret, st);
    }
    return sw_buf_append(out, s->text, s->len) ? too_long(tpl, st) : SW_E_OK;
}

sw_err_t sw_spec_render(const struct sw_spec_tpl *t, enum sw_render_mode mode,
                        const struct sw_account *acct, const struct sw_job *job, struct sw_buf *out,
                        int *secret, struct sw_status *st)
{
    int i;

    for (i = 0; i < t->nseg; i++) {
        sw_err_t rc = render_seg(&t->seg[i], t->text, mode, acct, job, out, secret, st);

        if (rc) {
            return rc;
        }
    }
    return SW_E_OK;
}

sw_err_t sw_spec_render_text(const char *text, enum sw_render_mode mode,
                             const struct sw_account *acct, const struct sw_job *job,
                             struct sw_buf *out, int *secret, struct sw_status *st)
{
    struct sw_spec_arena a = {NULL};
    const char *p = text;
    sw_err_t rc = SW_E_OK;

    while (!rc && *p) {
        struct sw_spec_seg seg;
        sw_spec_why why = next_seg(&a, &p, mode, 0, &seg);

        if (why == sw_spec_why_nomem) {
            rc = sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        } else if (why) {
            rc = sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL, "spec template \"%s\"%s", text,
                               why);
        } else {
            rc = render_seg(&seg, text, mode, acct, job, out, secret, st);
        }
    }
    sw_spec_arena_free(&a);
    return rc;
}
