/* A tiny test harness: TEST() functions listed in TEST_LIST, CHECK() that records failures with
 * file:line and continues, and a main that runs all (or the one named in argv[1]) and prints the
 * "N passed, N failed" closing line.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_TEST_H
#define SW_TEST_H

#include <stdio.h>
#include <string.h>

struct sw_test_case {
    const char *name;
    void (*fn)(void);
};

static int sw_test_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            sw_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sw_a_ = (a);                                                                   \
        const char *sw_b_ = (b);                                                                   \
        if (!sw_a_ || !sw_b_ || strcmp(sw_a_, sw_b_)) {                                            \
            sw_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", expected \"%s\"\n", __FILE__,  \
                    __LINE__, #a, sw_a_ ? sw_a_ : "(null)", sw_b_ ? sw_b_ : "(null)");             \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long sw_a_ = (long long)(a);                                                          \
        long long sw_b_ = (long long)(b);                                                          \
        if (sw_a_ != sw_b_) {                                                                      \
            sw_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %lld, expected %lld\n", __FILE__,      \
                    __LINE__, #a, sw_a_, sw_b_);                                                   \
        }                                                                                          \
    } while (0)

/* Run every test (or only the one named `only`), print the closing line, return the exit code. */
static inline int sw_test_run(const struct sw_test_case *list, const char *only)
{
    int passed = 0, failed = 0, i;

    for (i = 0; list[i].name; i++) {
        int before = sw_test_failures;

        if (only && strcmp(only, list[i].name)) {
            continue;
        }
        list[i].fn();
        if (sw_test_failures == before) {
            passed++;
            printf("ok   %s\n", list[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", list[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed || !passed ? 1 : 0;
}

#define TEST_MAIN(list)                                                                            \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        return sw_test_run(list, argc > 1 ? argv[1] : NULL);                                       \
    }

#endif
