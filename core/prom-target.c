/* core/prom-target.c — who this moni is within a cluster job, as Prometheus labels
 * (job_id, node, rank), and the file_sd target file that tells Prometheus where to
 * scrape it.  Read by the exporter (core/exporter.c); never talks to the network.
 *
 * The identity is core/node-id.c's (the MONI_* overrides for jobs without Slurm,
 * then Slurm's variables, then the host name), the same that meta.json records.
 *
 * The target file is written atomically (temporary file, fsync, rename) so that
 * Prometheus, which re-reads it on every change, never sees half of it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

/* First of the variables that is set and not empty, else NULL. */
static const char *env_first(const char *a, const char *b)
{
    const char *v = getenv(a);
    if (v && *v)
        return v;
    v = b ? getenv(b) : NULL;
    return v && *v ? v : NULL;
}

static void copy_label(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static char sd_path[4096]; /* --prometheus-sd, process-wide like the identity */

void prom_identity_read(struct prom_identity *id)
{
    memset(id, 0, sizeof *id);
    struct node_identity n;
    node_identity_from(&n, NULL, NULL);
    const char *rank = env_first("MONI_RANK", "SLURM_PROCID");
    copy_label(id->job_id, sizeof id->job_id, n.job_id);
    copy_label(id->node, sizeof id->node, n.node);
    if (rank)
        snprintf(id->rank, sizeof id->rank, "%d", n.rank);
    /* part of a job: Slurm (or the overrides) says so, or a target file is wanted */
    id->in_job = n.job_id[0] || env_first("MONI_NODE", NULL) || rank || sd_path[0];
}

void prom_set_sd_file(const char *path)
{
    snprintf(sd_path, sizeof sd_path, "%s", path ? path : "");
}

const char *prom_sd_file(void) { return sd_path[0] ? sd_path : NULL; }

/* Expands %j (job id), %n (node), %r or %t (rank, as --out spells it) and %% in pattern; an existing
 * directory gets "moni-JOB-NODE-RANK.json" inside it.  -1 when too long. */
int prom_sd_expand(const char *pattern, const struct prom_identity *id, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = pattern; *p; p++) {
        const char *add = NULL;
        char one[2] = {*p, 0};
        if (*p == '%' && p[1]) {
            p++;
            add = *p == 'j' ? id->job_id : *p == 'n' ? id->node : *p == 'r' || *p == 't' ? id->rank : NULL;
            if (!add) {
                one[0] = *p;
                add = *p == '%' ? "%" : NULL;
            }
            if (!add) { /* unknown: kept as written */
                if (o + 2 >= cap)
                    return -1;
                out[o++] = '%';
                out[o++] = *p;
                continue;
            }
        } else {
            add = one;
        }
        size_t l = strlen(add);
        if (o + l >= cap)
            return -1;
        memcpy(out + o, add, l);
        o += l;
    }
    out[o] = '\0';
    struct stat st;
    if (o && stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        int n = snprintf(out + o, cap - o, "%smoni-%s-%s-%s.json", out[o - 1] == '/' ? "" : "/",
                         id->job_id[0] ? id->job_id : "nojob", id->node,
                         id->rank[0] ? id->rank : "0");
        if (n < 0 || (size_t)n >= cap - o)
            return -1;
    }
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

int prom_sd_write(const char *path, const char *target, const struct prom_identity *id,
                  char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(err, errlen, "--prometheus-sd %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* one target group: the address and the labels every series of it gets */
    fputs("[\n  {\n    \"targets\": [", f);
    json_str(f, target);
    fputs("],\n    \"labels\": {", f);
    const char *keys[] = {"job_id", "node", "rank"};
    const char *vals[] = {id->job_id, id->node, id->rank};
    bool first = true;
    for (size_t i = 0; i < 3; i++) {
        if (!vals[i][0])
            continue;
        fputs(first ? "\n      " : ",\n      ", f);
        json_str(f, keys[i]);
        fputs(": ", f);
        json_str(f, vals[i]);
        first = false;
    }
    fputs(first ? "}\n  }\n]\n" : "\n    }\n  }\n]\n", f);
    bool bad = fflush(f) != 0 || ferror(f) || fsync(fd) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !bad) {
        bad = true;
        saved = errno;
    }
    if (bad || rename(tmp, path) != 0) {
        if (!bad)
            saved = errno;
        unlink(tmp);
        snprintf(err, errlen, "--prometheus-sd %s: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}
