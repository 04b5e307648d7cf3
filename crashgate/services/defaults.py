"""Defaults evaluated per request."""
import datetime


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def days_ago(days):
    """A default: the moment ``days`` days before the request."""
    return lambda: now() - datetime.timedelta(days=days)
