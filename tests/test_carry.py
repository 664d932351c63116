"""lab.carry: the loss decomposition adds up, the predictors are their closed forms,
and the additive maximum-likelihood fit agrees with an independent optimizer."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab import carry
from lab.data import AdditionData
from lab.models import PRESETS, build_model
from lab.task import AdditionTask, enumerate_all


@pytest.fixture(scope="module")
def two_digit():
    return enumerate_all(AdditionTask(2))


def column_counts(batch, label):
    """Carry statistics ``[10, 10, 2]`` of the answer digit called ``label``."""
    digit = batch.task.answer_labels().index(label)
    d1, d2 = batch.right_digits()
    return carry.cell_counts(batch.carry_in[:, digit], d1[:, digit], d2[:, digit])


# --------------------------------------------------------------------------- loss decomposition


def random_log_probs(seed: int, n: int = 500):
    """log P(+0), log P(+1) of ``n`` random distributions over 12 tokens, and random carries."""
    rng = np.random.default_rng(seed)
    logp = torch.randn(n, 12, generator=torch.Generator().manual_seed(seed)).log_softmax(-1).double().numpy()
    return logp[:, 3], logp[:, 4], rng.integers(0, 2, n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_part_is_its_own_formula_on_random_distributions(seed):
    """Each part against its definition, computed here from probabilities (not from the
    other parts): q = p_true / (p0 + p1) is the split, m = p0 + p1 the mass."""
    logp0, logp1, labels = random_log_probs(seed)
    p0, p1 = np.exp(logp0), np.exp(logp1)
    p_true = np.where(labels == 1, p1, p0)
    q, m = p_true / (p0 + p1), p0 + p1
    parts = carry.decompose_loss(logp0, logp1, labels)
    assert parts.loss == pytest.approx(-np.log(p_true).mean(), abs=1e-12)
    assert parts.fixed_split == pytest.approx(-np.log(q.mean()), abs=1e-12)
    assert parts.spread == pytest.approx(np.mean(-np.log(q)) + np.log(q.mean()), abs=1e-12)
    assert parts.neither == pytest.approx(-np.log(m).mean(), abs=1e-12)
    assert parts.spread > 1e-3  # q varies, so Jensen's gap is strictly positive
    assert parts.fixed_split + parts.spread + parts.neither == pytest.approx(parts.loss, abs=1e-12)
    assert parts.p_plus0 == pytest.approx(p0.mean()) and parts.p_plus1 == pytest.approx(p1.mean())


def test_spread_grows_with_how_much_the_split_varies():
    """Splits 0.5 + delta and 0.5 - delta, half the examples each: the mean split stays
    0.5 (fixed_split = ln 2), and the spread, mean(-ln q) + ln mean(q), is
    -(ln(0.5 + delta) + ln(0.5 - delta)) / 2 + ln 0.5: zero at delta = 0, then growing."""
    n = 200
    spreads = []
    for delta in (0.0, 0.1, 0.3):
        q = np.where(np.arange(n) % 2 == 0, 0.5 + delta, 0.5 - delta)
        parts = carry.decompose_loss(np.log(q), np.log(1 - q), np.zeros(n, int))
        expected = -(np.log(0.5 + delta) + np.log(0.5 - delta)) / 2 + np.log(0.5)
        assert parts.spread == pytest.approx(expected, abs=1e-12)
        assert parts.fixed_split == pytest.approx(-np.log(0.5), abs=1e-12)
        spreads.append(parts.spread)
    assert spreads[0] == pytest.approx(0, abs=1e-12) and 0 < spreads[1] < spreads[2]


def test_a_fixed_split_on_the_two_candidates_has_no_spread_and_no_leak():
    # P(+0) = 0.55, P(+1) = 0.45 everywhere: the loss on only-+0 data is -ln 0.55.
    n = 100
    parts = carry.decompose_loss(np.full(n, np.log(0.55)), np.full(n, np.log(0.45)), np.zeros(n, int))
    assert parts.loss == pytest.approx(-np.log(0.55))
    assert parts.spread == pytest.approx(0, abs=1e-12)
    assert parts.neither == pytest.approx(0, abs=1e-12)


def test_model_log_probs_of_the_true_candidate_are_its_cross_entropy(two_digit):
    preset = PRESETS["tiny"]
    model = build_model(preset.model, AdditionData(2), device="cpu").eval()
    every_37th = np.arange(len(two_digit)) % 37 == 0
    batch = two_digit.task.batch(two_digit.a_digits[every_37th], two_digit.b_digits[every_37th])
    lp = carry.carry_log_probs(model, batch)
    tokens = torch.as_tensor(batch.tokens)
    pos = torch.as_tensor(batch.task.predict_positions)
    with torch.no_grad():
        logits = model(tokens)[:, pos]
    ce = F.cross_entropy(logits.transpose(1, 2), tokens[:, pos + 1], reduction="none").double().numpy()
    log_true = np.where(lp.carry == 1, lp.logp1, lp.logp0)
    np.testing.assert_allclose(-log_true, ce, rtol=1e-4, atol=1e-5)
    digit = batch.task.answer_labels().index("A1")
    for c, parts in carry.shelf_parts(lp, digit).items():
        assert parts.fixed_split + parts.spread + parts.neither == pytest.approx(parts.loss, abs=1e-9)
        assert parts.loss == pytest.approx(ce[:, digit][lp.carry[:, digit] == int(c[-1])].mean(), rel=1e-4)


def test_a_model_that_knows_every_carry_explains_all_of_its_entropy():
    n = 1000
    labels = np.arange(n) % 2
    sure, unsure = np.log(1 - 1e-9), np.log(1e-9)
    lp = carry.CarryLogProbs(
        np.where(labels[:, None] == 0, sure, unsure),
        np.where(labels[:, None] == 1, sure, unsure),
        labels[:, None],
        np.zeros((n, 1), int),
        np.zeros((n, 1), int),
    )
    assert carry.carry_ce_gain(lp, 0) == pytest.approx(1.0, abs=1e-6)
    base = carry.CarryLogProbs(
        np.full((n, 1), np.log(0.5)), np.full((n, 1), np.log(0.5)), labels[:, None], lp.d1, lp.d2
    )
    assert carry.carry_ce_gain(base, 0) == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- predictors


def test_predictors_are_their_closed_forms_on_all_two_digit_problems(two_digit):
    counts = column_counts(two_digit, "A1")  # the units column decides A1's carry
    maps = carry.predictors(counts)
    assert maps["base rate"] == pytest.approx(np.full((10, 10), 0.45))
    sums = np.add.outer(np.arange(10), np.arange(10))
    np.testing.assert_array_equal(maps["exact"], (sums >= 10).astype(float))  # no cascade into A1
    # One digit: of the ten partners of d, exactly d carry, so P(carry | d1) = d1/10.
    empirical = counts[..., 1].sum(1) / counts.sum((1, 2))
    np.testing.assert_allclose(maps["digit d1"][:, 0], empirical)
    np.testing.assert_allclose(maps["digit d1"], maps["digit d2"].T)
    # Product: odds +1:+0 = d1*d2 : (10-d1)(10-d2).
    d1, d2 = np.meshgrid(np.arange(1, 10), np.arange(1, 10), indexing="ij")
    p = maps["product"][1:, 1:]
    np.testing.assert_allclose(p / (1 - p), d1 * d2 / ((10 - d1) * (10 - d2)))
    assert (maps["product"][0] == 0).all()


def test_product_odds_favour_a_carry_exactly_when_the_sum_exceeds_ten():
    # d1*d2 - (10-d1)(10-d2) = 10 (d1 + d2 - 10): the product's boundary is the sum-10 line.
    sums = np.add.outer(np.arange(10), np.arange(10))
    p = carry.product()
    assert ((p > 0.5) == (sums > 10)).all()
    assert np.allclose(p[sums == 10], 0.5)


def test_exact_rule_takes_the_cascade_rate_from_the_column_further_right(two_digit):
    counts = column_counts(two_digit, "A2")  # column 1 decides; its own carry is 45%
    maps = carry.predictors(counts)
    sums = np.add.outer(np.arange(10), np.arange(10))
    assert maps["exact"][sums == 9] == pytest.approx(0.45)
    assert carry.nll(maps["exact"], counts, eps=1e-12) == pytest.approx(
        0.1 * -(0.45 * np.log(0.45) + 0.55 * np.log(0.55))
    )


def test_cell_mean_and_distance():
    d1, d2 = np.array([0, 0, 9]), np.array([1, 1, 9])
    means = carry.cell_mean(np.array([1.0, 3.0, 5.0]), d1, d2)
    assert means[0, 1] == 2.0 and means[9, 9] == 5.0 and np.isnan(means[5, 5])
    assert carry.distance(np.zeros((10, 10)), np.ones((10, 10))) == 1.0


# --------------------------------------------------------------------------- additive fit


def lbfgs_fit(counts, ridge):
    """The same objective, minimized independently with torch autograd and L-BFGS."""
    total = torch.as_tensor(counts.sum(-1))
    frac = torch.as_tensor(counts[..., 1]) / total
    weight = total / total.sum()
    theta = torch.zeros(21, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [theta], max_iter=1000, tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe"
    )

    def closure():
        z = theta[0] + theta[1:11, None] + theta[None, 11:]
        loss = (weight * (F.softplus(z) - frac * z)).sum() + 0.5 * ridge * theta[1:].square().sum()
        opt.zero_grad()
        loss.backward()
        return loss

    opt.step(closure)
    return (theta[0] + theta[1:11, None] + theta[None, 11:]).detach().numpy()


def test_additive_fit_matches_an_independent_optimizer(two_digit):
    counts = column_counts(two_digit, "A2")  # cascades make the data non-separable
    fit = carry.fit_additive(counts, ridge=0.01)
    np.testing.assert_allclose(fit.log_odds, lbfgs_fit(counts, 0.01), atol=1e-6)
    np.testing.assert_allclose(fit.f, fit.g, atol=1e-8)  # the task is symmetric in a and b


def test_additive_fit_on_separable_data_tends_to_the_exact_rule_not_the_product(two_digit):
    counts = column_counts(two_digit, "A1")
    fits = [carry.fit_additive(counts, ridge=r) for r in (1e-3, 1e-5)]
    sums = np.add.outer(np.arange(10), np.arange(10))
    for fit in fits:
        assert ((fit.log_odds > 0) == (sums >= 10)).all()
    assert fits[1].nll < fits[0].nll < carry.nll(carry.product(), counts)


def test_uniform_cascade_rate_matches_enumeration():
    batch = enumerate_all(AdditionTask(3))
    for label, column in (("A1", 1), ("A2", 2), ("A3", 3)):
        counts = column_counts(batch, label)
        nines = np.add.outer(np.arange(10), np.arange(10)) == 9
        assert counts[nines, 1].sum() / counts[nines].sum() == pytest.approx(carry.uniform_cascade_rate(column))
        expected = carry.expected_counts(carry.exact(carry.uniform_cascade_rate(column)))
        np.testing.assert_allclose(counts / counts.sum((0, 1, 2)) * 100, expected)


def test_carry_ce_gain_of_a_digit_that_never_carries_is_nan_without_warnings():
    n = 100
    never = np.zeros((n, 1), int)
    half = np.full((n, 1), np.log(0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero, no log of 0
        assert np.isnan(carry.carry_ce_gain(carry.CarryLogProbs(half, half, never, never, never), 0))
        assert np.isnan(carry.carry_ce_gain(carry.CarryLogProbs(half, half, never + 1, never, never), 0))


def test_candidate_mass_and_true_loss_read_the_right_candidate():
    p0 = np.array([[0.6], [0.3], [0.5]])
    p1 = np.array([[0.3], [0.6], [0.1]])
    carry_in = np.array([[0], [1], [1]])
    lp = carry.CarryLogProbs(np.log(p0), np.log(p1), carry_in, np.zeros((3, 1), int), np.zeros((3, 1), int))
    assert carry.candidate_mass(lp, 0) == pytest.approx((0.9 + 0.9 + 0.6) / 3)
    assert carry.true_loss(lp, 0) == pytest.approx(-(np.log(0.6) + np.log(0.6) + np.log(0.1)) / 3)
    parts = carry.decompose_loss(lp.logp0[:, 0], lp.logp1[:, 0], carry_in[:, 0])
    assert carry.true_loss(lp, 0) == pytest.approx(parts.loss)


# --------------------------------------------------------------------------- the split's cross-entropy gain, guarded


def fixed_split_log_probs(carry_rate: float, split: float, mass: float, n: int = 1000) -> carry.CarryLogProbs:
    """``n`` positions, a share ``carry_rate`` of them carried, where the model puts
    ``mass`` on the two candidates and splits it ``1 - split`` : ``split`` ("+0" : "+1")."""
    labels = (np.arange(n) < round(carry_rate * n)).astype(int)[:, None]
    zeros = np.zeros((n, 1), int)
    return carry.CarryLogProbs(
        np.full((n, 1), np.log(mass * (1 - split))), np.full((n, 1), np.log(mass * split)), labels, zeros, zeros
    )


def test_a_fixed_split_at_an_uneven_base_rate_gains_nothing_whatever_the_mass():
    # At a 30% carry rate the carry's entropy is H(0.3) = 0.611 nats, not ln 2: a split
    # fixed at the base rate costs exactly H(0.3) and gains 0 (an entropy fixed at ln 2
    # would give 1 - 0.611/0.693 = 0.119).
    assert carry.carry_ce_gain(fixed_split_log_probs(0.3, 0.3, 1.0), 0) == pytest.approx(0.0, abs=1e-12)
    # Half the probability elsewhere changes nothing: the gain reads the split
    # p_true / (p0 + p1), not p_true (which would give 1 - (0.611 + ln 2)/0.611 = -1.13).
    assert carry.carry_ce_gain(fixed_split_log_probs(0.3, 0.3, 0.5), 0) == pytest.approx(0.0, abs=1e-12)


def test_a_split_leaning_against_the_carry_has_a_negative_gain_of_its_closed_form():
    # Split 0.5 at a 30% carry rate: cross-entropy ln 2 against H(0.3); a split leaning
    # the wrong way (0.1) costs more still. Negative values are kept, not folded.
    h = -(0.3 * np.log(0.3) + 0.7 * np.log(0.7))
    assert carry.carry_ce_gain(fixed_split_log_probs(0.3, 0.5, 0.8), 0) == pytest.approx(1 - np.log(2) / h)
    wrong = -(0.3 * np.log(0.1) + 0.7 * np.log(0.9))
    assert carry.carry_ce_gain(fixed_split_log_probs(0.3, 0.1, 0.8), 0) == pytest.approx(1 - wrong / h)
    assert 1 - wrong / h < -0.1
