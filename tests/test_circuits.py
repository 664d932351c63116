"""Circuits against dense products of the raw weights, copying scores against planted
circuits and full eigendecompositions, composition scores against the framework's
definition computed by hand."""

import pytest
import torch
from transformer_lens import FactoredMatrix

from lab.analysis import circuits
from lab.data import RepeatData
from lab.models import ModelConfig, build_model

DATA = RepeatData(span=6, vocab=20)


@pytest.fixture(scope="module")
def model():
    cfg = ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=0, attn_only=True)
    return circuits.folded(build_model(cfg, DATA, device="cpu").eval())


def test_folding_keeps_the_function():
    cfg = ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=0, attn_only=True)
    original = build_model(cfg, DATA, device="cpu").eval()
    tokens = torch.randint(1, DATA.vocab, (4, DATA.seq_len))
    before = original(tokens).log_softmax(-1)
    after = circuits.folded(original)(tokens).log_softmax(-1)
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)
    assert original(tokens).log_softmax(-1).equal(before), "the original must stay unfolded"


def dense(model, layer: int, head: int) -> dict[str, torch.Tensor]:
    """OV = W_V W_O and QK = W_Q W_K^T of one head from the native model's nn.Linear
    weights ([out, in]; head h owns features 16h .. 16h+15), not the bridge's accessors."""
    attn = model.original_model.layers[layer].attn
    own = slice(16 * head, 16 * (head + 1))
    W_Q, W_K, W_V = (linear.weight.T[:, own] for linear in (attn.q, attn.k, attn.v))
    W_O = attn.o.weight.T[own, :]
    return {"OV": W_V @ W_O, "QK": W_Q @ W_K.T}


@pytest.mark.parametrize("layer,head", [(0, 1), (1, 0)])
def test_full_circuits_are_the_dense_products(model, layer, head):
    mats = dense(model, layer, head)
    torch.testing.assert_close(model.OV[layer, head].AB, mats["OV"])
    W_E, W_U, W_pos = model.W_E, model.W_U, model.W_pos
    torch.testing.assert_close(circuits.full_ov_circuit(model)[layer, head].AB, W_E @ mats["OV"] @ W_U)
    torch.testing.assert_close(circuits.full_qk_circuit(model)[layer, head].AB, W_E @ mats["QK"] @ W_E.T)
    torch.testing.assert_close(circuits.positional_qk_circuit(model)[layer, head].AB, W_pos @ mats["QK"] @ W_pos.T)


def test_copying_score_of_planted_circuits():
    basis = torch.linalg.qr(torch.randn(12, 12))[0]
    copy = FactoredMatrix(basis[:, :4] * 2.0, basis[:, :4].T)  # a positive projection
    anti = FactoredMatrix(basis[:, :4], -basis[:, :4].T)
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]])  # eigenvalues ±i
    rotate = FactoredMatrix(basis[:, :2] @ rotation, basis[:, :2].T)
    scores = [float(circuits.copying_score(m)) for m in (copy, anti, rotate)]
    assert scores == pytest.approx([1.0, -1.0, 0.0], abs=1e-5)


def test_copying_score_matches_the_full_eigendecomposition(model):
    ov = circuits.full_ov_circuit(model)
    eigenvalues = torch.linalg.eigvals(ov.AB.double())  # [layer, head, d_vocab]
    expected = (eigenvalues.sum(-1) / eigenvalues.abs().sum(-1)).real.float()
    torch.testing.assert_close(circuits.copying_score(ov), expected, atol=1e-3, rtol=1e-3)


def frobenius_composition(left: torch.Tensor, right: torch.Tensor) -> float:
    """The framework's composition score ||left @ right||_F / (||left||_F ||right||_F)."""
    return float((left @ right).norm() / (left.norm() * right.norm()))


def test_composition_scores_follow_the_definition(model):
    scores = {mode: circuits.composition_scores(model, mode) for mode in circuits.MODES}
    for writer in range(2):
        for reader in range(2):
            ov0 = dense(model, 0, writer)["OV"]
            after = dense(model, 1, reader)
            expected = {
                "Q": frobenius_composition(ov0, after["QK"]),
                "K": frobenius_composition(ov0, after["QK"].T),
                "V": frobenius_composition(ov0, after["OV"]),
            }
            for mode, value in expected.items():
                assert float(scores[mode][0, writer, 1, reader]) == pytest.approx(value, rel=1e-4)
    assert (scores["K"][1, :, 0, :] == 0).all() and (scores["K"][0, :, 0, :] == 0).all()


def test_composition_baseline_shrinks_with_width():
    narrow, wide = (circuits.composition_baseline(d, 8, samples=50) for d in (32, 128))
    assert 0 < wide < narrow < 1


def test_top_compositions_names_the_strongest_pair():
    score = torch.zeros(2, 2, 2, 2)
    score[0, 1, 1, 0] = 0.9
    score[0, 0, 1, 1] = 0.4
    rows = circuits.top_compositions({"K": score}, k=2)
    assert [(r["writer"], r["reader"]) for r in rows] == [("L0H1", "L1H0"), ("L0H0", "L1H1")]
    assert rows[0]["score"] == pytest.approx(0.9)
