#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
# seed.py: fills a stepupd database (whose schema `stepupd` has already
# created through its migrations) with N elevated sessions for `make bench`.
# Session i has the id "bench-i" (i = 1..N), stored as stepupd stores it:
# the lowercase hex SHA-256 of the id. Each session gets one sessions row
# (user "user-i@bench.example") and one unrevoked elevation for context
# "bench" that expires between 29 and 30 days from now (each its own
# expiry, as in real use, so no two answers are alike). Everything goes in one transaction, in id order (so, like a real
# database, hashes land at random places in the indexes and the pages end
# up partly filled, as they do in production).
#
# What it does not do: create the schema (stepupd's migrations do that, so
# the benchmark measures the real schema and indexes), or touch a database
# that already holds sessions.
#
# usage: seed.py DB N
import hashlib
import sqlite3
import sys
import time


def main():
    if len(sys.argv) != 3 or not sys.argv[2].isdigit() or int(sys.argv[2]) < 1:
        sys.exit("usage: seed.py DB N")
    path, n = sys.argv[1], int(sys.argv[2])
    now = int(time.time())
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA cache_size = -262144")
    if db.execute("SELECT count(*) FROM sessions").fetchone()[0] != 0:
        sys.exit("seed.py: %s already holds sessions" % path)
    hashes = [hashlib.sha256(b"bench-%d" % i).hexdigest() for i in range(1, n + 1)]
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO sessions (session_hash, user, created_at, last_elevated_at) "
        "VALUES (?, ?, ?, ?)",
        ((h, "user-%d@bench.example" % (i + 1), now, now) for i, h in enumerate(hashes)))
    db.executemany(
        "INSERT INTO elevations (session_hash, user, context, provider, acr, amr, "
        "auth_time, elevated_at, expires_at, revoked_at) "
        "VALUES (?, ?, 'bench', 'op', 'urn:bench:mfa', '[\"pwd\",\"otp\"]', ?, ?, ?, 0)",
        ((h, "user-%d@bench.example" % (i + 1), now, now, now + 30 * 86400 - i % 86400)
         for i, h in enumerate(hashes)))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


main()
