/* tests/unit/test_guardian_recover.c — leftovers of a killed session are never lost
 * between the guardian and `moni recover` (issue 14): a guardian that moni started
 * after the first one died, and that got none of the log because moni was killed
 * right after the fork, undoes what the state file holds instead of deleting the
 * file; recover waits for a guardian still finishing (its moni gone) instead of
 * skipping the session (for at most 10 s), treats a zombie moni as gone, and never
 * says "nothing to recover" after refusing a file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/moni-grecover-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    return 0;
}

/* A fresh state directory (and fill file) per test: recover scans the whole directory. */
static void fresh(const char *name, char *statedir, size_t sdlen, char *fill, size_t flen)
{
    snprintf(statedir, sdlen, "%s/%s-state", dir, name);
    assert_int_equal(mkdir(statedir, 0700), 0);
    setenv("MONI_STATE_DIR", statedir, 1);
    snprintf(fill, flen, "%s/%s-fill", dir, name);
    FILE *fp = fopen(fill, "w");
    assert_non_null(fp);
    fclose(fp);
}

static int count_files(const char *statedir)
{
    int n = 0;
    DIR *d = opendir(statedir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void reap(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

/* The race of test_fault_crash under ASan: the guardian is SIGKILLed, moni notices and
 * starts a new one, and moni is SIGKILLed after the fork but before it has handed the
 * new guardian the log.  The new guardian sees EOF holding nothing; it used to unlink
 * the state file anyway, so the fill file stayed and `moni recover` found nothing. */
static void test_restart_cut_short(void **state)
{
    (void)state;
    char statedir[400], fill[400], journal[400], err[256], line[600];
    fresh("restart", statedir, sizeof statedir, fill, sizeof fill);
    snprintf(journal, sizeof journal, "%s/restart.jsonl", dir);
    int jfd = open(journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    assert_true(jfd >= 0);
    struct guardian g = {.state_fd = -1};
    assert_int_equal(guardian_start(&g, jfd, journal, "restart", err, sizeof err), 0);
    assert_int_equal(guardian_send(&g, "J\tf1\tdisk_fill\tpath:x\trestart\n"), 0);
    snprintf(line, sizeof line, "F\tf1\t%s\n", fill);
    assert_int_equal(guardian_send(&g, line), 0);
    /* the first guardian dies */
    kill(g.pid, SIGKILL);
    reap(g.pid);
    /* what guardian_restart does, cut short after the fork: nothing handed over */
    struct guardian g2 = {.state_fd = -1};
    assert_int_equal(guardian_start(&g2, jfd, journal, "restart", err, sizeof err), 0);
    assert_string_equal(g2.state_path, g.state_path); /* the same session file */
    close(g2.wfd); /* moni dies: EOF */
    reap(g2.pid);
    close(g2.state_fd);
    close(g.state_fd);
    close(g.wfd);
    free(g.log);
    /* the new guardian undid the file's items and journalled them */
    assert_int_not_equal(access(fill, F_OK), 0);
    char *j = moni_read_file(journal, NULL);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"event\":\"reverted\""));
    assert_non_null(strstr(j, "\"by\":\"guardian\""));
    free(j);
    assert_int_equal(count_files(statedir), 0);
    close(jfd);
}

static void boot_id(char *out, size_t len)
{
    char *b = moni_read_file("/proc/sys/kernel/random/boot_id", NULL);
    assert_non_null(b);
    b[strcspn(b, "\n")] = 0;
    snprintf(out, len, "%s", b);
    free(b);
}

/* A state file as a killed session leaves it: moni pid/start, guardian pid/start, one
 * disk_fill fault with its fill file. */
static void write_state(const char *statedir, pid_t moni, uint64_t mstart, pid_t guardian,
                        uint64_t gstart, const char *fill)
{
    char path[600], boot[64];
    boot_id(boot, sizeof boot);
    snprintf(path, sizeof path, "%s/session-t-%d.undo", statedir, (int)moni);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "S\t%d\t%llu\t%s\t\nG\t%d\t%llu\nJ\tf1\tdisk_fill\tpath:x\tt\nF\tf1\t%s\n",
            (int)moni, (unsigned long long)mstart, boot, (int)guardian,
            (unsigned long long)gstart, fill);
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
}

static pid_t child_sleeping(int ms)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        moni_sleep_ns((int64_t)ms * MONI_NS_PER_MS);
        _exit(0);
    }
    return pid;
}

/* moni is gone and its guardian still runs (finishing its own undo, or torn down
 * slowly): recover used to skip the session and say "nothing to recover".  It waits
 * for the guardian (here a process that exits after 0.4 s, doing nothing) and then
 * undoes what is left. */
static void test_recover_waits_for_guardian(void **state)
{
    (void)state;
    char statedir[400], fill[400];
    fresh("waits", statedir, sizeof statedir, fill, sizeof fill);
    pid_t moni = child_sleeping(0);
    reap(moni); /* gone */
    pid_t guardian = child_sleeping(400);
    uint64_t gstart = fault_proc_starttime(guardian);
    assert_true(gstart > 0);
    write_state(statedir, moni, 1, guardian, gstart, fill);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_int_equal(guardian_recover(out, false), 0);
    fclose(out);
    assert_null(strstr(text, "nothing to recover"));
    assert_int_not_equal(access(fill, F_OK), 0);
    assert_int_equal(count_files(statedir), 0);
    free(text);
    reap(guardian);
}

/* A guardian that never ends (stopped) does not hold recover for ever: after its
 * 10 s it undoes the session anyway, and says so. */
static void test_recover_wait_is_bounded(void **state)
{
    (void)state;
    char statedir[400], fill[400];
    fresh("bounded", statedir, sizeof statedir, fill, sizeof fill);
    pid_t moni = child_sleeping(0);
    reap(moni);
    pid_t guardian = child_sleeping(60000);
    uint64_t gstart = fault_proc_starttime(guardian);
    kill(guardian, SIGSTOP);
    write_state(statedir, moni, 1, guardian, gstart, fill);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int64_t t0 = moni_mono_ns();
    assert_int_equal(guardian_recover(out, false), 0);
    int64_t took = moni_mono_ns() - t0;
    fclose(out);
    assert_true(took >= 9 * MONI_NS_PER_SEC && took < 30 * MONI_NS_PER_SEC);
    assert_non_null(strstr(text, "undoing anyway"));
    assert_int_not_equal(access(fill, F_OK), 0);
    free(text);
    kill(guardian, SIGKILL);
    reap(guardian);
}

/* A zombie moni (killed, not reaped yet) and a zombie guardian hold nothing. */
static void test_recover_zombie_owner(void **state)
{
    (void)state;
    char statedir[400], fill[400];
    fresh("zombie", statedir, sizeof statedir, fill, sizeof fill);
    pid_t moni = child_sleeping(0), guardian = child_sleeping(0);
    uint64_t mstart = fault_proc_starttime(moni), gstart = fault_proc_starttime(guardian);
    for (int i = 0; i < 400 && (fault_proc_state(moni) != 'Z' || fault_proc_state(guardian) != 'Z');
         i++)
        moni_sleep_ns(5 * MONI_NS_PER_MS);
    assert_int_equal(fault_proc_state(moni), 'Z');
    write_state(statedir, moni, mstart, guardian, gstart, fill);
    size_t items = 0, sessions = 0;
    assert_int_equal(guardian_leftovers(&items, &sessions), 1); /* what moni warns of */
    assert_int_equal(items, 1);
    assert_int_equal(guardian_recover(NULL, false), 0);
    assert_int_not_equal(access(fill, F_OK), 0);
    reap(moni);
    reap(guardian);
}

/* A refused state file is not "nothing to recover". */
static void test_refused_is_not_nothing(void **state)
{
    (void)state;
    char statedir[400], fill[400], path[600];
    fresh("refused", statedir, sizeof statedir, fill, sizeof fill);
    pid_t moni = child_sleeping(0);
    reap(moni);
    write_state(statedir, moni, 1, 0, 0, fill);
    snprintf(path, sizeof path, "%s/session-t-%d.undo", statedir, (int)moni);
    assert_int_equal(chmod(path, 0666), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_true(guardian_recover(out, false) > 0);
    fclose(out);
    assert_null(strstr(text, "nothing to recover"));
    assert_int_equal(access(fill, F_OK), 0);
    free(text);
    assert_int_equal(unlink(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_cut_short),
        cmocka_unit_test(test_recover_waits_for_guardian),
        cmocka_unit_test(test_recover_wait_is_bounded),
        cmocka_unit_test(test_recover_zombie_owner),
        cmocka_unit_test(test_refused_is_not_nothing),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
