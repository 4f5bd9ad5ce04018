/*
 * samples_kit.h -- what the samples' tests share: running a built sample or
 * a Python twin with its output captured, reading the expected files, and
 * comparing texts line by line with a readable failure.
 */
#ifndef SAMPLES_KIT_H
#define SAMPLES_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* The command line of sample SAMPLE_<NAME> with `args` (NULL-ended). */
#define MAX_ARGS 16
/* A NULL-ended list of arguments, for the calls below. */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

typedef struct {
    char *data;
    size_t len;
} text;

typedef struct {
    pid_t pid;
    FILE *out;
    FILE *err; /* NULL: its stderr is ours (the test's log) */
} child;

typedef struct {
    char *argv[MAX_ARGS + 2];
} command;

text read_stream(FILE *f, const char *what);
const char *env(const char *name);
void join(char *buf, size_t size, const char *dir, const char *name);
text read_file(const char *path);
text read_expected(const char *name);
child start(char *const argv[], bool capture_stderr);
int finish(child *c);
void assert_clean_exit(int status, const char *what);
text run(char *const argv[]);
command sample_command(const char *env_name, const char *const *args);
text run_sample(const char *env_name, const char *const *args);
size_t line_end(text t, size_t start);
void assert_same(text got, text want, const char *what);
void check_output(const char *env_name, const char *const *args, const char *expected);
void check_sample(const char *env_name, const char *expected);
void check_python_twin(const char *script, const char *expected);
/* The lecture's file `name` and the repository's `copy` are the same. */
void check_lecture_copy(const char *name, const char *copy);

/* Whether t holds `needle` anywhere. */
bool contains(text t, const char *needle);
/* The python3 found at configure time; skips the test if there was none. */
const char *python_or_skip(void);
/* python3 samples/<script> with args: its status, its stdout in *out. */
int run_python_twin(const char *script, const char *const *args, text *out);
/* The sample with args: its status, its stdout in *out and stderr in *err. */
int run_sample_status(const char *env_name, const char *const *args, text *out, text *err);

#endif /* SAMPLES_KIT_H */
