"""The adaptation policy (streamer/bandwidth.py, streamer/rate_control.py): what the stream is
encoded at as a viewer's feedback changes, on a clock the test moves."""

from __future__ import annotations

import itertools

import pytest

from streamer.bandwidth import BandwidthEstimator, LossReport, Remb
from streamer.rate_control import RateController, RatePolicy, StreamTarget
from streamer.retransmission import RetransmitBudget

M = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def controller(live: bool = True, floor: int = M, ceiling: int = 4 * M) -> tuple[RateController, Clock]:
    clock = Clock()
    return RateController(RatePolicy(ceiling=ceiling, floor=floor, fps=30, live_bitrate=live), clock), clock


def run(control: RateController, clock: Clock, estimate: int | None, seconds: float) -> list[StreamTarget]:
    """Feed the same estimate twice a second (as REMB comes); the targets it changed to."""
    changes = []
    end = clock.now + seconds
    while clock.now < end:
        clock.now += 0.5
        if (target := control.update(estimate)) is not None:
            changes.append(target)
    return changes


def test_no_estimate_keeps_the_ceiling() -> None:
    control, clock = controller()
    assert run(control, clock, None, 10) == []
    assert control.target == StreamTarget(4 * M, 30, 1.0)


def test_the_bitrate_follows_the_budget_within_a_second_going_down() -> None:
    control, clock = controller()
    assert run(control, clock, 2 * M, 1.0) == [StreamTarget(1_800_000, 30, 1.0)]  # 90% of the estimate


def test_steps_under_15_percent_are_not_taken() -> None:
    control, clock = controller()
    run(control, clock, 3 * M, 2)
    assert control.bitrate == 2_700_000
    assert run(control, clock, 2_800_000, 10) == []  # a budget of 2.52 M: 7% below
    assert run(control, clock, 2_500_000, 1) == [StreamTarget(2_250_000, 30, 1.0)]  # 17% below


def test_at_most_one_change_a_second_down_and_every_2_s_up() -> None:
    control, clock = controller()
    times = []
    falling = (3_900_000, 3_300_000, 2_800_000, 2_300_000, 1_900_000, 1_500_000)
    for estimate in (*falling, 4 * M, 8 * M, 16 * M, 16 * M):
        for _ in range(2):
            clock.now += 0.25
            if control.update(estimate) is not None:
                times.append((clock.now, control.bitrate))
    assert [b for _, b in times] == [2_970_000, 2_070_000, 1_350_000, 4 * M]
    assert [t for t, _ in times] == [1.0, 2.0, 3.0, 5.0]


def test_a_codec_that_reopens_changes_at_most_every_3_s_down_and_5_s_up() -> None:
    control, clock = controller(live=False)
    assert run(control, clock, 2 * M, 2.5) == []
    assert run(control, clock, 2 * M, 0.5) == [StreamTarget(1_800_000, 30, 1.0)]
    assert run(control, clock, 10 * M, 4.5) == []
    assert run(control, clock, 10 * M, 0.5) == [StreamTarget(4 * M, 30, 1.0)]


def test_below_the_floor_the_frame_rate_steps_down_then_the_size_and_back_up() -> None:
    control, clock = controller()  # floor 1 M at 30 fps: 667 k at 20 fps, 500 k at 15, 281 k at 3/4 size
    changes: list[tuple[float, StreamTarget]] = []
    for _ in range(40):
        clock.now += 0.5
        if (target := control.update(500_000)) is not None:  # a budget of 450 k
            changes.append((clock.now, target))
    assert changes == [
        (1.0, StreamTarget(M, 30, 1.0)),  # the floor first
        (4.0, StreamTarget(666_667, 20, 1.0)),
        (7.0, StreamTarget(500_000, 15, 1.0)),
        (10.0, StreamTarget(450_000, 15, 0.75)),
    ]
    back: list[tuple[float, StreamTarget]] = []
    for _ in range(40):
        clock.now += 0.5
        if (target := control.update(10 * M)) is not None:
            back.append((round(clock.now - 20, 1), target))
    assert back == [
        (0.5, StreamTarget(4 * M, 15, 0.75)),  # the bitrate first, within the rung
        (5.5, StreamTarget(4 * M, 15, 1.0)),
        (10.5, StreamTarget(4 * M, 20, 1.0)),
        (15.5, StreamTarget(4 * M, 30, 1.0)),
    ]


def test_a_rung_comes_back_only_once_the_budget_holds_for_5_s() -> None:
    control, clock = controller()
    run(control, clock, M, 4.5)  # a budget of 900 k, under the 1 M floor
    assert control.target == StreamTarget(900_000, 20, 1.0)
    for estimate in [2 * M, M] * 10:  # the link recovers for a moment, again and again
        clock.now += 2
        control.update(estimate)
        assert control.target.fps == 20
    assert run(control, clock, 2 * M, 4.5) == [StreamTarget(1_800_000, 20, 1.0)]
    # The frame rate comes back 5 s after that change, the budget having held as long.
    assert run(control, clock, 2 * M, 2.0) == []
    assert run(control, clock, 2 * M, 0.5) == [StreamTarget(1_800_000, 30, 1.0)]


def test_a_link_not_shown_full_never_takes_the_stream_down() -> None:
    """A still picture sends little, and its REMB follows: that is no reason to send less."""
    control, clock = controller()
    for _ in range(40):
        clock.now += 0.5
        assert control.update(60_000, limiting=False) is None
    assert control.target == StreamTarget(4 * M, 30, 1.0)
    run(control, clock, 2 * M, 2)
    assert control.bitrate == 1_800_000
    clock.now += 2
    assert control.update(2_500_000, limiting=False) == StreamTarget(2_250_000, 30, 1.0)  # growth is capped


def test_the_estimate_limits_only_when_it_falls_under_the_sent_rate_or_after_heavy_loss() -> None:
    estimator = BandwidthEstimator(ceiling=4 * M)
    estimator.observe(Remb(90_000), sending=60_000)  # a still picture: REMB runs ahead of it
    assert not estimator.limiting and estimator.estimate == 90_000
    estimator.observe(Remb(1_200_000), sending=4 * M)  # rising: catching up with a stream that grew
    assert not estimator.limiting
    estimator.observe(Remb(1_000_000), sending=4 * M)  # the receiver cut it under what comes
    assert estimator.limiting
    estimator.observe(Remb(1_000_000), sending=4 * M)  # and holds it there
    assert estimator.limiting
    estimator.observe(Remb(5 * M), sending=4 * M)
    assert not estimator.limiting
    estimator.observe(LossReport(0.3, 0.0), sending=4 * M)
    assert estimator.limiting and estimator.estimate == 3_400_000


def test_after_congestion_the_bitrate_probes_past_a_lagging_remb_gently_then_fast() -> None:
    """A REMB follows what it receives, a few percent a second: after a cap lifts, the stream
    climbs back by probing past it, 15% a step from 3 s after the last congestion, half from 8 s."""
    control, clock = controller(floor=500_000)
    clock.now = 1.0
    assert control.update(1_200_000, limiting=True) is not None  # the link is full
    assert control.bitrate == 1_080_000
    targets = []
    clock.now = 1.0
    for _ in range(30):  # 15 s of REMBs that only creep up
        clock.now += 0.5
        if (target := control.update(round(control.bitrate * 1.02), limiting=False)) is not None:
            targets.append((clock.now - 1.0, target.bitrate))
    assert targets[0][0] >= 3.0 and targets[0][1] == round(1_080_000 * 1.15)
    for (_, before), (when, after) in itertools.pairwise(targets):
        if when < 8.0:
            assert after == round(before * 1.15), targets
        else:
            assert after == min(4 * M, round(before * 1.5)), targets
    assert control.bitrate == 4 * M  # back at the ceiling within 15 s


def test_the_last_rung_holds_its_own_floor() -> None:
    control, clock = controller()
    run(control, clock, 10_000, 30)
    assert control.target == StreamTarget(125_000, 15, 0.5)


def test_rung_for_picks_a_level_for_a_budget() -> None:
    policy = RatePolicy(ceiling=4 * M, floor=M, fps=30)
    budgets = (4 * M, M, 700_000, 500_000, 300_000, 200_000, 1)
    assert [policy.rung_for(b) for b in budgets] == [0, 0, 1, 2, 3, 4, 4]


def test_the_floor_must_fit_under_the_ceiling() -> None:
    with pytest.raises(ValueError, match="floor"):
        RatePolicy(ceiling=M, floor=2 * M, fps=30)


def test_remb_is_the_estimate_even_above_aiortcs_clamp() -> None:
    estimator = BandwidthEstimator(ceiling=20 * M)
    assert estimator.estimate is None
    estimator.observe(Remb(12 * M), sending=4 * M)
    assert estimator.estimate == 12 * M


def test_heavy_loss_cuts_below_what_is_sent_and_clean_reports_grow_it_back() -> None:
    estimator = BandwidthEstimator(ceiling=4 * M)
    estimator.observe(Remb(10 * M), sending=4 * M)
    estimator.observe(LossReport(0.2, 0.005), sending=4 * M)
    assert estimator.estimate == 3_600_000  # 4 M less half of 20%
    estimator.observe(LossReport(0.05, 0.005), sending=3_600_000)
    assert estimator.estimate == 3_600_000  # between 2% and 10%: hold
    estimator.observe(LossReport(0.01, 0.050), sending=3_600_000)
    assert estimator.estimate == 3_600_000  # little loss but a queue building (jitter 50 ms): hold
    estimator.observe(LossReport(0.01, 0.005), sending=3_600_000)
    assert estimator.estimate == 3_888_000  # 8% a clean report
    estimator.observe(LossReport(0.0, 0.005), sending=3_600_000)
    assert estimator.estimate == 10 * M  # grown past the ceiling: the loss bound is lifted


def test_loss_alone_estimates_a_viewer_that_sends_no_remb() -> None:
    estimator = BandwidthEstimator(ceiling=4 * M)
    estimator.observe(LossReport(0.0, 0.0), sending=4 * M)
    assert estimator.estimate is None  # nothing limits the stream
    estimator.observe(LossReport(0.5, 0.0), sending=2 * M)
    assert estimator.estimate == 1_500_000


def test_resends_keep_to_their_budget_and_go_twice_on_random_loss() -> None:
    clock = Clock()
    loss = [0.0]
    budget = RetransmitBudget(lambda: 40 * M, lambda: loss[0], clock)  # about 4,500 packets a second
    assert budget.decide(1, None) == 0 and budget.missed == 1  # no longer kept
    assert budget.decide(1, 10_000) == 0 and budget.limited == 1  # no tokens yet
    clock.now = 1.0  # a quarter of 40 Mb/s for 0.2 s at most: 250 kB
    assert budget.decide(1, 10_000) == 1
    assert budget.decide(1, 10_000) == 0 and budget.repeats == 1  # on its way
    clock.now += 0.05
    assert budget.decide(1, 10_000) == 1  # asked again later: the resend was lost too
    loss[0] = 0.02  # the viewer reports random loss: each resend goes twice
    assert budget.decide(2, 10_000) == 2
    # 250 kB of tokens (refilled at 1.05 s), less the 30 kB resent since: 22 copies more.
    assert sum(budget.decide(seq, 10_000) for seq in range(3, 40)) == 22
    assert budget.limited > 1


def test_nacks_show_random_loss_before_the_viewer_reports_it() -> None:
    clock = Clock()
    budget = RetransmitBudget(lambda: 4 * M, lambda: 0.0, clock)  # about 450 packets a second
    clock.now = 1.0
    assert budget.decide(1, 1000) == 1  # one NACK in a second: 0.2%
    clock.now += 0.1
    assert budget.decide(2, 1000) == 1
    clock.now += 0.1
    assert budget.decide(3, 1000) == 2  # three: 0.7%, random loss
    clock.now += 1.5
    assert budget.decide(4, 1000) == 1  # the others are a second old
