/* The spec adapter's side of the contract (worker/sw_adapter.h): its calls, which hand each
 * provider's compiled spec to the interpreter, and the adapter library's entry points.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

static const struct sw_adapter_op *spec_select(const struct sw_provider *p,
                                               const struct sw_job *job)
{
    const struct sw_spec *spec = p->impl;
    const struct sw_spec_opset *set;
    int i;

    if ((unsigned)job->op >= SW_OP__COUNT) {
        return NULL;
    }
    set = &spec->ops[job->op];
    for (i = 0; i < set->n; i++) {
        if (!set->v[i].when.nalt || sw_spec_ref_truthy(&set->v[i].when, NULL, job)) {
            return &set->v[i].op;
        }
    }
    return NULL;
}

static sw_err_t spec_build(const struct sw_provider *p, const struct sw_adapter_op *op,
                           const struct sw_account *acct, const struct sw_job *job,
                           const char *cursor, struct sw_http_req *req, struct sw_status *st)
{
    return sw_spec_build(p->impl, op->impl, acct, job, cursor, req, st);
}

static sw_err_t spec_map(const struct sw_provider *p, const struct sw_adapter_op *op,
                         const struct sw_job *job, const char *cursor,
                         const struct sw_http_resp *resp, int max_depth, struct sw_page *page,
                         struct sw_status *st)
{
    return sw_spec_map_page(p->impl, op->impl, job, cursor, resp, max_depth, page, st);
}

static void spec_describe_error(const struct sw_provider *p, const struct sw_http_resp *resp,
                                int max_depth, struct sw_provider_error *pe)
{
    sw_spec_describe_error(p->impl, resp, max_depth, pe);
}

static sw_err_t spec_build_login(const struct sw_provider *p, const struct sw_account *acct,
                                 const struct sw_job *job, struct sw_http_req *req,
                                 struct sw_status *st)
{
    return sw_spec_build_login(p->impl, acct, job, req, st);
}

static int spec_session_token(const struct sw_provider *p, const struct sw_http_resp *resp,
                              char *out, size_t n)
{
    return sw_spec_session_token(p->impl, resp, out, n);
}

static int spec_session_apply(const struct sw_provider *p, struct sw_http_req *req,
                              const char *token)
{
    return sw_spec_session_apply(p->impl, req, token);
}

static void spec_destroy(struct sw_provider *p)
{
    sw_spec_destroy(p->impl);
    p->impl = NULL;
}

const struct sw_adapter sw_spec_adapter = {
    "spec",           spec_select,        spec_build,         spec_map,     spec_describe_error,
    spec_build_login, spec_session_token, spec_session_apply, spec_destroy,
};

int sw_adapters_load(struct sw_registry *reg, const char *dir, struct sw_status *st)
{
    return dir ? sw_spec_register_dir(reg, dir, st) : sw_spec_register_builtin(reg, st);
}

void sw_adapters_describe(const struct sw_registry *reg, int markdown, FILE *out)
{
    sw_spec_print_matrix(reg, markdown, out);
}

int sw_adapters_check_account(const struct sw_provider *p, const struct sw_account *acct,
                              void (*report)(void *arg, const char *problem), void *arg)
{
    const struct sw_spec *spec = sw_spec_of(p);

    return spec ? sw_spec_check_account(spec, acct, report, arg) : 0;
}
