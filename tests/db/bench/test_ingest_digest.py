"""The ingest proof: a follower's digest of the changes it saw equals the change log's own."""
from __future__ import annotations

from db.bench.ingest import Digest, log_digest
from db.core import feed
from db.core.feed import ChangeFollower
from tests.helpers import report


def test_a_follower_digest_equals_the_logs_own(env):
    start = ChangeFollower(env.database)
    since = start.last_seq
    for _ in range(5):
        report(env)
    seen = Digest()
    for change in start.wait(1):
        seen.add(change.seq, change.entity, change.entity_id, change.op)
    with env.database.read() as s:
        end = feed.latest_seq(s)
    truth = log_digest(env.database, since, end)
    assert (seen.count, seen.hexdigest) == (truth.count, truth.hexdigest) and truth.count >= 5
    missing_one = Digest()
    for change in list(ChangeFollower(env.database, since=since).wait(1))[1:]:
        missing_one.add(change.seq, change.entity, change.entity_id, change.op)
    assert missing_one.hexdigest != truth.hexdigest
    start.close()
