"""Creating and closing a poll in the web UI (admins), and what others see."""

from __future__ import annotations

from tests.web.webkit import csrf_of, login, make_user, run_app


def test_an_admin_creates_a_poll_that_counts_votes_and_closes_it(db, db_url):
    make_user(db_url, "root", role="admin")

    async def scenario(client):
        await login(client, "root")
        page = await client.get("/polls/new")
        assert page.status_code == 200
        form = {"csrf_token": csrf_of(page.text), "name": "lunch", "question": "What for lunch?",
                "options": "Pizza: p, pizza\nSoup", "one_vote_per_sender": "on",
                "reply_vote": "Thanks, {option} it is.", "reply_closed": "Too late!"}
        created = await client.post("/polls/new", data=form)
        assert created.status_code == 303
        chart = await client.get(created.headers["location"])
        assert "What for lunch?" in chart.text and "Close voting now" in chart.text
        closed = await client.post(created.headers["location"] + "/close", data={"csrf_token": csrf_of(chart.text)})
        assert closed.status_code == 303
        again = await client.get(created.headers["location"])
        assert "Close voting now" not in again.text
        # the same name twice: said plainly, the form kept
        form["question"] = "Lunch again?"
        twice = await client.post("/polls/new", data=form)
        assert twice.status_code == 422 and "already a poll (or a rule) named" in twice.text
        assert "Lunch again?" in twice.text

    run_app(db_url, scenario)
    poll = db.execute("SELECT id, question, one_vote_per_sender, reply_vote, reply_closed, closes_at <= now() AS closed"
                      " FROM hub.polls").fetchone()
    assert poll["question"] == "What for lunch?" and poll["one_vote_per_sender"] and poll["closed"]
    assert (poll["reply_vote"], poll["reply_closed"]) == ("Thanks, {option} it is.", "Too late!")
    options = db.execute("SELECT label, keywords FROM hub.poll_options ORDER BY position").fetchall()
    assert [(o["label"], o["keywords"]) for o in options] == [("Pizza", ["p", "pizza"]), ("Soup", ["Soup"])]
    assert db.execute("SELECT count(*) AS n FROM hub.rules WHERE name = 'poll: lunch'").fetchone()["n"] == 1


def test_bad_polls_are_explained_and_others_may_not_create(db, db_url):
    make_user(db_url, "root", role="admin")
    make_user(db_url, "op", role="operator")

    async def scenario(client):
        await login(client, "root")
        page = await client.get("/polls/new")
        token = csrf_of(page.text)
        one = await client.post("/polls/new", data={"csrf_token": token, "name": "x", "question": "Q?",
                                                    "options": "Only one"})
        assert one.status_code == 422 and "at least two options" in one.text
        late = await client.post("/polls/new", data={"csrf_token": token, "name": "y", "question": "Q?",
                                                     "options": "A\nB", "opens_at": "2026-12-02T10:00",
                                                     "closes_at": "2026-12-01T10:00"})
        assert late.status_code == 422 and "voting must open before it closes" in late.text
        bad = await client.post("/polls/new", data={"csrf_token": token, "name": "z", "question": "Q?",
                                                    "options": "A\nB", "closes_at": "tomorrow"})
        assert bad.status_code == 422 and "is not a time like" in bad.text
        no_token = await client.post("/polls/new", data={"name": "w", "question": "Q?", "options": "A\nB"})
        assert no_token.status_code == 403
        await client.post("/logout", data={"csrf_token": token})
        await login(client, "op")
        assert (await client.get("/polls/new")).status_code == 403
        listing = await client.get("/polls")
        assert "New poll" not in listing.text

    run_app(db_url, scenario)
    assert db.execute("SELECT count(*) AS n FROM hub.polls").fetchone()["n"] == 0
