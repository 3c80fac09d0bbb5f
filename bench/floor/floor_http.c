/* Benchmark floor, HTTP half: the requests segworker makes for Klaviyo segments.get jobs, issued
 * with nothing but a curl multi loop (easy handles reused, bodies into one reused buffer each, no
 * parsing). What libcurl itself costs for one job.
 *
 *   floor_http BASE_URL API_KEY COUNT CONCURRENCY
 *
 * Makes CONCURRENCY warm-up requests, then COUNT measured ones, and prints one JSON line:
 * {"requests":N,"errors":E,"cpu_us":U,"wall_us":W} (CPU of this process, user + system).
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

/* The 25 segment ids segsim serves (tests/sim/README.md), cycled like the job generator does. */
static const char *const ids[] = {
    "AmOy43", "ED0lpI", "HdcZaX", "L4ENLm", "OUqB71", "RvRysG", "VM3mdV", "YmfaOk", "cDHO9z",
    "fdtBvE", "j4UzgT", "mV6nRi", "pvibCx", "tMKOyC", "wmwCjR", "0DY0Ug", "3e9oFv", "74lc1A",
    "AVNPmP", "DvzDXe", "HMb1It", "KnCp48", "ODocpN", "ReQQac", "V52ELr"};
#define NIDS (sizeof(ids) / sizeof(ids[0]))

struct slot {
    CURL *easy;
    char *buf;
    size_t len, cap;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct slot *s = ud;
    size_t k = size * n;

    if (s->len + k > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *nb;

        while (cap < s->len + k) {
            cap *= 2;
        }
        nb = realloc(s->buf, cap);
        if (!nb) {
            return 0;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    return k;
}

static long long cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static long long wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void start(CURLM *multi, struct slot *s, const char *base, long long seq)
{
    char url[512];

    snprintf(url, sizeof(url), "%s/api/segments/%s", base, ids[seq % (long long)NIDS]);
    s->len = 0;
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    curl_multi_add_handle(multi, s->easy);
}

int main(int argc, char **argv)
{
    struct curl_slist *hdrs = NULL;
    struct slot *slots = NULL;
    CURLM *multi = NULL;
    char auth[256];
    long long count, conc, warm, started = 0, done = 0, errors = 0;
    long long c0 = 0, w0 = 0;
    long long i;
    int rc = 1;

    if (argc != 5) {
        fprintf(stderr, "usage: floor_http BASE_URL API_KEY COUNT CONCURRENCY\n");
        return 2;
    }
    count = atoll(argv[3]);
    conc = atoll(argv[4]);
    if (count < 1 || conc < 1 || conc > 100000) {
        fprintf(stderr, "floor_http: bad COUNT or CONCURRENCY\n");
        return 2;
    }
    warm = conc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi = curl_multi_init();
    slots = calloc((size_t)conc, sizeof(*slots));
    if (!multi || !slots) {
        goto out;
    }
    /* The headers of the Klaviyo spec (tasks/klaviyo/klaviyo.json). */
    snprintf(auth, sizeof(auth), "Authorization: Klaviyo-API-Key %s", argv[2]);
    hdrs = curl_slist_append(hdrs, auth);
    hdrs = curl_slist_append(hdrs, "revision: 2025-04-15");
    hdrs = curl_slist_append(hdrs, "Accept: application/vnd.api+json");
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 256L);
    for (i = 0; i < conc; i++) {
        struct slot *s = &slots[i];

        s->easy = curl_easy_init();
        if (!s->easy) {
            goto out;
        }
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 30000L);
    }
    for (i = 0; i < conc && started < warm + count; i++) {
        start(multi, &slots[i], argv[1], started++);
    }
    while (done < warm + count) {
        int running = 0;
        int left = 0;
        CURLMsg *m;

        curl_multi_perform(multi, &running);
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            struct slot *s = NULL;
            long status = 0;

            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (m->data.result != CURLE_OK || status != 200) {
                errors++;
            }
            curl_multi_remove_handle(multi, s->easy);
            if (++done == warm) {
                c0 = cpu_us();
                w0 = wall_us();
                errors = 0;
            }
            if (started < warm + count) {
                start(multi, s, argv[1], started++);
            }
        }
        if (done < warm + count) {
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
    }
    printf("{\"requests\":%lld,\"errors\":%lld,\"cpu_us\":%lld,\"wall_us\":%lld}\n", count, errors,
           cpu_us() - c0, wall_us() - w0);
    rc = errors ? 1 : 0;
out:
    for (i = 0; slots && i < conc; i++) {
        if (slots[i].easy) {
            curl_multi_remove_handle(multi, slots[i].easy);
            curl_easy_cleanup(slots[i].easy);
        }
        free(slots[i].buf);
    }
    free(slots);
    curl_slist_free_all(hdrs);
    if (multi) {
        curl_multi_cleanup(multi);
    }
    curl_global_cleanup();
    return rc;
}
