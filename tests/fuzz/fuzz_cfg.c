/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_cfg.c: libFuzzer target for the config parser. cfg_load() reads a
 * file, so each input is written to one temporary file (created once, in
 * /tmp) and loaded. Checks that a load either succeeds with no error text
 * or fails with some, and that every error line names the file.
 * tests/fuzz/standalone.c replays tests/fuzz/corpus/cfg/ in make check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_cfg_path[64];

/* fuzz_cfg_cleanup() removes the temporary file at exit. */
static void
fuzz_cfg_cleanup(void)
{
	if (fuzz_cfg_path[0] != '\0')
		unlink(fuzz_cfg_path);
}

/* fuzz_cfg_write() writes the input to the temporary file; 0 on success. */
static int
fuzz_cfg_write(const uint8_t *data, size_t size)
{
	FILE *f;
	int ok;

	if (fuzz_cfg_path[0] == '\0') {
		int fd;

		snprintf(fuzz_cfg_path, sizeof(fuzz_cfg_path), "/tmp/stepupd-fuzz-cfg-XXXXXX");
		fd = mkstemp(fuzz_cfg_path);
		if (fd < 0) {
			fuzz_cfg_path[0] = '\0';
			return -1;
		}
		close(fd);
		atexit(fuzz_cfg_cleanup);
	}
	f = fopen(fuzz_cfg_path, "wb");
	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, size, f) == size;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* LLVMFuzzerTestOneInput() loads one input as a config file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	enum su_rc rc;

	if (fuzz_cfg_write(data, size) != 0)
		return 0;
	rc = cfg_load(fuzz_cfg_path, &c, &errs);
	if (rc == SU_OK) {
		if (c == NULL || errs != NULL)
			abort();
		/* lookups on whatever was loaded */
		for (size_t i = 0; i < c->n_contexts; i++)
			if (cfg_context_find(c, c->contexts[i].name) == NULL)
				abort();
	} else {
		if (c != NULL)
			abort();
		if (rc == SU_EINVAL && (errs == NULL || strncmp(errs, fuzz_cfg_path, strlen(fuzz_cfg_path)) != 0))
			abort();
	}
	free(errs);
	cfg_free(c);
	return 0;
}
