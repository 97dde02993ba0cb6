"""The one settlement policy: ack, retry with backoff, dead-letter."""

from services.runtime.ack_policy import Ack, DeadLetter, Retry, settle
from services.runtime.errors import PoisonMessage, TransientError


def test_success_is_acked() -> None:
    assert settle(None, 1, 5, [1, 5]) == Ack()


def test_transient_errors_back_off_by_delivery_count() -> None:
    assert settle(TransientError("x"), 1, 5, [1, 5, 30]) == Retry(1)
    assert settle(TransientError("x"), 2, 5, [1, 5, 30]) == Retry(5)
    assert settle(TransientError("x"), 4, 5, [1, 5, 30]) == Retry(30)


def test_poison_is_dead_lettered_on_first_delivery() -> None:
    assert settle(PoisonMessage("bad"), 1, 5, [1]) == DeadLetter("PoisonMessage: bad")


def test_last_delivery_is_dead_lettered_whatever_the_error() -> None:
    assert settle(RuntimeError("boom"), 5, 5, [1]) == DeadLetter("RuntimeError: boom")
