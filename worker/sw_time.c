/* Clocks and time formats (see sw_time.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_time.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t sw_now_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sw_now_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sw_now_wall_ms(void)
{
    return sw_now_wall_us() / 1000;
}

int64_t sw_now_wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void put_digits(char *p, unsigned v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Years 0000-9999 without gmtime_r and snprintf: this runs several times per job (result
 * timestamps, every provider date), and glibc's gmtime_r takes the time zone lock and reads TZ
 * each time. Civil-from-days is Howard Hinnant's algorithm (days_from_civil below inverted). */
static int format_fast(int64_t epoch_ms, int with_ms, char *buf, size_t n)
{
    int64_t secs = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
    int ms = (int)(epoch_ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    size_t len = with_ms && ms ? 24 : 20;

    y += m <= 2;
    if (y < 0 || y > 9999 || n < len + 1) {
        return -1;
    }
    memcpy(buf, "0000-00-00T00:00:00", 19);
    put_digits(buf, (unsigned)y, 4);
    put_digits(buf + 5, m, 2);
    put_digits(buf + 8, d, 2);
    put_digits(buf + 11, (unsigned)(sod / 3600), 2);
    put_digits(buf + 14, (unsigned)(sod / 60 % 60), 2);
    put_digits(buf + 17, (unsigned)(sod % 60), 2);
    if (len == 24) {
        buf[19] = '.';
        put_digits(buf + 20, (unsigned)ms, 3);
    }
    buf[len - 1] = 'Z';
    buf[len] = '\0';
    return 0;
}

void sw_time_format(int64_t epoch_ms, int with_ms, char *buf, size_t n)
{
    time_t secs = (time_t)(epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000);
    int ms = (int)(epoch_ms - (int64_t)secs * 1000);
    struct tm tm;

    if (format_fast(epoch_ms, with_ms, buf, n) == 0) {
        return;
    }
    memset(&tm, 0, sizeof(tm));
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, n, "1970-01-01T00:00:00Z"); /* out of range: callers bound their inputs */
        return;
    }
    if (with_ms && ms) {
        snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    } else {
        snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's method),
 * so we never depend on the process time zone the way mktime() does. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return -1;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int sw_time_parse(const char *s, int64_t *epoch_ms)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, oh = 0, om = 0, sign = 0;
    int64_t t;

    if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d)) {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31) {
        return -1;
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) {
            return -1;
        }
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec)) {
                return -1;
            }
        }
        if (*p == '.' || *p == ',') {
            int scale = 100;

            p++;
            if (!isdigit((unsigned char)*p)) {
                return -1;
            }
            while (isdigit((unsigned char)*p)) {
                ms += (*p - '0') * scale;
                scale /= 10;
                p++;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p == '+' ? 1 : -1;
            p++;
            if (digits(&p, 2, &oh)) {
                return -1;
            }
            if (*p == ':') {
                p++;
            }
            if (*p && digits(&p, 2, &om)) {
                return -1;
            }
        }
        /* A time without zone is read as UTC: providers that omit it document UTC. */
    }
    if (*p != '\0' || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59) {
        return -1;
    }
    t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= (int64_t)sign * (oh * 3600 + om * 60);
    *epoch_ms = t * 1000 + ms;
    return 0;
}

int sw_time_parse_http(const char *s, int64_t *epoch_ms)
{
    time_t t;

    if (!s || !*s) {
        return -1;
    }
    /* curl_getdate understands RFC 1123, RFC 850 and asctime forms, always as UTC. */
    t = curl_getdate(s, NULL);
    /* Years past 9999 (or before 1970) are no usable wait, and t * 1000 could overflow. */
    if (t == (time_t)-1 || t < 0 || t > (time_t)253402300799LL) {
        return -1;
    }
    *epoch_ms = (int64_t)t * 1000;
    return 0;
}
