/* tests/unit/test_faults_safety.c — safety refusals and reverts of issue 14: no thread
 * of moni as a target (item 3), no stopping signal through `kill` (item 4), a knob
 * control file that is a FIFO refused without blocking (item 2) and one restored with
 * its owner and mode (item 6), a state directory or state file that is not the user's
 * own refused by `moni recover`, and no /tmp fallback for it (item 14); a full table
 * refuses a new fault instead of dropping its undo items (item 1). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "faults/faults.h"

static char dir[256], statedir[320];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/moni-fsafe-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(statedir, sizeof statedir, "%s/state", dir);
    setenv("MONI_STATE_DIR", statedir, 1);
    return 0;
}

static struct injector *new_injector(const char *name)
{
    char journal[400], err[256];
    snprintf(journal, sizeof journal, "%s/%s.jsonl", dir, name);
    struct injector *inj = injector_new(journal, name, err, sizeof err);
    assert_non_null(inj);
    return inj;
}

/* ---- item 3: a thread of moni is moni ---- */
static int thread_pipe[2];
static volatile pid_t thread_tid;
static void *thread_body(void *arg)
{
    (void)arg;
    thread_tid = gettid();
    char c;
    while (read(thread_pipe[0], &c, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void test_thread_of_moni_refused(void **state)
{
    (void)state;
    assert_int_equal(pipe(thread_pipe), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, thread_body, NULL), 0);
    for (int i = 0; i < 1000 && !thread_tid; i++)
        usleep(1000);
    assert_true(thread_tid > 0 && thread_tid != getpid());
    struct injector *inj = new_injector("threads");
    char err[256];
    int id = 0;
    struct fault_target t = {.pid = thread_tid, .allow_any = true};
    assert_int_equal(injector_arm(inj, "stop", NULL, 0, &t, 0, &id, err, sizeof err),
                     FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "thread of moni"));
    struct fault_kv cont[1] = {{"signal", "CONT"}};
    assert_int_equal(injector_arm(inj, "kill", cont, 1, &t, 0, &id, err, sizeof err),
                     FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "thread of moni"));
    injector_free(inj);
    assert_int_equal(write(thread_pipe[1], "x", 1), 1);
    pthread_join(th, NULL);
    close(thread_pipe[0]);
    close(thread_pipe[1]);
}

/* ---- item 4: kill signal=STOP is the stop kind's job ---- */
static void test_kill_stop_signals_refused(void **state)
{
    (void)state;
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    struct injector *inj = new_injector("killstop");
    injector_set_workload(inj, child);
    static const char *const sigs[] = {"STOP", "TSTP", "21" /* TTIN */, "22" /* TTOU */};
    for (size_t i = 0; i < MONI_ARRAY_LEN(sigs); i++) {
        struct fault_kv kv[1] = {{"signal", ""}};
        snprintf(kv[0].val, sizeof kv[0].val, "%s", sigs[i]);
        char err[256] = "";
        int id = 0;
        int rc = injector_arm(inj, "kill", kv, 1, NULL, 0, &id, err, sizeof err);
        if (!strstr(err, "stop fault"))
            kill(child, SIGKILL); /* do not leave it behind on a failure */
        assert_non_null(strstr(err, "stop fault"));
        assert_int_equal(rc, FAULT_ERR_USAGE);
    }
    injector_free(inj);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

/* ---- item 1: past the most active faults, a new one is refused, not left unguarded */
static void test_full_table_refuses(void **state)
{
    (void)state;
    char err[256] = "";
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    /* thousands of fsync'd lines: on tmpfs when there is one, where fsync is free */
    char shm[64] = "/dev/shm/moni-full-XXXXXX", journal[128], sd[128];
    bool on_shm = mkdtemp(shm) != NULL;
    if (on_shm) {
        snprintf(sd, sizeof sd, "%s/state", shm);
        setenv("MONI_STATE_DIR", sd, 1);
    }
    snprintf(journal, sizeof journal, "%s/full.jsonl", on_shm ? shm : dir);
    struct injector *inj = injector_new(journal, "full", err, sizeof err);
    assert_non_null(inj);
    injector_set_workload(inj, child);
    struct fault_kv kv[1] = {{"signal", "CONT"}};
    int id = 0, first = 0, rc = 0;
    size_t armed = 0;
    while ((rc = injector_arm(inj, "kill", kv, 1, NULL, 0, &id, err, sizeof err)) == 0 &&
           armed < 100000) {
        if (!first)
            first = id;
        armed++;
    }
    kill(child, SIGKILL);
    assert_int_equal(rc, FAULT_ERR_FAIL);
    assert_non_null(strstr(err, "stop some first"));
    assert_true(armed >= 512); /* more than the old fixed table held */
    assert_int_equal(injector_count(inj), armed); /* the refused one is not listed */
    assert_int_equal(injector_stop(inj, first), 0); /* room again */
    assert_int_equal(injector_arm(inj, "kill", kv, 1, NULL, 0, &id, err, sizeof err), 0);
    injector_free(inj);
    waitpid(child, NULL, 0);
    if (on_shm) {
        unlink(journal);
        rmdir(sd);
        rmdir(shm);
    }
    setenv("MONI_STATE_DIR", statedir, 1);
}

/* ---- item 2: a control file that is a FIFO: refused at once, still a FIFO ---- */
static void test_knob_fifo_refused(void **state)
{
    (void)state;
    char fifo[400], err[256];
    snprintf(fifo, sizeof fifo, "%s/control.fifo", dir);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    struct injector *inj = new_injector("fifo");
    struct fault_kv kv[1] = {{"lr", "10"}};
    struct fault_target t = {0};
    snprintf(t.path, sizeof t.path, "%s", fifo);
    int id = 0;
    int64_t t0 = moni_mono_ns();
    int rc = injector_arm(inj, "knob", kv, 1, &t, 0, &id, err, sizeof err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err, "not a regular file"));
    assert_true(moni_mono_ns() - t0 < MONI_NS_PER_SEC);
    injector_free(inj);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    /* and moni_read_file never blocks on one either */
    errno = 0;
    assert_null(moni_read_file(fifo, NULL));
    assert_int_equal(errno, EINVAL);
}

/* ---- item 6: the control file comes back with its owner and mode ---- */
static void test_knob_restores_owner_and_mode(void **state)
{
    (void)state;
    char ctl[400], err[256];
    snprintf(ctl, sizeof ctl, "%s/control", dir);
    FILE *fp = fopen(ctl, "w");
    fputs("lr=0.001\n", fp);
    fclose(fp);
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (geteuid() == 0) { /* root: the file belongs to a trainer running as nobody */
        uid = 65534;
        gid = 65534;
        assert_int_equal(chown(ctl, uid, gid), 0);
    }
    assert_int_equal(chmod(ctl, 0644), 0);
    struct injector *inj = new_injector("owner");
    struct fault_kv kv[1] = {{"lr", "10"}};
    struct fault_target t = {0};
    snprintf(t.path, sizeof t.path, "%s", ctl);
    int id = 0;
    assert_int_equal(injector_arm(inj, "knob", kv, 1, &t, 0, &id, err, sizeof err), 0);
    assert_int_equal(injector_fire(inj, id, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(ctl, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644); /* while firing too */
    assert_int_equal(st.st_uid, uid);
    assert_int_equal(injector_stop(inj, id), 0);
    assert_int_equal(stat(ctl, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(st.st_uid, uid);
    assert_int_equal(st.st_gid, gid);
    char *c = moni_read_file(ctl, NULL);
    assert_string_equal(c, "lr=0.001\n");
    free(c);
    injector_free(inj);
}

/* ---- item 14: what `moni recover` trusts ---- */
static void test_state_dir_trust(void **state)
{
    (void)state;
    char d[400], err[512], path[512];
    /* writable by others: refused, also by recover */
    snprintf(d, sizeof d, "%s/shared", dir);
    assert_int_equal(mkdir(d, 0700), 0);
    assert_int_equal(chmod(d, 0777), 0);
    setenv("MONI_STATE_DIR", d, 1);
    assert_int_equal(guardian_state_dir_check(path, sizeof path, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "writable by group or others"));
    assert_int_equal(guardian_recover(NULL, true), -1);
    /* a state file planted by someone else in our own directory is not believed */
    assert_int_equal(chmod(d, 0700), 0);
    snprintf(path, sizeof path, "%s/session-x-1.undo", d);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "S\t999999\t1\tnot-this-boot\t/nonexistent\nJ\tf1\tdisk_fill\tpath:/x\tx\n"
                "F\tf1\t%s/victim\n", dir);
    fclose(fp);
    char victim[400];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    fp = fopen(victim, "w");
    fclose(fp);
    assert_int_equal(chmod(path, 0666), 0);
    assert_true(guardian_recover(NULL, false) > 0);
    assert_int_equal(access(victim, F_OK), 0); /* not deleted */
    /* once it is ours and private it is believed */
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(guardian_recover(NULL, false), 0);
    assert_int_not_equal(access(victim, F_OK), 0);
    if (geteuid() == 0) { /* owned by another user */
        snprintf(d, sizeof d, "%s/other", dir);
        assert_int_equal(mkdir(d, 0700), 0);
        assert_int_equal(chown(d, 65534, 65534), 0);
        setenv("MONI_STATE_DIR", d, 1);
        assert_int_equal(guardian_state_dir_check(path, sizeof path, false, err, sizeof err), -1);
        assert_non_null(strstr(err, "owned by another user"));
    }
    /* no HOME, no XDG_STATE_HOME: the passwd home, never /tmp/moni-UID */
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    unsetenv("MONI_STATE_DIR");
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    if (guardian_state_dir(path, sizeof path) == 0)
        assert_null(strstr(path, "/tmp/moni-"));
    if (home) {
        setenv("HOME", home, 1);
        free(home);
    }
    setenv("MONI_STATE_DIR", statedir, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_of_moni_refused),
        cmocka_unit_test(test_kill_stop_signals_refused),
        cmocka_unit_test(test_full_table_refuses),
        cmocka_unit_test(test_knob_fifo_refused),
        cmocka_unit_test(test_knob_restores_owner_and_mode),
        cmocka_unit_test(test_state_dir_trust),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
