/* An account checked against its provider's compiled spec, for `segworker validate`: every
 * credential and setting the spec references anywhere is known; the credentials its auth needs
 * (or, for a session, the fixed token or the login's) and the settings its origin needs must be
 * there; anything else the account names is a likely misspelling.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"
#include "sw_suggest.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_NAMES 64

struct names {
    const char *v[MAX_NAMES];
    int n;
};

struct check {
    struct names creds;    /* every credential the spec references */
    struct names settings; /* every top-level setting it references */
    struct names need;     /* credentials the requests always carry */
    struct names login;    /* credentials of the login (session providers) */
    struct names *into;    /* where credentials of the current template also go, or NULL */
    const struct sw_spec *spec;
    const struct sw_account *acct;
    void (*report)(void *arg, const char *problem);
    void *arg;
    int problems;
};

static void add(struct names *s, const char *name)
{
    int i;

    for (i = 0; i < s->n; i++) {
        if (!strcmp(s->v[i], name)) {
            return;
        }
    }
    if (s->n < MAX_NAMES) {
        s->v[s->n++] = name;
    }
}

static int has(const struct names *s, const char *name)
{
    int i;

    for (i = 0; i < s->n; i++) {
        if (!strcmp(s->v[i], name)) {
            return 1;
        }
    }
    return 0;
}

/* One line about the account: "account NAME: ...". */
static void problem(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct check *c, const char *fmt, ...)
{
    char line[768];
    int n = snprintf(line, sizeof(line), "account %s: ", c->acct->name);
    va_list ap;

    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line)) {
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    }
    va_end(ap);
    c->report(c->arg, line);
    c->problems++;
}

/* ---- collecting the names ---- */

static void walk_ref(struct check *c, const struct sw_spec_ref *r, int always)
{
    int i;

    for (i = 0; i < r->nalt; i++) {
        const struct sw_spec_alt *alt = &r->alt[i];

        if (alt->scope == SW_SCOPE_CREDENTIALS) {
            add(&c->creds, alt->key);
            /* A credential with no alternative before or after it cannot be done without. */
            if (c->into && always && r->nalt == 1) {
                add(c->into, alt->key);
            }
        } else if (alt->scope == SW_SCOPE_SETTINGS && alt->npath > 0) {
            add(&c->settings, alt->path[0]);
        }
    }
}

static void walk_tpl(struct check *c, const struct sw_spec_tpl *t)
{
    int i;

    for (i = 0; i < t->nseg; i++) {
        walk_ref(c, &t->seg[i].ref, !t->seg[i].has_default);
    }
}

static void walk_body(struct check *c, const struct sw_spec_body *b)
{
    int i;

    if (!b) {
        return;
    }
    if (b->kind == SW_BODY_REF) {
        walk_ref(c, &b->ref, b->def == SW_DEF_NONE);
    } else if (b->kind == SW_BODY_TEMPLATE) {
        walk_tpl(c, &b->tpl);
    }
    for (i = 0; i < b->nkids; i++) {
        walk_body(c, &b->kids[i]);
    }
}

static void walk_op(struct check *c, const struct sw_spec_op *op)
{
    int i;

    walk_tpl(c, &op->path);
    for (i = 0; i < op->nrequired; i++) {
        walk_ref(c, &op->required[i], 1);
    }
    for (i = 0; i < op->nquery; i++) {
        walk_ref(c, &op->query[i].from, 0);
        walk_tpl(c, &op->query[i].value);
        walk_ref(c, &op->query[i].cond, 0);
    }
    if (op->pag.has_limit) {
        walk_tpl(c, &op->pag.limit);
    }
    walk_body(c, op->body);
}

static void collect(struct check *c)
{
    const struct sw_spec *s = c->spec;
    int i, j;

    walk_tpl(c, &s->base_url);
    if (s->base_url_by.setting) {
        add(&c->settings, s->base_url_by.setting);
    }
    for (i = 0; i < s->base_url_by.n; i++) {
        walk_tpl(c, &s->base_url_by.v[i].url);
    }
    c->into = &c->need;
    walk_tpl(c, &s->auth.value);
    walk_tpl(c, &s->auth.username);
    walk_tpl(c, &s->auth.password);
    c->into = NULL;
    for (i = 0; i < s->nheaders; i++) {
        walk_tpl(c, &s->headers[i].value);
    }
    if (s->has_session) {
        if (s->session.credential) {
            add(&c->creds, s->session.credential);
        }
        c->into = &c->login;
        walk_op(c, &s->login);
        c->into = NULL;
    }
    for (i = 0; i < SW_OP__COUNT; i++) {
        for (j = 0; j < s->ops[i].n; j++) {
            walk_ref(c, &s->ops[i].v[j].when, 0);
            walk_op(c, &s->ops[i].v[j].c);
        }
    }
}

/* ---- the checks ---- */

static void known_list(const struct names *s, char *buf, size_t n)
{
    size_t used = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; i < s->n && used < n; i++) {
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", s->v[i]);
    }
    if (!s->n) {
        snprintf(buf, n, "none");
    }
}

/* A name the spec never reads: the one it probably meant, or those it reads. */
static void unknown(struct check *c, const char *what, const char *name, const struct names *s)
{
    struct sw_suggest sg;
    char known[256];
    int i;

    sw_suggest_init(&sg, name);
    for (i = 0; i < s->n; i++) {
        sw_suggest_offer(&sg, s->v[i]);
    }
    if (sg.best) {
        problem(c, "%s \"%s\" is not used by provider %s (did you mean %s?)", what, name,
                c->spec->name, sg.best);
        return;
    }
    known_list(s, known, sizeof(known));
    problem(c, "%s \"%s\" is not used by provider %s (it uses: %s)", what, name, c->spec->name,
            known);
}

static void check_names(struct check *c)
{
    const cJSON *it;
    size_t i;

    for (i = 0; i < c->acct->ncreds; i++) {
        if (!has(&c->creds, c->acct->creds[i].key)) {
            unknown(c, "credential", c->acct->creds[i].key, &c->creds);
        }
    }
    cJSON_ArrayForEach(it, c->acct->settings)
    {
        if (!has(&c->settings, it->string)) {
            unknown(c, "setting", it->string, &c->settings);
        }
    }
}

static void check_needed(struct check *c)
{
    const struct sw_spec *s = c->spec;
    struct sw_status st;
    struct sw_buf origin;
    int i;

    for (i = 0; i < c->need.n; i++) {
        if (!sw_account_cred(c->acct, c->need.v[i])) {
            problem(c, "credentials.%s is required by provider %s", c->need.v[i], s->name);
        }
    }
    if (s->has_session &&
        !(s->session.credential && sw_account_cred(c->acct, s->session.credential))) {
        for (i = 0; i < c->login.n; i++) {
            if (!sw_account_cred(c->acct, c->login.v[i])) {
                problem(c, "credentials.%s is required by provider %s%s", c->login.v[i], s->name,
                        s->session.credential ? " to log in (or a fixed session token)" : "");
            }
        }
    }
    /* The origin as requests render it: a missing or malformed setting, an unknown region. */
    sw_status_clear(&st);
    sw_buf_init(&origin, SW_SPEC_MAX_URL_BYTES);
    if (sw_spec_origin(s, c->acct, NULL, &origin, &st) != SW_E_OK) {
        problem(c, "its origin: %s", st.msg);
    }
    sw_buf_free(&origin);
}

int sw_spec_check_account(const struct sw_spec *spec, const struct sw_account *acct,
                          void (*report)(void *arg, const char *problem), void *arg)
{
    struct check c;

    memset(&c, 0, sizeof(c));
    c.spec = spec;
    c.acct = acct;
    c.report = report;
    c.arg = arg;
    collect(&c);
    check_names(&c);
    check_needed(&c);
    return c.problems;
}
