/* tests/unit/test_faults_inject.c — moni's side of the in-process faults: the control
 * block a run prepares (header, owner, env lines, meta.json's "inject"), rules put
 * into slots with the `active` bits following them and the counters zeroed, the
 * guardian's undo of a slot ('I') on the file, and the refusals of a workload that
 * cannot take the preload library (statically linked, set-user-ID). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"
#include "faults/inject-int.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/moni-inject-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    /* a library to find (its content does not matter to the preparation) */
    char lib[320];
    snprintf(lib, sizeof lib, "%s/%s", dir, INJ_LIB_NAME);
    FILE *f = fopen(lib, "w");
    assert_non_null(f);
    fclose(f);
    setenv("MONI_INJECT_LIB", lib, 1);
    return 0;
}

static void free_env(char *env[3])
{
    for (int i = 0; i < 3; i++)
        free(env[i]);
}

static void test_prepare_and_slots(void **state)
{
    (void)state;
    char *env[3];
    unsetenv("LD_PRELOAD");
    cJSON *m = fault_inject_prepare(dir, "/bin/sh", env);
    assert_non_null(m);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(m, "enabled")));
    char ctl[320], want[400];
    snprintf(ctl, sizeof ctl, "%s/%s", dir, INJ_CTL_NAME);
    assert_string_equal(cJSON_GetObjectItem(m, "ctl")->valuestring, ctl);
    assert_non_null(env[0]);
    assert_non_null(env[1]);
    snprintf(want, sizeof want, "LD_PRELOAD=%s", getenv("MONI_INJECT_LIB"));
    assert_string_equal(env[0], want);
    snprintf(want, sizeof want, "%s=%s", INJ_ENV_CTL, ctl);
    assert_string_equal(env[1], want);
    assert_null(env[2]); /* /bin/sh is no AddressSanitizer build */
    cJSON_Delete(m);
    free_env(env);

    struct stat st;
    assert_int_equal(stat(ctl, &st), 0);
    assert_int_equal(st.st_size, INJ_FILE_SIZE);
    assert_int_equal(st.st_mode & 0777, 0600);

    struct inj_map map;
    char err[256];
    assert_int_equal(inj_map_open(ctl, &map, err, sizeof err), 0);
    assert_int_equal(atomic_load(&map.o->active), 0);
    assert_int_equal(map.o->owner_pid, 0); /* no heartbeat yet: the library acts on nothing */
    assert_int_equal(atomic_load(&map.o->heartbeat_ns), 0);

    struct inj_rule fs = {.kind = INJ_FS, .ops = INJ_OP_WRITE, .err = 28, .every = 1};
    snprintf(fs.pattern, sizeof fs.pattern, "/data");
    struct inj_rule dns = {.kind = INJ_DNS, .err = -3, .every = 1};
    snprintf(dns.pattern, sizeof dns.pattern, "*.local");
    atomic_store(&map.c->matched[0], 7); /* left from an earlier rule: zeroed on reuse */
    int a = inj_rule_add(&map, &fs), b = inj_rule_add(&map, &dns);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(atomic_load(&map.c->matched[0]), 0);
    assert_int_equal(atomic_load(&map.o->active), (1u << INJ_FS) | (1u << INJ_DNS));
    assert_int_equal(atomic_load(&map.o->seq) % 2, 0);
    assert_int_equal(map.o->owner_pid, getpid());
    assert_true(atomic_load(&map.o->heartbeat_ns) > 0);
    assert_int_equal(map.o->stale_ns, INJ_STALE_NS_DEFAULT);

    /* fill every slot: the next one is refused */
    for (int i = 2; i < INJ_RULES; i++)
        assert_int_equal(inj_rule_add(&map, &dns), i);
    assert_int_equal(inj_rule_add(&map, &dns), -1);
    for (int i = 2; i < INJ_RULES; i++)
        inj_rule_clear(&map, i);

    inj_rule_clear(&map, a);
    assert_int_equal(atomic_load(&map.o->active), 1u << INJ_DNS);
    /* the guardian's undo works on the file, from another mapping */
    assert_true(inj_clear_path(ctl, b));
    assert_int_equal(atomic_load(&map.o->active), 0);
    assert_int_equal(map.o->rule[b].kind, INJ_NONE);
    assert_int_equal(atomic_load(&map.o->seq) % 2, 0);
    inj_map_close(&map);
    /* a control block that is gone counts as cleared; a file that is not one is refused */
    char other[320];
    snprintf(other, sizeof other, "%s/gone.ctl", dir);
    assert_true(inj_clear_path(other, 0));
    FILE *f = fopen(other, "w");
    fputs("not a control block\n", f);
    fclose(f);
    assert_int_equal(inj_map_open(other, &map, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a moni control block"));
    unlink(other);
    unlink(ctl);
}

static void test_prepare_appends_preload(void **state)
{
    (void)state;
    char *env[3];
    setenv("LD_PRELOAD", "/opt/other.so", 1);
    cJSON *m = fault_inject_prepare(dir, "/bin/sh", env);
    char want[400];
    snprintf(want, sizeof want, "LD_PRELOAD=%s:/opt/other.so", getenv("MONI_INJECT_LIB"));
    assert_string_equal(env[0], want);
    unsetenv("LD_PRELOAD");
    cJSON_Delete(m);
    free_env(env);
}

/* A 64-bit ELF header with no program headers: no PT_INTERP, so statically linked. */
static void write_static_elf(const char *path, mode_t mode)
{
    unsigned char h[64] = {0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1, 1};
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    chmod(path, mode);
}

static void test_refusals(void **state)
{
    (void)state;
    char exe[320], *env[3];
    snprintf(exe, sizeof exe, "%s/static", dir);
    write_static_elf(exe, 0755);
    cJSON *m = fault_inject_prepare(dir, exe, env);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(m, "enabled")));
    assert_non_null(strstr(cJSON_GetObjectItem(m, "reason")->valuestring, "statically linked"));
    assert_null(env[0]);
    assert_null(env[1]);
    cJSON_Delete(m);
    /* a script whose interpreter is static is refused for its interpreter */
    char script[340];
    snprintf(script, sizeof script, "%s/script", dir);
    FILE *f = fopen(script, "w");
    fprintf(f, "#!%s -x\n", exe);
    fclose(f);
    chmod(script, 0755);
    m = fault_inject_prepare(dir, script, env);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(m, "enabled")));
    assert_non_null(strstr(cJSON_GetObjectItem(m, "reason")->valuestring, "statically linked"));
    cJSON_Delete(m);
    /* set-user-ID */
    char suid[340];
    snprintf(suid, sizeof suid, "%s/suid", dir);
    f = fopen(suid, "w");
    fputs("#!/bin/sh\n", f);
    fclose(f);
    chmod(suid, 04755);
    m = fault_inject_prepare(dir, suid, env);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(m, "enabled")));
    assert_non_null(strstr(cJSON_GetObjectItem(m, "reason")->valuestring, "set-user-ID"));
    cJSON_Delete(m);
    /* no library */
    char lib[320];
    snprintf(lib, sizeof lib, "%s", getenv("MONI_INJECT_LIB"));
    setenv("MONI_INJECT_LIB", "/nonexistent/libmoni-inject.so", 1);
    m = fault_inject_prepare(dir, "/bin/sh", env);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(m, "enabled")));
    assert_non_null(strstr(cJSON_GetObjectItem(m, "reason")->valuestring, "not found"));
    cJSON_Delete(m);
    setenv("MONI_INJECT_LIB", lib, 1);
    unlink(exe);
    unlink(script);
    unlink(suid);
}

static int teardown(void **state)
{
    (void)state;
    char path[320];
    snprintf(path, sizeof path, "%s/%s", dir, INJ_LIB_NAME);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", dir, INJ_CTL_NAME);
    unlink(path);
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_and_slots),
        cmocka_unit_test(test_prepare_appends_preload),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
