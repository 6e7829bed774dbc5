import pytest

from vsrkit.io.pipeline import BackgroundWriter


class _Sink:
    def __init__(self, fail_on: int | None = None) -> None:
        self.calls: list[tuple[str, object]] = []
        self.fail_on = fail_on
        self.closed = self.aborted = False
        self.lost = ["x"]

    def write(self, value: int) -> None:
        if value == self.fail_on:
            raise ValueError(f"cannot write {value}")
        self.calls.append(("write", value))

    def copy_packet(self, value: str) -> None:
        self.calls.append(("packet", value))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


def test_calls_reach_the_sink_in_order_on_one_thread() -> None:
    sink = _Sink()
    writer = BackgroundWriter(sink, max_pending=2)
    expected = []
    for i in range(50):
        writer.write(i)
        expected.append(("write", i))
        if i % 7 == 0:
            writer.copy_packet(f"a{i}")
            expected.append(("packet", f"a{i}"))
    writer.close()
    assert sink.calls == expected and sink.closed
    assert writer.lost == ["x"]


def test_worker_error_reaches_the_caller_and_close_does_not_hide_it() -> None:
    sink = _Sink(fail_on=3)
    writer = BackgroundWriter(sink, max_pending=1)
    with pytest.raises(ValueError, match="cannot write 3"):
        for i in range(100):
            writer.write(i)
        writer.close()
    assert not sink.closed
    writer.abort()
    assert sink.aborted
