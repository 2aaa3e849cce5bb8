def test_fresh_database_has_the_schema(db):
    row = db.execute("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'hub'").fetchone()
    assert row["n"] > 15
