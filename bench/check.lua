-- SPDX-License-Identifier: AGPL-3.0-or-later
-- check.lua: the wrk script of `make bench`. Every request is
--   GET $BENCH_PATH  with  X-Stepup-Session: bench-<i>  and
--   X-Stepup-Context: bench
-- where bench-<i> is one of the sessions seed.py stored (all elevated).
--
--   BENCH_PATH      request path (default /check)
--   BENCH_SESSIONS  how many sessions the database holds (bench-1 .. bench-N)
--   BENCH_SET       how many requests to prepare, each naming a session
--                   picked at random among the N; they are sent in turn.
--                   A small set (4096) is the working set of a busy site:
--                   the same sessions come back. A large one (200000) makes
--                   nearly every lookup a different session.
--
-- The requests are formatted once, in init(): formatting each request in
-- Lua costs wrk about a microsecond, which would lower the ceiling of every
-- row alike. The random sequence is seeded, so every row and every run
-- asks the same sessions in the same order.
--
-- It does not read responses (wrk counts non-2xx answers itself and
-- run.sh refuses a row that has any).
local path = os.getenv("BENCH_PATH") or "/check"
local n = tonumber(os.getenv("BENCH_SESSIONS") or "100000")
local k = tonumber(os.getenv("BENCH_SET") or "4096")
local reqs, i = {}, 0

function init(args)
	math.randomseed(20240601)
	for j = 1, k do
		reqs[j] = wrk.format("GET", path, {
			["X-Stepup-Session"] = "bench-" .. math.random(n),
			["X-Stepup-Context"] = "bench",
		})
	end
end

function request()
	i = i % k + 1
	return reqs[i]
end
