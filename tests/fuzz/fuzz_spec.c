/* libFuzzer target: every built-in provider fed arbitrary input through the adapter contract.
 * Byte 0 picks the provider, byte 1 the job (operation, format), the status and the mode:
 *  - map: the rest is a provider body for the response mapping (every result kind and pagination
 *    style, at the first page or at a later page position) or for the error description;
 *  - build: the rest is the job's params object, turned into a request (path, query and body
 *    templates, references with fallbacks and casts, required checks).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_accounts.h"
#include "sw_adapter.h"
#include "sw_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sw_registry reg;
static int loaded;
static struct sw_accounts *accounts;

/* Operation and options; params are added per mode. */
static const char *const jobs[] = {
    "\"operation\":\"segments.get\"",
    "\"operation\":\"segments.list\"",
    "\"operation\":\"segments.delete\"",
    "\"operation\":\"segments.list\",\"options\":{\"response_format\":\"raw\","
    "\"exclude_fields\":[\"name\"]}",
    "\"operation\":\"segments.count\"",
    "\"operation\":\"segments.members\"",
    "\"operation\":\"segments.list\",\"options\":{\"response_format\":\"normalized\"}",
    "\"operation\":\"segments.create\"",
    "\"operation\":\"segments.update\",\"options\":{\"ignore_remote_data\":true,"
    "\"remote_query\":{\"a\":\"b\"}}",
    "\"operation\":\"segments.refresh\"",
    "\"operation\":\"segments.update_end_date\"",
    "\"operation\":\"audiences.create\",\"options\":{\"response_format\":\"normalized\"}",
    "\"operation\":\"segments.members\",\"options\":{\"response_format\":\"stream\"}",
    "\"operation\":\"segments.get\",\"options\":{\"response_format\":\"normalized\","
    "\"exclude_fields\":[\"provider_fields\"]}",
};
#define NJOBS (sizeof(jobs) / sizeof(jobs[0]))

static const char store[] =
    "{\"accounts\":{\"a\":{\"provider\":\"x\",\"credentials\":{\"api_key\":\"env:SW_FUZZ_KEY\","
    "\"username\":\"env:SW_FUZZ_KEY\",\"password\":\"env:SW_FUZZ_KEY\"},\"settings\":{\"dc\":"
    "\"us1\",\"list_id\":\"l1\",\"publication_id\":\"pub_1\",\"integrated_account_id\":\"ia\","
    "\"region\":\"eu\",\"account\":\"acme\"}}}}";

static void init(void)
{
    struct sw_status st;

    setenv("SW_FUZZ_KEY", "fuzz-secret", 1);
    sw_status_clear(&st);
    sw_registry_init(&reg);
    loaded = sw_adapters_load(&reg, NULL, &st) == 0;
    accounts = sw_accounts_parse(store, strlen(store), &st);
}

static void run_map(const struct sw_provider *p, const struct sw_adapter_op *op,
                    const struct sw_job *job, uint8_t sel, const uint8_t *data, size_t size)
{
    static const char *const cursors[] = {NULL, "3", "abc", "99999999999999"};
    struct sw_status st;
    struct sw_http_resp resp;
    struct sw_page page;
    struct sw_provider_error pe;

    sw_status_clear(&st);
    sw_http_resp_init(&resp, 1 << 20);
    sw_buf_append(&resp.body, data, size);
    resp.status = (sel & 0x80) ? ((sel & 0x40) ? 429 : 500) : 200;
    if (resp.status == 200) {
        p->ad->map(p, op, job, cursors[(sel >> 4) & 3], &resp, 32, &page, &st);
        sw_page_free(&page);
    } else {
        p->ad->describe_error(p, &resp, 32, &pe);
        cJSON_Delete(pe.body);
    }
    sw_http_resp_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sw_job_limits lim = {8192, 32, 0};
    struct sw_status st;
    struct sw_job *job = NULL;
    const struct sw_provider *p;
    const struct sw_adapter_op *op;
    char text[8192];
    uint8_t sel;
    int build;
    int n;

    if (!loaded) {
        init();
    }
    if (!loaded || !reg.n || !accounts || size < 2) {
        return 0;
    }
    p = reg.v[data[0] % reg.n];
    sel = data[1];
    build = sel & 1;
    if (build) {
        /* The rest is the params object (kept only when it fits). */
        n = snprintf(text, sizeof(text),
                     "{\"job_id\":\"f\",\"provider\":\"%s\",\"account\":\"a\",%s,"
                     "\"params\":%.*s}",
                     p->name, jobs[(sel >> 1) % NJOBS], (int)(size - 2), (const char *)data + 2);
    } else {
        n = snprintf(text, sizeof(text),
                     "{\"job_id\":\"f\",\"provider\":\"%s\",\"account\":\"a\",%s,"
                     "\"params\":{\"id\":\"x\",\"name\":\"n\",\"end_date\":\"d\"}}",
                     p->name, jobs[(sel >> 1) % NJOBS]);
    }
    if (n < 0 || (size_t)n >= sizeof(text) || memchr(data + 2, 0, size - 2)) {
        return 0;
    }
    sw_status_clear(&st);
    if (sw_job_parse(text, (size_t)n, &lim, &job, &st) != SW_E_OK) {
        sw_job_destroy(job);
        return 0;
    }
    op = p->ad->select(p, job);
    if (op && build) {
        struct sw_http_req req;

        p->ad->build(p, op, &accounts->v[0], job, (sel & 0x80) ? "7" : NULL, &req, &st);
        sw_http_req_free(&req);
        if (p->session) {
            p->ad->build_login(p, &accounts->v[0], job, &req, &st);
            sw_http_req_free(&req);
        }
    } else if (op) {
        run_map(p, op, job, sel, data + 2, size - 2);
    }
    sw_job_destroy(job);
    return 0;
}
