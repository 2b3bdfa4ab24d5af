/* timestamp.c: ISO 8601 / epoch / RFC 822 conversions for the wire (see timestamp.h).
 *
 * Dates are proleptic Gregorian, computed with days-from-civil arithmetic rather than
 * timegm()/gmtime_r() so the result does not depend on the C library or the TZ variable.
 * Leap seconds are not represented (":60" is rejected), as in every AWS SDK. */
#include "timestamp.h"
#include "civil_time.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int s_is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_is_leap(y) ? 29 : days[m - 1];
}

/* reads exactly n decimal digits */
static int s_digits(const char *s, size_t len, size_t *pos, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*pos >= len || s[*pos] < '0' || s[*pos] > '9') return -1;
        v = v * 10 + (s[*pos] - '0');
        (*pos)++;
    }
    *out = v;
    return 0;
}

int dt_timestamp_parse(const char *s, size_t len, dt_timestamp *out) {
    size_t p = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, micros = 0;
    if (s_digits(s, len, &p, 4, &y) || p >= len || s[p++] != '-') return -1;
    if (s_digits(s, len, &p, 2, &mo) || p >= len || s[p++] != '-') return -1;
    if (s_digits(s, len, &p, 2, &d)) return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > s_days_in_month(y, mo)) return -1;
    int64_t offset_s = 0;
    if (p < len) {
        if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return -1;
        p++;
        if (s_digits(s, len, &p, 2, &h) || p >= len || s[p++] != ':') return -1;
        if (s_digits(s, len, &p, 2, &mi)) return -1;
        if (p < len && s[p] == ':') {
            p++;
            if (s_digits(s, len, &p, 2, &sec)) return -1;
            if (p < len && (s[p] == '.' || s[p] == ',')) {
                p++;
                size_t start = p;
                int scale = 100000;
                while (p < len && s[p] >= '0' && s[p] <= '9') {
                    micros += (s[p] - '0') * scale; /* digits past the 6th are dropped */
                    scale /= 10;
                    p++;
                }
                if (p == start || p - start > 9) return -1;
            }
        }
        if (h > 23 || mi > 59 || sec > 59) return -1;
        if (p < len) {
            if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == len) {
                p++;
            } else if (s[p] == '+' || s[p] == '-') {
                int sign = s[p++] == '-' ? -1 : 1, oh, om = 0;
                if (s_digits(s, len, &p, 2, &oh)) return -1;
                if (p < len && s[p] == ':') p++;
                if (p < len && s_digits(s, len, &p, 2, &om)) return -1;
                if (oh > 23 || om > 59) return -1;
                offset_s = sign * (int64_t)(oh * 3600 + om * 60);
            }
        }
    }
    if (p != len) return -1;
    int64_t t = dt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    if (t < DT_TIMESTAMP_MIN_SECONDS || t > DT_TIMESTAMP_MAX_SECONDS) return -1;
    out->seconds = t;
    out->micros = micros;
    return 0;
}

int dt_timestamp_from_epoch(double seconds, dt_timestamp *out) {
    if (!isfinite(seconds)) return -1;
    if (seconds < (double)DT_TIMESTAMP_MIN_SECONDS || seconds > (double)DT_TIMESTAMP_MAX_SECONDS)
        return -1;
    double whole = floor(seconds);
    double micros = nearbyint((seconds - whole) * 1e6);
    out->seconds = (int64_t)whole;
    out->micros = (int32_t)micros;
    if (out->micros >= 1000000) {
        out->seconds += 1;
        out->micros -= 1000000;
    }
    return 0;
}

static void s_split(const dt_timestamp *t, int *y, int *mo, int *d, int *h, int *mi, int *s,
                    int *wday) {
    int64_t days = t->seconds >= 0 ? t->seconds / 86400 : -((-t->seconds + 86399) / 86400);
    int64_t rem = t->seconds - days * 86400;
    dt_civil_from_days(days, y, mo, d);
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
    *wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

size_t dt_timestamp_format_iso8601(const dt_timestamp *t, char *out) {
    int y, mo, d, h, mi, s, wd;
    s_split(t, &y, &mo, &d, &h, &mi, &s, &wd);
    int n;
    if (t->micros)
        n = snprintf(out, DT_TIMESTAMP_BUF, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, mo, d, h, mi,
                     s, (int)t->micros);
    else
        n = snprintf(out, DT_TIMESTAMP_BUF, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
    return n > 0 ? (size_t)n : 0;
}

size_t dt_timestamp_format_rfc822(const dt_timestamp *t, char *out) {
    static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, mo, d, h, mi, s, wd;
    s_split(t, &y, &mo, &d, &h, &mi, &s, &wd);
    int n = snprintf(out, DT_TIMESTAMP_BUF, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[wd], d,
                     months[mo - 1], y, h, mi, s);
    return n > 0 ? (size_t)n : 0;
}

size_t dt_timestamp_format_epoch(const dt_timestamp *t, char *out) {
    int millis = (t->micros + 500) / 1000;
    int64_t secs = t->seconds;
    if (millis >= 1000) {
        secs++;
        millis -= 1000;
    }
    int n;
    if (millis == 0) {
        n = snprintf(out, DT_TIMESTAMP_BUF, "%lld", (long long)secs);
    } else {
        /* negative times with a fraction: print as a signed decimal of the real value */
        if (secs < 0) {
            long long whole = (long long)secs + 1;
            int frac = 1000 - millis;
            n = snprintf(out, DT_TIMESTAMP_BUF, "%s%lld.%03d", whole == 0 ? "-" : "", whole, frac);
        } else {
            n = snprintf(out, DT_TIMESTAMP_BUF, "%lld.%03d", (long long)secs, millis);
        }
        while (n > 0 && out[n - 1] == '0')
            out[--n] = '\0';
    }
    return n > 0 ? (size_t)n : 0;
}
