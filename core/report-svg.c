/* core/report-svg.c — the reports' HTML page and SVG figures, written by hand: the
 * fault propagation path, the key metrics over time and grouped MTTD bars.  Every
 * label is a <text> element (so it is in the page's text and a test can find it);
 * details are in <title> elements (a tooltip without JavaScript). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/report.h"

#define FIG_W 1100
#define FIG_L 190 /* left margin: row and axis labels */
#define FIG_R 40

#define C_INJECT "#c0392b"
#define C_ERROR "#e67e22"
#define C_DETECT "#2471a3"
#define C_GRID "#d5d8dc"
#define C_TEXT "#1c2833"

void report_html_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, out);
        }
    }
}

void report_html_begin(FILE *out, const char *title)
{
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    report_html_text(out, title);
    fprintf(out, "</title>\n<style>\n"
                 "body{font-family:sans-serif;color:" C_TEXT ";margin:24px;max-width:1150px}\n"
                 "svg{background:#fff;border:1px solid " C_GRID ";margin:8px 0 24px}\n"
                 "svg text{font-family:sans-serif;font-size:12px;fill:" C_TEXT "}\n"
                 "table{border-collapse:collapse;margin:8px 0 24px;font-size:12px}\n"
                 "td,th{border:1px solid " C_GRID ";padding:3px 8px;text-align:right}\n"
                 "th{background:#f2f3f4}\n"
                 "</style>\n</head>\n<body>\n<h1>");
    report_html_text(out, title);
    fprintf(out, "</h1>\n");
}

void report_html_end(FILE *out)
{
    fprintf(out, "<p><small>Written by moni; no network and no script needed.</small></p>\n"
                 "</body>\n</html>\n");
}

/* ---- axes ------------------------------------------------------------------------- */

/* A round tick step giving about `want` ticks over span. */
static double nice_step(double span, int want)
{
    double raw = span / want, mag = pow(10, floor(log10(raw > 0 ? raw : 1)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

struct xscale {
    double span;
    int w;
};

static double xpos(const struct xscale *s, double t)
{
    if (t < 0)
        t = 0;
    if (t > s->span)
        t = s->span;
    return FIG_L + t / s->span * (s->w - FIG_L - FIG_R);
}

/* Vertical grid lines and tick labels at the bottom (y0..y1), "time since start". */
static void time_axis(FILE *out, const struct xscale *s, int y0, int y1)
{
    double step = nice_step(s->span, 10);
    for (double t = 0; t <= s->span + 1e-9; t += step) {
        double x = xpos(s, t);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"" C_GRID "\"/>\n",
                x, y0, x, y1);
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x, y1 + 15, t);
    }
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since the first sample (s), as the replay clock shows it</text>\n",
            (FIG_L + s->w - FIG_R) / 2, y1 + 32);
}

static void vline(FILE *out, double x, int y0, int y1, const char *color, const char *title)
{
    fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\" "
                 "stroke-dasharray=\"6,4\"><title>",
            x, y0, x, y1, color);
    report_html_text(out, title);
    fprintf(out, "</title></line>\n");
}

static void text_at(FILE *out, double x, double y, const char *anchor, const char *color,
                    const char *s)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" style=\"fill:%s\">", x, y, anchor,
            color);
    report_html_text(out, s);
    fprintf(out, "</text>\n");
}

/* Anchor a label so that it stays inside the figure. */
static const char *anchor_for(double x, int w)
{
    return x > w - 260 ? "end" : "start";
}

/* ---- figure 1: the fault propagation path ------------------------------------------ */

#define ROW_H 36
#define PATH_TOP 56

static double row_y(size_t row)
{
    return PATH_TOP + ROW_H * (double)row + ROW_H / 2.0;
}

struct pt {
    double t, x, y;
};

static void path_links(FILE *out, const struct report_run *r, const struct xscale *s)
{
    /* injection -> each component's first error, in time order: the path the fault
     * took, as far as the logs show it */
    struct pt p[REPORT_MAX_COMP + 1];
    size_t n = 0;
    const struct report_mark *in = &r->inject[0];
    p[n++] = (struct pt){in->t, xpos(s, in->t), in->comp >= 0 ? row_y((size_t)in->comp) : PATH_TOP};
    for (size_t i = 0; i < r->ncomp; i++)
        if (r->first_error[i].t >= 0)
            p[n++] = (struct pt){r->first_error[i].t, xpos(s, r->first_error[i].t), row_y(i)};
    for (size_t i = 2; i < n; i++) /* insertion sort by time; p[0] stays first */
        for (size_t k = i; k > 1 && p[k].t < p[k - 1].t; k--) {
            struct pt tmp = p[k];
            p[k] = p[k - 1];
            p[k - 1] = tmp;
        }
    for (size_t i = 1; i < n; i++)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#7f8c8d\" "
                     "stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>\n",
                p[i - 1].x, p[i - 1].y, p[i].x, p[i].y);
}

void report_fig_path(FILE *out, const struct report_run *r, bool blind)
{
    struct xscale s = {r->span_s > 0 ? r->span_s : 1, FIG_W};
    size_t rows = r->ncomp + 1; /* the components, then the detectors */
    /* room below the detectors' row for their labels (three staggered lines) */
    int bottom = PATH_TOP + (int)rows * ROW_H + 36, h = bottom + 70;
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"fault propagation path\">\n",
            FIG_W, h, FIG_W, h);
    fprintf(out, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
                 "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" "
                 "fill=\"#7f8c8d\"/></marker></defs>\n");
    fprintf(out, "<text x=\"10\" y=\"20\" style=\"font-weight:bold\">Fault propagation path</text>\n");
    time_axis(out, &s, PATH_TOP, bottom);
    for (size_t i = 0; i < rows; i++) {
        double y = row_y(i);
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>\n",
                FIG_L, y, FIG_W - FIG_R, y);
        text_at(out, FIG_L - 8, y + 4, "end", C_TEXT, i < r->ncomp ? r->comp[i] : "detectors");
    }
    if (!blind && r->ninject)
        path_links(out, r, &s);
    for (size_t i = 0; !blind && i < r->ninject; i++) {
        const struct report_mark *m = &r->inject[i];
        double x = xpos(&s, m->t);
        char lab[200];
        snprintf(lab, sizeof lab, "injection: %s at %.1f s", m->label, m->t);
        vline(out, x, PATH_TOP - 8, bottom, C_INJECT, lab);
        text_at(out, x + (strcmp(anchor_for(x, FIG_W), "end") ? 4 : -4), PATH_TOP - 14 - 14.0 * (double)(i % 2),
                anchor_for(x, FIG_W), C_INJECT, lab);
        if (m->comp >= 0)
            fprintf(out, "<path d=\"M%.1f,%.1fl-8,-12h16z\" fill=\"" C_INJECT "\"/>\n", x,
                    row_y((size_t)m->comp) - 2);
    }
    for (size_t i = 0; i < r->ncomp; i++) {
        const struct report_mark *m = &r->first_error[i];
        if (m->t < 0)
            continue;
        double x = xpos(&s, m->t), y = row_y(i);
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"" C_ERROR "\"><title>", x, y);
        report_html_text(out, m->label);
        fprintf(out, "</title></circle>\n");
        char lab[64];
        snprintf(lab, sizeof lab, "first error %.1f s", m->t);
        bool end = !strcmp(anchor_for(x, FIG_W), "end");
        text_at(out, x + (end ? -10 : 10), y - 6, end ? "end" : "start", C_ERROR, lab);
    }
    /* detections: every one as a diamond, the first of each detector labelled */
    double dy = row_y(r->ncomp);
    for (size_t i = 0; i < r->ndets; i++) {
        const struct report_mark *m = &r->dets[i];
        double x = xpos(&s, m->t);
        fprintf(out, "<path d=\"M%.1f,%.1fl6,6l-6,6l-6,-6z\" fill=\"" C_DETECT "\"><title>", x, dy - 6);
        report_html_text(out, m->label);
        fprintf(out, "</title></path>\n");
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = !strcmp(r->dets[k].label, m->label);
        if (seen)
            continue;
        char lab[160];
        snprintf(lab, sizeof lab, "detection %s at %.1f s", m->label, m->t);
        bool end = !strcmp(anchor_for(x, FIG_W), "end");
        text_at(out, x + (end ? -9 : 9), dy + 16 + 13.0 * (double)(i % 3), end ? "end" : "start",
                C_DETECT, lab);
    }
    int ly = h - 12;
    if (!blind)
        text_at(out, FIG_L, ly, "start", C_INJECT, "▼ injection (truth)");
    text_at(out, FIG_L + 170, ly, "start", C_ERROR, "● first error in a component's log");
    text_at(out, FIG_L + 430, ly, "start", C_DETECT, "◆ detection (the machine)");
    if (!r->ndets && !isfinite(report_first_error(r)))
        text_at(out, FIG_L + 650, ly, "start", C_TEXT, "no error and no detection in this run");
    fprintf(out, "</svg>\n");
}

/* ---- figure 2: key metrics over time --------------------------------------------------- */

#define PANEL_H 110
#define PANEL_GAP 26
#define MET_TOP 80

/* The panels in the order people read them. */
static const char *const metric_order[] = {
    "loss", "throughput /s", "workload CPU %", "workload memory MiB", "CPU pressure PSI %",
    "memory pressure PSI %",
};

static void panel(FILE *out, const struct xscale *s, const struct report_series *se, int y0)
{
    double lo = se->v[0], hi = se->v[0];
    for (size_t i = 1; i < se->n; i++) {
        lo = se->v[i] < lo ? se->v[i] : lo;
        hi = se->v[i] > hi ? se->v[i] : hi;
    }
    if (hi - lo < 1e-12) {
        hi += 1;
        lo -= lo >= 1 ? 1 : lo;
    }
    fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"" C_GRID "\"/>\n",
            FIG_L, y0, s->w - FIG_L - FIG_R, PANEL_H);
    text_at(out, FIG_L - 8, y0 + PANEL_H / 2.0 + 4, "end", C_TEXT, se->name);
    char v[32];
    snprintf(v, sizeof v, "%.4g", hi);
    text_at(out, FIG_L - 8, y0 + 10, "end", "#7f8c8d", v);
    snprintf(v, sizeof v, "%.4g", lo);
    text_at(out, FIG_L - 8, y0 + PANEL_H, "end", "#7f8c8d", v);
    size_t stride = se->n > 1500 ? se->n / 1500 + 1 : 1;
    fprintf(out, "<polyline fill=\"none\" stroke=\"#2c3e50\" stroke-width=\"1.3\" points=\"");
    for (size_t i = 0; i < se->n; i += stride)
        fprintf(out, "%.1f,%.1f ", xpos(s, se->t[i]),
                y0 + PANEL_H - 4 - (se->v[i] - lo) / (hi - lo) * (PANEL_H - 8));
    fprintf(out, "\"><title>");
    report_html_text(out, se->name);
    fprintf(out, "</title></polyline>\n");
    if (se->n == 1)
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%d\" r=\"3\"/>\n", xpos(s, se->t[0]), y0 + PANEL_H / 2);
}

/* The marks above the panels: injection, first error log and the gap between them. */
static void metric_marks(FILE *out, const struct report_run *r, const struct xscale *s, bool blind,
                         int bottom)
{
    double err = report_first_error(r);
    bool inj = !blind && r->ninject;
    double ti = inj ? r->inject[0].t : NAN;
    char lab[200];
    if (inj) {
        double x = xpos(s, ti);
        snprintf(lab, sizeof lab, "injection %.1f s", ti);
        vline(out, x, MET_TOP - 12, bottom, C_INJECT, r->inject[0].label);
        text_at(out, x - 4, MET_TOP - 40, "end", C_INJECT, lab);
    }
    if (isfinite(err)) {
        double x = xpos(s, err);
        snprintf(lab, sizeof lab, "first error log %.1f s", err);
        vline(out, x, MET_TOP - 12, bottom, C_ERROR, lab);
        text_at(out, x + 4, MET_TOP - 40, "start", C_ERROR, lab);
    } else {
        text_at(out, FIG_W - FIG_R, MET_TOP - 40, "end", C_ERROR, "no error in the logs");
    }
    if (inj && isfinite(err)) {
        double x0 = xpos(s, ti), x1 = xpos(s, err), y = MET_TOP - 20;
        fprintf(out, "<path d=\"M%.1f,%.1fv-6M%.1f,%.1fv-6M%.1f,%.1fH%.1f\" stroke=\"" C_TEXT "\" "
                     "stroke-width=\"1.5\" fill=\"none\"/>\n",
                x0, y + 3, x1, y + 3, x0, y, x1);
        snprintf(lab, sizeof lab, "gap %.1f s from the injection to the first error log", err - ti);
        double mid = (x0 + x1) / 2;
        const char *anchor = mid > FIG_W - 300 ? "end" : mid < FIG_L + 200 ? "start" : "middle";
        text_at(out, mid, y - 6, anchor, C_TEXT, lab);
    }
}

void report_fig_metrics(FILE *out, const struct report_run *r, bool blind)
{
    struct xscale s = {r->span_s > 0 ? r->span_s : 1, FIG_W};
    const struct report_series *show[REPORT_MAX_SERIES];
    size_t n = 0;
    for (size_t k = 0; k < MONI_ARRAY_LEN(metric_order); k++)
        for (size_t i = 0; i < r->nseries; i++)
            if (!strcmp(r->series[i].name, metric_order[k]) && r->series[i].n && n < REPORT_MAX_SERIES)
                show[n++] = &r->series[i];
    int bottom = MET_TOP + (int)(n ? n : 1) * (PANEL_H + PANEL_GAP) - PANEL_GAP, h = bottom + 50;
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"key metrics over time\">\n",
            FIG_W, h, FIG_W, h);
    fprintf(out, "<text x=\"10\" y=\"20\" style=\"font-weight:bold\">Key metrics over time</text>\n");
    time_axis(out, &s, MET_TOP, bottom);
    for (size_t i = 0; i < n; i++)
        panel(out, &s, show[i], MET_TOP + (int)i * (PANEL_H + PANEL_GAP));
    if (!n)
        text_at(out, FIG_L + 10, MET_TOP + 40, "start", C_TEXT, "no metrics recorded");
    metric_marks(out, r, &s, blind, bottom);
    fprintf(out, "</svg>\n");
}

/* ---- grouped bars: MTTD by scenario ------------------------------------------------------ */

static const char *const bar_colors[] = {"#5dade2", "#1f618d", "#a569bd", "#48c9b0", "#f5b041"};

void report_fig_bars(FILE *out, const struct report_bars *b)
{
    const int bar_h = 16, group_gap = 18, top = 60;
    double max = 0;
    for (size_t i = 0; i < b->ngroups * b->nseries; i++) {
        if (isfinite(b->p90[i]) && b->p90[i] > max)
            max = b->p90[i];
        if (isfinite(b->median[i]) && b->median[i] > max)
            max = b->median[i];
    }
    if (max <= 0)
        max = 1;
    struct xscale s = {max * 1.15, FIG_W};
    int gh = (int)b->nseries * bar_h + group_gap;
    int bottom = top + (int)b->ngroups * gh, h = bottom + 50 + 18 * (int)b->nseries;
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            FIG_W, h, FIG_W, h);
    report_html_text(out, b->title);
    fprintf(out, "\">\n<text x=\"10\" y=\"20\" style=\"font-weight:bold\">");
    report_html_text(out, b->title);
    fprintf(out, "</text>\n");
    double step = nice_step(s.span, 8);
    for (double v = 0; v <= s.span + 1e-9; v += step) {
        double x = xpos(&s, v);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"" C_GRID "\"/>\n", x,
                top - 6, x, bottom);
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x, bottom + 15, v);
    }
    char lab[160];
    snprintf(lab, sizeof lab, "%s (bar: median, whisker: p90)", b->unit);
    text_at(out, (FIG_L + FIG_W - FIG_R) / 2.0, bottom + 32, "middle", C_TEXT, lab);
    for (size_t g = 0; g < b->ngroups; g++) {
        int gy = top + (int)g * gh;
        text_at(out, FIG_L - 8, gy + gh / 2.0 - group_gap / 2.0 + 4, "end", C_TEXT, b->groups[g]);
        for (size_t k = 0; k < b->nseries; k++) {
            double med = b->median[g * b->nseries + k], p90 = b->p90[g * b->nseries + k];
            int y = gy + (int)k * bar_h;
            const char *col = bar_colors[k % MONI_ARRAY_LEN(bar_colors)];
            if (!isfinite(med)) {
                bool none = b->attempts && !b->attempts[g * b->nseries + k];
                snprintf(lab, sizeof lab, "%s: %s", b->series[k], none ? "no attempts" : "not detected");
                text_at(out, FIG_L + 4, y + bar_h - 4, "start", "#7f8c8d", lab);
                continue;
            }
            double x1 = xpos(&s, med);
            fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
                    FIG_L, y + 1, x1 - FIG_L, bar_h - 2, col);
            snprintf(lab, sizeof lab, "%s %s: median %.1f, p90 %.1f", b->groups[g], b->series[k], med, p90);
            report_html_text(out, lab);
            fprintf(out, "</title></rect>\n");
            double xe = x1;
            if (isfinite(p90) && p90 > med) {
                xe = xpos(&s, p90);
                fprintf(out, "<path d=\"M%.1f,%.1fH%.1fM%.1f,%dv%d\" stroke=\"" C_TEXT "\" fill=\"none\"/>\n",
                        x1, y + bar_h / 2.0, xe, xe, y + 3, bar_h - 6);
            }
            snprintf(lab, sizeof lab, "%s %.1f", b->series[k], med);
            text_at(out, xe + 5, y + bar_h - 4, "start", C_TEXT, lab);
        }
    }
    for (size_t k = 0; k < b->nseries; k++) {
        int y = bottom + 44 + 18 * (int)k;
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\"/>\n", FIG_L, y - 10,
                bar_colors[k % MONI_ARRAY_LEN(bar_colors)]);
        text_at(out, FIG_L + 20, y, "start", C_TEXT, b->series[k]);
    }
    fprintf(out, "</svg>\n");
}
