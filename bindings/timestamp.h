/* timestamp.h: reading and writing the timestamp forms AWS protocols use on the wire.
 *
 * Parameters arrive as ISO 8601 strings or epoch seconds and leave in the format the
 * model asks for (iso8601, unixTimestamp or rfc822). This is plain C arithmetic on UTC
 * seconds: no time zones beyond explicit offsets, no locale, no clock. It does not
 * decide which format a member uses; the serializers do. */
#ifndef DT_TIMESTAMP_H
#define DT_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

typedef struct dt_timestamp {
    int64_t seconds; /* since 1970-01-01T00:00:00Z */
    int32_t micros;  /* 0..999999; botocore's precision, which we match on the wire */
} dt_timestamp;

/* Years 1..9999 only: what every format below can carry. */
#define DT_TIMESTAMP_MIN_SECONDS (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define DT_TIMESTAMP_MAX_SECONDS 253402300799LL   /* 9999-12-31T23:59:59Z */

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fraction]]" with 'T', 't' or ' ' between date
 * and time, followed by nothing (UTC), "Z" or an offset "+HH:MM" / "+HHMM" / "+HH".
 * Returns 0 on success, -1 when s is not such a timestamp or is out of range. */
int dt_timestamp_parse(const char *s, size_t len, dt_timestamp *out);

/* Epoch seconds (may carry a fraction). Returns -1 for NaN, infinities and out of range. */
int dt_timestamp_from_epoch(double seconds, dt_timestamp *out);

/* Writes botocore's ISO 8601 form: "YYYY-MM-DDTHH:MM:SSZ", or with ".ffffff" before the Z
 * when the microseconds are not zero. out needs DT_TIMESTAMP_BUF bytes. Returns the length. */
#define DT_TIMESTAMP_BUF 40
size_t dt_timestamp_format_iso8601(const dt_timestamp *t, char *out);

/* RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (the rfc822 format of the models). */
size_t dt_timestamp_format_rfc822(const dt_timestamp *t, char *out);

/* Epoch seconds as a JSON/query number: an integer when there is no fraction, else with the
 * fraction to millisecond precision and trailing zeros dropped ("1700000000.25"). */
size_t dt_timestamp_format_epoch(const dt_timestamp *t, char *out);

#endif
