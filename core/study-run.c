/* core/study-run.c — `moni study run STUDY --tester NAME`: plays a tester's sessions in
 * the order of testers/NAME/order.json, each in the blind replay (`moni replay
 * SESSION --blind --study ...`, spawned with argv), with a prompt between them.  A
 * `start` and a `done` answer frame each session; a session already done is
 * skipped, so a study can stop and go on another day.  The answers during a session
 * are given in the console (! a problem seen, c the cause; the logs condition shows
 * the log panes only), or with `moni study answer`. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "core/obs-int.h"
#include "core/report.h"
#include "core/rundir.h"

/* Whether answers.jsonl already has a `done` for the session in the condition. */
static bool answers_say_done(const char *tdir, const char *session, const char *cond)
{
    struct rundir_lines l;
    if (rundir_lines_open(&l, tdir, "answers.jsonl") < 0)
        return false;
    char *line;
    size_t len;
    bool done = false;
    while (!done && rundir_lines_next(&l, &line, &len) == 1) {
        cJSON *o = cJSON_ParseWithLength(line, len);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "session");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "condition");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
        done = cJSON_IsString(s) && cJSON_IsString(c) && cJSON_IsString(k) &&
               !strcmp(s->valuestring, session) && !strcmp(c->valuestring, cond) &&
               !strcmp(k->valuestring, "done");
        cJSON_Delete(o);
    }
    rundir_lines_close(&l);
    return done;
}

/* Runs `moni replay DIR --blind --study ... [--speed X]` on this terminal; its exit
 * status. */
static int play(const char *dir, const char *study, const char *tester, const char *session,
                const char *cond, const char *speed, char *err, size_t errlen)
{
    char exe[PATH_MAX], bin[PATH_MAX + 8];
    if (moni_exe_dir(exe, sizeof exe) < 0) {
        snprintf(err, errlen, "cannot find the moni executable: %s", strerror(errno));
        return -1;
    }
    snprintf(bin, sizeof bin, "%s/moni", exe);
    char *argv[] = {bin, "replay", (char *)dir, "--blind", "--study", (char *)study, "--tester",
                    (char *)tester, "--session", (char *)session, "--condition", (char *)cond,
                    speed ? "--speed" : NULL, (char *)speed, NULL};
    struct obs_spawn_opts o = {.stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2, .pdeathsig = SIGTERM};
    pid_t pid = obs_spawn(bin, argv, &o);
    if (pid < 0) {
        snprintf(err, errlen, "%s: %s", bin, strerror(errno));
        return -1;
    }
    /* Ctrl-C belongs to the replay while it runs */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int frame_answer(const char *study, const char *tester, const char *session, const char *cond,
                        const char *kind, char *err, size_t errlen)
{
    struct study_answer a = {.tester = tester, .session = session, .condition = cond, .kind = kind,
                             .replay_s = NAN, .confidence = NAN, .lines = -1};
    return study_answer_append(study, &a, err, errlen);
}

static const char *condition_hint(const char *cond)
{
    return !strcmp(cond, "logs") ? "logs only: the raw log and the log events" : "every pane";
}

int study_run(const char *study, const char *tester, const char *speed, FILE *in, FILE *out,
              char *err, size_t errlen)
{
    char tdir[PATH_MAX], path[PATH_MAX];
    snprintf(tdir, sizeof tdir, "%s/testers/%s", study, tester);
    snprintf(path, sizeof path, "%s/order.json", tdir);
    struct moni_json doc;
    if (moni_json_load(path, &doc, err, errlen) < 0)
        return -1;
    int n = cJSON_GetArraySize(doc.root), rc = 0, played = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(doc.root, i);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "session");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "condition");
        if (!cJSON_IsString(s) || !cJSON_IsString(c)) {
            moni_json_errf(&doc, e, err, errlen, "an entry without session and condition");
            rc = -1;
            break;
        }
        if (answers_say_done(tdir, s->valuestring, c->valuestring))
            continue;
        fprintf(out, "\nsession %d of %d: %s, condition %s (%s).\n"
                     "In the replay: ! when you see a problem, c to name the root cause (again to\n"
                     "revise), p pauses, q ends the session.\n"
                     "Enter starts it, q and Enter stops the study here: ",
                i + 1, n, s->valuestring, c->valuestring, condition_hint(c->valuestring));
        fflush(out);
        char line[64];
        if (!fgets(line, sizeof line, in) || line[0] == 'q')
            break;
        snprintf(path, sizeof path, "%s/sessions/%s", study, s->valuestring);
        rc = frame_answer(study, tester, s->valuestring, c->valuestring, "start", err, errlen);
        int st = rc == 0 ? play(path, study, tester, s->valuestring, c->valuestring, speed, err, errlen)
                         : -1;
        if (st != 0) {
            if (st > 0)
                snprintf(err, errlen, "the replay of %s exited with status %d", s->valuestring, st);
            rc = -1;
            break;
        }
        rc = frame_answer(study, tester, s->valuestring, c->valuestring, "done", err, errlen);
        played++;
    }
    if (rc == 0)
        fprintf(out, "\n%d session%s played; answers in %s/answers.jsonl\n", played,
                played == 1 ? "" : "s", tdir);
    moni_json_free(&doc);
    return rc;
}
