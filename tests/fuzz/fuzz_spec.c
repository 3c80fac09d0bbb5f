/* libFuzzer target: every built-in provider spec's response mapping and error description fed
 * arbitrary provider bodies (the first byte picks the provider, operation, format and status).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_json.h"
#include "sw_spec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sw_specs *specs;

static const char *const jobs[] = {
    "{\"job_id\":\"f\",\"operation\":\"segments.get\",\"provider\":\"P\",\"account\":\"a\","
    "\"params\":{\"id\":\"x\"}}",
    "{\"job_id\":\"f\",\"operation\":\"segments.list\",\"provider\":\"P\",\"account\":\"a\"}",
    "{\"job_id\":\"f\",\"operation\":\"segments.delete\",\"provider\":\"P\",\"account\":\"a\","
    "\"params\":{\"id\":\"x\"}}",
    "{\"job_id\":\"f\",\"operation\":\"segments.list\",\"provider\":\"P\",\"account\":\"a\","
    "\"options\":{\"response_format\":\"raw\",\"exclude_fields\":[\"name\"]}}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sw_job_limits lim = {4096, 32};
    struct sw_status st;
    struct sw_job *job = NULL;
    struct sw_http_resp resp;
    struct sw_page page;
    const struct sw_spec *spec;
    const cJSON *op;
    char text[512];
    char *p;
    cJSON *perr;
    uint8_t sel;

    if (!specs) {
        sw_status_clear(&st);
        specs = sw_specs_load_builtin(&st);
    }
    if (!specs || !specs->n || size < 1) {
        return 0;
    }
    sel = data[0];
    spec = &specs->v[sel % specs->n];
    snprintf(text, sizeof(text), "%s", jobs[(sel >> 2) % 4]);
    p = strstr(text, "\"P\"");
    memmove(p + strlen(spec->name) + 2, p + 3, strlen(p + 3) + 1);
    memcpy(p + 1, spec->name, strlen(spec->name));
    p[strlen(spec->name) + 1] = '"';
    sw_status_clear(&st);
    if (sw_job_parse(text, strlen(text), &lim, &job, &st) != SW_E_OK) {
        sw_job_destroy(job);
        return 0;
    }
    op = sw_spec_op(spec, job);
    if (op) {
        sw_http_resp_init(&resp, 1 << 20);
        sw_buf_append(&resp.body, data + 1, size - 1);
        resp.status = (sel & 0x80) ? 500 : 200;
        if (resp.status == 200) {
            sw_spec_map(spec, op, job, &resp, 32, &page, &st);
            sw_page_free(&page);
        } else {
            perr = sw_spec_error(spec, &resp, 32, &st);
            cJSON_Delete(perr);
        }
        sw_http_resp_free(&resp);
    }
    sw_job_destroy(job);
    return 0;
}
