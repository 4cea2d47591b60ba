/* core/sre.c — plugs the Prometheus exporter and the alert engine into a session
 * through its public on_sample hook, so `moni record`, `moni run` and the console
 * get the same behaviour from one call. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "faults/faults.h"
#include "logparse/logparse.h"

struct sre {
    struct session *s;
    struct exporter *ex;
    struct alerts *al;
    int journal_fd;
    bool journal_tried;
    sre_fill_cb fill;
    void *fill_arg;
    /* sre_set_sources: the parser and injector of a runner */
    const struct lp_parser *parser;
    const struct injector *inj;
    struct moni_train_metric train[LP_NMETRICS + 2];
    const struct detect *det;
    struct moni_detection_count dets[32];
    struct moni_event_count events[LP_NLABELS + 1];
    struct moni_fault_state *faults;
    struct fault_info *finfo;
    size_t fcap;
};

/* Counts by detector, and the two training-like series alert rules may use. */
static void fill_detections(struct sre *sre, struct exporter_extra *x, size_t ntrain)
{
    const struct detection *d;
    size_t n = detect_list(sre->det, &d), nd = 0;
    double ttf = INFINITY;
    int64_t now = moni_now().real_ns, upd = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < nd && strcmp(sre->dets[k].detector, d[i].detector))
            k++;
        if (k == nd && nd < MONI_ARRAY_LEN(sre->dets))
            sre->dets[nd++] = (struct moni_detection_count){d[i].detector, d[i].label, 0};
        if (k < nd)
            sre->dets[k].count++;
        upd = d[i].mono_ns;
        /* a prediction stays pending until a minute past its time */
        double left = d[i].ttf_s - (double)(now - d[i].real_ns) / 1e9;
        if (isfinite(d[i].ttf_s) && left > -60 && left < ttf)
            ttf = left > 0 ? left : 0;
    }
    x->detections = sre->dets;
    x->ndetections = nd;
    sre->train[ntrain++] = (struct moni_train_metric){"detections", (double)n, upd};
    if (isfinite(ttf))
        sre->train[ntrain++] = (struct moni_train_metric){"time_to_failure_s", ttf, upd};
    x->train = sre->train;
    x->ntrain = ntrain;
}

/* ---- training metrics, events and faults from a runner's parser and injector ---------- */
static void fill_from_sources(struct sre *sre, struct exporter_extra *x)
{
    if (sre->parser) {
        const struct lp_state *st = lp_parser_state(sre->parser);
        size_t n = 0;
        for (int m = 0; m < LP_NMETRICS; m++)
            if (st->valid[m])
                sre->train[n++] = (struct moni_train_metric){
                    .name = m == LP_M_SAMPLES_PER_S ? "throughput" : lp_metric_name((enum lp_metric)m),
                    .value = st->val[m],
                    .updated_mono_ns = st->updated_ns[m]};
        x->train = sre->train;
        x->ntrain = n;
        n = 0;
        for (int l = 0; l < LP_NLABELS; l++)
            if (st->events_by_label[l])
                sre->events[n++] = (struct moni_event_count){lp_label_name((enum lp_label)l),
                                                             st->events_by_label[l]};
        if (st->unclassified)
            sre->events[n++] = (struct moni_event_count){"unclassified", st->unclassified};
        x->events = sre->events;
        x->nevents = n;
    }
    if (sre->det)
        fill_detections(sre, x, sre->parser ? x->ntrain : 0);
    if (sre->inj) {
        size_t n = injector_count(sre->inj);
        if (n > sre->fcap) {
            struct moni_fault_state *nf = realloc(sre->faults, n * sizeof *nf);
            if (nf)
                sre->faults = nf;
            struct fault_info *ni = nf ? realloc(sre->finfo, n * sizeof *ni) : NULL;
            if (ni)
                sre->finfo = ni;
            if (!nf || !ni)
                return;
            sre->fcap = n;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            struct fault_info *fi = &sre->finfo[k];
            if (!injector_info(sre->inj, i, fi) || !fi->ops)
                continue;
            sre->faults[k++] = (struct moni_fault_state){
                .kind = fi->ops->name,
                .fault_id = fi->id_str,
                .active = fi->state == FAULT_FIRING,
                .fired = fi->fired_ns != 0,
                .requested_dose = fi->requested_dose,
                .delivered_dose = fi->delivered_valid ? fi->delivered_dose : NAN};
        }
        x->faults = sre->faults;
        x->nfaults = k;
    }
}

void sre_set_detect(struct sre *sre, const struct detect *det)
{
    if (sre)
        sre->det = det;
}

void sre_set_sources(struct sre *sre, const struct lp_parser *parser, const struct injector *inj)
{
    if (!sre)
        return;
    sre->parser = parser;
    sre->inj = inj;
}

/* ---- per sample ---------------------------------------------------------------------- */
static void on_sample(struct session *s, struct frame *f, void *arg)
{
    struct sre *sre = arg;
    struct exporter_extra x = {0};
    fill_from_sources(sre, &x);
    if (sre->fill)
        sre->fill(sre->fill_arg, &x);
    if (sre->al) {
        if (!sre->journal_tried) {
            sre->journal_tried = true;
            const char *dir = session_run_dir(s);
            if (dir) {
                char p[4096];
                snprintf(p, sizeof p, "%s/alerts.jsonl", dir);
                sre->journal_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (sre->journal_fd < 0)
                    moni_warn("%s: %s (alerts are not journalled)", p, strerror(errno));
                alerts_set_journal(sre->al, sre->journal_fd);
            }
        }
        alerts_eval(sre->al, f, x.train, x.ntrain, f->t);
        x.nalerts = alerts_firing(sre->al, &x.alerts);
    }
    exporter_publish(sre->ex, f, &x);
}

struct sre *sre_attach(struct session *s, const char *metrics_listen, const char *rules,
                       char *err, size_t errlen, bool *usage)
{
    if (usage)
        *usage = false;
    struct sre *sre = calloc(1, sizeof *sre);
    if (!sre) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sre->s = s;
    sre->journal_fd = -1;
    if (!rules || strcmp(rules, "none")) {
        sre->al = alerts_load(rules, err, errlen);
        /* a file the user named or wrote must load; only "none installed" is quiet */
        if (!sre->al && (rules || strncmp(err, "no alert rules", 14))) {
            if (usage)
                *usage = true;
            free(sre);
            return NULL;
        }
        if (!sre->al) /* no default file installed: run without alerts (doctor says so) */
            err[0] = '\0';
    }
    if (metrics_listen) {
        sre->ex = exporter_start(session_loop(s), metrics_listen, err, errlen);
        if (!sre->ex) {
            if (usage)
                *usage = true;
            alerts_free(sre->al);
            free(sre);
            return NULL;
        }
        /* a picked port must be told; an explicit one the user knows already */
        const char *c = strrchr(metrics_listen, ':');
        if (!strcmp(c ? c + 1 : metrics_listen, "0"))
            fprintf(stderr, "moni: metrics on http://127.0.0.1:%d/metrics\n",
                    exporter_port(sre->ex));
    }
    if (session_on_sample(s, on_sample, sre) < 0) {
        snprintf(err, errlen, "cannot attach the exporter to the session");
        sre_free(sre);
        return NULL;
    }
    return sre;
}

void sre_set_fill(struct sre *sre, sre_fill_cb fill, void *arg)
{
    if (!sre)
        return;
    sre->fill = fill;
    sre->fill_arg = arg;
}

size_t sre_firing(const struct sre *sre, const struct moni_alert_state **out)
{
    return alerts_firing(sre ? sre->al : NULL, out);
}

int sre_port(const struct sre *sre) { return sre && sre->ex ? exporter_port(sre->ex) : -1; }

void sre_free(struct sre *sre)
{
    if (!sre)
        return;
    exporter_stop(sre->ex);
    alerts_free(sre->al);
    free(sre->faults);
    free(sre->finfo);
    if (sre->journal_fd >= 0) {
        fsync(sre->journal_fd);
        close(sre->journal_fd);
    }
    free(sre);
}
