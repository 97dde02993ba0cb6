"""`sparks bench` is a benchmark, not a timed test: here only its shape is checked (nothing is timed)."""

from services.runtime.bench_command import render


def test_render_shows_each_number_with_its_ratio() -> None:
    result = {
        "tickets": 10, "cores": 2, "relay_tickets_per_s": 100.0, "pipeline_tickets_per_s": 50.0, "throughput_ratio": 0.5,
        "relay_p50_ms_at_200": 1.0, "relay_p99_ms_at_200": 2.0, "pipeline_p50_ms_at_200": 3.0, "pipeline_p99_ms_at_200": 6.0,
        "pipeline_max_ms_at_200": 9.0, "latency_ratio": 3.0, "peak_rss_mb": {"intake": 40.0},
        "one_process_tickets_per_s": 40.0, "one_process_throughput_ratio": 0.4, "one_process_p50_ms_at_200": 2.0,
        "one_process_p99_ms_at_200": 4.0, "one_process_latency_ratio": 2.0,
        "one_process_peak_rss_mb": {"intake+scanner+dispatcher+writeback": 70.0},
    }  # fmt: skip
    text = render(result)
    assert "ratio 0.50" in text
    assert "p99 ratio 3.00" in text
    assert "intake 40.0" in text
    assert "ratio 0.40" in text
    assert "p99 ratio 2.00" in text
    assert "peak RSS 70.0 MB" in text
