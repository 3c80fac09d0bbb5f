/* A run's lifetime: however a job ends, and whatever fails on the way (here: building the result
 * message itself), the engine emits exactly one final message for it and lets it go.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_test.h"

#include "sw_accounts.h"
#include "sw_adapter.h"
#include "sw_alloc.h"
#include "sw_config.h"
#include "sw_exec.h"
#include "sw_job.h"
#include "sw_loop.h"
#include "sw_time.h"

#include <stdlib.h>
#include <string.h>

struct seen {
    int messages;
    int finals;
    sw_err_t code;
    char payload[4096];
};

static int record(void *arg, const struct sw_emit *em)
{
    struct seen *s = arg;

    s->messages++;
    if (em->last) {
        s->finals++;
        s->code = em->code;
        snprintf(s->payload, sizeof(s->payload), "%.*s", em->payload ? (int)em->len : 0,
                 em->payload ? em->payload : "");
    }
    return 0;
}

static const char store[] =
    "{\"accounts\":{\"k\":{\"provider\":\"klaviyo\",\"credentials\":{\"api_key\":\"env:RUN_UNIT_"
    "KEY\"}}}}";

/* The job fails before any request (its provider is unknown); the result message cannot be
 * built because every cJSON allocation fails. The job must still end with one final message. */
static void test_final_result_when_building_fails(void)
{
    static const char text[] =
        "{\"job_id\":\"j-oom\",\"operation\":\"segments.get\","
        "\"provider\":\"nosuch\",\"account\":\"k\",\"params\":{\"id\":\"x\"}}";
    struct sw_status st;
    struct sw_registry reg;
    struct sw_accounts *a;
    struct sw_config cfg;
    struct sw_loop loop;
    struct sw_job_limits lim = {65536, 32, 0};
    struct sw_job *job = NULL;
    struct seen s;
    int turns;

    memset(&s, 0, sizeof(s));
    setenv("RUN_UNIT_KEY", "unit-secret", 1);
    sw_status_clear(&st);
    sw_registry_init(&reg);
    CHECK(sw_adapters_load(&reg, NULL, &st) == 0);
    CHECK(sw_config_load(&cfg, NULL, &st) == 0);
    a = sw_accounts_parse(store, strlen(store), &st);
    CHECK(a != NULL);
    if (!a) {
        sw_registry_free(&reg);
        return;
    }
    CHECK(sw_loop_init(&loop, &cfg, &reg, a, record, &s) == 0);
    CHECK(sw_job_parse(text, strlen(text), &lim, &job, &st) == SW_E_OK);
    sw_alloc_inject_failures(0, -1);
    sw_exec_start(&loop.eng, job, NULL, sw_now_wall_us(), 0);
    for (turns = 0; turns < 20 && s.finals == 0; turns++) {
        sw_loop_turn(&loop, NULL, 0, 10);
    }
    sw_alloc_inject_failures(0, 0);
    CHECK_INT(s.finals, 1);
    CHECK_INT(s.messages, 1);
    CHECK_INT(s.code, SW_E_UNKNOWN_PROVIDER);
    /* The fallback message is still a result: the job id, failed, the job's own error code. */
    CHECK(strstr(s.payload, "\"job_id\":\"j-oom\"") != NULL);
    CHECK(strstr(s.payload, "\"status\":\"failed\"") != NULL);
    CHECK(strstr(s.payload, "\"code\":\"unknown_provider\"") != NULL);
    CHECK_INT(loop.eng.running, 0);
    sw_loop_free(&loop);
    sw_accounts_destroy(a);
    sw_config_free(&cfg);
    sw_registry_free(&reg);
}

static const struct sw_test_case tests[] = {
    {"final_result_when_building_fails", test_final_result_when_building_fails},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return sw_test_run(tests, argc > 1 ? argv[1] : NULL);
}
