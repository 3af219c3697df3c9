"""Arguments the sessionguard commands share: batch sizes and naming a user.

The leading underscore keeps Django from listing this module as a command.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

DEFAULT_BATCH_SIZE = 1000


def add_batch_size(
    parser: CommandParser, default: int | None = DEFAULT_BATCH_SIZE
) -> None:
    parser.add_argument(
        "--batch-size",
        type=int,
        default=default,
        help=(
            f"Rows handled per statement (default: {default or DEFAULT_BATCH_SIZE})."
            " Smaller batches hold locks for less time."
        ),
    )


def batch_size(options: dict[str, Any]) -> int | None:
    """The validated ``--batch-size`` (``call_command`` skips argparse's checks)."""
    value = options.get("batch_size")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CommandError(
            _("--batch-size must be a positive whole number, not %(value)r.")
            % {"value": value}
        )
    return value


def add_user(parser: CommandParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--user", help="The user, by username or by id.")
    group.add_argument(
        "--user-id", help="The user, by id only (when a username looks like an id)."
    )


def find_user(options: dict[str, Any]) -> Any:
    """The user named by ``--user`` (a username, else an id) or ``--user-id``.

    A ``--user`` value that is one user's username and another user's id is
    refused rather than guessed.
    """
    user_model = get_user_model()
    manager = user_model._default_manager
    if options.get("user_id") is not None:
        user = _by_pk(str(options["user_id"]))
        if user is None:
            raise CommandError(
                _("No user with id %(value)r.") % {"value": str(options["user_id"])}
            )
        return user
    if options.get("user") is None:
        raise CommandError(_("Name the user with --user or --user-id."))
    text = str(options["user"])
    by_name = manager.filter(**{user_model.USERNAME_FIELD: text}).first()
    by_pk = _by_pk(text)
    if by_name is not None and by_pk is not None and by_name.pk != by_pk.pk:
        raise CommandError(
            _(
                "%(value)r is the username of one user and the id of another: "
                "use --user-id %(value)s for the second."
            )
            % {"value": text}
        )
    user = by_name or by_pk
    if user is None:
        raise CommandError(
            _("No user with username or id %(value)r.") % {"value": text}
        )
    return user


def _by_pk(text: str) -> Any:
    user_model = get_user_model()
    try:
        pk = user_model._meta.pk.to_python(text)
    except (ValidationError, ValueError, TypeError):
        return None
    try:
        return user_model._default_manager.filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError):
        return None
