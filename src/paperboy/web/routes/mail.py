"""Subscribing to digests, confirming, preferences, saved-search alerts and unsubscribing.

- ``POST /subscribe`` (the form in every page's footer, CSRF-protected) and
  ``POST /api/v1/subscriptions`` (JSON) answer the same thing for every address; the mail itself
  (confirmation link, or an "already subscribed" notice to the owner) is sent after the response.
- Everything under ``/mail/`` is authenticated by the signed token in its URL, never by a login.
  A GET there only shows a page; the change happens on the POST of its button.
- ``POST /mail/unsubscribe/{token}`` is the RFC 8058 one-click endpoint: no cookie, no CSRF token
  (the token in the URL is the proof; mail providers POST ``List-Unsubscribe=One-Click``), and the
  answer is a 200 page, not a redirect.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from paperboy.mail.addresses import InvalidAddress
from paperboy.mail.service import MAX_ALERTS, MAX_PAPERS, MailService, PreferenceError
from paperboy.mail.tokens import TokenError
from paperboy.web.auth import current_user, mail_rate_limit
from paperboy.web.deps import CsrfDep, SettingsDep, TemplatesDep

router = APIRouter()

SUBSCRIBE_ANSWER = (
    "Thanks. If this address can receive mail, a message is on its way: a link to confirm the "
    "subscription, or, if the address is already subscribed, a link to its preferences."
)


def get_mail(request: Request) -> MailService:
    """One MailService per app, built on first use (it reads the secret key file)."""
    service = getattr(request.app.state, "mail", None)
    if service is None:
        service = MailService(request.app.state.settings, request.app.state.store)
        request.app.state.mail = service
    return service


MailDep = Annotated[MailService, Depends(get_mail)]
Token = Annotated[str, Field(max_length=400)]
#: an alert confirmation carries its query (at most 300 characters) inside the signed token
AlertToken = Annotated[str, Field(max_length=1500)]


def _signed_in(request: Request):
    """The signed-in account, else None."""
    try:
        return current_user(request)
    except HTTPException:
        return None


def _account_id(request: Request, email: str) -> int | None:
    """Link a subscription to the signed-in account subscribing its own address."""
    user = _signed_in(request)
    if user is None or (email or "").strip().casefold() != (user.email or "").casefold():
        return None
    return user.id


def _bad_link(exc: Exception) -> HTTPException:
    return HTTPException(400, str(exc))


# -- subscribing ------------------------------------------------------------------------------

@router.post("/subscribe", include_in_schema=False)
def subscribe_form(
    request: Request,
    background: BackgroundTasks,
    templates: TemplatesDep,
    mail: MailDep,
    _: CsrfDep,
    email: Annotated[str, Form(max_length=400)] = "",
    period: Annotated[str, Form(max_length=10)] = "daily",
):
    return _answer_and_mail(
        request, background, templates, mail, "mail/subscribed.html", SUBSCRIBE_ANSWER,
        lambda: mail.request_subscription(email, period, user_id=_account_id(request, email)),
        email=email)


def _answer_and_mail(request, background, templates, mail: MailService, template: str,
                     answer: str, make_mail, **ctx):
    """A form that mails an address: the same answer for every address, the mail (if any) sent
    after it; malformed input is the form again with one line."""
    mail_rate_limit(request)
    try:
        msg = make_mail()
    except (InvalidAddress, PreferenceError) as exc:
        return templates.render(request, template, {"error": str(exc), **ctx}, status_code=422)
    background.add_task(mail.deliver, msg)
    return templates.render(request, template, {"message": answer, **ctx})


ALERT_ANSWER = (
    "Thanks. If this address can receive mail, a message is on its way with a link that "
    "confirms the alert."
)


@router.post("/search/alert", include_in_schema=False)
def search_alert_form(
    request: Request,
    background: BackgroundTasks,
    templates: TemplatesDep,
    mail: MailDep,
    _: CsrfDep,
    email: Annotated[str, Form(max_length=400)] = "",
    q: Annotated[str, Form(max_length=2000)] = "",
):
    """"Save this search" on the search page: the alert waits for the address to confirm."""
    return _answer_and_mail(
        request, background, templates, mail, "mail/alert_requested.html", ALERT_ANSWER,
        lambda: mail.request_alert(email, q, user_id=_account_id(request, email)),
        email=email, query=q)


class SubscriptionIn(BaseModel):
    email: str = Field(max_length=400, description="the address to send digests to")
    period: Literal["daily", "weekly"] = "daily"
    categories: list[str] = Field(default_factory=list, max_length=30,
                                  description="arXiv categories, e.g. cs.CL; empty: all")
    max_papers: int | None = Field(default=None, ge=1, le=MAX_PAPERS)


class SubscriptionAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str = SUBSCRIBE_ANSWER


@router.post("/api/v1/subscriptions", status_code=202, response_model=SubscriptionAccepted,
             tags=["mail"], summary="Subscribe an address to e-mail digests (double opt-in)")
def subscribe_api(request: Request, body: SubscriptionIn, background: BackgroundTasks,
                  mail: MailDep):
    """Stores the address unconfirmed and mails it a confirmation link. The answer is the same
    whether or not the address was known. Only JSON bodies are accepted, which a cross-site form
    cannot send, so no CSRF token is needed. Requests per client and in all are limited (429)."""
    mail_rate_limit(request)
    try:
        msg = mail.request_subscription(body.email, body.period, body.categories, body.max_papers)
    except (InvalidAddress, PreferenceError) as exc:
        raise HTTPException(422, str(exc)) from None
    background.add_task(mail.deliver, msg)
    return SubscriptionAccepted()


# -- confirming -------------------------------------------------------------------------------

@router.get("/mail/confirm/{token}", include_in_schema=False)
def confirm_page(request: Request, token: Token, templates: TemplatesDep, mail: MailDep):
    try:
        sub = mail.check_confirm(token)
    except TokenError as exc:
        raise _bad_link(exc) from None
    # a link already used: the page says so and leads to the preferences
    manage = mail.manage_token(sub) if sub.status == "active" else None
    return templates.render(request, "mail/confirm.html",
                            {"sub": sub, "token": token, "manage": manage})


@router.post("/mail/confirm/{token}", include_in_schema=False)
def confirm(request: Request, token: Token, templates: TemplatesDep, mail: MailDep, _: CsrfDep):
    try:
        sub = mail.confirm(token)
    except TokenError as exc:
        raise _bad_link(exc) from None
    return templates.render(request, "mail/confirmed.html",
                            {"sub": sub, "manage": mail.manage_token(sub)})


# -- preferences and alerts -------------------------------------------------------------------

def _preferences(request, templates, mail: MailService, settings, token: str, **extra):
    try:
        sub = mail.subscriber(token)
    except TokenError as exc:
        raise _bad_link(exc) from None
    alerts = [(s, mail.alert_token(sub, s)) for s in mail.saved_searches(sub)]
    known = list(settings.categories)
    others = [c for c in sub.categories if c not in known]
    ctx = {"sub": sub, "token": token, "alerts": alerts, "known_categories": known,
           "other_categories": " ".join(others), "max_papers_limit": MAX_PAPERS,
           "max_alerts": MAX_ALERTS, "saved": request.query_params.get("saved")}
    ctx.update(extra)
    return templates.render(request, "mail/preferences.html", ctx,
                            status_code=422 if extra.get("error") else 200)


@router.get("/mail/preferences/{token}", include_in_schema=False)
def preferences_page(request: Request, token: Token, templates: TemplatesDep, mail: MailDep,
                     settings: SettingsDep):
    return _preferences(request, templates, mail, settings, token)


def _back(token: str, what: str) -> RedirectResponse:
    return RedirectResponse(f"/mail/preferences/{token}?saved={what}", status_code=303)


@router.post("/mail/preferences/{token}", include_in_schema=False)
def save_preferences(
    request: Request,
    token: Token,
    templates: TemplatesDep,
    mail: MailDep,
    settings: SettingsDep,
    _: CsrfDep,
    period: Annotated[str, Form(max_length=10)] = "",
    category: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    other_categories: Annotated[str, Form(max_length=1000)] = "",
    max_papers: Annotated[str, Form(max_length=10)] = "",
):
    categories = list(category) + other_categories.replace(",", " ").split()
    try:
        mail.save_preferences(token, period, categories, max_papers)
    except TokenError as exc:
        raise _bad_link(exc) from None
    except PreferenceError as exc:
        return _preferences(request, templates, mail, settings, token, error=str(exc))
    return _back(token, "preferences")


@router.post("/mail/preferences/{token}/alerts", include_in_schema=False)
def add_alert(request: Request, token: Token, templates: TemplatesDep, mail: MailDep,
              settings: SettingsDep, _: CsrfDep,
              query: Annotated[str, Form(max_length=1000)] = ""):
    try:
        mail.add_alert(token, query)
    except TokenError as exc:
        raise _bad_link(exc) from None
    except (PreferenceError, ValueError) as exc:
        return _preferences(request, templates, mail, settings, token, error=str(exc),
                            query=query)
    return _back(token, "alert")


@router.post("/mail/preferences/{token}/alerts/{alert_id}/stop", include_in_schema=False)
def stop_alert_from_preferences(token: Token, alert_id: int, mail: MailDep, _: CsrfDep):
    try:
        mail.stop_alert_by_id(token, alert_id)
    except TokenError as exc:
        raise _bad_link(exc) from None
    return _back(token, "stopped")


@router.get("/mail/alerts/confirm/{token}", include_in_schema=False)
def confirm_alert_page(request: Request, token: AlertToken, templates: TemplatesDep, mail: MailDep):
    try:
        sub, query = mail.check_alert_request(token)
    except TokenError as exc:
        raise _bad_link(exc) from None
    return templates.render(request, "mail/alert_confirm.html",
                            {"sub": sub, "query": query, "token": token})


@router.post("/mail/alerts/confirm/{token}", include_in_schema=False)
def confirm_alert(request: Request, token: AlertToken, templates: TemplatesDep, mail: MailDep,
                  _: CsrfDep):
    try:
        sub, saved = mail.confirm_alert(token)
    except (TokenError, PreferenceError) as exc:
        raise _bad_link(exc) from None
    return templates.render(request, "mail/alert_confirm.html",
                            {"sub": sub, "saved": saved, "manage": mail.manage_token(sub)})


@router.get("/mail/alerts/{token}/stop", include_in_schema=False)
def stop_alert_page(request: Request, token: Token, templates: TemplatesDep, mail: MailDep):
    try:
        sub, saved = mail.alert_for(token)
    except TokenError as exc:
        raise _bad_link(exc) from None
    return _alert_stop_page(request, templates, mail, token, sub, saved, done=False)


@router.post("/mail/alerts/{token}/stop", include_in_schema=False)
def stop_alert(request: Request, token: Token, templates: TemplatesDep, mail: MailDep):
    """Token-authenticated like the one-click unsubscribe (the link is the proof)."""
    try:
        sub, saved = mail.stop_alert(token)
    except TokenError as exc:
        raise _bad_link(exc) from None
    return _alert_stop_page(request, templates, mail, token, sub, saved, done=True)


def _alert_stop_page(request, templates, mail, token, sub, saved, done: bool):
    """The stop-this-alert page: a confirmation button before the POST, a receipt after it."""
    return templates.render(request, "mail/alert_stop.html",
                            {"sub": sub, "saved": saved, "token": token, "done": done,
                             "manage": mail.manage_token(sub)})


# -- unsubscribing (RFC 8058) -----------------------------------------------------------------

@router.get("/mail/unsubscribe/{token}", include_in_schema=False)
def unsubscribe_page(request: Request, token: Token, templates: TemplatesDep, mail: MailDep):
    """Only a page with a button: link scanners that GET every URL unsubscribe nobody."""
    try:
        sub = mail.subscriber(token)
    except TokenError as exc:
        raise _bad_link(exc) from None
    return templates.render(request, "mail/unsubscribe.html",
                            {"sub": sub, "token": token, "done": False})


@router.post("/mail/unsubscribe/{token}", include_in_schema=False)
def unsubscribe(request: Request, token: Token, templates: TemplatesDep, mail: MailDep):
    """One-click unsubscribe: no login, no cookie, no CSRF token, no redirect."""
    try:
        sub = mail.unsubscribe(token)
    except TokenError as exc:
        raise _bad_link(exc) from None
    return templates.render(request, "mail/unsubscribe.html",
                            {"sub": sub, "token": token, "done": True})


# -- signed-in accounts -----------------------------------------------------------------------

@router.get("/mail/account", include_in_schema=False)
def account_mail(request: Request, templates: TemplatesDep, mail: MailDep):
    """From the account page: the preferences of the account's own subscription.

    Only a subscription this account created and its mailbox confirmed opens directly; for any
    other subscription to the same address the preferences link is mailed to the address (an
    account's e-mail address is not proof of owning that mailbox).
    """
    user = _signed_in(request)
    if user is None:
        return RedirectResponse("/signin?next=/mail/account", status_code=303)
    sub = mail.subscription_of(user.email)
    if sub is not None and sub.user_id == user.id and sub.status == "active":
        return RedirectResponse(f"/mail/preferences/{mail.manage_token(sub)}", status_code=303)
    return templates.render(request, "mail/account.html",
                            {"user": user, "sub": sub, "sent": False})


@router.post("/mail/account", include_in_schema=False)
def account_mail_link(request: Request, background: BackgroundTasks, templates: TemplatesDep,
                      mail: MailDep, _: CsrfDep):
    user = _signed_in(request)
    if user is None:
        return RedirectResponse("/signin?next=/mail/account", status_code=303)
    sub = mail.subscription_of(user.email)
    if sub is not None and sub.status in ("active", "pending"):
        mail_rate_limit(request)
        background.add_task(mail.deliver, mail.builder.notice(sub) if sub.status == "active"
                            else mail.builder.confirmation(sub))
    return templates.render(request, "mail/account.html", {"user": user, "sub": sub, "sent": True})
