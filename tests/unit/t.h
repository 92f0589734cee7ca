/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * t.h: the unit-test harness. Each test binary prints one TAP line per
 * check ("ok N - what" / "not ok N - what"); tests/run.sh counts them.
 * T_DONE() returns non-zero when any check failed.
 */
#ifndef STEPUPD_T_H
#define STEPUPD_T_H

#include <stdio.h>

static int t_n, t_failed;

#define T_OK(cond, ...)                                                                 \
	do {                                                                            \
		int t_c_ = (cond) ? 1 : 0;                                              \
		printf("%sok %d - ", t_c_ ? "" : "not ", ++t_n);                          \
		printf(__VA_ARGS__);                                                    \
		printf("%s\n", t_c_ ? "" : "  [" __FILE__ ":" T_STR(__LINE__) "]");     \
		if (!t_c_)                                                              \
			t_failed++;                                                     \
	} while (0)
#define T_STR2(x) #x
#define T_STR(x) T_STR2(x)
#define T_DONE() (fflush(stdout), t_failed ? 1 : 0)

#endif
