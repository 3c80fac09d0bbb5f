/* The integration-test kit every test under tests/it is written with: this header is its base
 * (deadlines, the test's arguments, files, loopback HTTP) and brings in the rest — child
 * processes (kit_proc.h), the simulator and account stores (kit_sim.h), the worker
 * (kit_worker.h), Kafka (kit_kafka.h), collecting results (kit_tally.h) and steady-load runs
 * (kit_load.h). Every wait has a deadline; a timeout passed to a kit function is in real
 * milliseconds, so callers scale it with kit_deadline_ms().
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_H
#define SW_KIT_H

#include <stddef.h>
#include <stdint.h>

/* Multiplies every deadline (SW_TEST_TIMEOUT_MULT), so sanitizer or valgrind runs do not flake. */
int64_t kit_deadline_ms(int64_t ms);
/* Monotonic milliseconds, for deadlines and durations. */
int64_t kit_now_ms(void);
/* Wall-clock epoch milliseconds, to compare with the times the worker writes. */
int64_t kit_wall_ms(void);
/* SW_TEST_SCALE_DIV (e.g. 10 under sanitizers): what the largest tests divide their work by;
 * 1 when unset. */
int kit_scale_div(void);
/* Sleep: between polls of a condition and for pacing load, never in place of a condition. */
void kit_nap_ms(long ms);
/* "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (what the worker writes) as epoch ms; -1 when it is not one. */
int64_t kit_parse_time_ms(const char *rfc3339);
/* An epoch ms as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void kit_format_time(int64_t epoch_ms, char *buf, size_t n);

/* The paths every integration test is given by ctest (see sw_it_test in tests/CMakeLists.txt),
 * and the shared test broker when there is one. */
struct kit_args {
    const char *worker;    /* segworker binary */
    const char *sim;       /* segsim binary */
    const char *validator; /* tests/tools/validate_json.py */
    const char *schemas;   /* schemas/ */
    const char *work;      /* a scratch directory of this test */
    char bootstrap[256];   /* SW_TEST_BOOTSTRAP, or SW_TEST_KAFKA_DIR/bootstrap; "" when none */
};

/* Fill *a from argv; prints the usage of `name` and returns -1 when the count is wrong. */
int kit_parse_args(int argc, char **argv, const char *name, struct kit_args *a);
/* The main of a test program: the arguments into args (a struct kit_args), then the cases of
 * tests (sw_test.h; SW_TEST_ONLY=name runs one). Expanded in the test's file, whose failure
 * count sw_test_run reads. */
#define KIT_TEST_MAIN(name, args, tests)                                                           \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (kit_parse_args(argc, argv, name, &(args)) != 0) {                                      \
            return 2;                                                                              \
        }                                                                                          \
        return sw_test_run(tests, getenv("SW_TEST_ONLY"));                                         \
    }

/* The bootstrap servers written by tests/kafka/kafka.sh into dir/bootstrap; 0 when read. */
int kit_read_bootstrap(const char *dir, char *buf, size_t n);

/* dir/name into buf; returns buf. */
char *kit_path(char *buf, size_t n, const char *dir, const char *name);
/* The whole file, NUL-terminated (caller frees); NULL when it cannot be read. */
char *kit_read_file(const char *path, size_t *len);
/* Write text through a temporary file and a rename, so a reader never sees half of it. */
int kit_write_file(const char *path, const char *text);
/* 1 when the file contains needle, 0 when not or unreadable. */
int kit_file_contains(const char *path, const char *needle);
/* Wait until the file contains needle; 0 when it does, -1 at the deadline (printed). */
int kit_wait_file_contains(const char *path, const char *needle, int64_t timeout_ms);
/* Newlines in the file (0 when unreadable). */
int kit_file_lines(const char *path);
/* 1 when some line of the file contains every needle (NULL-terminated list). */
int kit_file_line_with(const char *path, const char *const *needles);
/* Paths of files containing any of the secrets (NULL-terminated lists) are printed; returns how
 * many files had one (an unreadable file counts: it cannot be declared clean). */
int kit_scan_secrets(const char *const *files, const char *const *secrets);
/* Run the JSON Schema validator on an NDJSON file against schemas/<schema>; its exit status. */
int kit_validate(const struct kit_args *a, const char *schema, const char *ndjson);

/* method http://127.0.0.1:port/path (no request body) into buf, the body only, NUL-terminated;
 * returns the HTTP status or -1. */
int kit_http(int port, const char *method, const char *path, char *buf, size_t n);
int kit_http_get(int port, const char *path, char *buf, size_t n);
/* GET path until it answers want_status or the deadline; returns the last status (-1: none). */
int kit_http_wait_status(int port, const char *path, int want_status, char *buf, size_t n,
                         int64_t timeout_ms);

#include "kit_proc.h"
#include "kit_kafka.h"
#include "kit_tally.h"
#include "kit_sim.h"
#include "kit_worker.h"
#include "kit_load.h"

#endif
