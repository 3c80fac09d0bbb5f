/* `segworker exec` and `segworker plan`: jobs from standard input, run on the same engine and
 * event loop as `run` (exec), or turned into the requests they would make without sending them
 * (plan).
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "sw_adapter.h"
#include "sw_exec.h"
#include "sw_json.h"
#include "sw_loop.h"
#include "sw_time.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct exec_ctx {
    struct sw_loop loop;
    struct sw_job_limits lim;
    long running; /* started and not finished */
    enum sw_exit worst;
};

static void worse(enum sw_exit *worst, enum sw_exit e)
{
    /* Usage errors outrank failures, which outrank success. */
    if (e == SW_EXIT_USAGE || (e == SW_EXIT_FAILED && *worst == SW_EXIT_OK)) {
        *worst = e;
    }
}

static int exec_emit(void *arg, const struct sw_emit *em)
{
    struct exec_ctx *x = arg;

    if (em->payload) {
        fwrite(em->payload, 1, em->len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    if (em->last) {
        x->running--;
        if (!em->succeeded) {
            worse(&x->worst, SW_EXIT_FAILED);
        }
    }
    return 0;
}

/* ---- plan ---- */

static cJSON *plan_error(cJSON *line, const struct sw_status *st)
{
    cJSON *e = cJSON_AddObjectToObject(line, "error");

    if (e) {
        cJSON_AddStringToObject(e, "code", sw_err_name(st->code));
        cJSON_AddStringToObject(e, "message", st->msg);
    }
    return line;
}

/* The requests of one job (the login first when the provider needs one and the account holds
 * no fixed token), or its error. 0 when planned. */
static int plan_requests(const struct sw_registry *reg, const struct sw_accounts *accounts,
                         const struct sw_job *job, cJSON *line, struct sw_status *st)
{
    const struct sw_provider *p = sw_registry_find(reg, job->provider);
    const struct sw_account *acct = sw_accounts_find(accounts, job->account);
    const struct sw_adapter_op *op;
    struct sw_http_req req;
    cJSON *list;
    int rc = -1;

    if (!p || !acct || strcmp(acct->provider, job->provider) != 0) {
        sw_status_set(st, !p ? SW_E_UNKNOWN_PROVIDER : SW_E_UNKNOWN_ACCOUNT, SW_CLASS_TERMINAL,
                      !p      ? "no provider named \"%s\""
                      : !acct ? "no account named \"%s\" in the account store"
                              : "account \"%s\" belongs to another provider",
                      !p ? job->provider : job->account);
        return -1;
    }
    op = p->ad->select(p, job);
    if (!op) {
        sw_status_set(st, SW_E_UNSUPPORTED_OPERATION, SW_CLASS_TERMINAL,
                      "provider %s does not support %s", job->provider, job->operation);
        return -1;
    }
    list = cJSON_AddArrayToObject(line, "requests");
    sw_http_req_init(&req);
    if (p->session && p->session->has_login &&
        !(p->session->credential && sw_account_cred(acct, p->session->credential))) {
        if (p->ad->build_login(p, acct, job, &req, st) != SW_E_OK) {
            goto out;
        }
        cJSON_AddItemToArray(list, sw_debug_request(&req, acct));
        sw_http_req_free(&req);
    }
    if (p->ad->build(p, op, acct, job, NULL, &req, st) != SW_E_OK) {
        goto out;
    }
    if (p->session) {
        /* The token is the engine's at run time; its header is shown, redacted. */
        p->ad->session_apply(p, &req, "session-token");
    }
    cJSON_AddItemToArray(list, sw_debug_request(&req, acct));
    if (op->paging != SW_PAGING_NONE) {
        cJSON_AddStringToObject(line, "pages",
                                "the first page; the next ones follow the provider's answers");
    }
    rc = 0;
out:
    sw_http_req_free(&req);
    return rc;
}

static enum sw_exit plan_one(struct exec_ctx *x, const struct sw_registry *reg,
                             const struct sw_accounts *accounts, const char *text, size_t len,
                             long index)
{
    struct sw_job *job = NULL;
    struct sw_status st;
    enum sw_exit rc = SW_EXIT_OK;
    cJSON *line;
    char *s;

    sw_status_clear(&st);
    if (sw_job_parse(text, len, &x->lim, &job, &st) != SW_E_OK && !job) {
        fprintf(stderr, "segworker: input %ld: invalid job: %s\n", index, st.msg);
        return SW_EXIT_USAGE;
    }
    line = cJSON_CreateObject();
    if (!line) {
        sw_job_destroy(job);
        return SW_EXIT_FAILED;
    }
    cJSON_AddStringToObject(line, "job_id", job->job_id);
    if (job->provider) {
        cJSON_AddStringToObject(line, "provider", job->provider);
    }
    if (job->account) {
        cJSON_AddStringToObject(line, "account", job->account);
    }
    if (job->operation) {
        cJSON_AddStringToObject(line, "operation", job->operation);
    }
    if (st.code != SW_E_OK || plan_requests(reg, accounts, job, line, &st) != 0) {
        cJSON_DeleteItemFromObject(line, "requests");
        plan_error(line, &st);
        rc = SW_EXIT_FAILED;
    }
    s = sw_json_print(line);
    if (s) {
        printf("%s\n", s);
        fflush(stdout);
    }
    cJSON_free(s);
    cJSON_Delete(line);
    sw_job_destroy(job);
    return rc;
}

/* ---- exec ---- */

static void exec_one(struct exec_ctx *x, const char *text, size_t len, long index)
{
    struct sw_job *job = NULL;
    struct sw_status st;
    int64_t now = sw_now_wall_ms();

    sw_status_clear(&st);
    if (sw_job_parse(text, len, &x->lim, &job, &st) != SW_E_OK) {
        if (!job) {
            fprintf(stderr, "segworker: input %ld: invalid job: %s\n", index, st.msg);
            worse(&x->worst, SW_EXIT_USAGE);
            return;
        }
        x->running++; /* its failed result is emitted before this returns */
        sw_exec_reject(&x->loop.eng, job, &st, NULL, now);
        return;
    }
    x->running++;
    sw_exec_start(&x->loop.eng, job, NULL, now, 0);
}

enum sw_exit sw_cli_exec(const struct sw_config *cfg, const struct sw_registry *reg,
                         const struct sw_accounts *accounts, FILE *in_file, int plan,
                         volatile sig_atomic_t *stop)
{
    struct exec_ctx x;
    struct sw_cli_input in;
    enum sw_exit rc = SW_EXIT_USAGE;

    memset(&x, 0, sizeof(x));
    sw_job_limits_from(cfg, &x.lim);
    /* A bit past the limit, so that an oversized job is reported as such. */
    if (sw_cli_input_init(&in, fileno(in_file), x.lim.max_bytes * 4) != 0) {
        fprintf(stderr, "segworker: out of memory\n");
        return SW_EXIT_USAGE;
    }
    if (sw_loop_init(&x.loop, cfg, reg, accounts, exec_emit, &x) != 0) {
        fprintf(stderr, "segworker: cannot set up the HTTP engine\n");
        sw_cli_input_free(&in);
        return SW_EXIT_USAGE;
    }
    while (!*stop) {
        struct curl_waitfd wfd = {in.fd, CURL_WAIT_POLLIN, 0};
        const char *text;
        size_t len;
        int got = 0, more;

        /* Take jobs while there is room, then turn the loop until a job ends or input comes. */
        while (x.running < cfg->max_in_flight && (got = sw_cli_input_next(&in, &text, &len)) > 0) {
            if (plan) {
                worse(&x.worst, plan_one(&x, reg, accounts, text, len, in.index));
            } else {
                exec_one(&x, text, len, in.index);
            }
        }
        more = got >= 0;
        if (!more && x.running == 0) {
            rc = x.worst;
            break;
        }
        if (plan || (more && x.running == 0)) {
            /* Nothing runs: wait for input alone. */
            if (sw_cli_input_fill(&in) < 0) {
                fprintf(stderr, "segworker: out of memory\n");
                break;
            }
            continue;
        }
        sw_loop_turn(&x.loop, more && x.running < cfg->max_in_flight ? &wfd : NULL,
                     more && x.running < cfg->max_in_flight ? 1 : 0, 1000);
        if (wfd.revents && sw_cli_input_fill(&in) < 0) {
            fprintf(stderr, "segworker: out of memory\n");
            break;
        }
    }
    if (*stop) {
        fprintf(stderr, "segworker: interrupted with %ld job(s) running\n", x.running);
        rc = SW_EXIT_FAILED;
    }
    sw_loop_free(&x.loop);
    sw_cli_input_free(&in);
    return rc;
}
