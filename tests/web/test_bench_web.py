"""`msghub bench web` on a small table: it runs and reports what it promises."""

from __future__ import annotations

import json

from msghub.devtools.bench_web import main


def test_bench_web_reports_json(db_url, db, capsys):
    result = main(db_url, messages=3000, runs=2)
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(result, default=str))
    for key in ("folder_page_p50_ms", "folder_page_p99_ms", "search_p50_ms", "search_p99_ms"):
        assert result[key] > 0
    assert result["messages"] == 3000
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 3000
    # a second run reuses the rows
    main(db_url, messages=3000, runs=1)
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 3000
