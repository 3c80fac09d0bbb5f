/* libFuzzer target: arbitrary text as a provider spec, compiled at load (the spec compiler is a
 * parser: templates, references, JSON pointers, body trees, models). A spec that compiles is then
 * driven through the adapter contract, every operation it has, for two accounts (one with a
 * base URL template of its own): select, build (first page and a later position), the login,
 * and the mapping of a fixed answer and of an error answer, so that whatever the compiler
 * accepts, the interpreter can serve.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_accounts.h"
#include "sw_adapter.h"
#include "sw_spec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sw_accounts *accounts;

static const char store[] =
    "{\"accounts\":{\"a\":{\"provider\":\"x\",\"credentials\":{\"api_key\":\"env:SW_FUZZ_KEY\","
    "\"username\":\"env:SW_FUZZ_KEY\",\"password\":\"env:SW_FUZZ_KEY\"},\"settings\":{\"dc\":"
    "\"us1\",\"list_id\":\"l1\",\"region\":\"eu\",\"account\":\"acme\"}},"
    "\"b\":{\"provider\":\"x\",\"base_url\":\"http://{settings.h}.example:1/p\",\"settings\":"
    "{\"h\":\"hh\"}}}}";

/* Params with every kind of value a reference may meet. */
static const char params[] =
    "{\"id\":\"7\",\"name\":\"n\",\"page_size\":5,\"flag\":true,\"list\":[1,\"a\"],"
    "\"definition\":{\"a\":[1,2]},\"workspace\":{\"id\":\"w\"},\"end_date\":\"2026-01-01\"}";

static const char answer[] =
    "{\"id\":\"7\",\"data\":[{\"id\":1,\"name\":\"a\"},\"x\"],\"total\":9,\"next\":\"/n?p=2\","
    "\"more\":true,\"count\":3,\"errors\":[{\"code\":\"c\",\"message\":\"m\"}]}";

static void run_op(const struct sw_provider *p, const struct sw_job *job)
{
    static const char *const cursors[] = {NULL, "2"};
    const struct sw_adapter_op *op = p->ad->select(p, job);
    size_t a;
    int c;

    for (a = 0; op && a < accounts->n; a++) {
        for (c = 0; c < 2; c++) {
            struct sw_status st;
            struct sw_http_req req;
            struct sw_http_resp resp;
            struct sw_page page;

            sw_status_clear(&st);
            p->ad->build(p, op, &accounts->v[a], job, cursors[c], &req, &st);
            sw_http_req_free(&req);
            sw_status_clear(&st);
            sw_http_resp_init(&resp, 1 << 16);
            sw_buf_appends(&resp.body, answer);
            resp.status = 200;
            p->ad->map(p, op, job, cursors[c], &resp, 16, &page, &st);
            sw_page_free(&page);
            sw_http_resp_free(&resp);
        }
    }
}

static void run_spec(const struct sw_provider *p)
{
    static const struct sw_job_limits lim = {4096, 16, 0};
    struct sw_http_resp resp;
    struct sw_provider_error pe;
    int id;

    for (id = 0; id < SW_OP__COUNT; id++) {
        char text[1024];
        struct sw_job *job = NULL;
        struct sw_status st;

        snprintf(text, sizeof(text),
                 "{\"job_id\":\"f\",\"provider\":\"x\",\"account\":\"a\",\"operation\":\"%s\","
                 "\"options\":{\"response_format\":\"%s\",\"remote_query\":{\"q\":1}},"
                 "\"params\":%s}",
                 sw_op_name((enum sw_op_id)id), id % 2 ? "normalized" : "unified", params);
        sw_status_clear(&st);
        if (sw_job_parse(text, strlen(text), &lim, &job, &st) == SW_E_OK) {
            run_op(p, job);
            if (p->session) {
                struct sw_http_req req;

                p->ad->build_login(p, &accounts->v[0], job, &req, &st);
                p->ad->session_apply(p, &req, "t");
                sw_http_req_free(&req);
            }
        }
        sw_job_destroy(job);
    }
    sw_http_resp_init(&resp, 1 << 16);
    sw_buf_appends(&resp.body, answer);
    resp.status = 500;
    p->ad->describe_error(p, &resp, 16, &pe);
    cJSON_Delete(pe.body);
    sw_http_resp_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sw_registry reg;
    struct sw_status st;

    if (!accounts) {
        setenv("SW_FUZZ_KEY", "fuzz-secret", 1);
        sw_status_clear(&st);
        accounts = sw_accounts_parse(store, strlen(store), &st);
        if (!accounts) {
            abort();
        }
    }
    sw_registry_init(&reg);
    sw_status_clear(&st);
    if (sw_spec_register_text(&reg, (const char *)data, size, "fuzz", &st) == 0) {
        run_spec(reg.v[0]);
    }
    sw_registry_free(&reg);
    return 0;
}
