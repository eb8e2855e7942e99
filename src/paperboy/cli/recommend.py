"""`paperboy recommend USERNAME`: a reader's "For you" list from the shell, explained."""

from __future__ import annotations

import json
from datetime import date, timedelta

import click

from paperboy.cli.context import CliContext, pass_ctx
from paperboy.cli.search import _date
from paperboy.errors import NotFound, PaperboyError


@click.command()
@click.argument("username")
@click.option("--since", help="First day (YYYY-MM-DD); default: --until.")
@click.option("--until", help="Last day (YYYY-MM-DD); default: the latest day with papers.")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="JSON output (one object per paper).")
@pass_ctx
def recommend(state: CliContext, username: str, since: str | None, until: str | None,
              limit: int, as_json: bool) -> None:
    """Papers picked for USERNAME from the days [--since, --until], best first, each with why:
    the follow or rule that fired, the closest liked papers and the words that weigh most.

    The reader's model is fitted from their upvotes, collections, "more / less like this" and
    imported library (refit only when those changed)."""
    from paperboy.recommend.service import RecommendService
    from paperboy.search.query import parse_query
    from paperboy.storage.feeds import Period

    store = state.store
    user = store.accounts.get_by_username(username)
    if user is None:
        raise NotFound(f"no user {username!r}; see paperboy user list")
    end = _date(until, "--until") or store.feeds.latest_day()
    if end is None:
        raise NotFound("the store has no papers yet; import some first (paperboy ingest ...)")
    start = _date(since, "--since") or end
    if start > end:
        raise PaperboyError(f"--since {start} is after --until {end}")
    period = Period(start, end + timedelta(days=1), "range")
    page = RecommendService(store, state.settings, parse_query).recommend(user.id, period, limit=limit)
    papers = {p.id: p for p in store.papers.get_many([r.paper_id for r in page.items])}
    if as_json:
        click.echo(json.dumps([{"id": r.paper_id, "title": papers[r.paper_id].title
                                if r.paper_id in papers else None, **r.as_dict()}
                               for r in page.items], indent=2, ensure_ascii=False))
        return
    if not page.has_signals:
        click.echo(f"{username} has given no signal yet: upvote, collect, mark papers "
                   "'more like this', follow categories or import a library (see /for-you).")
        return
    click.echo(f"{page.total} papers for {username} from {start} to {end}; the best {len(page.items)}:")
    for n, r in enumerate(page.items, 1):
        title = " ".join(papers[r.paper_id].title.split()) if r.paper_id in papers else ""
        click.echo(f"{n:3}. {r.paper_id:<18} {r.score:7.3f}  {title}")
        why = list(r.reasons)
        if r.liked:
            why.append(f"like \u201c{r.liked[0][1][:70]}\u201d ({r.liked[0][2]:.2f})")
        if r.words:
            why.append("words: " + ", ".join(w for w, _ in r.words))
        if why:
            click.echo(f"     {'; '.join(why)}")
