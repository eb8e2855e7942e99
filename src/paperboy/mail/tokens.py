"""Signed links in e-mails: confirm (expiring), manage (preferences + unsubscribe), stop an alert,
confirm a search saved from the search page (expiring).

Tokens are itsdangerous signatures with the instance's secret key (``<data_dir>/secret_key``, see
:mod:`paperboy.web.security`), each kind with its own salt so one can never stand in for another.
They carry the subscriber id and the subscriber's ``token_nonce``: rotating the nonce revokes
every link ever sent to that address. Manage links do not expire (an unsubscribe link in a year-old
e-mail must still work); confirmation links expire after ``settings.mail_confirm_hours``.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from paperboy.storage.subscriptions import SavedSearch, Subscriber


class TokenError(ValueError):
    """A link that is forged, damaged or expired (one-line message for the page)."""


class MailTokens:
    def __init__(self, secret_key: str, confirm_max_age_s: int = 72 * 3600):
        self._confirm = URLSafeTimedSerializer(secret_key, salt="paperboy.mail.confirm")
        self._manage = URLSafeSerializer(secret_key, salt="paperboy.mail.manage")
        self._alert = URLSafeSerializer(secret_key, salt="paperboy.mail.alert")
        self._alert_request = URLSafeTimedSerializer(secret_key, salt="paperboy.mail.alert-request")
        self.confirm_max_age_s = confirm_max_age_s

    # -- make -------------------------------------------------------------------------------

    def confirm(self, sub: Subscriber) -> str:
        return self._confirm.dumps([sub.id, sub.token_nonce])

    def manage(self, sub: Subscriber) -> str:
        return self._manage.dumps([sub.id, sub.token_nonce])

    def alert(self, sub: Subscriber, saved: SavedSearch) -> str:
        return self._alert.dumps([sub.id, sub.token_nonce, saved.id])

    def alert_request(self, sub: Subscriber, query: str) -> str:
        """A search saved from the search page, to be confirmed by the address (expiring)."""
        return self._alert_request.dumps([sub.id, sub.token_nonce, query])

    # -- read -------------------------------------------------------------------------------

    @staticmethod
    def _shape(value, n: int) -> tuple:
        if (
            not isinstance(value, list)
            or len(value) != n
            or not isinstance(value[0], int)
            or not isinstance(value[1], str)
            or (n == 3 and not isinstance(value[2], int))
        ):
            raise TokenError("this link is not valid")
        return tuple(value)

    def read_confirm(self, token: str) -> tuple[int, str]:
        try:
            value = self._confirm.loads(token, max_age=self.confirm_max_age_s)
        except SignatureExpired:
            raise TokenError("this confirmation link has expired; subscribe again") from None
        except BadSignature:
            raise TokenError("this confirmation link is not valid") from None
        return self._shape(value, 2)

    def read_manage(self, token: str) -> tuple[int, str]:
        try:
            value = self._manage.loads(token)
        except BadSignature:
            raise TokenError("this link is not valid") from None
        return self._shape(value, 2)

    def read_alert_request(self, token: str) -> tuple[int, str, str]:
        try:
            value = self._alert_request.loads(token, max_age=self.confirm_max_age_s)
        except SignatureExpired:
            raise TokenError("this link has expired; save the search again") from None
        except BadSignature:
            raise TokenError("this link is not valid") from None
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], int)
                and isinstance(value[1], str) and isinstance(value[2], str)):
            raise TokenError("this link is not valid")
        return tuple(value)

    def read_alert(self, token: str) -> tuple[int, str, int]:
        try:
            value = self._alert.loads(token)
        except BadSignature:
            raise TokenError("this link is not valid") from None
        return self._shape(value, 3)
