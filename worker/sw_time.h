/* Clocks and the time formats providers and results use (RFC 3339, ISO 8601, HTTP-date).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_TIME_H
#define SW_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds from CLOCK_MONOTONIC: for deadlines and timers. */
int64_t sw_now_mono_ms(void);
/* Microseconds from CLOCK_MONOTONIC: for measuring short intervals (loop turns). */
int64_t sw_now_mono_us(void);
/* Milliseconds since the Unix epoch: for timestamps in results. */
int64_t sw_now_wall_ms(void);
/* Microseconds since the Unix epoch: for the timing fields of results. */
int64_t sw_now_wall_us(void);

/* "2026-11-25T10:00:00Z" (ms == 0 part omitted unless with_ms). buf >= 32 bytes. */
void sw_time_format(int64_t epoch_ms, int with_ms, char *buf, size_t n);

/* Parse an ISO 8601 / RFC 3339 date-time with optional fraction and Z or ±hh:mm / ±hhmm offset,
 * or a bare date. Returns 0 and epoch milliseconds, -1 when malformed. */
int sw_time_parse(const char *s, int64_t *epoch_ms);

/* Parse an HTTP-date (RFC 9110 IMF-fixdate and the obsolete forms). Returns 0 on success. */
int sw_time_parse_http(const char *s, int64_t *epoch_ms);

#endif
