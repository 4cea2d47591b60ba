/* core/csv.c — the one writer of CSV cells (base layer, see core/base.h): every CSV
 * file moni writes by the row (ground_truth.csv, the detectors' evaluation, the
 * study's tables) quotes and separates its cells here, so they all agree on RFC 4180.
 * It never buffers: cells go straight to the caller's FILE. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "core/base.h"

static void sep(struct moni_csv_row *r)
{
    if (r->cells++)
        fputc(',', r->f);
}

void moni_csv_text(struct moni_csv_row *r, const char *s)
{
    sep(r);
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, r->f);
        return;
    }
    fputc('"', r->f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', r->f);
        fputc(*s, r->f);
    }
    fputc('"', r->f);
}

void moni_csv_fmt(struct moni_csv_row *r, const char *fmt, ...)
{
    sep(r);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->f, fmt, ap);
    va_end(ap);
}

void moni_csv_num(struct moni_csv_row *r, const char *fmt, double v)
{
    sep(r);
    if (isfinite(v))
        fprintf(r->f, fmt, v);
}

void moni_csv_end(struct moni_csv_row *r)
{
    fputc('\n', r->f);
    r->cells = 0;
}
