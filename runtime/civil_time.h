/* civil_time.h: days since 1970-01-01 of a proleptic Gregorian date, and back.
 *
 * Shared by the SigV4 date stamps and the wire timestamp conversions so that neither
 * depends on timegm()/gmtime_r(), the C library or the TZ variable. It does no range or
 * validity checks (callers check month and day first) and knows nothing of times of day. */
#ifndef DT_CIVIL_TIME_H
#define DT_CIVIL_TIME_H

#include <stdint.h>

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31); negative before 1970. */
int64_t dt_days_from_civil(int64_t y, int m, int d);

/* The date `days` days after 1970-01-01 (negative: before). */
void dt_civil_from_days(int64_t days, int *y, int *m, int *d);

#endif
